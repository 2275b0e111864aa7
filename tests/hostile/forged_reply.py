"""Writes a forged reply for its own call straight onto the worker's reply channel, carrying a value
that breaks the decoder's assumptions (a non-finite-float tag whose body is a list, not a string)."""

import json
import os
import struct
import sys

HOSTILE = ["low_rank_fusion"]


def low_rank_fusion(params, z_text, z_image, z_audio):
  caller = sys._getframe(1).f_locals  # the worker's call(): its request id and its channel
  rid, channel = caller["rid"], caller["channel"]
  body = json.dumps({"type": "reply", "id": rid, "status": "ok", "value": {"__float__": []}}).encode()
  os.write(channel.wfd, b"MMZW" + struct.pack(">I", len(body)) + body)
  return 0.0

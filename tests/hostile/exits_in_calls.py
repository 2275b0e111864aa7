"""Functions that end their process: sys.exit, os._exit, and a segmentation fault sent to itself."""

import os
import signal
import sys

HOSTILE = ["time_align", "feature_align", "feature_fusion"]


def time_align(A, B):
  sys.exit(0)


def feature_align(A, B):
  os._exit(7)


def feature_fusion(vector_text, vector_image, vector_audio):
  os.kill(os.getpid(), signal.SIGSEGV)

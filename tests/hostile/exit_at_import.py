"""Right answers in a module that calls sys.exit while it is imported."""

import sys

HOSTILE = ["encode", "decode"]


def encode(vector):
  return [2 * v for v in vector]


def decode(encoded_vector):
  return [v / 2 for v in encoded_vector]


sys.exit(3)

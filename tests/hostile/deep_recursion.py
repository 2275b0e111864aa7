"""Unbounded recursion: Python's own limit, then a raised limit that overflows the C stack."""

import sys

HOSTILE = ["clip_loss", "interp_align"]


def clip_loss(image_emb, text_emb, temperature):
  return clip_loss(image_emb, text_emb, temperature)


def interp_align(t_src, x_src, t_dst):
  # Python-to-Python calls no longer use the C stack (3.11), but repr of a nested list does.
  sys.setrecursionlimit(10**8)
  nested = []
  for _ in range(10**6):
    nested = [nested]
  return repr(nested)

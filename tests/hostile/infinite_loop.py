"""A busy loop and a sleep that never end by themselves (the grader's wall clock must stop both)."""

import time

HOSTILE = ["attention_fusion", "self_attention_fusion"]


def attention_fusion(vector_text, vector_image, vector_audio):
  while True:
    pass


def self_attention_fusion(vector_text, vector_image, vector_audio):
  time.sleep(10**6)

"""Answers that try to pass a comparison without being right: __eq__, __array__, lying containers."""

import numpy as np

HOSTILE = [
  "time_align",
  "feature_fusion",
  "attention_fusion",
  "encode",
  "decode",
  "self_attention",
  "self_attention_fusion",
]


class AlwaysEqual:
  """Equal to everything, and an array of zeros when asked for one."""

  def __eq__(self, other):
    return True

  def __ne__(self, other):
    return False

  def __array__(self, dtype=None, copy=None):
    return np.zeros(1)


class EqualArray(np.ndarray):
  """An ndarray whose comparisons always say True."""

  def __eq__(self, other):
    return np.ones(np.shape(other), bool)

  def __array_function__(self, func, types, args, kwargs):
    return True


class LyingFloat(float):
  def __eq__(self, other):
    return True

  __hash__ = float.__hash__


class ExplodingArray:
  def __array__(self, dtype=None, copy=None):
    raise RuntimeError("no array for you")


class WildPointer:
  """Claims to be a million float64s at address 8: reading it would crash whoever converts it."""

  __array_interface__ = {"shape": (1 << 20,), "typestr": "<f8", "data": (8, True), "version": 3}


class PairLiar(tuple):
  def __eq__(self, other):
    return True

  __hash__ = tuple.__hash__


def time_align(A, B):
  return PairLiar(([0.0], [0.0]))


def feature_fusion(vector_text, vector_image, vector_audio):
  return AlwaysEqual()


def attention_fusion(vector_text, vector_image, vector_audio):
  return np.zeros(len(vector_text) + 1).view(EqualArray)


def encode(vector):
  return [LyingFloat(0.0) for _ in range(len(vector) + 1)]


def decode(encoded_vector):
  return ExplodingArray()


def self_attention(vectors):
  return np.array([["not", "numbers"]])


def self_attention_fusion(vector_text, vector_image, vector_audio):
  return WildPointer()

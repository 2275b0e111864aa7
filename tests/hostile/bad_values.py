"""Wrong answers of every shape: NaN, infinity, wrong shapes, wrong types, an invalid warping path."""

import numpy as np

HOSTILE = [
  "scaled_dot_product_attention",
  "multi_head_attention",
  "tensor_fusion",
  "low_rank_fusion",
  "clip_loss",
  "interp_align",
  "dtw",
]


def scaled_dot_product_attention(q, k, v, mask=None):
  return np.full(q.shape[:-1] + v.shape[-1:], np.nan)


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  return np.zeros((x_q.shape[1], x_q.shape[0], params["out"]["bias"].shape[0]))  # axes swapped


def tensor_fusion(z_text, z_image, z_audio):
  return "tensor fusion"


def low_rank_fusion(params, z_text, z_image, z_audio):
  return None


def clip_loss(image_emb, text_emb, temperature):
  return {"loss": 1.0}


def interp_align(t_src, x_src, t_dst):
  if len(t_dst) % 2:
    return [[1.0, 2.0], [3.0]]  # ragged
  return np.full((len(t_dst), x_src.shape[1]), np.inf)


def dtw(x, y):
  return 0.0, [(0, 0), (len(x) - 1, len(y) - 1)]  # skips steps, wrong cost

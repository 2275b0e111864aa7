"""Part II — attention (第二部分：注意力).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def scaled_dot_product_attention(q, k, v, mask=None):
  """Scaled dot-product attention (Vaswani et al. 2017): softmax(q·kᵀ/√d, masked)·v.

  Task: score every query against every key by their dot product divided by √d (d: the
  query/key width), set the scores of keys a query may not attend to aside (they get weight 0),
  take a softmax over the keys, and return the weighted sum of the values.

  Shapes: q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] -> [..., Lq, dv]. dv may differ from
  d; there are zero, one or two leading batch axes "...". `mask` is None or a boolean array
  broadcastable to [..., Lq, Lk] (for example [Lq, Lk] or [..., 1, Lk]); True = may attend.
  No query row is ever fully masked. Inputs are float32 numpy arrays.

  Example (the first visible case; dv = 3 != d = 2, so the output rows are the weights):
  >>> q = np.array([[1, 0], [0, 1]], np.float32)
  >>> k = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
  >>> scaled_dot_product_attention(q, k, np.eye(3, dtype=np.float32))
  [[0.40111209, 0.19777581, 0.40111209], [0.19777581, 0.40111209, 0.40111209]]

  The article names attention but never computes one: its "attention" uses fixed weights
  (question 4) and its "self-attention" weights by position (question 6).

  任务：用 query 与每个 key 的点积除以 √d（d 为 query/key 的宽度）打分，把不允许关注的 key 的分数排除
  （权重为 0），对 key 维做 softmax，返回 value 的加权和。

  形状：q [..., Lq, d]，k [..., Lk, d]，v [..., Lk, dv] -> [..., Lq, dv]。dv 可以不等于 d；前面有 0、1
  或 2 个批量维 "..."。`mask` 为 None 或可广播到 [..., Lq, Lk] 的布尔数组（例如 [Lq, Lk] 或
  [..., 1, Lk]）；True 表示可以关注。不会出现整行都被遮蔽的 query。输入是 float32 numpy 数组。

  原文提到了注意力却从未真正计算过：它的“注意力”用的是固定权重（第 4 题），“自注意力”只按位置加权（第 6 题）。
  """
  raise NotImplementedError("scaled_dot_product_attention: write your answer here / 在此实现")


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  """Multi-head attention with the parameter layout of flax.linen.MultiHeadDotProductAttention.

  Task: project x_q to queries and x_kv to keys and values, head by head; run scaled
  dot-product attention in every head (width d_head, so scale by √d_head); then project the
  concatenated heads to the output:
    q[b, l, h, :] = x_q[b, l] · params["query"]["kernel"][:, h, :] + params["query"]["bias"][h]
    (k and v likewise from x_kv), head_h = attention(q[..., h, :], k[..., h, :], v[..., h, :], mask),
    out[b, l] = Σ_h head_h[b, l] · params["out"]["kernel"][h] + params["out"]["bias"].

  Shapes: params = {"query"|"key"|"value": {"kernel": [d_in, h, d_head], "bias": [h, d_head]},
  "out": {"kernel": [h, d_head, d_out], "bias": [d_out]}}; x_q [B, Lq, d_in], x_kv [B, Lk, d_in],
  num_heads = h (an int), mask [B, Lq, Lk] (True = may attend; the same for every head) or None
  -> [B, Lq, d_out]. The result must equal
  MultiHeadDotProductAttention(num_heads=h, qkv_features=h*d_head, out_features=d_out)
  .apply({"params": params}, x_q, x_kv, mask=None if mask is None else mask[:, None]).
  The visible cases are small fixed examples; the grader shows them when they fail.

  任务：逐个头把 x_q 投影为 query、把 x_kv 投影为 key 和 value；在每个头里做缩放点积注意力（宽度为 d_head，
  因此除以 √d_head）；再把各头拼接后投影到输出（公式见上）。

  形状：params 的布局与 flax.linen.MultiHeadDotProductAttention 相同（见上）；x_q [B, Lq, d_in]，
  x_kv [B, Lk, d_in]，num_heads = h（整数），mask 为 [B, Lq, Lk]（True 表示可以关注，各头相同）或 None
  -> [B, Lq, d_out]。结果必须与上面的 Flax 调用相同。公开用例是固定的小例子，失败时评分器会显示它们。
  """
  raise NotImplementedError("multi_head_attention: write your answer here / 在此实现")

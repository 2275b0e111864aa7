"""Part II — alignment (第二部分：对齐).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def clip_loss(image_emb, text_emb, temperature):
  """CLIP's symmetric InfoNCE loss (Radford et al. 2021): feature alignment in a shared space.

  Task: L2-normalise every row of both embeddings; logits = image · textᵀ / temperature
  (row i: image i against every text); the loss is the mean of two cross-entropies against the
  diagonal (pair i matches pair i): one over the rows (image -> text), one over the columns
  (text -> image). Return a single float.

  Shapes: image_emb [B, d], text_emb [B, d], temperature a float in [0.01, 1] -> a scalar.
  B may be 1 (the loss is then 0). With temperature 0.01 the logits reach 100: use a stable
  log-softmax (subtract the maximum), or exp() overflows in float32.

  Example (the first visible case): log(1 + e^-1) = 0.31326169:
  >>> clip_loss(np.array([[1, 0], [0, 1]], np.float32), np.array([[1, 0], [0, 1]], np.float32), 1.0)
  0.31326169

  The article's "feature alignment" (question 2) only truncates two vectors; this is what
  aligning features across modalities means in practice.

  任务：对两组嵌入的每一行做 L2 归一化；logits = image · textᵀ / temperature（第 i 行：第 i 张图像对
  所有文本）；损失是对角线（第 i 对互相匹配）上两个交叉熵的平均：一个按行（图像 -> 文本），一个按列
  （文本 -> 图像）。返回一个浮点数。

  形状：image_emb [B, d]，text_emb [B, d]，temperature 是 [0.01, 1] 内的浮点数 -> 标量。B 可能为 1
  （此时损失为 0）。temperature 为 0.01 时 logits 可达 100：请用数值稳定的 log-softmax（先减最大值），
  否则 float32 下 exp() 会溢出。示例见上：log(1 + e^-1) = 0.31326169。
  原文的“特征对齐”（第 2 题）只是截断两个向量；跨模态的特征对齐在实践中指的是这个。
  """
  raise NotImplementedError("clip_loss: write your answer here / 在此实现")


def interp_align(t_src, x_src, t_dst):
  """Resample a stream onto new timestamps by linear interpolation (as numpy.interp), feature by feature.

  Task: x_src[i] was observed at time t_src[i] (t_src strictly increasing, not necessarily
  evenly spaced). Return the stream's value at every time of t_dst, interpolating linearly
  between the two neighbouring source samples, and holding the first / last value for times
  before / after t_src's range.

  Shapes: t_src [n] (n >= 2), x_src [n, d], t_dst [m] -> [m, d]. Inputs are float32 numpy arrays.

  Example (the first visible case): times -1 and 4 lie outside [0, 3] and hold the edge values:
  >>> interp_align(np.array([0, 1, 3], np.float32), np.array([[0, 1], [2, 3], [4, -1]], np.float32),
  ...              np.array([-1, 0.5, 2, 4], np.float32))
  [[0.0, 1.0], [1.0, 2.0], [3.0, 1.0], [4.0, -1.0]]

  This is time alignment with real timestamps; the article's time_align (question 1) only works
  when both streams share one clock.

  任务：x_src[i] 在时刻 t_src[i] 观测到（t_src 严格递增，不一定等间隔）。返回该序列在 t_dst 每个时刻
  的值：在相邻两个源样本之间线性插值；早于 / 晚于 t_src 范围的时刻取第一个 / 最后一个值。

  形状：t_src [n]（n >= 2），x_src [n, d]，t_dst [m] -> [m, d]。输入为 float32 numpy 数组。
  示例见上：时刻 -1 和 4 在 [0, 3] 之外，取边界值。这才是使用真实时间戳的时间对齐；原文的 time_align
  （第 1 题）只有在两个序列共用一个时钟时才成立。
  """
  raise NotImplementedError("interp_align: write your answer here / 在此实现")


def dtw(x, y):
  """Dynamic time warping (Sakoe & Chiba 1978, plain and unweighted): (cost, path).

  Task: a warping path pairs the samples of x and y in order: it starts at (0, 0), ends at
  (n−1, m−1), and each step is (1, 0), (0, 1) or (1, 1). Its cost is the sum of the Euclidean
  distances ‖x_i − y_j‖₂ over the pairs (i, j) on it (no step weights, no normalisation).
  Return the minimum cost over all warping paths and one path that achieves it.

  Shapes: x [n, d], y [m, d] (n and m may differ; either may be 1) -> (cost, path): cost a
  float; path a list of (i, j) pairs or an [L, 2] integer array, in order from (0, 0) to
  (n−1, m−1). When several paths are optimal, any of them is accepted.

  Example (the first visible case): y repeats x's first sample, so the cost is 0:
  >>> dtw(np.array([[0], [1], [2]], np.float32), np.array([[0], [0], [1], [2]], np.float32))
  (0.0, [(0, 0), (0, 1), (1, 2), (2, 3)])

  任务：规整路径按顺序把 x 和 y 的样本配对：从 (0, 0) 开始，到 (n−1, m−1) 结束，每一步是 (1, 0)、(0, 1)
  或 (1, 1)。路径的代价是路径上所有配对 (i, j) 的欧氏距离 ‖x_i − y_j‖₂ 之和（无步长权重，不归一化）。
  返回所有规整路径中的最小代价，以及一条达到该代价的路径。

  形状：x [n, d]，y [m, d]（n 与 m 可以不同，也可以为 1）-> (cost, path)：cost 为浮点数；path 为
  (i, j) 对的列表或 [L, 2] 整数数组，按从 (0, 0) 到 (n−1, m−1) 的顺序。若有多条最优路径，任意一条都算对。
  示例见上：y 重复了 x 的第一个样本，因此代价为 0。
  """
  raise NotImplementedError("dtw: write your answer here / 在此实现")

"""Part III — alignment (第三部分：对齐).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/ --assignment part3`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/ --assignment part3` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def soft_dtw(x, y, gamma):
  """Soft-DTW / 软动态时间规整（Soft-DTW）.

  Soft-DTW (Cuturi & Blondel 2017): the smooth version of dynamic time warping, with the squared
  Euclidean ground cost c(i, j) = ‖x_i − y_j‖₂² (the paper's and the zoo's `soft_dtw`, not Part II's
  `dtw`, which uses ‖x_i − y_j‖₂).

  Task: fill the table R[i, j] for i = 0..n−1, j = 0..m−1 with
    R[i, j] = c(i, j) + softmin_γ(R[i−1, j], R[i, j−1], R[i−1, j−1]),
    softmin_γ(a, b, c) = −γ·log(exp(−a/γ) + exp(−b/γ) + exp(−c/γ)),
  where R[−1, −1] = 0 and every other cell outside the table (row −1 or column −1) is +∞ (an
  exp(−∞/γ) term is 0, so it drops out). Return R[n−1, m−1] as one number. Steps are (1, 0), (0, 1) and
  (1, 1), with no weights and no normalisation; the value may be negative (a soft minimum lies below the
  hard one). γ is given (γ > 0; the cases use 0.01 ≤ γ ≤ 10): with a small γ the terms −a/γ are large, so
  compute the soft minimum stably, as min − γ·log Σ exp(−(a − min)/γ) (or with a logsumexp).

  Shapes: x [n, d], y [m, d] (float32, n, m, d ≥ 1; n = 1 or m = 1 occur), gamma a Python float -> a
  scalar.

  Example (the first visible case): x = y = [[0], [1]], γ = 1: c = [[0, 1], [1, 0]], R[0, 0] = 0,
  R[0, 1] = R[1, 0] = 1, R[1, 1] = 0 − log(e⁻¹ + e⁻¹ + e⁰) = −log(1 + 2/e) ≈ −0.551445.

  Soft-DTW（Cuturi & Blondel 2017）：动态时间规整的光滑版本，地面代价为欧氏距离的平方
  c(i, j) = ‖x_i − y_j‖₂²（与论文和 zoo 的 `soft_dtw` 一致；不同于第二部分 `dtw` 所用的 ‖x_i − y_j‖₂）。

  任务：对 i = 0..n−1、j = 0..m−1 填表
    R[i, j] = c(i, j) + softmin_γ(R[i−1, j], R[i, j−1], R[i−1, j−1])，
    softmin_γ(a, b, c) = −γ·log(exp(−a/γ) + exp(−b/γ) + exp(−c/γ))，
  其中 R[−1, −1] = 0，表外其余格（第 −1 行或第 −1 列）均为 +∞（exp(−∞/γ) 项为 0，自然消失）。返回一个数
  R[n−1, m−1]。步长为 (1, 0)、(0, 1)、(1, 1)，不加权、不归一化；结果可能为负（软最小值低于硬最小值）。
  γ 由参数给出（γ > 0；测试中 0.01 ≤ γ ≤ 10）：γ 很小时 −a/γ 很大，须稳定地计算软最小值，
  即 min − γ·log Σ exp(−(a − min)/γ)（或用 logsumexp）。

  形状：x [n, d]，y [m, d]（float32，n, m, d ≥ 1；会出现 n = 1 或 m = 1），gamma 为 Python 浮点数 -> 一个标量。

  示例（第一个可见用例）：x = y = [[0], [1]]，γ = 1：c = [[0, 1], [1, 0]]，R[0, 0] = 0，R[0, 1] = R[1, 0] = 1，
  R[1, 1] = 0 − log(e⁻¹ + e⁻¹ + e⁰) = −log(1 + 2/e) ≈ −0.551445。
  """
  raise NotImplementedError("soft_dtw: write your answer here / 在此实现")


def siglip_loss(img_emb, txt_emb, t, b):
  """SigLIP sigmoid loss / SigLIP sigmoid 损失.

  The sigmoid loss of SigLIP (Zhai et al. 2023): every image-text pair of the batch is its own binary
  classification, a match on the diagonal and a non-match everywhere else.

  Task: L2-normalise each row of both embeddings (x̂_i = x_i/‖x_i‖₂, ŷ_j = y_j/‖y_j‖₂; no row is zero);
  form the logits ℓ_ij = t·(x̂_i · ŷ_j) + b, with the labels z_ij = +1 if i = j and −1 otherwise; return
    L = −(1/B)·Σ_i Σ_j log σ(z_ij·ℓ_ij),   σ(u) = 1/(1 + e^(−u)),
  the sum over all B² pairs divided by the batch size B (as in the paper's pseudocode; not a mean over
  the B² pairs). t is the temperature itself (the paper's t = exp(t′), a positive Python float; the cases
  use 1 ≤ t ≤ 100) and b the bias (a Python float). With t = 100 the logits reach ±100 or more, where
  log(σ(u)) in float32 underflows to −∞ and 1 + e^(−u) overflows: compute log σ(u) stably, as
  −log(1 + e^(−u)) = −logaddexp(0, −u).

  Shapes: img_emb [B, d], txt_emb [B, d] (float32, B ≥ 1; with B = 1 there is no negative pair) -> a
  scalar.

  Example (the first visible case): img = txt = [[1, 0], [0, 1]], t = 10, b = −10: the two matching
  pairs have ℓ = 0, each −log σ(0) = log 2; the two non-matching pairs have ℓ = −10 and z = −1, each
  −log σ(10) ≈ 4.54e−5; L = (2·log 2 + 2·4.54e−5)/2 ≈ 0.693193.

  SigLIP 的 sigmoid 损失（Zhai et al. 2023）：批内每个图像-文本对都是一个独立的二分类，对角线上为匹配，
  其余为不匹配。

  任务：对两组嵌入的每一行做 L2 归一化（x̂_i = x_i/‖x_i‖₂，ŷ_j = y_j/‖y_j‖₂；没有全零行）；logits 为
  ℓ_ij = t·(x̂_i · ŷ_j) + b，标签 z_ij 在 i = j 时为 +1，否则为 −1；返回
    L = −(1/B)·Σ_i Σ_j log σ(z_ij·ℓ_ij)，σ(u) = 1/(1 + e^(−u))，
  即对全部 B² 个对求和后除以批大小 B（与论文伪代码一致；不是对 B² 个对取平均）。t 就是温度本身（论文中的
  t = exp(t′)，正的 Python 浮点数；测试中 1 ≤ t ≤ 100），b 为偏置（Python 浮点数）。t = 100 时 logits 可达 ±100
  以上，float32 下 log(σ(u)) 会下溢为 −∞，1 + e^(−u) 会上溢：须稳定地计算 log σ(u) = −log(1 + e^(−u)) =
  −logaddexp(0, −u)。

  形状：img_emb [B, d]，txt_emb [B, d]（float32，B ≥ 1；B = 1 时没有负样本对）-> 一个标量。

  示例（第一个可见用例）：img = txt = [[1, 0], [0, 1]]，t = 10，b = −10：两个匹配对 ℓ = 0，各为 −log σ(0) = log 2；
  两个不匹配对 ℓ = −10、z = −1，各为 −log σ(10) ≈ 4.54e−5；L = (2·log 2 + 2·4.54e−5)/2 ≈ 0.693193。
  """
  raise NotImplementedError("siglip_loss: write your answer here / 在此实现")


def deep_cca_loss(h1, h2, r1, r2, k):
  """Deep CCA objective / 深度典型相关分析（Deep CCA）目标.

  The Deep CCA objective (Andrew et al. 2013): minus the sum of the top-k canonical correlations of two
  views of the same n samples, with ridge regularisers on the two covariances.

  Task: centre each view over the batch (H̄1 = h1 − mean of its rows, H̄2 likewise); with the 1/(n − 1)
  convention form
    Σ11 = H̄1ᵀH̄1/(n − 1) + r1·I,   Σ22 = H̄2ᵀH̄2/(n − 1) + r2·I,   Σ12 = H̄1ᵀH̄2/(n − 1);
  whiten: T = Σ11^(−1/2)·Σ12·Σ22^(−1/2), where Σ^(−1/2) = V·diag(λ^(−1/2))·Vᵀ from the symmetric
  eigendecomposition Σ = V·diag(λ)·Vᵀ (λ > 0 thanks to r > 0). The canonical correlations are the singular
  values of T, in descending order; return −(the sum of the k largest). Any other whitening W with
  W·Σ·Wᵀ = I (a Cholesky factor's inverse, say) only rotates T and gives the same singular values.
  r1, r2 > 0 are Python floats (the cases use 1e−3 ≤ r ≤ 1), k is a Python int with
  1 ≤ k ≤ min(d1, d2); k = min(d1, d2) gives the paper's trace norm of T.

  Shapes: h1 [n, d1], h2 [n, d2] (float32, n ≥ 2; n may be smaller than d1 or d2, the ridge keeps the
  covariances invertible) -> a scalar.

  Example (the first visible case): h1 = [[1], [2], [3]], h2 = [[2], [4], [6]], r1 = 0.25, r2 = 1, k = 1:
  Σ11 = 1 + 0.25, Σ22 = 4 + 1, Σ12 = 2, so T = 2/√(1.25·5) = 0.8 and the loss is −0.8.

  Deep CCA 目标（Andrew et al. 2013）：同一批 n 个样本的两个视图的前 k 个典型相关系数之和取负，两个协方差
  带岭正则。

  任务：对每个视图按批中心化（H̄1 = h1 减去各行的均值，H̄2 同理）；按 1/(n − 1) 约定构造
    Σ11 = H̄1ᵀH̄1/(n − 1) + r1·I，Σ22 = H̄2ᵀH̄2/(n − 1) + r2·I，Σ12 = H̄1ᵀH̄2/(n − 1)；
  白化：T = Σ11^(−1/2)·Σ12·Σ22^(−1/2)，其中 Σ^(−1/2) = V·diag(λ^(−1/2))·Vᵀ 来自对称特征分解 Σ = V·diag(λ)·Vᵀ
  （因 r > 0，λ > 0）。典型相关系数是 T 的奇异值（降序）；返回 −(最大的 k 个之和)。任何其他满足 W·Σ·Wᵀ = I 的
  白化矩阵 W（例如 Cholesky 因子的逆）只会旋转 T，奇异值不变。r1, r2 > 0 为 Python 浮点数（测试中
  1e−3 ≤ r ≤ 1），k 为 Python 整数，1 ≤ k ≤ min(d1, d2)；k = min(d1, d2) 即论文中 T 的迹范数。

  形状：h1 [n, d1]，h2 [n, d2]（float32，n ≥ 2；n 可能小于 d1 或 d2，岭正则保证协方差可逆）-> 一个标量。

  示例（第一个可见用例）：h1 = [[1], [2], [3]]，h2 = [[2], [4], [6]]，r1 = 0.25，r2 = 1，k = 1：
  Σ11 = 1 + 0.25，Σ22 = 4 + 1，Σ12 = 2，故 T = 2/√(1.25·5) = 0.8，损失为 −0.8。
  """
  raise NotImplementedError("deep_cca_loss: write your answer here / 在此实现")


def resample_grid(feat, out_h, out_w):
  """Resampling a feature map onto another grid / 将特征图重采样到另一网格.

  Spatial alignment: bring a feature map onto another grid by bilinear interpolation, so position
  (i, j) means the same place in two modalities' maps (the zoo's `grid_tokens` does this before fusing
  them token by token).

  Task: pixel centres, not corners, are aligned (half-pixel convention, "align_corners = False"). For
  output row i (0 ≤ i < out_h) the source coordinate is
    s = (i + 0.5)·H/out_h − 0.5, clamped to [0, H − 1];
  let i0 = ⌊s⌋, i1 = min(i0 + 1, H − 1) and a = s − i0; columns likewise with t = (j + 0.5)·W/out_w − 0.5
  clamped to [0, W − 1], j0, j1 and c = t − j0. The output is, for every channel,
    (1−a)(1−c)·f[i0, j0] + (1−a)c·f[i0, j1] + a(1−c)·f[i1, j0] + a·c·f[i1, j1].
  No low-pass filter is applied when shrinking (no antialiasing): this is
  jax.image.resize(feat, (out_h, out_w, C), method="linear", antialias=False). Near the borders the
  clamp repeats the edge pixel; a map with H = 1 (or W = 1) is constant along that axis.

  Shapes: feat [H, W, C] (float32, H, W, C ≥ 1), out_h, out_w Python ints ≥ 1 (larger, smaller or equal
  to H, W; ratios need not be integers) -> [out_h, out_w, C].

  Example (the first visible case): feat = [[[0], [1]]] (H = 1, W = 2, C = 1), out_h = 1, out_w = 4:
  t = −0.25, 0.25, 0.75, 1.25 clamp to 0, 0.25, 0.75, 1, so the result is [[[0], [0.25], [0.75], [1]]].

  空间对齐：用双线性插值把特征图搬到另一网格上，使两个模态特征图中的位置 (i, j) 指向同一处（zoo 的
  `grid_tokens` 在逐 token 融合之前就做这一步）。

  任务：对齐的是像素中心而不是角点（半像素约定，"align_corners = False"）。对输出第 i 行（0 ≤ i < out_h），
  源坐标为
    s = (i + 0.5)·H/out_h − 0.5，并截断到 [0, H − 1]；
  令 i0 = ⌊s⌋，i1 = min(i0 + 1, H − 1)，a = s − i0；列同理：t = (j + 0.5)·W/out_w − 0.5 截断到 [0, W − 1]，
  得到 j0、j1 和 c = t − j0。每个通道的输出为
    (1−a)(1−c)·f[i0, j0] + (1−a)c·f[i0, j1] + a(1−c)·f[i1, j0] + a·c·f[i1, j1]。
  缩小时不做低通滤波（不抗锯齿）：即 jax.image.resize(feat, (out_h, out_w, C), method="linear",
  antialias=False)。边界附近截断会重复边缘像素；H = 1（或 W = 1）的特征图沿该轴为常数。

  形状：feat [H, W, C]（float32，H, W, C ≥ 1），out_h、out_w 为 Python 整数 ≥ 1（可大于、小于或等于 H、W；
  比例不一定是整数）-> [out_h, out_w, C]。

  示例（第一个可见用例）：feat = [[[0], [1]]]（H = 1，W = 2，C = 1），out_h = 1，out_w = 4：t = −0.25、0.25、
  0.75、1.25 截断为 0、0.25、0.75、1，结果为 [[[0], [0.25], [0.75], [1]]]。
  """
  raise NotImplementedError("resample_grid: write your answer here / 在此实现")

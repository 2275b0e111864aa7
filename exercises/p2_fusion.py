"""Part II — fusion (第二部分：融合).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def tensor_fusion(z_text, z_image, z_audio):
  """Tensor Fusion Network (Zadeh et al. 2017), as in its authors' code and MultiBench.

  Task: prepend a 1 to each modality vector, take the three-way outer product of the three
  extended vectors, and flatten it in C order (the audio index varies fastest). The 1s keep
  every unimodal and bimodal term next to the trimodal ones.

  Shapes: z_text [B, dt], z_image [B, di], z_audio [B, da] -> [B, (dt+1)(di+1)(da+1)].
  Inputs are float32 numpy arrays; B may be 1.

  Example (the first visible case): [1, 2] ⊗ [1, 3] ⊗ [1, 0.5], flattened:
  >>> tensor_fusion(np.array([[2]], np.float32), np.array([[3]], np.float32), np.array([[0.5]], np.float32))
  [[1.0, 0.5, 3.0, 1.5, 2.0, 1.0, 6.0, 3.0]]

  任务：给每个模态向量前面补一个 1，对三个扩展后的向量做三阶外积，并按 C 顺序展平（audio 下标变化最快）。
  补上的 1 使单模态项和双模态项与三模态项一起保留。

  形状：z_text [B, dt]，z_image [B, di]，z_audio [B, da] -> [B, (dt+1)(di+1)(da+1)]。输入为 float32
  numpy 数组；B 可能为 1。示例见上：[1, 2] ⊗ [1, 3] ⊗ [1, 0.5] 展平后为 [1, 0.5, 3, 1.5, 2, 1, 6, 3]。
  """
  raise NotImplementedError("tensor_fusion: write your answer here / 在此实现")


def low_rank_fusion(params, z_text, z_image, z_audio):
  """Low-rank Multimodal Fusion (Liu et al. 2018), as in its authors' code and MultiBench.

  Task: TFN's weight tensor, factored into r rank-one terms. For each modality m and rank
  index r, project [1; z_m] with the factor F_m[r]; multiply the three projections element-wise;
  sum over the rank with the learned weights w_r; add the bias:
    out = Σ_r w_r · Π_m ([1; z_m] · F_m[r]) + bias.

  Shapes: params = {"factors": [F_text, F_image, F_audio], "fusion_weights": [1, r],
  "fusion_bias": [1, o]}, F_m [r, d_m + 1, o]; z_m [B, d_m] -> [B, o].
  The visible cases are small fixed examples; the grader shows them when they fail.

  任务：把 TFN 的权重张量分解为 r 个秩一项。对每个模态 m 和秩下标 r，用因子 F_m[r] 投影 [1; z_m]；
  三个投影逐元素相乘；用学到的权重 w_r 对秩求和；再加偏置：out = Σ_r w_r · Π_m ([1; z_m] · F_m[r]) + bias。

  形状：params = {"factors": [F_text, F_image, F_audio], "fusion_weights": [1, r], "fusion_bias": [1, o]}，
  F_m [r, d_m + 1, o]；z_m [B, d_m] -> [B, o]。
  """
  raise NotImplementedError("low_rank_fusion: write your answer here / 在此实现")


def gated_fusion(params, x_a, x_b):
  """Gated Multimodal Unit (Arevalo et al. 2017).

  Task: h = z·tanh(x_a·W_a) + (1 − z)·tanh(x_b·W_b), with the gate z = σ([x_a; x_b]·W_z)
  (σ: the logistic sigmoid; [x_a; x_b]: concatenation along the feature axis). The gate decides,
  feature by feature, how much each modality contributes.

  Shapes: params = {"W_a": [d_a, o], "W_b": [d_b, o], "W_z": [d_a + d_b, o]};
  x_a [B, d_a], x_b [B, d_b] -> [B, o].

  任务：h = z·tanh(x_a·W_a) + (1 − z)·tanh(x_b·W_b)，门 z = σ([x_a; x_b]·W_z)（σ 为 logistic sigmoid；
  [x_a; x_b] 表示沿特征维拼接）。门逐个特征地决定每个模态的贡献。

  形状：params = {"W_a": [d_a, o], "W_b": [d_b, o], "W_z": [d_a + d_b, o]}；x_a [B, d_a]，x_b [B, d_b] -> [B, o]。
  """
  raise NotImplementedError("gated_fusion: write your answer here / 在此实现")


def film(params, x, cond):
  """FiLM, feature-wise linear modulation (Perez et al. 2018).

  Task: compute a scale γ = cond·W_γ + b_γ and a shift β = cond·W_β + b_β from the
  conditioning input, and return γ·x + β (element-wise).

  Shapes: params = {"gamma": {"kernel": [c, d], "bias": [d]}, "beta": {"kernel": [c, d],
  "bias": [d]}}; x [B, d], cond [B, c] -> [B, d].

  Example (the first visible case): γ = [2, 4], β = [1.5, 1], so γ·x + β = [3.5, 9]:
  >>> p = {"gamma": {"kernel": np.array([[2, 3]], np.float32), "bias": np.array([0, 1], np.float32)},
  ...      "beta": {"kernel": np.array([[1, 1]], np.float32), "bias": np.array([0.5, 0], np.float32)}}
  >>> film(p, np.array([[1, 2]], np.float32), np.array([[1]], np.float32))
  [[3.5, 9.0]]

  任务：由条件输入算出缩放 γ = cond·W_γ + b_γ 和平移 β = cond·W_β + b_β，返回 γ·x + β（逐元素）。

  形状：params = {"gamma": {"kernel": [c, d], "bias": [d]}, "beta": {"kernel": [c, d], "bias": [d]}}；
  x [B, d]，cond [B, c] -> [B, d]。示例见上：γ = [2, 4]，β = [1.5, 1]，γ·x + β = [3.5, 9]。
  """
  raise NotImplementedError("film: write your answer here / 在此实现")

"""Part III — fusion (第三部分：融合).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/ --assignment part3`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/ --assignment part3` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def mfb_pool(params, x, y, k):
  """MFB pooling / MFB 池化（多模态分解双线性池化）.

  Multi-modal Factorized Bilinear pooling (Yu et al. 2017): a bilinear fusion of two vectors factored
  into k rank-one terms per output feature, then power- and l2-normalised.

  Task: with two Dense layers (Flax layout: y = x·kernel + bias) expand both inputs to k·o features,
    p = x·K_0 + b_0,   q = y·K_1 + b_1,   [B, k·o] each;
  multiply them element-wise, e = p ⊙ q, and sum-pool over non-overlapping windows of k: output
  feature j is e[j·k] + e[j·k + 1] + … + e[j·k + k − 1] (that is, e.reshape(B, o, k).sum(−1)). Then
    signed square root: s = sign(v)·(√(|v| + ε) − √ε), ε = 1e−12 (it differs from sign(v)·√|v| by
      less than 1e−6, and its gradient stays finite at 0);
    l2 normalisation of each row: s / max(‖s‖₂, ε), with the same ε, so a row that pools to all zeros
      stays all zeros.
  o = K_0.shape[1] // k. No dropout. These are the parameters and the arithmetic of the zoo's
  `zoo.fusion.tensor.MFB(features=o, factors=k)` applied to [x, y].

  Shapes: params = {"expand_0": {"kernel": [dx, k·o], "bias": [k·o]}, "expand_1": {"kernel": [dy, k·o],
  "bias": [k·o]}}, x [B, dx], y [B, dy] (float32, B ≥ 1), k a Python int ≥ 1 -> [B, o]. A case may
  have k = 1 (no pooling), o = 1, and a row of x that is zero with b_0 = 0 (that row's output is zero).

  Example (the first visible case): dx = dy = 1, k = 2, o = 2, K_0 = [[1, 2, 0.5, 1]], K_1 = [[3, −1, 2, 2]],
  zero biases, x = y = [[1]]: e = [3, −2, 1, 2], pooled [1, 3], signed root [1, √3], norm 2, so the
  result is ≈ [[0.5, 0.866025]].

  多模态分解双线性池化 MFB（Yu et al. 2017）：把两个向量的双线性融合按每个输出特征分解为 k 个秩一项，
  再做幂归一化和 l2 归一化。

  任务：用两个 Dense 层（Flax 布局：y = x·kernel + bias）把两个输入都扩展到 k·o 个特征，
    p = x·K_0 + b_0，q = y·K_1 + b_1，各为 [B, k·o]；
  逐元素相乘 e = p ⊙ q，再在长度为 k 的不重叠窗口上求和池化：输出特征 j 为
  e[j·k] + e[j·k + 1] + … + e[j·k + k − 1]（即 e.reshape(B, o, k).sum(−1)）。然后
    带符号平方根：s = sign(v)·(√(|v| + ε) − √ε)，ε = 1e−12（与 sign(v)·√|v| 相差不到 1e−6，且在 0 处梯度有限）；
    每行 l2 归一化：s / max(‖s‖₂, ε)，ε 同上，因此池化后全为 0 的行仍全为 0。
  o = K_0.shape[1] // k。不用 dropout。参数和计算与 zoo 的 `zoo.fusion.tensor.MFB(features=o, factors=k)`
  作用于 [x, y] 时完全一致。

  形状：params = {"expand_0": {"kernel": [dx, k·o], "bias": [k·o]}, "expand_1": {"kernel": [dy, k·o],
  "bias": [k·o]}}，x [B, dx]，y [B, dy]（float32，B ≥ 1），k 为 Python 整数 ≥ 1 -> [B, o]。测试中可能出现
  k = 1（不池化）、o = 1，以及 x 的某一行为零且 b_0 = 0（该行输出为零）。

  示例（第一个可见用例）：dx = dy = 1，k = 2，o = 2，K_0 = [[1, 2, 0.5, 1]]，K_1 = [[3, −1, 2, 2]]，偏置为零，
  x = y = [[1]]：e = [3, −2, 1, 2]，池化得 [1, 3]，带符号平方根 [1, √3]，范数为 2，结果 ≈ [[0.5, 0.866025]]。
  """
  raise NotImplementedError("mfb_pool: write your answer here / 在此实现")


def multiplicative_interaction(params, x, z):
  """Multiplicative interaction layer / 乘性交互层.

  The multiplicative interaction layer of Jayakumar et al. (2020): a bilinear form in the two inputs
  plus both linear terms and a bias, the general layer that gating, FiLM and hypernetworks are special
  cases of.

  Task: for each sample,
    out_o = Σ_i Σ_j x_i·W[i, j, o]·z_j + Σ_i x_i·U[i, o] + Σ_j z_j·V[j, o] + b_o,
  that is out = xᵀ𝕎z + xᵀU + zᵀV + b with the 3-tensor 𝕎 contracted over its first two axes
  (einsum "bi,ijo,bj->bo"). x is the zoo's first modality and z the second: these are the parameters
  and the arithmetic of `zoo.fusion.gating.MultiplicativeInteraction(features=o)` applied to [x, z].

  Shapes: params = {"W": [dx, dz, o], "U": [dx, o], "V": [dz, o], "b": [o]}, x [B, dx], z [B, dz]
  (float32, B ≥ 1; dx, dz or o may be 1) -> [B, o].

  Example (the first visible case): dx = dz = o = 1, W = [[[2]]], U = [[1]], V = [[−1]], b = [0.5],
  x = [[3]], z = [[2]]: 3·2·2 + 3·1 + 2·(−1) + 0.5 = [[13.5]].

  Jayakumar 等（2020）的乘性交互层：两个输入的双线性型，加上两个线性项和偏置；门控、FiLM 和超网络都是它的特例。

  任务：对每个样本，
    out_o = Σ_i Σ_j x_i·W[i, j, o]·z_j + Σ_i x_i·U[i, o] + Σ_j z_j·V[j, o] + b_o，
  即 out = xᵀ𝕎z + xᵀU + zᵀV + b，三阶张量 𝕎 在前两个轴上缩并（einsum "bi,ijo,bj->bo"）。x 是 zoo 中的第一个
  模态，z 是第二个：参数和计算与 `zoo.fusion.gating.MultiplicativeInteraction(features=o)` 作用于 [x, z] 时一致。

  形状：params = {"W": [dx, dz, o], "U": [dx, o], "V": [dz, o], "b": [o]}，x [B, dx]，z [B, dz]
  （float32，B ≥ 1；dx、dz 或 o 可能为 1）-> [B, o]。

  示例（第一个可见用例）：dx = dz = o = 1，W = [[[2]]]，U = [[1]]，V = [[−1]]，b = [0.5]，x = [[3]]，z = [[2]]：
  3·2·2 + 3·1 + 2·(−1) + 0.5 = [[13.5]]。
  """
  raise NotImplementedError("multiplicative_interaction: write your answer here / 在此实现")


def mbt_bottleneck(params, x_a, x_b, bottleneck, num_heads):
  """MBT bottleneck exchange / MBT 瓶颈交换.

  One fusion step of the Multimodal Bottleneck Transformer (Nagrani et al. 2021), attention sublayer only:
  two modalities exchange information solely through a few shared bottleneck tokens.

  Task: for each modality m ∈ {a, b}, with that modality's own weights params[m]:
    u = [x_m; bottleneck], the two concatenated along the token axis, [B, L_m + N, D];
    u′ = u + MHA_m(LN_m(u))   (pre-LayerNorm self-attention over all L_m + N tokens, with a residual);
    x_m′ = u′[:, :L_m] (the modality's tokens), n_m = u′[:, L_m:] (its updated copy of the bottleneck).
  Return (x_a′, x_b′, (n_a + n_b)/2): the new bottleneck is the mean of the two modalities' copies.
  Modality a never sees b's tokens, only the shared bottleneck. No mask (every token is real), no
  dropout, no feed-forward sublayer (the zoo's `BottleneckFusion` layer adds one; here it is left out).
    LN_m: over the last axis of each token, (u − μ)/√(σ² + ε)·scale + bias, σ² the biased variance
      (divide by D), ε = 1e−6 (flax.linen.LayerNorm's default), params[m]["ln"] = {"scale": [D], "bias": [D]}.
    MHA_m: flax.linen.MultiHeadDotProductAttention(num_heads=h) with params params[m]["attn"], queries,
      keys and values all y = LN_m(u): q = y·W_q + b_q with kernel [D, h, d_h] and bias [h, d_h]
      (d_h = D/h; einsum "bld,dhe->blhe"), k and v likewise; per head softmax(q·kᵀ/√d_h) over the keys,
      times v; out = Σ_h Σ_e o[b, l, h, e]·W_out[h, e, :] + b_out, W_out [h, d_h, D], b_out [D].

  Shapes: params = {"a": P_a, "b": P_b}, each P = {"ln": {"scale", "bias"}, "attn": {"query", "key",
  "value", "out"}} as above; x_a [B, L_a, D], x_b [B, L_b, D], bottleneck [B, N, D] (float32; B, L_a,
  L_b, N ≥ 1), num_heads a Python int dividing D -> a tuple ([B, L_a, D], [B, L_b, D], [B, N, D]).

  Example (the first visible case): modality b's output projection is zero (W_out = 0, b_out = 0), so
  its attention adds nothing: x_b′ = x_b and n_b = bottleneck, hence the new bottleneck is
  (n_a + bottleneck)/2.

  多模态瓶颈 Transformer（MBT，Nagrani et al. 2021）的一步融合，只含注意力子层：两个模态只通过少量共享的
  瓶颈 token 交换信息。

  任务：对每个模态 m ∈ {a, b}，使用该模态自己的权重 params[m]：
    u = [x_m; bottleneck]，沿 token 轴拼接，[B, L_m + N, D]；
    u′ = u + MHA_m(LN_m(u))（在全部 L_m + N 个 token 上做前置 LayerNorm 的自注意力，带残差）；
    x_m′ = u′[:, :L_m]（该模态的 token），n_m = u′[:, L_m:]（它更新后的瓶颈副本）。
  返回 (x_a′, x_b′, (n_a + n_b)/2)：新的瓶颈是两个模态副本的平均。模态 a 看不到 b 的 token，只看到共享瓶颈。
  无掩码（所有 token 都是真实的），无 dropout，无前馈子层（zoo 的 `BottleneckFusion` 层还有一个前馈子层，此处省去）。
    LN_m：对每个 token 的最后一维做 (u − μ)/√(σ² + ε)·scale + bias，σ² 为有偏方差（除以 D），ε = 1e−6
      （flax.linen.LayerNorm 的默认值），params[m]["ln"] = {"scale": [D], "bias": [D]}。
    MHA_m：flax.linen.MultiHeadDotProductAttention(num_heads=h)，参数为 params[m]["attn"]，查询、键、值都是
      y = LN_m(u)：q = y·W_q + b_q，kernel [D, h, d_h]，bias [h, d_h]（d_h = D/h；einsum "bld,dhe->blhe"），k、v 同理；
      每个头对键做 softmax(q·kᵀ/√d_h) 再乘 v；out = Σ_h Σ_e o[b, l, h, e]·W_out[h, e, :] + b_out，
      W_out [h, d_h, D]，b_out [D]。

  形状：params = {"a": P_a, "b": P_b}，每个 P = {"ln": {"scale", "bias"}, "attn": {"query", "key", "value", "out"}}
  如上；x_a [B, L_a, D]，x_b [B, L_b, D]，bottleneck [B, N, D]（float32；B、L_a、L_b、N ≥ 1），num_heads 为整除 D 的
  Python 整数 -> 元组 ([B, L_a, D], [B, L_b, D], [B, N, D])。

  示例（第一个可见用例）：模态 b 的输出投影为零（W_out = 0，b_out = 0），其注意力不起作用：x_b′ = x_b，
  n_b = bottleneck，因此新的瓶颈为 (n_a + bottleneck)/2。
  """
  raise NotImplementedError("mbt_bottleneck: write your answer here / 在此实现")

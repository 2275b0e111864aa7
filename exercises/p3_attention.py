"""Part III — attention blocks from the zoo's catalog (第三部分：zoo 目录中的注意力模块).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/ --assignment part3`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/ --assignment part3` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def masked_attention(q, k, v, key_lengths):
  """Scaled dot-product attention over a padded batch: sample b has key_lengths[b] real keys, the
  first ones; the keys after them are padding and must get attention weight exactly 0.

  Task: for every sample b and query i, score the real keys j < key_lengths[b] by q[b, i]·k[b, j] / √d
  (d: the query/key width), take a softmax over those real keys only, and return the weighted sum of
  their values. Padded keys and values hold arbitrary numbers and must not change the result.
  Edge rule: a sample with key_lengths[b] = 0 has no real key; every one of its query rows returns
  zeros (no message), as the zoo's token fusions do (zoo/fusion/tokens.py), not the uniform average of
  padding that a softmax over an all-masked row would give.

  Shapes: q [B, Lq, d], k [B, Lk, d], v [B, Lk, dv] (float32; dv may differ from d),
  key_lengths [B] (int32, each in 0..Lk) -> [B, Lq, dv].

  Example (the first visible case):
  >>> q = np.array([[[1, 0], [0, 1]], [[1, 1], [0, 0]]], np.float32)
  >>> k = np.array([[[1, 0], [0, 1], [9, 9]], [[7, 7], [7, 7], [7, 7]]], np.float32)
  >>> v = np.array([[[1, 2], [3, 4], [99, 99]], [[5, 5], [5, 5], [5, 5]]], np.float32)
  >>> masked_attention(q, k, v, np.array([2, 0], np.int32))
  [[[1.6604769, 2.6604769], [2.3395231, 3.3395231]], [[0, 0], [0, 0]]]
  (sample 0 attends to its first two keys only; sample 1 has no real key, so its rows are zeros).

  对带填充的批做缩放点积注意力：第 b 个样本有 key_lengths[b] 个真实的 key，即最前面的那些；其后的
  key 是填充，注意力权重必须恰好为 0。

  任务：对每个样本 b 和每个 query i，用 q[b, i]·k[b, j] / √d（d 为 query/key 的宽度）给真实的 key
  j < key_lengths[b] 打分，只在这些真实 key 上做 softmax，返回它们 value 的加权和。填充位置的 key 和 value
  是任意数，不得影响结果。
  边界规则：key_lengths[b] = 0 的样本没有真实 key，它的每一行 query 都返回全零（不传递消息），与 zoo 的
  token 融合（zoo/fusion/tokens.py）一致；而不是对整行都被遮蔽的 softmax 所给出的填充的均匀平均。

  形状：q [B, Lq, d]，k [B, Lk, d]，v [B, Lk, dv]（float32；dv 可以不等于 d），key_lengths [B]（int32，
  每个在 0..Lk 之间）-> [B, Lq, dv]。

  例（第一个公开用例）：见上面英文部分的代码；样本 0 只关注前两个 key，样本 1 没有真实 key，所以各行为零。
  """
  raise NotImplementedError("masked_attention: write your answer here / 在此实现")


def mult_block(params, x_tgt, x_src, num_heads):
  """One cross-modal attention block of the Multimodal Transformer (MulT, Tsai et al. 2019): the target
  modality's tokens x_tgt read the source modality's tokens x_src (MulT's "source -> target" block), in the
  pre-LayerNorm placement the zoo uses for all its blocks (zoo/layers.py, AttentionBlock).

  Task, with every step over the last axis and LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias
  (mean and the biased variance over the features, epsilon 1e-6, as flax.linen.LayerNorm):
    y   = LN_q(x_tgt)                 with params["ln_q"]   = {"scale": [D], "bias": [D]}
    c   = LN_ctx(x_src)               with params["ln_ctx"] = {"scale": [D], "bias": [D]}
    a   = multi-head attention of queries y to keys and values c, with params["attn"] in the layout of
          flax.linen.MultiHeadDotProductAttention (Part II's multi_head_attention): "query"/"key"/"value"
          {"kernel": [D, h, D/h], "bias": [h, D/h]}, "out" {"kernel": [h, D/h, D], "bias": [D]};
          h = num_heads, each head scaled by 1/sqrt(D/h), softmax over all source tokens (no mask)
    z   = x_tgt + a                   (the residual adds the un-normalised input)
    out = z + fc2(gelu(fc1(LN_mlp(z))))  with params["ln_mlp"] = {"scale": [D], "bias": [D]},
          fc(x) = x @ kernel + bias, params["mlp"]["fc1"] = {"kernel": [D, F], "bias": [F]},
          params["mlp"]["fc2"] = {"kernel": [F, D], "bias": [D]}, and gelu the tanh approximation
          0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (flax.linen.gelu's default, approximate=True).
  No dropout. The result equals zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F)
  .apply({"params": params}, x_tgt, ones[B, Lt], x_src, ones[B, Ls]).

  Shapes: x_tgt [B, Lt, D], x_src [B, Ls, D] (float32; Ls may differ from Lt), num_heads an int dividing D
  -> [B, Lt, D]. Lt, Ls, h, D and F may be 1; with D = 1 each LayerNorm returns its bias.
  The visible cases are small seeded examples; the grader shows them when they fail.

  多模态 Transformer（MulT，Tsai et al. 2019）的一个跨模态注意力块：目标模态的 token x_tgt 读取源模态的
  token x_src（MulT 的“源 -> 目标”块），采用 zoo 所有块都用的前置 LayerNorm 布局（zoo/layers.py 中的
  AttentionBlock）。

  任务：每一步都作用在最后一维上，LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias（在特征上求均值和
  有偏方差，epsilon 为 1e-6，与 flax.linen.LayerNorm 相同）：
    y = LN_q(x_tgt)，c = LN_ctx(x_src)；
    a = 以 y 为 query、c 为 key 和 value 的多头注意力，params["attn"] 的布局与
        flax.linen.MultiHeadDotProductAttention（第二部分的 multi_head_attention）相同，头数 h = num_heads，
        每个头除以 sqrt(D/h)，对全部源 token 做 softmax（无掩码）；
    z = x_tgt + a（残差加的是未归一化的输入）；
    out = z + fc2(gelu(fc1(LN_mlp(z))))，fc(x) = x @ kernel + bias，gelu 取 tanh 近似
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))（flax.linen.gelu 的默认 approximate=True）。
  无 dropout。参数形状见上面英文部分；结果等于
  zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F).apply({"params": params}, x_tgt, 全 1 掩码, x_src, 全 1 掩码)。

  形状：x_tgt [B, Lt, D]，x_src [B, Ls, D]（float32；Ls 可以不等于 Lt），num_heads 为能整除 D 的整数
  -> [B, Lt, D]。Lt、Ls、h、D 和 F 都可能为 1；D = 1 时每个 LayerNorm 都只返回它的 bias。
  公开用例是固定随机种子生成的小例子，失败时评分器会显示它们。
  """
  raise NotImplementedError("mult_block: write your answer here / 在此实现")


def perceiver_cross_attention(params, latents, x, num_heads):
  """The Perceiver's cross-attention (Jaegle et al. 2021): a small latent array, shared by every sample,
  reads a long input array of another width. Its cost is linear in the input length, since the queries
  come from the N latents and only the keys and values from the M inputs.

  Task: broadcast latents [N, D] to every sample, then apply one pre-LayerNorm cross-attention block, as
  the zoo's PerceiverFusion does (zoo/fusion/tokens.py, its "cross" AttentionBlock). Every step works over
  the last axis, with LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias (mean and biased variance over
  the features, epsilon 1e-6, as flax.linen.LayerNorm):
    y   = LN_q(latents)         params["ln_q"]   = {"scale": [D], "bias": [D]}  (the latents are normed)
    c   = LN_ctx(x)             params["ln_ctx"] = {"scale": [C], "bias": [C]}  (so are the inputs)
    a   = multi-head attention of queries y to keys and values c, params["attn"] in the layout of
          flax.linen.MultiHeadDotProductAttention: "query" {"kernel": [D, h, D/h], "bias": [h, D/h]},
          "key" and "value" {"kernel": [C, h, D/h], "bias": [h, D/h]} (they read width C),
          "out" {"kernel": [h, D/h, D], "bias": [D]}; h = num_heads, each head scaled by 1/sqrt(D/h),
          softmax over all M inputs (no mask)
    z   = latents + a           (the residual adds the un-normalised latents)
    out = z + fc2(gelu(fc1(LN_mlp(z))))  params["ln_mlp"] = {"scale": [D], "bias": [D]},
          fc(x) = x @ kernel + bias, params["mlp"]["fc1"] = {"kernel": [D, F], "bias": [F]},
          params["mlp"]["fc2"] = {"kernel": [F, D], "bias": [D]}, gelu the tanh approximation
          0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (flax.linen.gelu's default, approximate=True).
  No dropout. The result equals zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F)
  .apply({"params": params}, latents broadcast to [B, N, D], ones[B, N], x, ones[B, M]).

  Shapes: params as above, latents [N, D], x [B, M, C] (float32; C may differ from D), num_heads an int
  dividing D -> [B, N, D]. N, M, C, h and F may be 1.
  The visible cases are small seeded examples; the grader shows them when they fail.

  Perceiver 的交叉注意力（Jaegle et al. 2021）：一个所有样本共享的小潜变量数组，读取一个宽度不同的长输入
  数组。query 来自 N 个潜变量，只有 key 和 value 来自 M 个输入，所以代价与输入长度成线性关系。

  任务：把 latents [N, D] 广播到每个样本，再做一个前置 LayerNorm 的交叉注意力块，与 zoo 的 PerceiverFusion
  （zoo/fusion/tokens.py 中它的 "cross" AttentionBlock）相同。每一步都作用在最后一维上，
  LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias（在特征上求均值和有偏方差，epsilon 为 1e-6，与
  flax.linen.LayerNorm 相同）：
    y = LN_q(latents)（潜变量要归一化），c = LN_ctx(x)（输入也要归一化）；
    a = 以 y 为 query、c 为 key 和 value 的多头注意力，params["attn"] 的布局与
        flax.linen.MultiHeadDotProductAttention 相同，"key"/"value" 的 kernel 为 [C, h, D/h]（读取宽度 C），
        头数 h = num_heads，每个头除以 sqrt(D/h)，对全部 M 个输入做 softmax（无掩码）；
    z = latents + a（残差加的是未归一化的潜变量）；
    out = z + fc2(gelu(fc1(LN_mlp(z))))，fc(x) = x @ kernel + bias，gelu 取 tanh 近似
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))（flax.linen.gelu 的默认 approximate=True）。
  无 dropout。参数形状见上面英文部分；结果等于 zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F)
  .apply({"params": params}, 广播到 [B, N, D] 的 latents, 全 1 掩码, x, 全 1 掩码)。

  形状：latents [N, D]，x [B, M, C]（float32；C 可以不等于 D），num_heads 为能整除 D 的整数 -> [B, N, D]。
  N、M、C、h 和 F 都可能为 1。公开用例是固定随机种子生成的小例子，失败时评分器会显示它们。
  """
  raise NotImplementedError("perceiver_cross_attention: write your answer here / 在此实现")


def co_attention(params, x_a, x_b, mask_a, mask_b, num_heads):
  """ViLBERT's co-attentional exchange (Lu et al. 2019), one layer, as the zoo's CoAttention builds it from
  its pre-LayerNorm block (zoo/layers.py, AttentionBlock): stream a's tokens read stream b, and
  stream b's tokens read stream a, both from the streams AS GIVEN (simultaneously: b reads the old a,
  not the a this layer has just updated). The two streams may have different widths Da and Db.

  Task: new_a = block(params["a"], x_a, ctx=x_b, ctx_mask=mask_b), new_b = block(params["b"], x_b, ctx=x_a,
  ctx_mask=mask_a), where block(p, x, ctx, ctx_mask), every step over the last axis, with
  LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias (biased variance, epsilon 1e-6, as flax.linen.LayerNorm):
    y   = LN_q(x), c = LN_ctx(ctx)            p["ln_q"] over x's width, p["ln_ctx"] over ctx's width
    a   = multi-head attention of queries y to keys and values c (p["attn"] in the layout of
          flax.linen.MultiHeadDotProductAttention: "query" {"kernel": [D, h, D/h], "bias": [h, D/h]},
          "key"/"value" {"kernel": [D_ctx, h, D/h], "bias": [h, D/h]}, "out" {"kernel": [h, D/h, D],
          "bias": [D]}; h = num_heads; scale 1/sqrt(D/h)), where a context token whose mask is False
          (padding) gets weight exactly 0; if a sample has no real context token at all, a = 0 for every
          query of that sample (no message, as the zoo's blocks do)
    z   = x + a
    out = z + fc2(gelu(fc1(LN_mlp(z))))       fc(x) = x @ kernel + bias, p["mlp"]["fc1"] {"kernel": [D, F],
          "bias": [F]}, p["mlp"]["fc2"] {"kernel": [F, D], "bias": [D]}; gelu the tanh approximation
          0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (flax.linen.gelu's default).
  Every position of a stream is a query, padded ones included (their outputs are graded too); the masks
  only remove padded tokens as keys and values. No dropout. Each block equals
  zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F).apply({"params": p}, x, ones, ctx, ctx_mask).

  Shapes: params = {"a": block parameters (D = Da, D_ctx = Db), "b": block parameters (D = Db, D_ctx = Da)};
  x_a [B, La, Da], x_b [B, Lb, Db] (float32); mask_a [B, La], mask_b [B, Lb] (bool, True = real token);
  num_heads an int dividing Da and Db -> a tuple (new_a [B, La, Da], new_b [B, Lb, Db]).
  La, Lb, h and the widths may be 1; a sample's mask may be all False.
  The visible cases are small seeded examples; the grader shows them when they fail.

  ViLBERT 的协同注意力交换（Lu et al. 2019）的一层，与 zoo 的 CoAttention 用它的前置 LayerNorm 块
  （zoo/layers.py 中的 AttentionBlock）搭建的方式相同：流 a 的 token 读取流 b，流 b 的 token 读取
  流 a，两者都读取【给定的】流（同时进行：b 读取的是旧的 a，而不是本层刚更新过的 a）。两个流的宽度 Da 和
  Db 可以不同。

  任务：new_a = block(params["a"], x_a, ctx=x_b, ctx_mask=mask_b)，new_b = block(params["b"], x_b,
  ctx=x_a, ctx_mask=mask_a)。block(p, x, ctx, ctx_mask) 的每一步都作用在最后一维上，
  LN(x) = (x - mean) / sqrt(var + 1e-6) * scale + bias（有偏方差，epsilon 为 1e-6，与 flax.linen.LayerNorm 相同）：
    y = LN_q(x)，c = LN_ctx(ctx)；
    a = 以 y 为 query、c 为 key 和 value 的多头注意力（p["attn"] 的布局与
        flax.linen.MultiHeadDotProductAttention 相同，见上面英文部分；头数 h = num_heads；除以 sqrt(D/h)），
        掩码为 False（填充）的上下文 token 权重恰好为 0；若某个样本没有任何真实的上下文 token，则该样本每个
        query 的 a = 0（不传递消息，与 zoo 的块相同）；
    z = x + a；
    out = z + fc2(gelu(fc1(LN_mlp(z))))，fc(x) = x @ kernel + bias，gelu 取 tanh 近似
        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))（flax.linen.gelu 的默认）。
  流中的每个位置都是 query，包括填充位置（它们的输出也要评分）；掩码只把填充 token 从 key 和 value 中去掉。
  无 dropout。每个块都等于 zoo.layers.AttentionBlock(num_heads=h, mlp_dim=F).apply({"params": p},
  x, 全 1 掩码, ctx, ctx_mask)。

  形状：params = {"a": 块参数（D = Da，D_ctx = Db），"b": 块参数（D = Db，D_ctx = Da）}；x_a [B, La, Da]，
  x_b [B, Lb, Db]（float32）；mask_a [B, La]，mask_b [B, Lb]（布尔，True 表示真实 token）；num_heads 为能
  同时整除 Da 和 Db 的整数 -> 元组 (new_a [B, La, Da], new_b [B, Lb, Db])。La、Lb、h 和宽度都可能为 1；
  某个样本的掩码可能全为 False。公开用例是固定随机种子生成的小例子，失败时评分器会显示它们。
  """
  raise NotImplementedError("co_attention: write your answer here / 在此实现")

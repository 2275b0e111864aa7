"""Part III — decoding (第三部分：解码).

Implement these with numpy or jax.numpy; float32 is fine. Check with `python -m grader exercises/ --assignment part3`.
用 numpy 或 jax.numpy 实现，float32 即可。用 `python -m grader exercises/ --assignment part3` 自查。
"""

import numpy as np  # noqa: F401  (numpy and jax.numpy are both available)


def kv_decode_step(params, x_t, cache_k, cache_v, pos):
  """One step of autoregressive decoding with a key/value cache (as in the zoo's decoder,
  zoo/encdec.py, which uses flax.linen.MultiHeadDotProductAttention(decode=True)). The token at position
  pos arrives; the keys and values of positions 0..pos-1 were computed at earlier steps and are in the
  cache, so only the new token is projected.

  Task: with params in the layout of flax.linen.MultiHeadDotProductAttention ("query"/"key"/"value"
  {"kernel": [D, H, d_head], "bias": [H, d_head]}, "out" {"kernel": [H, d_head, D_out], "bias": [D_out]}):
    1. project the new token: q = x_t . Wq + bq, k = x_t . Wk + bk, v = x_t . Wv + bv, each [B, 1, H, d_head];
    2. write k and v into the cache at position pos: new_cache_k[:, pos] = k[:, 0], likewise for v; every
       other slot is copied unchanged (do not modify the input arrays in place: return new ones);
    3. the query attends, head by head, to cache positions 0..pos inclusive (causal: itself and the
       past), with scores q . k_j / sqrt(d_head) and a softmax over those pos + 1 positions; the slots
       after pos hold arbitrary numbers and must not change the result;
    4. project the heads: out[b, 0] = sum_h head_h[b] . params["out"]["kernel"][h] + params["out"]["bias"].
  The out part equals MultiHeadDotProductAttention(num_heads=H, qkv_features=H*d_head, out_features=D_out,
  decode=True).apply({"params": params, "cache": {"cached_key": cache_k, "cached_value": cache_v,
  "cache_index": pos}}, x_t, mutable=["cache"]).

  Shapes: x_t [B, 1, D] (float32, one token per sequence); cache_k, cache_v [B, T_max, H, d_head]
  (Flax's cache layout: batch, position, head, head width); pos an int, 0 <= pos < T_max, the same for the
  whole batch -> a tuple (out [B, 1, D_out], new_cache_k [B, T_max, H, d_head], new_cache_v [B, T_max, H, d_head]).
  pos may be 0 (the token attends to itself only) or T_max - 1 (the last slot); T_max, H and d_head may be 1.
  The visible cases are small seeded examples; the grader shows them when they fail.

  带键值缓存的自回归解码的一步（与 zoo 的解码器 zoo/encdec.py 相同，它用的是
  flax.linen.MultiHeadDotProductAttention(decode=True)）。位置 pos 的 token 到来；位置 0..pos-1 的 key 和
  value 已在之前的步骤中算好并存在缓存里，所以只需投影这个新 token。

  任务：params 的布局与 flax.linen.MultiHeadDotProductAttention 相同（见上面英文部分）：
    1. 投影新 token：q、k、v 各为 [B, 1, H, d_head]；
    2. 把 k 和 v 写入缓存的位置 pos：new_cache_k[:, pos] = k[:, 0]，v 同理；其余位置原样复制（不要原地修改
       输入数组，返回新的数组）；
    3. query 逐头关注缓存位置 0..pos（含 pos，因果：自己和过去），分数为 q . k_j / sqrt(d_head)，在这
       pos + 1 个位置上做 softmax；pos 之后的位置是任意数，不得影响结果；
    4. 投影各头：out[b, 0] = sum_h head_h[b] . params["out"]["kernel"][h] + params["out"]["bias"]。
  out 部分等于上面英文部分给出的 Flax 调用。

  形状：x_t [B, 1, D]（float32，每个序列一个 token）；cache_k、cache_v 为 [B, T_max, H, d_head]（Flax 的
  缓存布局：批、位置、头、头宽）；pos 为整数，0 <= pos < T_max，整批相同 -> 元组 (out [B, 1, D_out],
  new_cache_k [B, T_max, H, d_head], new_cache_v [B, T_max, H, d_head])。pos 可能为 0（只关注自己）或
  T_max - 1（最后一个位置）；T_max、H 和 d_head 都可能为 1。公开用例是固定随机种子生成的小例子，失败时评分器会显示它们。
  """
  raise NotImplementedError("kv_decode_step: write your answer here / 在此实现")


def beam_search(log_probs_table, beam_size, max_len, eos, alpha):
  """Beam search (as in the zoo's decoder, zoo/encdec.py) with a GNMT length penalty (Wu et al. 2016), over a
  given bigram model: log_probs_table[a, b] is the log-probability (a number <= 0; rows need not be
  normalised) of token b coming right after token a. The end token eos is also the start: the first token's
  log-probabilities are the row log_probs_table[eos].

  Task: a hypothesis is a list of tokens with a score, the sum of its tokens' log-probabilities; it is
  finished once its last token is eos. Start from the empty hypothesis (score 0). Then, for each of max_len
  steps:
    1. candidates: every unfinished hypothesis extended by every token b = 0..V-1 (score +
       log_probs_table[last token, b]), plus every finished hypothesis carried over unchanged;
    2. keep the beam_size best candidates: the higher score first; equal scores are ordered by their token
       lists compared lexicographically, the smaller first (as Python compares lists: the smaller token id
       at the first position where they differ).
  (Once every kept hypothesis is finished, further steps change nothing; you may stop early.)
  At the end, give each kept hypothesis its final score = score / ((5 + length) / 6) ** alpha, where length
  is its number of tokens, eos included (the length penalty is applied only here, not while searching),
  and return the best by final score (equal final scores: the same lexicographic rule).

  Returns a tuple (tokens, final_score): tokens an integer array of length max_len, the best hypothesis
  followed by eos until max_len (a hypothesis that never produced eos fills all max_len slots), and
  final_score a float.

  Shapes: log_probs_table [V, V] float32 (V >= 2), beam_size an int in 1..V, max_len an int >= 1, eos an int
  in 0..V-1, alpha a float >= 0 (alpha = 0: no length penalty; beam_size = 1: greedy decoding).
  Ties are frequent in the tests (the tables hold multiples of 1/16).

  Example (the first visible case; eos = 0, beam 2, max_len 4, alpha 0):
  >>> t = np.array([[-3, -0.5, -1, -3], [-2.5, -2, -2, -2], [-0.25, -3, -3, -3], [-1, -1, -1, -1]], np.float32)
  >>> beam_search(t, 2, 4, 0, 0.0)
  ([2, 0, 0, 0], -1.25)
  (the tokens come back as an integer array; the example writes them as a list). Greedy decoding would
  take token 1 first (-0.5) and end far lower. Step 2 keeps [2, 0] (-1.25) and, of the tied [1, 1],
  [1, 2], [1, 3] (-2.5 each), the smallest list [1, 1].

  束搜索（与 zoo 的解码器 zoo/encdec.py 相同），带 GNMT 长度惩罚（Wu et al. 2016），在给定的二元模型上
  进行：log_probs_table[a, b] 是 token b 紧跟在 token a 之后的对数概率（<= 0 的数；各行不必归一化）。结束符
  eos 同时也是开始：第一个 token 的对数概率是 log_probs_table[eos] 这一行。

  任务：一个假设是一个 token 列表加一个分数（其各 token 对数概率之和）；最后一个 token 是 eos 时它就结束了。
  从空假设（分数 0）开始，然后进行 max_len 步，每一步：
    1. 候选：每个未结束的假设分别接上每个 token b = 0..V-1（分数加上 log_probs_table[最后一个 token, b]），
       再加上每个已结束的假设（原样保留）；
    2. 保留最好的 beam_size 个候选：分数高者在前；分数相同时按 token 列表的字典序，小者在前（与 Python
       比较列表相同：在第一个不同的位置上 token 编号小者在前）。
  （一旦保留的假设都已结束，后续步骤不再改变任何东西，可以提前停止。）
  最后，给每个保留的假设计算最终分数 = score / ((5 + length) / 6) ** alpha，length 是它的 token 个数（含
  eos；长度惩罚只在这里使用，搜索过程中不用），返回最终分数最好的那个（最终分数相同时同样按字典序）。

  返回元组 (tokens, final_score)：tokens 是长度为 max_len 的整数数组，即最好的假设，后面用 eos 填满到
  max_len（从未生成 eos 的假设占满全部 max_len 个位置）；final_score 是一个浮点数。

  形状：log_probs_table [V, V] float32（V >= 2），beam_size 为 1..V 的整数，max_len 为 >= 1 的整数，eos 为
  0..V-1 的整数，alpha 为 >= 0 的浮点数（alpha = 0 表示没有长度惩罚；beam_size = 1 就是贪心解码）。
  测试中经常出现分数相同的情况（表中的数都是 1/16 的倍数）。例子见上面英文部分。
  """
  raise NotImplementedError("beam_search: write your answer here / 在此实现")

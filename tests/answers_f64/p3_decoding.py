"""Part III decoding in float64 numpy: a per-sample cached attention step, and beam search by array sorting."""

import math

import numpy as np


def kv_decode_step(params, x_t, cache_k, cache_v, pos):
  f = lambda a: np.asarray(a, np.float64)
  new_k, new_v = f(cache_k).copy(), f(cache_v).copy()
  n_heads = f(params["query"]["kernel"]).shape[1]
  out = np.zeros((new_k.shape[0], 1, f(params["out"]["kernel"]).shape[-1]))
  for b in range(new_k.shape[0]):
    x = f(x_t)[b, 0]
    lin = lambda name, h, x=x: x @ f(params[name]["kernel"])[:, h, :] + f(params[name]["bias"])[h]
    acc = f(params["out"]["bias"]).copy()
    for h in range(n_heads):
      new_k[b, pos, h], new_v[b, pos, h] = lin("key", h), lin("value", h)
      q = lin("query", h)
      s = np.array([q @ new_k[b, t, h] for t in range(pos + 1)]) / math.sqrt(len(q))
      w = np.exp(s - s.max())
      w /= w.sum()
      head = sum(w[t] * new_v[b, t, h] for t in range(pos + 1))
      acc = acc + head @ f(params["out"]["kernel"])[h]
    out[b, 0] = acc
  return out, new_k, new_v


def _rank(tokens_NxT, scores_N):
  """Order of rows: score descending, then tokens ascending (-1 pads sort before every token: prefix first)."""
  keys = [tokens_NxT[:, c] for c in reversed(range(tokens_NxT.shape[1]))] + [-scores_N]
  return np.lexsort(keys)


def beam_search(log_probs_table, beam_size, max_len, eos, alpha):
  table = np.asarray(log_probs_table, np.float64)
  v = table.shape[0]
  toks = np.full((1, max_len), -1)  # -1 = no token yet
  lens, scores = np.zeros(1, int), np.zeros(1)
  for t in range(max_len):
    done = np.array([n > 0 and toks[i, n - 1] == eos for i, n in enumerate(lens)])
    live = np.flatnonzero(~done)
    last = np.where(lens[live] > 0, toks[live, np.maximum(lens[live] - 1, 0)], eos)
    ext = np.repeat(toks[live], v, axis=0)
    ext[:, t] = np.tile(np.arange(v), len(live))
    all_toks = np.concatenate([toks[done], ext])
    all_scores = np.concatenate([scores[done], (scores[live, None] + table[last]).ravel()])
    all_lens = np.concatenate([lens[done], np.full(len(ext), t + 1)])
    keep = _rank(all_toks, all_scores)[:beam_size]
    toks, scores, lens = all_toks[keep], all_scores[keep], all_lens[keep]
  final = scores / ((5.0 + lens) / 6.0) ** alpha
  best = _rank(toks, final)[0]
  seq = np.where(toks[best] >= 0, toks[best], eos)
  return seq, final[best]

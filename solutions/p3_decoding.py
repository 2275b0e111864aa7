"""Answers to Part III, decoding: one cached attention step and beam search over a bigram table; numpy float32."""

import math

import numpy as np

F32 = np.float32


def kv_decode_step(params, x_t, cache_k, cache_v, pos):
  """x_t [B, 1, D], caches [B, T, H, dh] -> (out [B, 1, D_out], new cache_k, new cache_v)."""
  p = {name: {key: np.asarray(val, F32) for key, val in sub.items()} for name, sub in params.items()}
  x = np.asarray(x_t, F32)[:, 0]  # [B, D]
  proj = lambda name: np.einsum("bd,dhk->bhk", x, p[name]["kernel"]) + p[name]["bias"]
  q, k, v = proj("query"), proj("key"), proj("value")  # [B, H, dh]
  new_k, new_v = np.array(cache_k, F32), np.array(cache_v, F32)  # copies: the inputs stay as they were
  new_k[:, pos], new_v[:, pos] = k, v
  past_k, past_v = new_k[:, : pos + 1], new_v[:, : pos + 1]  # [B, pos+1, H, dh]
  s = np.einsum("bhk,bthk->bht", q, past_k) / F32(math.sqrt(q.shape[-1]))
  w = np.exp(s - s.max(axis=-1, keepdims=True))
  w /= w.sum(axis=-1, keepdims=True)
  heads = np.einsum("bht,bthk->bhk", w, past_v)
  out = np.einsum("bhk,hko->bo", heads, p["out"]["kernel"]) + p["out"]["bias"]
  return out[:, None, :], new_k, new_v


def beam_search(log_probs_table, beam_size, max_len, eos, alpha):
  """(best tokens padded with eos to max_len, its score / ((5+len)/6)^alpha); ties -> smaller token list."""
  table = np.asarray(log_probs_table, F32)
  beam = [((), F32(0))]
  for _ in range(max_len):
    if all(toks and toks[-1] == eos for toks, _ in beam):
      break
    cands = []
    for toks, score in beam:
      if toks and toks[-1] == eos:
        cands.append((toks, score))
      else:
        row = table[toks[-1] if toks else eos]
        cands.extend((toks + (b,), score + row[b]) for b in range(len(row)))
    cands.sort(key=lambda c: (-c[1], c[0]))
    beam = cands[:beam_size]
  finals = [(score / F32(((5 + len(toks)) / 6) ** alpha), toks) for toks, score in beam]
  best_score, best = min(finals, key=lambda f: (-f[0], f[1]))
  tokens = np.full(max_len, eos, np.int32)
  tokens[: len(best)] = best
  return tokens, float(best_score)

"""beam_search, teacher side: fixed visible cases, seeded hidden cases, a float64 reference.

The zoo's beam search (zoo/encdec.py) runs on a trained model, not on a given table; this reference
follows its rules (finished hypotheses stay in the beam and compete by their raw score, the GNMT length
penalty is applied once at the end, lengths count the end token) with the record's own tie rule:
equal scores go to the lexicographically smaller token sequence (the zoo's top_k instead prefers the
lower beam slot, which depends on storage order).
Tables are drawn on a grid of multiples of 1/16 (1/4 for tie-heavy cases): sums of a few of them are
exact in float32, so a float32 and a float64 search take the same decisions and ties are real ties.
"""

import numpy as np


def _search(table, beam_size, max_len, eos, alpha):
  """Every kept hypothesis at the end as (final score, tokens), best first."""
  beam = [((), 0.0)]  # (tokens, summed log-probability)
  for _ in range(max_len):
    cands = []
    for toks, s in beam:
      if toks and toks[-1] == eos:
        cands.append((toks, s))  # finished: carried over unchanged
        continue
      last = toks[-1] if toks else eos  # the first token follows the boundary token eos
      cands += [(toks + (b,), s + float(table[last, b])) for b in range(table.shape[1])]
    beam = sorted(cands, key=lambda c: (-c[1], c[0]))[:beam_size]
    if all(t[-1] == eos for t, _ in beam):
      break
  final = [(s / ((5.0 + len(t)) / 6.0) ** alpha, t) for t, s in beam]
  return sorted(final, key=lambda c: (-c[0], c[1]))


def _grid_table(rng, v, step, lo, eos):
  """A [v, v] table of non-positive multiples of `step` down to `lo` (exact in float32); the end token
  is one unit less likely, so that hypotheses of several lengths compete."""
  table = rng.integers(int(lo / step), 1, (v, v)) * step
  table[:, eos] -= 1.0
  return table.astype(np.float32)


def _clear_winner(table, beam_size, max_len, eos, alpha):
  """True when float rounding cannot change the final pick: the runner-up is well behind, or exactly
  tied with the same length (then both precisions see the same tie and the tie rule decides)."""
  final = _search(np.asarray(table, np.float64), beam_size, max_len, eos, alpha)
  if len(final) < 2:
    return True
  (s1, t1), (s2, t2) = final[0], final[1]
  return s1 - s2 > 1e-3 * abs(s1) + 1e-6 or (s1 == s2 and len(t1) == len(t2))


def visible():
  """Hand-made tables: beam search beating greedy with a tie, then the length penalty choosing a longer answer."""
  t1 = np.array(
    [
      [-3, -0.5, -1, -3],  # eos = 0; row 0 gives the first token
      [-2.5, -2, -2, -2],
      [-0.25, -3, -3, -3],
      [-1, -1, -1, -1],
    ],
    np.float32,
  )
  t2 = np.array(
    [
      [-2, -1, -1.25],  # eos = 2; row 2 gives the first token
      [-1.5, -1.75, -0.5],
      [-0.75, -1.75, -1.75],
    ],
    np.float32,
  )
  return [(t1, 2, 4, 0, 0.0), (t2, 2, 5, 2, 1.0)]


def hidden(rng):
  """Edge settings: greedy (beam 1), beam = vocabulary, one step, two tokens, eos first or last, ties, alpha != 0."""
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  plans = [  # (v, beam, max_len, alpha, grid step)
    (k(3, 5), 1, k(3, 6), 0.0, 1 / 16),
    (2, 2, k(3, 6), 1.0, 1 / 16),
    (k(3, 6), 2, 1, 0.6, 1 / 16),
    (k(3, 5), 3, k(4, 6), 1.5, 1 / 4),
    (k(4, 6), k(2, 3), k(3, 6), 0.0, 1 / 4),
    (3, 3, k(3, 6), 0.8, 1 / 16),
    (k(3, 6), k(2, 4), k(4, 6), 1.2, 1 / 16),
    (k(4, 6), k(2, 3), k(2, 6), float(np.round(rng.uniform(0.2, 2.0), 2)), 1 / 4),
  ]
  out = []
  for j, (v, beam, max_len, alpha, step) in enumerate(plans):
    beam = min(beam, v)
    eos = 0 if j % 3 == 0 else (v - 1 if j % 3 == 1 else k(0, v - 1))
    for _ in range(1000):  # bounded redraw until the answer is clear in float32
      table = _grid_table(rng, v, step, -3.0 if step < 0.25 else -2.0, eos)
      if _clear_winner(table, beam, max_len, eos, alpha):
        break
    else:
      raise RuntimeError("beam_search.hidden: no clear case in 1000 draws")
    out.append((table, beam, max_len, eos, alpha))
  return out


def reference(log_probs_table, beam_size, max_len, eos, alpha):
  """(best sequence padded with eos to max_len [int64], its length-penalised score [0-d float64])."""
  score, toks = _search(np.asarray(log_probs_table, np.float64), beam_size, max_len, eos, alpha)[0]
  seq = np.full(max_len, eos, np.int64)
  seq[: len(toks)] = toks
  return seq, np.float64(score)

"""Part II alignment in float64 numpy."""

import numpy as np


def _logsumexp(a, axis):
  m = a.max(axis=axis, keepdims=True)
  return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def clip_loss(image_emb, text_emb, temperature):
  """[B, d], [B, d], [] -> []."""
  i = np.asarray(image_emb, np.float64)
  t = np.asarray(text_emb, np.float64)
  i = i / np.sqrt((i * i).sum(1, keepdims=True))
  t = t / np.sqrt((t * t).sum(1, keepdims=True))
  logits = i @ t.T / float(temperature)
  diag = np.diagonal(logits)
  rows = (_logsumexp(logits, 1) - diag).mean()
  cols = (_logsumexp(logits, 0) - diag).mean()
  return 0.5 * (rows + cols)


def interp_align(t_src, x_src, t_dst):
  """[n], [n, d], [m] -> [m, d], numpy.interp per feature."""
  t_src, x_src, t_dst = (np.asarray(a, np.float64) for a in (t_src, x_src, t_dst))
  return np.stack([np.interp(t_dst, t_src, x_src[:, c]) for c in range(x_src.shape[1])], axis=1)


def dtw(x, y):
  """[n, d], [m, d] -> (cost, path as a list of (i, j))."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  n, m = len(x), len(y)
  c = np.linalg.norm(x[:, None] - y[None], axis=-1)
  D = np.empty((n, m))
  for i in range(n):
    for j in range(m):
      prev = [D[a, b] for a, b in ((i - 1, j), (i, j - 1), (i - 1, j - 1)) if a >= 0 and b >= 0]
      D[i, j] = c[i, j] + (min(prev) if prev else 0.0)
  path, i, j = [(n - 1, m - 1)], n - 1, m - 1
  while i or j:
    steps = [(a, b) for a, b in ((i - 1, j - 1), (i - 1, j), (i, j - 1)) if a >= 0 and b >= 0]
    i, j = min(steps, key=lambda ab: D[ab])
    path.append((i, j))
  return D[-1, -1], path[::-1]

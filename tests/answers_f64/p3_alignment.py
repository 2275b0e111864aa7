"""Part III alignment in float64 numpy, cell by cell (independent of the zoo and of solutions/)."""

import math

import numpy as np


def soft_dtw(x, y, gamma):
  """Row-major table of R with an explicit log-sum-exp per cell."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  n, m = len(x), len(y)
  r = [[math.inf] * (m + 1) for _ in range(n + 1)]
  r[0][0] = 0.0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      preds = [p for p in (r[i - 1][j], r[i][j - 1], r[i - 1][j - 1]) if p != math.inf]
      lo = min(preds)
      soft = lo - gamma * math.log(sum(math.exp(-(p - lo) / gamma) for p in preds))
      r[i][j] = float(np.sum((x[i - 1] - y[j - 1]) ** 2)) + soft
  return r[n][m]


def siglip_loss(img_emb, txt_emb, t, b):
  """Pair by pair: −log σ(u) = log(1 + e^(−u)), summed and divided by B."""
  img, txt = np.asarray(img_emb, np.float64), np.asarray(txt_emb, np.float64)
  bsz = len(img)
  total = 0.0
  for i in range(bsz):
    for j in range(bsz):
      cos = float(img[i] @ txt[j]) / (np.linalg.norm(img[i]) * np.linalg.norm(txt[j]))
      u = (1.0 if i == j else -1.0) * (t * cos + b)
      total += np.logaddexp(0.0, -u)
  return total / bsz


def deep_cca_loss(h1, h2, r1, r2, k):
  """Canonical correlations as the square roots of the eigenvalues of Σ11⁻¹Σ12Σ22⁻¹Σ21 (a different route)."""
  h1, h2 = np.asarray(h1, np.float64), np.asarray(h2, np.float64)
  n = len(h1)
  c1, c2 = h1 - h1.mean(0), h2 - h2.mean(0)
  s11 = c1.T @ c1 / (n - 1) + r1 * np.eye(h1.shape[1])
  s22 = c2.T @ c2 / (n - 1) + r2 * np.eye(h2.shape[1])
  s12 = c1.T @ c2 / (n - 1)
  m = np.linalg.solve(s11, s12) @ np.linalg.solve(s22, s12.T)
  rho2 = np.sort(np.clip(np.linalg.eigvals(m).real, 0.0, None))[::-1]
  return -float(np.sqrt(rho2[:k]).sum())


def resample_grid(feat, out_h, out_w):
  """Output pixel by output pixel, with the four neighbours' weights written out."""
  f = np.asarray(feat, np.float64)
  h, w, _ = f.shape

  def coord(i, size_in, size_out):
    s = min(max((i + 0.5) * size_in / size_out - 0.5, 0.0), size_in - 1.0)
    lo = math.floor(s)
    return lo, min(lo + 1, size_in - 1), s - lo

  out = np.zeros((out_h, out_w, f.shape[2]))
  for i in range(out_h):
    i0, i1, a = coord(i, h, out_h)
    for j in range(out_w):
      j0, j1, c = coord(j, w, out_w)
      out[i, j] = (1 - a) * (1 - c) * f[i0, j0] + (1 - a) * c * f[i0, j1] + a * (1 - c) * f[i1, j0] + a * c * f[i1, j1]
  return out

"""Answers to Part III, alignment: soft-DTW, SigLIP, Deep CCA and grid resampling, in float32 numpy."""

import numpy as np


def soft_dtw(x, y, gamma):
  """x [n, d], y [m, d], γ > 0 -> soft-DTW value under ‖x_i − y_j‖₂², filled one anti-diagonal at a time."""
  x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
  cost_NxM = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
  n, m = cost_NxM.shape
  r = np.full((n + 1, m + 1), np.inf, np.float32)  # r[i + 1, j + 1] = R[i, j]; row and column 0 the border
  r[0, 0] = 0.0
  g = np.float32(gamma)
  for k in range(n + m - 1):
    i = np.arange(max(0, k - m + 1), min(n, k + 1))
    j = k - i
    preds_3xK = np.stack([r[i, j + 1], r[i + 1, j], r[i, j]])  # up, left, diagonal
    low_K = preds_3xK.min(axis=0)  # finite: every cell has a reachable neighbour
    soft_K = low_K - g * np.log(np.exp(-(preds_3xK - low_K) / g).sum(axis=0))
    r[i + 1, j + 1] = cost_NxM[i, j] + soft_K
  return r[n, m]


def _unit_rows(e):
  e = np.asarray(e, np.float32)
  return e / np.linalg.norm(e, axis=1, keepdims=True)


def siglip_loss(img_emb, txt_emb, t, b):
  """[B, d], [B, d] -> −(1/B)·Σ_ij log σ(z_ij·(t·x̂_i·ŷ_j + b)), z = +1 on the diagonal and −1 off it."""
  logits_BxB = np.float32(t) * (_unit_rows(img_emb) @ _unit_rows(txt_emb).T) + np.float32(b)
  z_BxB = 2.0 * np.eye(logits_BxB.shape[0], dtype=np.float32) - 1.0
  return np.logaddexp(np.float32(0), -z_BxB * logits_BxB).sum() / logits_BxB.shape[0]


def _inv_sqrt(s_DxD):
  lam, v = np.linalg.eigh(s_DxD)
  return (v / np.sqrt(lam)) @ v.T


def deep_cca_loss(h1, h2, r1, r2, k):
  """[n, d1], [n, d2] -> −(sum of the k largest singular values of Σ11^(−1/2) Σ12 Σ22^(−1/2))."""
  h1 = np.asarray(h1, np.float32)
  h2 = np.asarray(h2, np.float32)
  h1 = h1 - h1.mean(axis=0)
  h2 = h2 - h2.mean(axis=0)
  n = h1.shape[0]
  s11 = h1.T @ h1 / (n - 1) + np.float32(r1) * np.eye(h1.shape[1], dtype=np.float32)
  s22 = h2.T @ h2 / (n - 1) + np.float32(r2) * np.eye(h2.shape[1], dtype=np.float32)
  s12 = h1.T @ h2 / (n - 1)
  corr = np.linalg.svd(_inv_sqrt(s11) @ s12 @ _inv_sqrt(s22), compute_uv=False)  # descending
  return -corr[:k].sum()


def _axis_weights(size_in, size_out):
  """Source indices i0, i1 and the weight a of i1 for each output position (half-pixel, clamped)."""
  s = (np.arange(size_out, dtype=np.float32) + 0.5) * np.float32(size_in / size_out) - 0.5
  s = np.clip(s, 0, size_in - 1)
  i0 = np.floor(s).astype(np.int64)
  return i0, np.minimum(i0 + 1, size_in - 1), (s - i0).astype(np.float32)


def resample_grid(feat, out_h, out_w):
  """[H, W, C] -> [out_h, out_w, C], bilinear with pixel centres aligned and edges clamped."""
  f = np.asarray(feat, np.float32)
  r0, r1, a = _axis_weights(f.shape[0], out_h)
  c0, c1, c = _axis_weights(f.shape[1], out_w)
  rows_hxWxC = (1 - a)[:, None, None] * f[r0] + a[:, None, None] * f[r1]
  return (1 - c)[None, :, None] * rows_hxWxC[:, c0] + c[None, :, None] * rows_hxWxC[:, c1]

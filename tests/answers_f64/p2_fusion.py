"""Part II fusion in float64 numpy."""

import numpy as np


def _one(z):
  z = np.asarray(z, np.float64)
  return np.hstack([np.ones((z.shape[0], 1)), z])


def tensor_fusion(z_text, z_image, z_audio):
  """[B, d_m] × 3 -> [B, (dt+1)(di+1)(da+1)]."""
  t, i, a = _one(z_text), _one(z_image), _one(z_audio)
  return np.stack([np.kron(np.kron(t[b], i[b]), a[b]) for b in range(t.shape[0])])


def low_rank_fusion(params, z_text, z_image, z_audio):
  """[B, d_m] × 3 -> [B, o]."""
  zs = [_one(z) for z in (z_text, z_image, z_audio)]
  factors = [np.asarray(f, np.float64) for f in params["factors"]]
  w = np.asarray(params["fusion_weights"], np.float64)[0]
  out = np.asarray(params["fusion_bias"], np.float64)[0][None, :].repeat(zs[0].shape[0], 0)
  for r in range(w.shape[0]):
    term = np.ones_like(out)
    for z, f in zip(zs, factors):
      term = term * (z @ f[r])
    out = out + w[r] * term
  return out


def _sigmoid(x):
  return np.exp(-np.logaddexp(0.0, -x))


def gated_fusion(params, x_a, x_b):
  """[B, d_a], [B, d_b] -> [B, o]."""
  x_a, x_b = np.asarray(x_a, np.float64), np.asarray(x_b, np.float64)
  p = {k: np.asarray(v, np.float64) for k, v in params.items()}
  d_a = x_a.shape[1]
  z = _sigmoid(x_a @ p["W_z"][:d_a] + x_b @ p["W_z"][d_a:])  # [x_a; x_b]·W_z, split by blocks
  return z * np.tanh(x_a @ p["W_a"]) + (1.0 - z) * np.tanh(x_b @ p["W_b"])


def film(params, x, cond):
  """[B, d], [B, c] -> [B, d]."""
  c = np.asarray(cond, np.float64)
  lin = lambda p: c @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"], np.float64)
  return lin(params["gamma"]) * np.asarray(x, np.float64) + lin(params["beta"])

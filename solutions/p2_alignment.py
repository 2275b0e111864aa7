"""Answers to Part II, alignment: CLIP's loss, interpolation onto a new clock, and DTW, in float32."""

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def clip_loss(image_emb, text_emb, temperature):
  """image_emb [B, d], text_emb [B, d], temperature [] -> the symmetric InfoNCE loss []."""
  img = image_emb / jnp.linalg.norm(image_emb, axis=1, keepdims=True)
  txt = text_emb / jnp.linalg.norm(text_emb, axis=1, keepdims=True)
  logits_BxB = img @ txt.T / temperature  # row i: image i against every text
  diag = jnp.arange(logits_BxB.shape[0])
  image_to_text = -jax.nn.log_softmax(logits_BxB, axis=1)[diag, diag].mean()
  text_to_image = -jax.nn.log_softmax(logits_BxB, axis=0)[diag, diag].mean()
  return (image_to_text + text_to_image) / 2


@jax.jit
def interp_align(t_src, x_src, t_dst):
  """t_src [n] increasing, x_src [n, d], t_dst [m] -> [m, d]; edge values held outside t_src's range."""
  t_src, x_src, t_dst = (jnp.asarray(a, jnp.float32) for a in (t_src, x_src, t_dst))
  n = t_src.shape[0]
  if n == 1:
    return jnp.broadcast_to(x_src[0], (t_dst.shape[0], x_src.shape[1]))
  right = jnp.clip(jnp.searchsorted(t_src, t_dst, side="right"), 1, n - 1)  # t_src[right-1] <= t < t_src[right]
  t0, t1 = t_src[right - 1], t_src[right]
  w_M = jnp.clip((t_dst - t0) / (t1 - t0), 0.0, 1.0)  # clipping holds the edge values
  return x_src[right - 1] + w_M[:, None] * (x_src[right] - x_src[right - 1])


@jax.jit
def _distances(x_NxD, y_MxD):
  diff_NxMxD = x_NxD[:, None, :] - y_MxD[None, :, :]
  return jnp.sqrt(jnp.sum(diff_NxMxD**2, axis=-1))


def dtw(x, y):
  """x [n, d], y [m, d] -> (cost, path): the cheapest warping path under ‖x_i − y_j‖₂, from (0, 0) to (n−1, m−1)."""
  dist_NxM = np.asarray(_distances(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)))
  n, m = dist_NxM.shape
  # acc[i+1, j+1]: the cheapest path from (0, 0) to (i, j); row and column 0 are a border of +inf.
  # The recursion is sequential and tiny, so it runs on a float32 numpy array.
  acc = np.full((n + 1, m + 1), np.inf, np.float32)
  acc[0, 0] = 0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      acc[i, j] = dist_NxM[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
  # Walk back from (n, m), taking a cheapest predecessor each time (the diagonal first on ties).
  i, j, path = n, m, [(n - 1, m - 1)]
  while (i, j) != (1, 1):
    options = [(acc[i - 1, j - 1], i - 1, j - 1), (acc[i - 1, j], i - 1, j), (acc[i, j - 1], i, j - 1)]
    _, i, j = min(options, key=lambda o: o[0])
    path.append((i - 1, j - 1))
  return float(acc[n, m]), path[::-1]

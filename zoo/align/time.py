"""Time alignment: the index clock, linear interpolation, and DTW (Sakoe & Chiba 1978) as a `lax.scan`."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from zoo.registry import register


@register("index_align", family="alignment",
          paper="Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy (§5, explicit alignment)",
          shapes="a [n, ...], b [m, ...] -> a[:k], b[:k], k = min(n, m)")
def index_align(a, b):
  """Two streams on one clock (sample i at time i): keep the instants both cover."""
  k = min(a.shape[0], b.shape[0])
  return a[:k], b[:k]


@register("interp_align", family="alignment",
          paper="Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy (§5); resampling as numpy.interp",
          shapes="t_src [n], x_src [n, d], t_dst [m] -> [m, d]")
def interp_align(t_src, x_src, t_dst):
  """Linear interpolation of each feature onto `t_dst`, edge values held outside `t_src`'s range."""
  return jax.vmap(lambda col_N: jnp.interp(t_dst, t_src, col_N), in_axes=1, out_axes=1)(x_src)


def pairwise_distances(x_NxD, y_MxD):
  """‖x_i − y_j‖₂ for every pair, [n, m]; exact (no ‖x‖²+‖y‖²−2x·y cancellation)."""
  diff_NxMxD = x_NxD[:, None, :] - y_MxD[None, :, :]
  sq = jnp.sum(diff_NxMxD * diff_NxMxD, axis=-1)
  # Safe sqrt: the gradient at a zero distance is 0 rather than NaN.
  pos = sq > 0
  return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)


def dtw_accumulated_cost(cost_NxM):
  """D[i, j] = c[i, j] + min(D[i−1, j], D[i, j−1], D[i−1, j−1]), row by row in a `lax.scan`."""
  inf = jnp.asarray(jnp.inf, cost_NxM.dtype)

  def row(prev_M, c_M):
    # Vertical and diagonal predecessors need only the previous row ...
    up_diag_M = jnp.minimum(prev_M, jnp.concatenate([inf[None], prev_M[:-1]]))
    a_M = c_M + up_diag_M
    # ... the horizontal one is a running min-plus scan along the row.
    def step(left, a_c):
      a, c = a_c
      d = jnp.minimum(a, c + left)
      return d, d
    _, d_M = jax.lax.scan(step, inf, (a_M, c_M))
    return d_M, d_M

  first_M = jnp.cumsum(cost_NxM[0])
  _, rest_NxM = jax.lax.scan(row, first_M, cost_NxM[1:])
  return jnp.concatenate([first_M[None], rest_NxM], axis=0)


@jax.jit
def _dtw_jit(x_NxD, y_MxD):
  n, m = x_NxD.shape[0], y_MxD.shape[0]
  acc_NxM = dtw_accumulated_cost(pairwise_distances(x_NxD, y_MxD))
  inf = jnp.asarray(jnp.inf, acc_NxM.dtype)

  def back(ij, _):
    # Walk back from (n−1, m−1), preferring the diagonal on ties; stay put at (0, 0).
    i, j = ij
    cand = jnp.stack([
        jnp.where((i > 0) & (j > 0), acc_NxM[jnp.maximum(i - 1, 0), jnp.maximum(j - 1, 0)], inf),
        jnp.where(i > 0, acc_NxM[jnp.maximum(i - 1, 0), j], inf),
        jnp.where(j > 0, acc_NxM[i, jnp.maximum(j - 1, 0)], inf)])
    k = jnp.argmin(cand)
    at_start = (i == 0) & (j == 0)
    di = jnp.where(at_start, 0, jnp.where(k == 2, 0, 1))
    dj = jnp.where(at_start, 0, jnp.where(k == 1, 0, 1))
    nxt = jnp.stack([i - di, j - dj])
    return nxt, ij

  start = jnp.asarray([n - 1, m - 1], jnp.int32)
  _, rev_Lx2 = jax.lax.scan(back, start, None, length=n + m - 1)
  length = jnp.sum(jnp.any(rev_Lx2 != 0, axis=1)) + 1  # the steps before (0, 0), plus (0, 0)
  return acc_NxM[-1, -1], rev_Lx2, length


@register("dtw", family="alignment",
          paper="Sakoe & Chiba 1978, Dynamic programming algorithm optimization for spoken word recognition",
          shapes="x [n, d], y [m, d] -> cost [], path [L, 2]")
def dtw(x, y):
  """Plain DTW under the Euclidean ground cost: (minimum path cost, optimal path from (0,0) to (n−1,m−1))."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not x.shape[0] or not y.shape[0]:
    raise ValueError(f"dtw needs x [n, d] and y [m, d] with n, m >= 1; got {x.shape} and {y.shape}")
  cost, rev_Lx2, length = _dtw_jit(x, y)
  return cost, rev_Lx2[: int(length)][::-1]

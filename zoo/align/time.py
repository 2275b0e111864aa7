"""Time alignment: the index clock, linear interpolation, DTW (Sakoe & Chiba 1978) as a `lax.scan`,
soft-DTW (Cuturi & Blondel 2017), and warping one stream onto another's time axis along either."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.registry import register


@register(
  "index_align",
  family="alignment",
  paper="Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy (§5, explicit alignment)",
  shapes="a [n, ...], b [m, ...] -> a[:k], b[:k], k = min(n, m)",
)
def index_align(a, b):
  """Two streams on one clock (sample i at time i): keep the instants both cover (Baltrušaitis et al. 2019)."""
  k = min(a.shape[0], b.shape[0])
  return a[:k], b[:k]


@register(
  "interp_align",
  family="alignment",
  paper="Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy (§5); resampling as numpy.interp",
  shapes="t_src [n], x_src [n, d], t_dst [m] -> [m, d]",
)
def interp_align(t_src, x_src, t_dst):
  """Linear interpolation of each feature onto `t_dst`, edge values held outside `t_src`'s range (Baltrušaitis et al. 2019)."""
  return jax.vmap(lambda col_N: jnp.interp(t_dst, t_src, col_N), in_axes=1, out_axes=1)(x_src)


def pairwise_distances(x_NxD, y_MxD):
  """‖x_i − y_j‖₂ for every pair, [n, m]; exact (no ‖x‖²+‖y‖²−2x·y cancellation)."""
  diff_NxMxD = x_NxD[:, None, :] - y_MxD[None, :, :]
  sq = jnp.sum(diff_NxMxD * diff_NxMxD, axis=-1)
  # Safe sqrt: the gradient at a zero distance is 0 rather than NaN.
  pos = sq > 0
  return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)


def ground_cost(x_NxD, y_MxD, distance="euclidean"):
  """The [n, m] matrix of frame costs: "euclidean" ‖x_i − y_j‖₂ (the contract's DTW) or "sqeuclidean" ‖x_i − y_j‖₂² (soft-DTW's, Cuturi & Blondel 2017)."""
  if distance == "euclidean":
    return pairwise_distances(x_NxD, y_MxD)
  if distance == "sqeuclidean":
    diff_NxMxD = x_NxD[:, None, :] - y_MxD[None, :, :]
    return jnp.sum(diff_NxMxD * diff_NxMxD, axis=-1)
  raise ValueError(f"distance must be 'euclidean' or 'sqeuclidean', got {distance!r}")


def end_cell(n, m, x_mask_N=None, y_mask_M=None):
  """The last real cell (n_real−1, m_real−1) of two end-padded streams; masks True = real frame, at least one each.

  Cell (i, j) of a DTW or soft-DTW table depends only on cells (i', j') with i' ≤ i, j' ≤ j, so the table of
  the padded streams holds that of their real parts in its top-left corner: reading the result at this cell
  (and the path back from it) ignores the padding whatever it holds.
  """
  i = n - 1 if x_mask_N is None else jnp.sum(jnp.asarray(x_mask_N, jnp.int32)) - 1
  j = m - 1 if y_mask_M is None else jnp.sum(jnp.asarray(y_mask_M, jnp.int32)) - 1
  return jnp.stack([jnp.asarray(i, jnp.int32), jnp.asarray(j, jnp.int32)])


def dtw_accumulated_cost(cost_NxM):
  """D[i, j] = c[i, j] + min(D[i−1, j], D[i, j−1], D[i−1, j−1]), row by row in a `lax.scan` (Sakoe & Chiba 1978)."""
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


def dtw_backtrack(acc_NxM, end_2=None):
  """The optimal warping path read back from D, as a fixed-length [n+m−1, 2] array, last cell first (Sakoe & Chiba 1978).

  Returns (rev_Lx2, length): rev_Lx2[:length] runs from `end_2` (default (n−1, m−1)) back to (0, 0); the
  rest repeats (0, 0), so the shape is static and the function jits and vmaps.
  """
  n, m = acc_NxM.shape
  inf = jnp.asarray(jnp.inf, acc_NxM.dtype)

  def back(ij, _):
    # Walk back from the end cell, preferring the diagonal on ties; stay put at (0, 0).
    i, j = ij
    cand = jnp.stack(
      [
        jnp.where((i > 0) & (j > 0), acc_NxM[jnp.maximum(i - 1, 0), jnp.maximum(j - 1, 0)], inf),
        jnp.where(i > 0, acc_NxM[jnp.maximum(i - 1, 0), j], inf),
        jnp.where(j > 0, acc_NxM[i, jnp.maximum(j - 1, 0)], inf),
      ]
    )
    k = jnp.argmin(cand)
    at_start = (i == 0) & (j == 0)
    di = jnp.where(at_start, 0, jnp.where(k == 2, 0, 1))
    dj = jnp.where(at_start, 0, jnp.where(k == 1, 0, 1))
    nxt = jnp.stack([i - di, j - dj])
    return nxt, ij

  start = jnp.asarray([n - 1, m - 1], jnp.int32) if end_2 is None else jnp.asarray(end_2, jnp.int32)
  _, rev_Lx2 = jax.lax.scan(back, start, None, length=n + m - 1)
  length = jnp.sum(jnp.any(rev_Lx2 != 0, axis=1)) + 1  # the steps before (0, 0), plus (0, 0)
  return rev_Lx2, length


def dtw_fixed(x_NxD, y_MxD):
  """DTW with a static-shape path, for use under jit and vmap: (cost [], path [n+m−1, 2], length []) (Sakoe & Chiba 1978).

  path[:length] is `dtw`'s path from (0, 0) to (n−1, m−1); the entries after it repeat (n−1, m−1).
  """
  acc_NxM = dtw_accumulated_cost(pairwise_distances(x_NxD, y_MxD))
  rev_Lx2, length = dtw_backtrack(acc_NxM)
  k_L = jnp.arange(rev_Lx2.shape[0])
  # Read the reversed path backwards over its first `length` entries; index 0 (the end cell) after them.
  return acc_NxM[-1, -1], rev_Lx2[jnp.where(k_L < length, length - 1 - k_L, 0)], length


_dtw_jit = jax.jit(dtw_fixed)


@register(
  "dtw",
  family="alignment",
  paper="Sakoe & Chiba 1978, Dynamic programming algorithm optimization for spoken word recognition",
  shapes="x [n, d], y [m, d] -> cost [], path [L, 2]",
)
def dtw(x, y):
  """Plain DTW under the Euclidean ground cost: (minimum path cost, optimal path from (0,0) to (n−1,m−1)) (Sakoe & Chiba 1978).

  The path's length L depends on the data, so this function does not trace: under `jax.jit` or
  `jax.vmap` it raises `jax.errors.ConcretizationTypeError`. Use `dtw_fixed` there (the same path at
  a fixed size n+m−1, with its length).
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not x.shape[0] or not y.shape[0]:
    raise ValueError(f"dtw needs x [n, d] and y [m, d] with n, m >= 1; got {x.shape} and {y.shape}")
  cost, path_Lx2, length = _dtw_jit(x, y)
  return cost, path_Lx2[: int(length)]


def dtw_alignment(cost_NxM, end_2=None):
  """The optimal DTW path to `end_2` (default (n−1, m−1)) as a 0/1 alignment matrix [n, m] (Sakoe & Chiba 1978); jits and vmaps."""
  rev_Lx2, _ = dtw_backtrack(dtw_accumulated_cost(cost_NxM), end_2)
  # The trailing repeats of (0, 0) set an entry that is already 1.
  return jnp.zeros(cost_NxM.shape, cost_NxM.dtype).at[rev_Lx2[:, 0], rev_Lx2[:, 1]].set(1)


def soft_dtw_from_cost(cost_NxM, gamma, end_2=None):
  """R_γ at `end_2` (default (n−1, m−1)), R_γ(i, j) = c(i, j) + softmin_γ(R(i−1, j), R(i, j−1), R(i−1, j−1)) (Cuturi & Blondel 2017).

  softmin_γ(a) = −γ·log Σ exp(−a/γ), with R(−1, −1) = 0 and R = +inf elsewhere outside the table. The
  recursion runs over anti-diagonals k = i + j in a `lax.scan` of n+m−1 steps, each a vectorised soft-min
  over the n cells of one diagonal. Unreachable cells (outside the table, or behind +inf costs such as a
  band constraint) hold +inf and get zero weight without ever entering an exp or a log, so gradients in
  the costs and in γ stay finite. γ > 0.
  """
  n, m = cost_NxM.shape
  inf = jnp.asarray(jnp.inf, cost_NxM.dtype)
  i_N = jnp.arange(n)
  j_KxN = jnp.arange(n + m - 1)[:, None] - i_N[None, :]  # diagonal k, row i -> column j = k − i
  valid_KxN = (j_KxN >= 0) & (j_KxN < m)
  c_KxN = cost_NxM[i_N[None, :], jnp.clip(j_KxN, 0, m - 1)]

  def diagonal(carry, c_valid):
    # Diagonals k−2 and k−1, each [n+1] with index 0 the virtual row i = −1.
    r2_P, r1_P = carry
    c_N, valid_N = c_valid
    # Predecessors of (i, k−i): (i−1, j) and (i, j−1) on diagonal k−1, (i−1, j−1) on k−2.
    preds_3xN = jnp.stack([r1_P[:-1], r1_P[1:], r2_P[:-1]])
    finite_3xN = jnp.isfinite(preds_3xN)
    live_N = valid_N & finite_3xN.any(axis=0)
    # Infinite predecessors get weight b = 0; dead cells take a dummy soft-min over zeros (discarded below).
    use_3xN = finite_3xN | ~live_N
    safe_3xN = jnp.where(finite_3xN, preds_3xN, 0.0)
    softmin_N = -gamma * jax.nn.logsumexp(-safe_3xN / gamma, axis=0, b=use_3xN.astype(safe_3xN.dtype))
    r_N = jnp.where(live_N, c_N + softmin_N, inf)
    return (r1_P, jnp.concatenate([inf[None], r_N])), r_N

  r2_P = jnp.full((n + 1,), inf).at[0].set(0.0)  # R(−1, −1) = 0 sits at index 0 of diagonal −2
  r1_P = jnp.full((n + 1,), inf)
  _, r_KxN = jax.lax.scan(diagonal, (r2_P, r1_P), (c_KxN, valid_KxN))
  if end_2 is None:
    return r_KxN[-1, -1]
  i, j = jnp.asarray(end_2, jnp.int32)
  return r_KxN[i + j, i]


@register(
  "soft_dtw",
  family="alignment",
  paper="Cuturi & Blondel 2017, Soft-DTW: a Differentiable Loss Function for Time-Series",
  shapes="x [n, d], y [m, d], gamma [], masks [n], [m] -> []",
)
def soft_dtw(x_NxD, y_MxD, gamma=1.0, distance="sqeuclidean", x_mask_N=None, y_mask_M=None):
  """Soft-DTW discrepancy −γ·log Σ_paths exp(−cost(path)/γ), differentiable and jittable (Cuturi & Blondel 2017).

  The paper's ground cost is the squared Euclidean distance; distance="euclidean" gives the contract's DTW
  cost, which soft-DTW approaches from below as γ → 0. Masks: True = real frame, padding at the end.
  """
  n, m = x_NxD.shape[0], y_MxD.shape[0]
  return soft_dtw_from_cost(ground_cost(x_NxD, y_MxD, distance), gamma, end_cell(n, m, x_mask_N, y_mask_M))


def soft_dtw_alignment(cost_NxM, gamma, end_2=None):
  """The expected alignment E = ∂ soft-DTW / ∂ cost [n, m]: each cell's probability under the Gibbs distribution over paths (Cuturi & Blondel 2017, §2.3)."""
  return jax.grad(soft_dtw_from_cost)(cost_NxM, gamma, end_2)


@register(
  "dtw_warp",
  family="alignment",
  paper="Sakoe & Chiba 1978 (DTW) and Cuturi & Blondel 2017 (soft-DTW): warping along the alignment",
  shapes="x [n, d], y [m, d], values [m, e] (default y), masks [n], [m] -> [n, e]",
)
def dtw_warp(x_NxD, y_MxD, gamma=0.0, *, distance="sqeuclidean", x_mask_N=None, y_mask_M=None, values_MxE=None):
  """y put on x's time axis: frame i is the mean of the y frames the (soft-)DTW alignment matches with x_i (Sakoe & Chiba 1978; Cuturi & Blondel 2017).

  The alignment compares `x` with `y`; what is averaged is `values` (by default `y` itself; e.g. the raw
  frames when x and y are their projections into a shared width). gamma == 0 (a Python number) takes the
  hard DTW path, through which no gradient reaches x or y; gamma > 0 takes soft-DTW's expected alignment,
  a weighted mean that is differentiable in x and y too. Every path visits every row, so each real row's
  weights sum to at least 1. Masks: True = real frame, padding at the end; padded rows of the result are 0.
  """
  values_MxE = y_MxD if values_MxE is None else values_MxE
  n, m = x_NxD.shape[0], y_MxD.shape[0]
  cost_NxM = ground_cost(x_NxD, y_MxD, distance)
  end_2 = end_cell(n, m, x_mask_N, y_mask_M)
  if isinstance(gamma, (int, float)) and gamma == 0:
    a_NxM = dtw_alignment(cost_NxM, end_2)
  else:
    a_NxM = soft_dtw_alignment(cost_NxM, gamma, end_2)
  a_NxM = a_NxM.astype(values_MxE.dtype)
  rows_Nx1 = a_NxM.sum(axis=-1, keepdims=True)
  # Rows past the end cell (padding) match nothing: output 0, with a divisor kept away from 0.
  return (a_NxM @ values_MxE) / jnp.where(rows_Nx1 > 0, rows_Nx1, 1)


@register(
  "DTWAlign",
  family="alignment",
  paper="Sakoe & Chiba 1978 (DTW) and Cuturi & Blondel 2017 (soft-DTW): warping along the alignment",
  shapes="x [B, n, d_x], y [B, m, d_y], masks [B, n], [B, m] -> y on x's time axis [B, n, d_y]",
)
class DTWAlign(nn.Module):
  """Warp a batch of streams y onto the time axes of streams x along their (soft-)DTW alignment."""

  gamma: float = 0.0  # 0: the hard DTW path; > 0: soft-DTW's expected alignment (differentiable)
  features: int | None = None  # width of learned projections the ground cost compares; None: compare x, y raw
  # Soft-DTW's own ground cost, used for the hard path too so that gamma -> 0 recovers it.
  distance: str = "sqeuclidean"
  dtype: Any = None  # computation dtype of the projections (None: from the inputs and params)

  @nn.compact
  def __call__(self, x_BxNxD, y_BxMxE, x_mask_BxN=None, y_mask_BxM=None):
    """y [B, m, d_y] resampled onto x's n frames (Sakoe & Chiba 1978; Cuturi & Blondel 2017); masks True = real, padding at the end."""
    if self.features is None:
      xc_BxNxK, yc_BxMxK = x_BxNxD, y_BxMxE
    else:
      # With gamma == 0 the path is piecewise constant in the costs, so these projections only learn
      # through soft-DTW (gamma > 0).
      xc_BxNxK = nn.Dense(self.features, dtype=self.dtype, name="proj_x")(x_BxNxD)
      yc_BxMxK = nn.Dense(self.features, dtype=self.dtype, name="proj_y")(y_BxMxE)
    b, n, m = x_BxNxD.shape[0], x_BxNxD.shape[1], y_BxMxE.shape[1]
    xm_BxN = jnp.ones((b, n), bool) if x_mask_BxN is None else x_mask_BxN
    ym_BxM = jnp.ones((b, m), bool) if y_mask_BxM is None else y_mask_BxM

    def warp(xc, yc, y, xm, ym):
      return dtw_warp(xc, yc, self.gamma, distance=self.distance, x_mask_N=xm, y_mask_M=ym, values_MxE=y)

    return jax.vmap(warp)(xc_BxNxK, yc_BxMxK, y_BxMxE, xm_BxN, ym_BxM)

"""Time alignment (zoo/align/time.py) against independent implementations.

`interp_align` against numpy.interp; `dtw` against brute force over every warping path; soft-DTW against
the log-sum-exp over every path (and its gradient against the Gibbs expectation of the path matrix);
then the warping function and module built on them.
"""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import registry
from zoo.align.time import (
  DTWAlign,
  dtw,
  dtw_alignment,
  dtw_fixed,
  dtw_warp,
  ground_cost,
  interp_align,
  soft_dtw,
  soft_dtw_from_cost,
)

# ---- brute force over warping paths -----------------------------------------------------------


def all_paths(n, m):
  """Every warping path from (0, 0) to (n−1, m−1) with steps (1,0), (0,1), (1,1), by recursion."""

  def extend(path):
    i, j = path[-1]
    if (i, j) == (n - 1, m - 1):
      yield path
      return
    for di, dj in ((1, 0), (0, 1), (1, 1)):
      if i + di < n and j + dj < m:
        yield from extend(path + [(i + di, j + dj)])

  return list(extend([(0, 0)]))


def np_cost(x, y, squared=False):
  c = np.array([[np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)) for b in y] for a in x])
  return c * c if squared else c


def path_cost(c, path):
  return math.fsum(c[i, j] for i, j in path)


def assert_valid_path(path, n, m):
  path = [tuple(int(v) for v in p) for p in np.asarray(path).reshape(-1, 2)]
  assert path[0] == (0, 0) and path[-1] == (n - 1, m - 1)
  for (i0, j0), (i1, j1) in zip(path, path[1:]):
    assert (i1 - i0, j1 - j0) in {(1, 0), (0, 1), (1, 1)}, path
  return path


def test_delannoy_counts_check_the_enumerator():
  # The number of warping paths of an n×m grid is the Delannoy number D(n−1, m−1).
  def delannoy(a, b):
    return sum(math.comb(a, k) * math.comb(b, k) * 2**k for k in range(min(a, b) + 1))

  for n, m in [(1, 1), (1, 4), (2, 2), (3, 4), (5, 5)]:
    paths = all_paths(n, m)
    assert len(paths) == delannoy(n - 1, m - 1) == len(set(map(tuple, paths)))


# ---- interp_align --------------------------------------------------------------------------------


def test_interp_align_matches_numpy_interp():
  rng = np.random.default_rng(0)
  for n, m, d in [(1, 4, 3), (2, 5, 1), (7, 9, 4)]:
    t_src = np.sort(rng.uniform(0, 10, n)) if n > 1 else np.array([3.0])
    t_src = np.unique(t_src)
    x_src = rng.standard_normal((len(t_src), d))
    # Non-uniform destinations on both sides of the source range, and the source times themselves.
    t_dst = np.concatenate([rng.uniform(-5, 15, m), t_src[:1], t_src[-1:]])
    want = np.stack([np.interp(t_dst, t_src, x_src[:, c]) for c in range(d)], axis=1)
    with jax.enable_x64(True):
      got = np.asarray(interp_align(t_src, x_src, t_dst))
    assert got.shape == (len(t_dst), d) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got32 = interp_align(*(a.astype(np.float32) for a in (t_src, x_src, t_dst)))
    np.testing.assert_allclose(got32, want, rtol=1e-4, atol=1e-4)


def test_interp_align_edges_are_held():
  t_src, x_src = np.array([0.0, 1.0]), np.array([[1.0, -2.0], [3.0, 4.0]])
  got = interp_align(t_src, x_src, np.array([-7.0, 0.0, 0.25, 1.0, 9.0]))
  np.testing.assert_allclose(got, [[1, -2], [1, -2], [1.5, -0.5], [3, 4], [3, 4]], rtol=1e-6)


# ---- dtw ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,m", [(1, 1), (1, 4), (4, 1), (2, 3), (4, 5), (5, 3)])
def test_dtw_equals_brute_force_over_every_path(n, m):
  rng = np.random.default_rng(10 * n + m)
  x, y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
  c = np_cost(x, y)
  best = min(path_cost(c, p) for p in all_paths(n, m))
  with jax.enable_x64(True):
    cost, path = dtw(x, y)
  np.testing.assert_allclose(float(cost), best, rtol=1e-12)
  path = assert_valid_path(path, n, m)
  np.testing.assert_allclose(path_cost(c, path), best, rtol=1e-12)
  if n * m < 12:
    return
  # The float32 path a student's inputs take is within the grader's tolerance and still optimal.
  cost32, path32 = dtw(x.astype(np.float32), y.astype(np.float32))
  np.testing.assert_allclose(float(cost32), best, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(path_cost(c, assert_valid_path(path32, n, m)), best, rtol=1e-4, atol=1e-4)


def test_dtw_against_a_copy_with_repeated_samples_costs_zero():
  rng = np.random.default_rng(1)
  x = rng.standard_normal((6, 3)).astype(np.float32)
  repeats = np.array([1, 3, 1, 2, 1, 2])
  y = np.repeat(x, repeats, axis=0)
  for a, b in ((x, y), (y, x)):
    cost, path = dtw(a, b)
    assert float(cost) == 0.0
    for i, j in assert_valid_path(path, len(a), len(b)):
      np.testing.assert_array_equal(a[i], b[j])


def test_dtw_rejects_bad_shapes():
  with pytest.raises(ValueError):
    dtw(np.zeros((0, 2)), np.zeros((3, 2)))
  with pytest.raises(ValueError):
    dtw(np.zeros((2, 2)), np.zeros((3, 1)))


def test_dtw_does_not_jit_but_dtw_fixed_does_under_jit_and_vmap():
  """dtw's path has a data-dependent length (its docstring names the error); dtw_fixed pads it to n+m−1."""
  rng = np.random.default_rng(3)
  xs, ys = rng.standard_normal((4, 5, 2)).astype(np.float32), rng.standard_normal((4, 3, 2)).astype(np.float32)
  with pytest.raises(jax.errors.ConcretizationTypeError):
    jax.jit(dtw)(xs[0], ys[0])
  assert "ConcretizationTypeError" in dtw.__doc__ and "dtw_fixed" in dtw.__doc__
  costs, paths, lengths = jax.jit(jax.vmap(dtw_fixed))(xs, ys)
  assert paths.shape == (4, 5 + 3 - 1, 2)
  for x, y, cost, path, length in zip(xs, ys, costs, paths, lengths):
    want_cost, want_path = dtw(x, y)
    assert float(cost) == float(want_cost)
    np.testing.assert_array_equal(path[: int(length)], want_path)
    np.testing.assert_array_equal(path[int(length) :], np.tile([4, 2], (7 - int(length), 1)))
  # The lengths differ between examples here, so the padding is really exercised.
  assert len(set(np.asarray(lengths).tolist())) > 1


# ---- soft-DTW -------------------------------------------------------------------------------------


def np_soft_dtw_brute_force(c, gamma):
  """−γ·log Σ_paths exp(−cost/γ) and its gradient Σ_paths p(path)·A_path, in float64 over every path."""
  paths = all_paths(*c.shape)
  costs = np.array([path_cost(c, p) for p in paths])
  z = -costs / gamma
  top = z.max()
  w = np.exp(z - top)
  value = -gamma * (top + np.log(w.sum()))
  e = np.zeros_like(c)
  for p, wp in zip(paths, w / w.sum()):
    for i, j in p:
      e[i, j] += wp
  return value, e


@pytest.mark.parametrize("n,m,gamma", [(1, 3, 0.5), (3, 1, 1.0), (3, 4, 0.1), (5, 4, 2.0)])
def test_soft_dtw_equals_log_sum_exp_over_every_path(n, m, gamma):
  rng = np.random.default_rng(n * 7 + m)
  x, y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
  c = np_cost(x, y, squared=True)
  want, want_e = np_soft_dtw_brute_force(c, gamma)
  with jax.enable_x64(True):
    # The value and the expected alignment (its gradient in the costs) from one compiled function.
    got, got_e = jax.jit(jax.value_and_grad(soft_dtw_from_cost))(jnp.asarray(c), gamma)
    # soft_dtw's own squared-Euclidean ground cost gives the same table.
    np.testing.assert_allclose(ground_cost(jnp.asarray(x), jnp.asarray(y), "sqeuclidean"), c, rtol=1e-12)
  np.testing.assert_allclose(float(got), want, rtol=1e-10, atol=1e-12)
  np.testing.assert_allclose(got_e, want_e, rtol=1e-9, atol=1e-12)


def test_soft_dtw_approaches_dtw_from_below():
  # softmin_γ ∈ [min − γ·log 3, min], so DTW − (n+m−2)·γ·log 3 ≤ soft-DTW ≤ DTW with the same ground cost.
  rng = np.random.default_rng(3)
  n, m = 5, 7
  x, y = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
  with jax.enable_x64(True):
    hard = float(dtw(x, y)[0])
    f = jax.jit(functools.partial(soft_dtw, distance="euclidean"))
    gaps = []
    for gamma in (1.0, 0.1, 0.01, 0.001):
      soft = float(f(jnp.asarray(x), jnp.asarray(y), gamma))
      assert hard - (n + m - 2) * gamma * math.log(3) - 1e-12 <= soft <= hard + 1e-12
      gaps.append(hard - soft)
      g = jax.grad(f, argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(y), gamma)
      assert all(np.all(np.isfinite(a)) for a in g)
  assert gaps[-1] < 1e-2 and gaps == sorted(gaps, reverse=True)


class SoftDTWTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_jit_equals_no_jit_and_gradients_are_finite(self):
    rng = np.random.default_rng(4)
    x, y = (jnp.asarray(rng.standard_normal(s), jnp.float32) for s in ((6, 3), (4, 3)))
    want = soft_dtw(x, y, 0.5)
    got, grads = self.variant(jax.value_and_grad(soft_dtw, argnums=(0, 1, 2)))(x, y, 0.5)
    self.assertEqual(got.shape, ())
    np.testing.assert_allclose(got, want, rtol=1e-6)
    chex.assert_tree_all_finite(grads)
    chex.assert_shape(grads[:2], [(6, 3), (4, 3)])

  def test_vmap_equals_loop_and_bfloat16_is_close(self):
    rng = np.random.default_rng(5)
    xs, ys = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 6, 2))
    f = jax.jit(jax.vmap(soft_dtw, in_axes=(0, 0, None)))
    got = f(jnp.asarray(xs, jnp.float32), jnp.asarray(ys, jnp.float32), 0.3)
    loop = [soft_dtw(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32), 0.3) for a, b in zip(xs, ys)]
    np.testing.assert_allclose(got, loop, rtol=1e-5)
    bf = f(jnp.asarray(xs, jnp.bfloat16), jnp.asarray(ys, jnp.bfloat16), 0.3)
    self.assertEqual(bf.dtype, jnp.bfloat16)
    np.testing.assert_allclose(np.asarray(bf, np.float32), got, rtol=0.05, atol=0.05)

  def test_masks_read_off_the_real_parts(self):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((5, 2)), rng.standard_normal((6, 2))
    xm, ym = np.arange(5) < 3, np.arange(6) < 4
    # Garbage in the padding must not matter.
    xp, yp = x.copy(), y.copy()
    xp[3:], yp[4:] = 1e3, -1e3
    masked = lambda a, b: soft_dtw(a, b, 0.2, x_mask_N=xm, y_mask_M=ym)
    got, g = jax.jit(jax.value_and_grad(masked, argnums=(0, 1)))(jnp.asarray(xp), jnp.asarray(yp))
    np.testing.assert_allclose(got, jax.jit(soft_dtw)(jnp.asarray(x[:3]), jnp.asarray(y[:4]), 0.2), rtol=1e-5)
    chex.assert_tree_all_finite(g)
    np.testing.assert_array_equal(g[0][3:], 0)
    np.testing.assert_array_equal(g[1][4:], 0)

  def test_inf_costs_are_unreachable_and_keep_gradients_finite(self):
    # A Sakoe–Chiba band of radius 1 as +inf costs: soft-DTW sums only over the paths inside it.
    rng = np.random.default_rng(7)
    c = rng.uniform(0, 2, (4, 4))
    band = np.abs(np.subtract.outer(np.arange(4), np.arange(4))) <= 1
    paths = [p for p in all_paths(4, 4) if all(band[i, j] for i, j in p)]
    z = np.array([-path_cost(c, p) / 0.5 for p in paths])
    want = -0.5 * (z.max() + np.log(np.exp(z - z.max()).sum()))
    with jax.enable_x64(True):
      cost = jnp.where(band, jnp.asarray(c), jnp.inf)
      got = soft_dtw_from_cost(cost, 0.5)
      g_cost, g_gamma = jax.grad(soft_dtw_from_cost, argnums=(0, 1))(cost, 0.5)
    np.testing.assert_allclose(float(got), want, rtol=1e-10)
    assert np.all(np.isfinite(g_cost)) and np.isfinite(g_gamma)
    np.testing.assert_array_equal(np.asarray(g_cost)[~band], 0)


# ---- warping along the alignment ------------------------------------------------------------------


def test_hard_warp_of_a_copy_with_repeats_is_the_original():
  rng = np.random.default_rng(8)
  x = rng.standard_normal((5, 3)).astype(np.float32)
  y = np.repeat(x, [2, 1, 3, 1, 2], axis=0)
  np.testing.assert_allclose(dtw_warp(jnp.asarray(x), jnp.asarray(y)), x, rtol=1e-6)
  # Soft-DTW at a tiny γ puts (almost) all its weight on the zero-cost matches.
  np.testing.assert_allclose(dtw_warp(jnp.asarray(x), jnp.asarray(y), 1e-3), x, atol=1e-4)


def test_hard_warp_averages_the_frames_on_dtws_path():
  rng = np.random.default_rng(9)
  x, y, v = rng.standard_normal((4, 2)), rng.standard_normal((6, 2)), rng.standard_normal((6, 3))
  _, path = dtw(x, y)
  want = np.stack([np.mean([v[j] for i, j in np.asarray(path) if i == r], axis=0) for r in range(4)])
  got = dtw_warp(jnp.asarray(x), jnp.asarray(y), distance="euclidean", values_MxE=jnp.asarray(v))
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  # The alignment matrix behind it is the one-hot image of dtw's path.
  onehot = np.zeros((4, 6))
  onehot[tuple(np.asarray(path).T)] = 1
  np.testing.assert_array_equal(dtw_alignment(ground_cost(jnp.asarray(x), jnp.asarray(y))), onehot)


class DTWAlignTest(chex.TestCase):
  def _batch(self, seed, b=2, n=5, m=6, dx=3, dy=4):
    rng = np.random.default_rng(seed)
    return (
      jnp.asarray(rng.standard_normal((b, n, dx)), jnp.float32),
      jnp.asarray(rng.standard_normal((b, m, dy)), jnp.float32),
    )

  @chex.variants(with_jit=True, without_jit=True)
  def test_soft_module_shapes_jit_and_vmap(self):
    x, y = self._batch(10, dx=4)
    module = DTWAlign(gamma=0.5)  # no projections: no parameters
    out = self.variant(module.apply)({}, x, y)
    chex.assert_shape(out, (2, 5, 4))
    chex.assert_tree_all_finite(out)
    # vmap inside the module equals a loop of dtw_warp over the batch.
    warp = jax.jit(functools.partial(dtw_warp, gamma=0.5))
    for b in range(2):
      np.testing.assert_allclose(out[b], warp(x[b], y[b]), rtol=1e-4, atol=1e-5)

  def test_soft_module_gradients_are_finite_with_masks(self):
    x, y = self._batch(13)
    module = DTWAlign(gamma=0.5, features=8)
    params = jax.jit(module.init)(jax.random.key(0), x, y)
    ym = jnp.asarray([[1, 1, 1, 1, 0, 0], [1] * 6], bool)
    loss = lambda p, x, y: jnp.sum(module.apply(p, x, y, None, ym) ** 2)
    out, grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(params, x, y)
    chex.assert_tree_all_finite((out, grads))
    # Soft-DTW lets the projections learn; the padded frames of y get no gradient.
    self.assertGreater(float(jnp.abs(grads[0]["params"]["proj_x"]["kernel"]).sum()), 0)
    np.testing.assert_array_equal(grads[2][0, 4:], 0)

  def test_hard_module_with_masks_equals_the_unpadded_warp(self):
    x, y = self._batch(11, dx=3, dy=3)
    module = DTWAlign()  # hard DTW on the raw streams
    xm = jnp.asarray([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    ym = jnp.asarray([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    out = jax.jit(module.apply)({}, x, y, xm, ym)
    for b in range(2):
      nb, mb = int(xm[b].sum()), int(ym[b].sum())
      np.testing.assert_allclose(out[b, :nb], dtw_warp(x[b, :nb], y[b, :mb]), rtol=1e-6)
      np.testing.assert_array_equal(out[b, nb:], 0)

  def test_bfloat16_is_close_to_float32(self):
    x, y = self._batch(12, dx=3, dy=3)
    apply = jax.jit(DTWAlign().apply)  # soft-DTW in bfloat16 is checked in SoftDTWTest
    want = apply({}, x, y)
    got = apply({}, x.astype(jnp.bfloat16), y.astype(jnp.bfloat16))
    self.assertEqual(got.dtype, jnp.bfloat16)
    np.testing.assert_allclose(np.asarray(got, np.float32), want, atol=0.1, rtol=0.05)


def test_registered_as_alignment_methods():
  for name in ("index_align", "interp_align", "dtw", "soft_dtw", "dtw_warp", "DTWAlign"):
    entry = {e.name: e for e in registry.entries("alignment")}[name]
    assert entry.paper and entry.shapes
  assert registry.get("DTWAlign") is DTWAlign

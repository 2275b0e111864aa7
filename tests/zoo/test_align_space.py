"""Spatial alignment (zoo/align/space.py): resampling against a float64 numpy reference, and the module's properties."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from zoo import registry
from zoo.align.space import SpatialAlign, grid_tokens


def np_linear_resize(x, h, w):
  """Separable linear resampling at pixel centres with edge values held, by numpy.interp in float64."""
  x = np.asarray(x, np.float64)
  b, hin, win, c = x.shape

  def along(a, n_in, n_out, axis):
    src = np.arange(n_in)
    dst = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    return np.apply_along_axis(lambda v: np.interp(dst, src, v), axis, a)

  return along(along(x, hin, h, 1), win, w, 2)


def test_grid_tokens_matches_numpy_when_upsampling():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((2, 3, 4, 5))
  with jax.enable_x64(True):
    got = np.asarray(grid_tokens(jnp.asarray(x), (7, 9)))
  want = np_linear_resize(x, 7, 9).reshape(2, 63, 5)  # row-major: token h·w_out + w
  np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_grid_tokens_matches_numpy_when_halving_without_antialias():
  # Shrinking 2× samples half-way between pixel pairs: the mean of each pair.
  rng = np.random.default_rng(1)
  x = rng.standard_normal((1, 6, 8, 2))
  with jax.enable_x64(True):
    got = np.asarray(grid_tokens(jnp.asarray(x), (3, 4), antialias=False))
  want = x.reshape(1, 3, 2, 4, 2, 2).mean(axis=(2, 4)).reshape(1, 12, 2)
  np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(got, np_linear_resize(x, 3, 4).reshape(1, 12, 2), rtol=1e-12, atol=1e-12)


def test_constant_maps_stay_constant_for_every_method():
  x = jnp.full((1, 5, 3, 2), 2.5)
  for method in ("nearest", "bilinear", "cubic", "lanczos3"):
    # Shrinks one axis and stretches the other.
    np.testing.assert_allclose(grid_tokens(x, (2, 7), method), 2.5, rtol=1e-6)


def _identity_params(module, maps, c):
  params = module.init(jax.random.key(0), maps)
  eye = {"kernel": jnp.eye(c), "bias": jnp.zeros((c,))}
  return {"params": {k: eye for k in params["params"]}}


def test_maps_on_the_grid_with_identity_projection_are_unchanged():
  rng = np.random.default_rng(2)
  maps = [jnp.asarray(rng.standard_normal((2, 4, 6, 3)), jnp.float32) for _ in range(2)]
  for method in ("nearest", "bilinear", "cubic"):
    module = SpatialAlign(grid=(4, 6), features=3, method=method)
    out = module.apply(_identity_params(module, maps, 3), maps)
    for t, x in zip(out, maps):
      np.testing.assert_allclose(t, x.reshape(2, 24, 3), rtol=1e-6, atol=1e-6)


def test_projection_commutes_with_resampling():
  # The module projects at native resolution; projecting after resampling must give the same tokens.
  rng = np.random.default_rng(3)
  maps = [jnp.asarray(rng.standard_normal(s), jnp.float32) for s in ((2, 8, 9, 3), (2, 2, 3, 5))]
  module = SpatialAlign(grid=(4, 6), features=7)
  params = jax.jit(module.init)(jax.random.key(1), maps)
  out = jax.jit(module.apply)(params, maps)
  for m, (t, x) in enumerate(zip(out, maps)):
    p = params["params"][f"proj_{m}"]
    want = grid_tokens(x, (4, 6)) @ p["kernel"] + p["bias"]
    np.testing.assert_allclose(t, want, rtol=1e-5, atol=1e-5)


class SpatialAlignTest(chex.TestCase):
  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(4)
    self.maps = [jnp.asarray(rng.standard_normal(s), jnp.float32) for s in ((3, 8, 6, 4), (3, 2, 2, 6))]
    self.module = SpatialAlign(grid=(4, 4), features=5)
    self.params = jax.jit(self.module.init)(jax.random.key(0), self.maps)

  @chex.variants(with_jit=True, without_jit=True)
  def test_shapes_finite_and_jit_equals_no_jit(self):
    out = self.variant(self.module.apply)(self.params, self.maps)
    chex.assert_shape(out, [(3, 16, 5), (3, 16, 5)])
    chex.assert_tree_all_finite(out)
    ref = self.module.apply(self.params, self.maps)
    chex.assert_trees_all_close(out, ref, rtol=1e-5, atol=1e-6)

  def test_gradients_are_finite_and_reach_every_input(self):
    loss = lambda p, maps: sum(jnp.sum(t**2) for t in self.module.apply(p, maps))
    g_params, g_maps = jax.jit(jax.grad(loss, argnums=(0, 1)))(self.params, self.maps)
    chex.assert_tree_all_finite((g_params, g_maps))
    self.assertTrue(all(float(jnp.abs(g).sum()) > 0 for g in g_maps))

  def test_per_example_equals_batch(self):
    apply = jax.jit(self.module.apply)
    out = apply(self.params, self.maps)
    for b in range(3):
      one = apply(self.params, [x[b : b + 1] for x in self.maps])
      for t, t1 in zip(out, one):
        np.testing.assert_allclose(t[b : b + 1], t1, rtol=1e-5, atol=1e-6)

  def test_bfloat16_is_close_to_float32(self):
    bf = self.module.clone(dtype=jnp.bfloat16)
    got = jax.jit(bf.apply)(self.params, [x.astype(jnp.bfloat16) for x in self.maps])
    want = jax.jit(self.module.apply)(self.params, self.maps)
    for g, w in zip(got, want):
      self.assertEqual(g.dtype, jnp.bfloat16)
      np.testing.assert_allclose(np.asarray(g, np.float32), w, atol=0.1, rtol=0.05)


def test_registered_as_alignment_methods():
  names = {e.name for e in registry.entries("alignment")}
  assert {"grid_tokens", "SpatialAlign"} <= names
  assert registry.get("SpatialAlign") is SpatialAlign

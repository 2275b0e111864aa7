"""The graded fusion references (spec Part II) against independent float64 computations.

`tensor_fusion`, `low_rank_fusion`, `gated_fusion` and `film` are what students are graded
against; `weighted_sum` backs the article's fusion questions. Each is checked against explicit
Python/numpy loops in float64 (the zoo running under `jax.enable_x64`), then for the generic array
properties (jit = no jit, vmap = loop, finite gradients, bfloat16 close to float32) and one
semantic property of its method.
"""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import parameterized

from zoo.fusion.basic import weighted_sum
from zoo.fusion.gating import film, gated_fusion
from zoo.fusion.tensor import low_rank_fusion, low_rank_fusion_n, tensor_fusion, tensor_fusion_n

# (batch, widths) cases: batch size 1, unequal widths, a width of 1.
SHAPES = [(1, (2, 3, 4)), (3, (1, 4, 2)), (2, (3, 3, 3))]


# ----------------------------------------------------------------------------------------------
# Independent float64 references, written as loops over scalars.


def np_tensor_fusion(zs):
  """out[b, flat(i, j, k)] = u[i]·v[j]·w[k] with u = [1; z_t] ..., flattened with k fastest."""
  b = zs[0].shape[0]
  ones = [[1.0] + list(map(float, z[n])) for n in range(b) for z in zs]
  out = []
  for n in range(b):
    u, v, w = ones[3 * n : 3 * n + 3]
    out.append([u[i] * v[j] * w[k] for i in range(len(u)) for j in range(len(v)) for k in range(len(w))])
  return np.array(out, np.float64)


def np_low_rank_fusion(params, zs):
  """Σ_r w_r Π_m Σ_d [1; z_m][d]·F_m[r, d, o] + bias[o], one scalar at a time."""
  factors = [np.asarray(f, np.float64) for f in params["factors"]]
  w = np.asarray(params["fusion_weights"], np.float64)[0]
  bias = np.asarray(params["fusion_bias"], np.float64)[0]
  rank, o = factors[0].shape[0], factors[0].shape[2]
  out = np.zeros((zs[0].shape[0], o))
  for n in range(zs[0].shape[0]):
    for q in range(o):
      total = 0.0
      for r in range(rank):
        prod = 1.0
        for z, f in zip(zs, factors):
          u = [1.0] + list(map(float, z[n]))
          prod *= sum(u[d] * f[r, d, q] for d in range(len(u)))
        total += w[r] * prod
      out[n, q] = total + bias[q]
  return out


def np_gated_fusion(params, x_a, x_b):
  """GMU with math.tanh / the logistic function per output unit."""
  w_a, w_b, w_z = (np.asarray(params[k], np.float64) for k in ("W_a", "W_b", "W_z"))
  out = np.zeros((x_a.shape[0], w_a.shape[1]))
  for n in range(x_a.shape[0]):
    xab = list(x_a[n]) + list(x_b[n])
    for q in range(w_a.shape[1]):
      z = 1.0 / (1.0 + math.exp(-sum(xab[d] * w_z[d, q] for d in range(len(xab)))))
      h_a = math.tanh(sum(x_a[n, d] * w_a[d, q] for d in range(x_a.shape[1])))
      h_b = math.tanh(sum(x_b[n, d] * w_b[d, q] for d in range(x_b.shape[1])))
      out[n, q] = z * h_a + (1 - z) * h_b
  return out


def np_film(params, x, cond):
  """γ·x + β with γ, β affine in `cond`, in float64 numpy."""
  p = {k: {kk: np.asarray(vv, np.float64) for kk, vv in v.items()} for k, v in params.items()}
  gamma = cond @ p["gamma"]["kernel"] + p["gamma"]["bias"]
  beta = cond @ p["beta"]["kernel"] + p["beta"]["bias"]
  return gamma * x + beta


def np_weighted_sum(zs, weights):
  out = np.zeros_like(np.asarray(zs[0], np.float64))
  for m, z in enumerate(zs):
    out = out + (1.0 if weights is None else float(weights[m])) * np.asarray(z, np.float64)
  return out


# ----------------------------------------------------------------------------------------------
# Random arguments, in float64 numpy (cast by the callers).


def make_args(name, rng, b=2, widths=(2, 3, 4), o=3, rank=2):
  """Arguments for the named function: standard-normal inputs, random (nonzero) biases."""
  zs = [rng.standard_normal((b, d)) for d in widths]
  if name == "tensor_fusion":
    return tuple(zs)
  if name == "low_rank_fusion":
    params = {
      "factors": [rng.standard_normal((rank, d + 1, o)) * 0.7 for d in widths],
      "fusion_weights": rng.standard_normal((1, rank)),
      "fusion_bias": rng.standard_normal((1, o)),
    }
    return (params, *zs)
  if name == "gated_fusion":
    d_a, d_b = widths[:2]
    params = {
      "W_a": rng.standard_normal((d_a, o)),
      "W_b": rng.standard_normal((d_b, o)),
      "W_z": rng.standard_normal((d_a + d_b, o)),
    }
    return (params, zs[0], zs[1])
  if name == "film":
    d, c = widths[:2]
    params = {k: {"kernel": rng.standard_normal((c, d)), "bias": rng.standard_normal((d,))} for k in ("gamma", "beta")}
    return (params, zs[0], zs[1])
  if name == "weighted_sum":
    same = [rng.standard_normal((b, widths[0])) for _ in widths]
    return (same, rng.standard_normal(len(widths)))
  raise KeyError(name)


FUNCTIONS = {
  "tensor_fusion": tensor_fusion,
  "low_rank_fusion": low_rank_fusion,
  "gated_fusion": gated_fusion,
  "film": film,
  "weighted_sum": weighted_sum,
}
NP_REFERENCES = {
  "tensor_fusion": lambda *zs: np_tensor_fusion(zs),
  "low_rank_fusion": lambda p, *zs: np_low_rank_fusion(p, zs),
  "gated_fusion": np_gated_fusion,
  "film": np_film,
  "weighted_sum": np_weighted_sum,
}


def expected_shape(name, args):
  if name == "tensor_fusion":
    return (args[0].shape[0], math.prod(z.shape[1] + 1 for z in args))
  if name == "low_rank_fusion":
    return (args[1].shape[0], args[0]["fusion_bias"].shape[1])
  if name == "gated_fusion":
    return (args[1].shape[0], args[0]["W_a"].shape[1])
  if name == "film":
    return args[1].shape
  return args[0][0].shape


def cast(tree, dtype):
  return jax.tree.map(lambda a: jnp.asarray(a, dtype), tree)


def all_finite(tree):
  return all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(tree))


_NAMES = [(n, n) for n in FUNCTIONS]


class Float64ReferenceTest(parameterized.TestCase):
  """The zoo, run in float64, equals the scalar loops to rounding."""

  @parameterized.named_parameters(*_NAMES)
  def test_matches_float64_loops(self, name):
    rng = np.random.default_rng(sum(map(ord, name)))
    for b, widths in SHAPES:
      args = make_args(name, rng, b=b, widths=widths)
      want = NP_REFERENCES[name](*args)
      with jax.enable_x64(True):
        got = np.asarray(FUNCTIONS[name](*cast(args, jnp.float64)))
      self.assertEqual(got.dtype, np.float64)
      self.assertEqual(got.shape, expected_shape(name, args))
      np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)

  def test_weighted_sum_without_weights_is_the_plain_sum(self):
    rng = np.random.default_rng(7)
    zs = [rng.standard_normal((1, 5)) for _ in range(4)]
    with jax.enable_x64(True):
      got = np.asarray(weighted_sum(cast(zs, jnp.float64)))
    np.testing.assert_allclose(got, np_weighted_sum(zs, None), rtol=1e-13, atol=1e-13)

  def test_weighted_sum_rejects_a_wrong_number_of_weights(self):
    with self.assertRaisesRegex(ValueError, "weights"):
      weighted_sum([jnp.ones(3), jnp.ones(3)], jnp.ones(3))

  def test_m_way_forms_equal_the_graded_three_way_functions(self):
    rng = np.random.default_rng(3)
    args = make_args("low_rank_fusion", rng, b=2, widths=(2, 1, 3))
    with jax.enable_x64(True):
      a64 = cast(args, jnp.float64)
      np.testing.assert_allclose(
        np.asarray(tensor_fusion_n(a64[1:])), np.asarray(tensor_fusion(*a64[1:])), rtol=0, atol=0
      )
      np.testing.assert_allclose(
        np.asarray(low_rank_fusion_n(a64[0], a64[1:])), np_low_rank_fusion(args[0], args[1:]), rtol=1e-12, atol=1e-12
      )
      # Two modalities: the bimodal TFN of the paper, checked entry by entry.
      u, v = (np.concatenate([np.ones((2, 1)), z], axis=1) for z in args[1:3])
      np.testing.assert_allclose(
        np.asarray(tensor_fusion_n(a64[1:3])), np.einsum("bi,bj->bij", u, v).reshape(2, -1), rtol=1e-13, atol=1e-13
      )


class ArrayPropertiesTest(chex.TestCase):
  """jit/no-jit, vmap, gradients and bfloat16 for every graded fusion function."""

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(*_NAMES)
  def test_float32_jit_and_no_jit_match_the_float64_loops(self, name):
    rng = np.random.default_rng(11)
    args = make_args(name, rng, b=3, widths=(3, 2, 4))
    got = self.variant(FUNCTIONS[name])(*cast(args, jnp.float32))
    self.assertEqual(got.dtype, jnp.float32)
    chex.assert_shape(got, expected_shape(name, args))
    chex.assert_tree_all_finite(got)
    np.testing.assert_allclose(np.asarray(got), NP_REFERENCES[name](*args), rtol=2e-5, atol=2e-5)

  @parameterized.named_parameters(*_NAMES)
  def test_vmap_over_a_stack_of_batches_equals_a_python_loop(self, name):
    groups = [
      cast(make_args(name, np.random.default_rng(100 + g), b=2, widths=(2, 3, 1)), jnp.float32) for g in range(3)
    ]
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *groups)
    got = jax.vmap(FUNCTIONS[name])(*stacked)
    want = jnp.stack([FUNCTIONS[name](*g) for g in groups])
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)

  @parameterized.named_parameters(*_NAMES)
  def test_gradients_with_respect_to_every_argument_are_finite_and_nonzero(self, name):
    args = cast(make_args(name, np.random.default_rng(13), b=2, widths=(2, 3, 2)), jnp.float32)
    grads = jax.jit(jax.grad(lambda a: jnp.sum(FUNCTIONS[name](*a) ** 2)))(args)
    chex.assert_trees_all_equal_shapes(grads, args)
    self.assertTrue(all_finite(grads))
    # Every argument reaches the output: no gradient leaf is identically zero.
    for leaf in jax.tree.leaves(grads):
      self.assertGreater(float(jnp.max(jnp.abs(leaf))), 0.0)

  @parameterized.named_parameters(*_NAMES)
  def test_bfloat16_runs_and_stays_close_to_float32(self, name):
    args = make_args(name, np.random.default_rng(14), b=2, widths=(3, 2, 2))
    got = FUNCTIONS[name](*cast(args, jnp.bfloat16))
    self.assertEqual(got.dtype, jnp.bfloat16)
    want = np.asarray(FUNCTIONS[name](*cast(args, jnp.float32)))
    # bfloat16 keeps 8 significant bits (relative rounding 2^-9 per operation); these functions do a
    # handful of rounded products and sums, measured at under 0.5% of the output's scale: allow 2%.
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(np.asarray(got, np.float32), want, rtol=0, atol=0.02 * scale)


class SemanticTest(parameterized.TestCase):
  """One property per method that a wrong implementation of it would break."""

  def test_tensor_fusion_holds_every_unimodal_and_bimodal_term(self):
    rng = np.random.default_rng(21)
    zt, zi, za = (rng.standard_normal((2, d)).astype(np.float32) for d in (2, 3, 4))
    out = np.asarray(tensor_fusion(zt, zi, za)).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(out[:, 0, 0, 0], 1.0)  # the product of the three prepended 1s
    np.testing.assert_allclose(out[:, 1:, 0, 0], zt, rtol=1e-6)  # where the others' entries are the 1
    np.testing.assert_allclose(out[:, 0, 1:, 0], zi, rtol=1e-6)
    np.testing.assert_allclose(out[:, 0, 0, 1:], za, rtol=1e-6)
    np.testing.assert_allclose(out[:, 1:, 1:, 0], np.einsum("bi,bj->bij", zt, zi), rtol=1e-6)
    np.testing.assert_allclose(out[:, 1:, 0, 1:], np.einsum("bi,bk->bik", zt, za), rtol=1e-6)

  def test_low_rank_fusion_is_a_linear_map_of_the_tfn_tensor(self):
    # Liu et al.'s claim: LMF = TFN's tensor times a weight tensor of CP rank r.
    rng = np.random.default_rng(22)
    params, *zs = make_args("low_rank_fusion", rng, b=3, widths=(2, 3, 1), o=4, rank=3)
    w = params["fusion_weights"][0]
    f_t, f_i, f_a = params["factors"]
    full_W = np.einsum("r,rio,rjo,rko->ijko", w, f_t, f_i, f_a).reshape(-1, 4)
    with jax.enable_x64(True):
      a64 = cast((params, *zs), jnp.float64)
      got = np.asarray(low_rank_fusion(*a64))
      tfn = np.asarray(tensor_fusion(*a64[1:]))
    np.testing.assert_allclose(got, tfn @ full_W + params["fusion_bias"][0], rtol=1e-11, atol=1e-11)

  def test_low_rank_fusion_of_rank_one_is_one_explicit_product(self):
    rng = np.random.default_rng(23)
    params, *zs = make_args("low_rank_fusion", rng, b=1, widths=(3, 1, 2), o=2, rank=1)
    with jax.enable_x64(True):
      got = np.asarray(low_rank_fusion(*cast((params, *zs), jnp.float64)))
    proj = [np.concatenate([[1.0], z[0]]) @ f[0] for z, f in zip(zs, params["factors"])]
    want = params["fusion_weights"][0, 0] * proj[0] * proj[1] * proj[2] + params["fusion_bias"][0]
    np.testing.assert_allclose(got[0], want, rtol=1e-12, atol=1e-12)

  def test_gated_fusion_with_the_gate_forced_open_or_shut_returns_one_modality(self):
    rng = np.random.default_rng(24)
    params, x_a, x_b = make_args("gated_fusion", rng, b=2, widths=(3, 2))
    x_a, x_b = np.abs(x_a) + 0.1, np.abs(x_b) + 0.1  # positive inputs, so a huge W_z saturates
    for sign, want in ((1.0, np.tanh(x_a @ params["W_a"])), (-1.0, np.tanh(x_b @ params["W_b"]))):
      p = dict(params, W_z=np.full_like(params["W_z"], sign * 1e3))
      got = np.asarray(gated_fusion(*cast((p, x_a, x_b), jnp.float32)))
      np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)

  def test_film_with_gamma_one_and_beta_zero_is_the_identity(self):
    rng = np.random.default_rng(25)
    _, x, cond = make_args("film", rng, b=2, widths=(4, 3))
    params = {
      "gamma": {"kernel": np.zeros((3, 4)), "bias": np.ones(4)},
      "beta": {"kernel": np.zeros((3, 4)), "bias": np.zeros(4)},
    }
    with jax.enable_x64(True):
      got = np.asarray(film(*cast((params, x, cond), jnp.float64)))
    np.testing.assert_array_equal(got, x)
    # And γ = 0 leaves only β(cond), whatever x is.
    params["gamma"]["bias"] = np.zeros(4)
    params["beta"]["kernel"] = rng.standard_normal((3, 4))
    with jax.enable_x64(True):
      got = np.asarray(film(*cast((params, x + 5.0, cond), jnp.float64)))
    np.testing.assert_allclose(got, cond @ params["beta"]["kernel"], rtol=1e-13, atol=1e-13)

  @parameterized.parameters(0, 1, 2)
  def test_weighted_sum_with_a_one_hot_weight_selects_that_modality(self, pick):
    rng = np.random.default_rng(26)
    zs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    got = np.asarray(weighted_sum(zs, np.eye(3, dtype=np.float32)[pick]))
    np.testing.assert_array_equal(got, zs[pick])

"""The pooled fusion Modules of the catalog (zoo/fusion/basic.py, gating.py, tensor.py).

For every module: output shape, finite values and gradients (every parameter reaches the output),
jit = no jit and batch = per-example (`chex.variants`), bfloat16 close to float32; then one
semantic property per method, checked against numpy or against the graded array function that
the module shares its parameter layout with. Parameters are drawn with numpy into the shapes of
`jax.eval_shape(model.init, ...)` (cheap: no init to compile); the real initialisers are checked
on their own.
"""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import parameterized

from zoo import registry
from zoo.fusion.basic import AttentionWeightFusion, FixedWeightFusion, LateConcat, Sum
from zoo.fusion.gating import GMU, FiLM, MultiplicativeInteraction, film, gated_fusion
from zoo.fusion.tensor import LMF, MFB, TFN, low_rank_fusion, tensor_fusion

B = 3
# name -> (module, modality widths, output width)
CASES = {
  "Sum": (Sum(features=4), (3, 2, 5), 4),
  "LateConcat": (LateConcat(features=4), (3, 2, 5), 4),
  "FixedWeight_article": (FixedWeightFusion(), (3, 3, 3), 3),
  "FixedWeight_projected": (FixedWeightFusion(weights=(0.7, 0.3), features=4), (2, 5), 4),
  "AttentionWeight": (AttentionWeightFusion(features=4, hidden=3), (3, 2, 5), 4),
  "GMU_2": (GMU(features=4), (3, 2), 4),
  "GMU_3": (GMU(features=4), (3, 2, 5), 4),
  "FiLM": (FiLM(), (3, 2, 5), 3),
  "MultiplicativeInteraction": (MultiplicativeInteraction(features=4), (3, 2, 5), 4),
  "TFN_3": (TFN(features=4), (3, 2, 1), 4),
  "TFN_2": (TFN(features=4), (3, 2), 4),
  "LMF_3": (LMF(rank=3, features=4), (3, 2, 5), 4),
  "LMF_2": (LMF(rank=3, features=4), (3, 2), 4),
  "MFB": (MFB(features=4, factors=3), (3, 2), 4),
  "MFB_3": (MFB(features=4, factors=3), (3, 2, 5), 4),
}
_NAMED = [(n, n) for n in CASES]


def inputs(widths, seed=0, b=B):
  rng = np.random.default_rng(seed)
  return [jnp.asarray(rng.standard_normal((b, d)), jnp.float32) for d in widths]


def random_params(model, zs, seed=1, scale=0.5):
  """Parameters of the shapes `model.init` would make, drawn N(0, scale²) with numpy."""
  shapes = jax.eval_shape(model.init, jax.random.key(0), zs)
  rng = np.random.default_rng(seed)
  return jax.tree.map(lambda s: jnp.asarray(rng.standard_normal(s.shape) * scale, s.dtype), shapes)


@functools.cache
def case(name):
  """(model, inputs, params) of one case, made once per test process."""
  model, widths, _ = CASES[name]
  zs = inputs(widths)
  return model, zs, random_params(model, zs)


def as_np(tree):
  return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


class GenericModuleTest(chex.TestCase):
  @parameterized.named_parameters(*_NAMED)
  def test_shape_finite_and_every_parameter_gets_a_finite_gradient(self, name):
    model, zs, params = case(name)
    out = model.apply(params, zs)
    chex.assert_shape(out, (B, CASES[name][2]))
    chex.assert_tree_all_finite(out)
    # A fixed random projection of the output: a plain Σout² would be constant for MFB's unit vectors.
    probe = jnp.asarray(np.random.default_rng(2).standard_normal(out.shape), jnp.float32)
    loss = lambda p, z: jnp.sum(model.apply(p, z) * probe)
    g_params, g_inputs = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, zs)
    chex.assert_tree_all_finite((g_params, g_inputs))
    for path, g in jax.tree_util.tree_leaves_with_path(g_params):
      self.assertGreater(float(jnp.max(jnp.abs(g))), 0.0, msg=f"{name}: {jax.tree_util.keystr(path)} unused")
    for m, g in enumerate(g_inputs):
      self.assertGreater(float(jnp.max(jnp.abs(g))), 0.0, msg=f"{name}: modality {m} never reaches the output")

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(*_NAMED)
  def test_batch_equals_per_example(self, name):
    model, zs, params = case(name)
    got = self.variant(model.apply)(params, zs)
    # Each example alone: a batch of B copies of it (same shapes, no new compilation), row 0 kept.
    per_example = jnp.stack(
      [model.apply(params, [jnp.repeat(z[i : i + 1], B, axis=0) for z in zs])[0] for i in range(B)]
    )
    np.testing.assert_allclose(np.asarray(got), np.asarray(per_example), rtol=1e-5, atol=1e-5)

  @parameterized.named_parameters(*_NAMED)
  def test_bfloat16_runs_and_stays_close_to_float32(self, name):
    model, zs, params = case(name)
    want = np.asarray(model.apply(params, zs))
    got = model.clone(dtype=jnp.bfloat16).apply(params, zs)
    self.assertEqual(got.dtype, jnp.bfloat16)
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(np.asarray(got, np.float32), want, rtol=0, atol=0.02 * scale)

  @parameterized.named_parameters(
    *[
      (n, n)
      for n in (
        "Sum",
        "LateConcat",
        "FixedWeightFusion",
        "AttentionWeightFusion",
        "GMU",
        "FiLM",
        "MultiplicativeInteraction",
        "TFN",
        "LMF",
        "MFB",
      )
    ]
  )
  def test_registered_pooled_and_buildable_from_defaults(self, name):
    cls = registry.get(name)
    entry = {e.name: e for e in registry.entries("fusion")}[name]
    self.assertIs(entry.obj, cls)
    self.assertTrue(entry.paper and entry.shapes)
    self.assertEqual(cls.input_kind, "pooled")
    zs = inputs((3, 3, 3), b=2)
    out = jax.eval_shape(lambda: cls().init_with_output(jax.random.key(0), zs)[0])
    self.assertEqual(out.shape[0], 2)


class RealInitialisationTest(parameterized.TestCase):
  """The modules' own initialisers, run for real once each."""

  def test_lmf_starts_at_unit_scale_for_unit_inputs(self):
    zs = inputs((6, 9, 4), seed=5, b=256)
    model = LMF(rank=16, features=16)
    # An "rbg" key: its generator compiles faster than threefry; the statistics are the same.
    out, variables = jax.jit(model.init_with_output)(jax.random.key(3, impl="rbg"), zs)
    self.assertEqual(
      jax.tree.map(jnp.shape, variables["params"]),
      {"factors": [(16, 7, 16), (16, 10, 16), (16, 5, 16)], "fusion_weights": (1, 16), "fusion_bias": (1, 16)},
    )
    std = float(jnp.std(out))
    self.assertGreater(std, 0.2)
    self.assertLess(std, 5.0)

  def test_film_starts_with_gamma_bias_one_and_beta_bias_zero(self):
    zs = inputs((4, 3), b=2)
    variables = FiLM().init(jax.random.key(0), zs)
    np.testing.assert_array_equal(variables["params"]["gamma"]["bias"], np.ones(4))
    np.testing.assert_array_equal(variables["params"]["beta"]["bias"], np.zeros(4))
    self.assertEqual(variables["params"]["gamma"]["kernel"].shape, (3, 4))


class SemanticTest(parameterized.TestCase):
  def test_sum_is_the_sum_of_per_modality_affine_maps(self):
    model, zs, params = case("Sum")
    p, z = as_np(params["params"]["project"]), as_np(zs)
    want = sum(z[m] @ p[f"proj_{m}"]["kernel"] + p[f"proj_{m}"]["bias"] for m in range(3))
    np.testing.assert_allclose(np.asarray(model.apply(params, zs)), want, rtol=1e-5, atol=1e-5)

  def test_late_concat_splits_into_one_block_of_the_kernel_per_modality(self):
    model, zs, params = case("LateConcat")
    k, b = (np.asarray(params["params"]["out"][n], np.float64) for n in ("kernel", "bias"))
    rows = np.cumsum([0] + [z.shape[1] for z in zs])
    want = b + sum(np.asarray(z, np.float64) @ k[rows[m] : rows[m + 1]] for m, z in enumerate(zs))
    np.testing.assert_allclose(np.asarray(model.apply(params, zs)), want, rtol=1e-5, atol=1e-5)

  def test_fixed_weight_fusion_on_the_articles_vectors(self):
    text, image, audio = ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0])
    zs = [jnp.asarray([v]) for v in (text, image, audio)]
    got = FixedWeightFusion().apply({}, zs)
    want = 0.5 * np.array(text) + 0.3 * np.array(image) + 0.2 * np.array(audio)
    np.testing.assert_allclose(np.asarray(got)[0], want, rtol=1e-6)
    with self.assertRaisesRegex(ValueError, "widths"):
      FixedWeightFusion().apply({}, [jnp.ones((1, 2)), jnp.ones((1, 3)), jnp.ones((1, 2))])
    with self.assertRaisesRegex(ValueError, "weights"):
      FixedWeightFusion().apply({}, zs[:2])

  def test_fixed_weight_fusion_with_features_weights_the_projections(self):
    model, zs, params = case("FixedWeight_projected")
    p, z = as_np(params["params"]["project"]), as_np(zs)
    want = sum(w * (z[m] @ p[f"proj_{m}"]["kernel"] + p[f"proj_{m}"]["bias"]) for m, w in enumerate(model.weights))
    np.testing.assert_allclose(np.asarray(model.apply(params, zs)), want, rtol=1e-5, atol=1e-5)

  def test_attention_weights_are_a_per_sample_softmax_and_mix_the_projections(self):
    model, zs, params = case("AttentionWeight")
    out, state = model.apply(params, zs, mutable=["intermediates"])
    (a_BxM,) = state["intermediates"]["weights"]
    chex.assert_shape(a_BxM, (B, 3))
    np.testing.assert_allclose(np.asarray(a_BxM).sum(-1), np.ones(B), rtol=1e-6)
    self.assertTrue(bool(jnp.all(a_BxM > 0)))
    self.assertGreater(float(jnp.std(a_BxM[:, 0])), 0.0)  # weights depend on the sample
    p, z = as_np(params["params"]), as_np(zs)
    h = [z[m] @ p["project"][f"proj_{m}"]["kernel"] + p["project"][f"proj_{m}"]["bias"] for m in range(3)]
    s = np.stack(
      [np.tanh(hm @ p["score_hidden"]["kernel"] + p["score_hidden"]["bias"]) @ p["score"]["kernel"][:, 0] for hm in h],
      axis=1,
    )
    a = np.exp(s - s.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(a_BxM), a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), np.einsum("bm,mbd->bd", a, np.stack(h)), rtol=1e-5, atol=1e-5)

  def test_attention_weight_fusion_of_identical_modalities_is_that_modality(self):
    model, zs, params = case("AttentionWeight")
    proj = params["params"]["project"]
    same = {"params": dict(params["params"], project={f"proj_{m}": proj["proj_0"] for m in range(3)})}
    z0 = inputs((3,), seed=9)[0]
    got = model.apply(same, [z0, z0, z0])
    want = z0 @ proj["proj_0"]["kernel"] + proj["proj_0"]["bias"]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)

  def test_gmu_of_two_modalities_is_gated_fusion_on_the_same_parameters(self):
    model, zs, params = case("GMU_2")
    self.assertEqual(set(params["params"]), {"W_a", "W_b", "W_z"})
    np.testing.assert_array_equal(np.asarray(model.apply(params, zs)), np.asarray(gated_fusion(params["params"], *zs)))

  def test_gmu_of_three_modalities_with_gates_forced_open_or_shut(self):
    model, _, params = case("GMU_3")
    zs = [jnp.abs(z) + 0.1 for z in inputs((3, 2, 5), seed=4)]  # positive, so a huge W_z saturates
    p = params["params"]
    open_all = {"params": dict(p, W_z=jnp.full_like(p["W_z"], 1e3))}
    want = sum(np.tanh(np.asarray(z, np.float64) @ np.asarray(p[f"W_{m}"], np.float64)) for m, z in enumerate(zs))
    np.testing.assert_allclose(np.asarray(model.apply(open_all, zs)), want, rtol=1e-5, atol=1e-5)
    # Only modality 1's gate open: its own tanh path alone.
    gate = np.full(p["W_z"].shape, -1e3, np.float32)
    gate[:, 1, :] = 1e3
    only_1 = {"params": dict(p, W_z=jnp.asarray(gate))}
    want = np.tanh(np.asarray(zs[1], np.float64) @ np.asarray(p["W_1"], np.float64))
    np.testing.assert_allclose(np.asarray(model.apply(only_1, zs)), want, rtol=1e-5, atol=1e-5)

  def test_gmu_and_film_reject_a_single_modality(self):
    for model in (GMU(features=2), FiLM(), MultiplicativeInteraction(features=2), TFN(), LMF(), MFB()):
      with self.assertRaisesRegex(ValueError, "at least 2"):
        jax.eval_shape(model.init, jax.random.key(0), inputs((3,), b=1))

  def test_film_is_film_of_the_first_modality_by_the_others_and_identity_at_gamma_one(self):
    model, zs, params = case("FiLM")
    cond = jnp.concatenate(zs[1:], axis=-1)
    np.testing.assert_array_equal(np.asarray(model.apply(params, zs)), np.asarray(film(params["params"], zs[0], cond)))
    ident = {
      "params": {
        "gamma": {"kernel": jnp.zeros((7, 3)), "bias": jnp.ones(3)},
        "beta": {"kernel": jnp.zeros((7, 3)), "bias": jnp.zeros(3)},
      }
    }
    np.testing.assert_array_equal(np.asarray(model.apply(ident, zs)), np.asarray(zs[0]))

  def test_multiplicative_interaction_against_explicit_loops(self):
    model, zs, params = case("MultiplicativeInteraction")
    p = as_np(params["params"])
    x, y = np.asarray(zs[0], np.float64), np.concatenate([np.asarray(z, np.float64) for z in zs[1:]], axis=1)
    want = np.zeros((B, 4))
    for n, o in np.ndindex(B, 4):
      bil = sum(x[n, i] * p["W"][i, j, o] * y[n, j] for i in range(x.shape[1]) for j in range(y.shape[1]))
      want[n, o] = bil + x[n] @ p["U"][:, o] + y[n] @ p["V"][:, o] + p["b"][o]
    np.testing.assert_allclose(np.asarray(model.apply(params, zs)), want, rtol=1e-5, atol=1e-5)

  def test_multiplicative_interaction_is_affine_in_each_input_and_not_jointly(self):
    model, zs, params = case("MultiplicativeInteraction")
    f = lambda z0, z1: np.asarray(model.apply(params, [z0, z1, zs[2]]), np.float64)
    z1b = inputs((2,), seed=8)[0]
    mix = 0.3 * zs[1] + 0.7 * z1b
    np.testing.assert_allclose(f(zs[0], mix), 0.3 * f(zs[0], zs[1]) + 0.7 * f(zs[0], z1b), rtol=1e-4, atol=1e-4)
    # Jointly it is quadratic: doubling both inputs does not give an affine extrapolation.
    lin = 2 * f(zs[0], zs[1]) - f(0 * zs[0], 0 * zs[1])
    self.assertGreater(float(np.max(np.abs(f(2 * zs[0], 2 * zs[1]) - lin))), 1e-2)

  @parameterized.named_parameters(("three", "TFN_3"), ("two", "TFN_2"))
  def test_tfn_is_a_dense_over_the_outer_product_tensor(self, name):
    model, zs, params = case(name)
    p, z = as_np(params["params"]["post_fusion"]), as_np(zs)
    ones = [np.concatenate([np.ones((B, 1)), zm], axis=1) for zm in z]
    tensor = functools.reduce(lambda a, b: np.einsum("bi,bj->bij", a, b).reshape(B, -1), ones)
    self.assertEqual(tensor.shape[1], math.prod(w + 1 for w in CASES[name][1]))
    np.testing.assert_allclose(
      np.asarray(model.apply(params, zs)), tensor @ p["kernel"] + p["bias"], rtol=1e-4, atol=1e-4
    )
    if len(zs) == 3:
      np.testing.assert_allclose(tensor, np.asarray(tensor_fusion(*zs)), rtol=1e-6, atol=1e-6)

  def test_lmf_shares_low_rank_fusions_layout(self):
    model, zs, params = case("LMF_3")
    np.testing.assert_array_equal(
      np.asarray(model.apply(params, zs)), np.asarray(low_rank_fusion(params["params"], *zs))
    )

  def test_lmf_of_two_modalities_is_tfn_with_a_cp_rank_r_weight(self):
    model, zs, params = case("LMF_2")
    p, z = as_np(params["params"]), as_np(zs)
    full_W = np.einsum("r,rio,rjo->ijo", p["fusion_weights"][0], *p["factors"]).reshape(-1, 4)
    ones = [np.concatenate([np.ones((B, 1)), zm], axis=1) for zm in z]
    tfn = np.einsum("bi,bj->bij", *ones).reshape(B, -1)
    np.testing.assert_allclose(
      np.asarray(model.apply(params, zs)), tfn @ full_W + p["fusion_bias"][0], rtol=1e-4, atol=1e-4
    )

  @parameterized.named_parameters(("two", "MFB"), ("three", "MFB_3"))
  def test_mfb_against_numpy_and_unit_norm(self, name):
    model, zs, params = case(name)
    p, z = as_np(params["params"]), as_np(zs)
    joint = np.ones((B, 12))
    for m, zm in enumerate(z):
      joint = joint * (zm @ p[f"expand_{m}"]["kernel"] + p[f"expand_{m}"]["bias"])
    pooled = np.array([[sum(joint[n, j * 3 + i] for i in range(3)) for j in range(4)] for n in range(B)])
    power = np.sign(pooled) * np.sqrt(np.abs(pooled))
    want = power / np.linalg.norm(power, axis=1, keepdims=True)
    got = np.asarray(model.apply(params, zs))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), np.ones(B), rtol=1e-5)

  def test_mfb_gradient_is_finite_at_a_zero_pooled_vector(self):
    model, zs, params = case("MFB")
    zero = {"params": jax.tree.map(jnp.zeros_like, params["params"])}
    g = jax.jit(jax.grad(lambda p: jnp.sum(model.apply(p, zs))))(zero)
    chex.assert_tree_all_finite(g)
    chex.assert_tree_all_finite(model.apply(zero, zs))

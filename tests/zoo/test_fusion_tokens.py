"""The token-level fusion Modules (zoo/fusion/tokens.py and basic.EarlyConcat).

For every module: output shape and `output_mask`, finite values and gradients, jit = no jit and
batch = per-example (`chex.variants`), bfloat16 close to float32, and that changing padded tokens
changes no real output (one sample has a modality that is entirely padding). Then one property
per method. Shapes are tiny (width 8, two heads, one or two layers) to keep compilation cheap.
"""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import parameterized

from zoo import registry
from zoo.fusion.basic import EarlyConcat
from zoo.fusion.tokens import (
  BottleneckFusion,
  CoAttention,
  CrossModalAttention,
  ModalityTokenSelfAttention,
  PerceiverFusion,
)

B = 3
_T = dict(features=8, num_heads=2, mlp_dim=16)
# name -> (module, [(L_m, d_m)], L_out)
# Most cases share one input layout, so the op-by-op (no jit) runs reuse one another's kernels; it
# has equal widths for CoAttention's symmetry test (unequal widths: the other cases and the pooled tests).
_PAIR = [(3, 3), (4, 3)]
CASES = {
  "EarlyConcat": (EarlyConcat(features=8), [(4, 3), (4, 2)], 4),
  "ModalityTokenSelfAttention": (ModalityTokenSelfAttention(**_T), [(3, 3), (4, 2), (2, 5)], 9),
  "CrossModalAttention": (CrossModalAttention(**_T), _PAIR, 7),
  "CoAttention": (CoAttention(**_T), _PAIR, 7),
  "PerceiverFusion": (PerceiverFusion(num_latents=3, **_T), _PAIR, 3),
  "BottleneckFusion": (BottleneckFusion(num_bottlenecks=2, **_T), _PAIR, 7),
}
_NAMED = [(n, n) for n in CASES]


def token_inputs(spec, seed=0, b=B):
  """Standard-normal tokens and masks: sample 0 all real, sample 1 with the tail of each modality
  padded, sample 2 with modality 1 entirely padding (and the rest real)."""
  rng = np.random.default_rng(seed)
  xs = [jnp.asarray(rng.standard_normal((b, l, d)), jnp.float32) for l, d in spec]
  masks = []
  for m, (l, _) in enumerate(spec):
    mask = np.ones((b, l), bool)
    if b > 1:
      mask[1, max(1, l - 2) :] = False
    if b > 2 and m == 1:
      mask[2] = False
    masks.append(jnp.asarray(mask))
  return xs, masks


def random_params(model, xs, masks, seed=1, scale=0.5):
  """Parameters of the shapes `model.init` would make, drawn N(0, scale²) with numpy."""
  shapes = jax.eval_shape(model.init, jax.random.key(0), xs, masks)
  rng = np.random.default_rng(seed)
  return jax.tree.map(lambda s: jnp.asarray(rng.standard_normal(s.shape) * scale, s.dtype), shapes)


@functools.cache
def case(name):
  """(model, xs, masks, params, jitted apply) of one case, made once per test process."""
  model, spec, _ = CASES[name]
  xs, masks = token_inputs(spec)
  return model, xs, masks, random_params(model, xs, masks), jax.jit(model.apply)


def perturb_padding(xs, masks, seed=5):
  """The same tokens with every padded one replaced by large random values."""
  rng = np.random.default_rng(seed)
  return [
    jnp.where(m[..., None], x, jnp.asarray(rng.standard_normal(x.shape) * 50, x.dtype)) for x, m in zip(xs, masks)
  ]


class GenericTokenFusionTest(chex.TestCase):
  @parameterized.named_parameters(*_NAMED)
  def test_shape_mask_finite_and_gradients(self, name):
    model, xs, masks, params, apply = case(name)
    out = apply(params, xs, masks)
    chex.assert_shape(out, (B, CASES[name][2], 8))
    chex.assert_tree_all_finite(out)
    out_mask = model.output_mask(xs, masks)
    chex.assert_shape(out_mask, (B, CASES[name][2]))
    self.assertEqual(out_mask.dtype, jnp.bool_)
    self.assertEqual(model.output_mask(xs, None).shape, (B, CASES[name][2]))
    self.assertTrue(bool(jnp.all(model.output_mask(xs, None))))
    # Gradients of a random projection of the real outputs, through the padding.
    probe = jnp.asarray(np.random.default_rng(2).standard_normal(out.shape), jnp.float32) * out_mask[..., None]
    loss = lambda p, x: jnp.sum(model.apply(p, x, masks) * probe)
    g_params, g_inputs = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, xs)
    chex.assert_tree_all_finite((g_params, g_inputs))
    for m, (g, mask) in enumerate(zip(g_inputs, masks)):
      self.assertGreater(float(jnp.max(jnp.abs(g))), 0.0, msg=f"{name}: modality {m} never reaches the output")
      # No real output depends on a padded token.
      np.testing.assert_array_equal(np.asarray(g)[~np.asarray(mask)], 0.0)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(*_NAMED)
  def test_batch_equals_per_example(self, name):
    model, xs, masks, params, apply = case(name)
    got = self.variant(model.apply)(params, xs, masks)
    # Each example alone: a batch holding B copies of it (the compiled shape stays [B, ...]), row 0 kept.
    alone = lambda t, i: jnp.repeat(t[i : i + 1], B, axis=0)
    per_example = jnp.stack(
      [apply(params, [alone(x, i) for x in xs], [alone(m, i) for m in masks])[0] for i in range(B)]
    )
    np.testing.assert_allclose(np.asarray(got), np.asarray(per_example), rtol=2e-5, atol=2e-5)

  @parameterized.named_parameters(*_NAMED)
  def test_changing_padded_tokens_changes_no_real_output(self, name):
    model, xs, masks, params, apply = case(name)
    out_mask = np.asarray(model.output_mask(xs, masks))
    before = np.asarray(apply(params, xs, masks))[out_mask]
    after = np.asarray(apply(params, perturb_padding(xs, masks), masks))[out_mask]
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)

  @parameterized.named_parameters(*_NAMED)
  def test_nan_and_inf_in_padded_tokens_reach_no_real_output(self, name):
    # Finite garbage is not enough: a masked attention weight is 0, and 0 × NaN is NaN.
    model, xs, masks, params, apply = case(name)
    out_mask = np.asarray(model.output_mask(xs, masks))
    before = np.asarray(apply(params, xs, masks))[out_mask]
    for bad in (np.nan, np.inf, -np.inf):
      poisoned = [jnp.where(m[..., None], x, jnp.asarray(bad, x.dtype)) for x, m in zip(xs, masks)]
      after = np.asarray(apply(params, poisoned, masks))[out_mask]
      np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6, err_msg=f"{name}, padding = {bad}")

  @parameterized.named_parameters(*_NAMED)
  def test_every_modality_reaches_the_first_modalitys_fused_tokens(self, name):
    # Fusion, not side-by-side encoding: a real token of any modality moves the fused tokens that
    # stand for modality 0 (for PerceiverFusion: the latents), which the padding test above cannot see.
    model, xs, masks, params, apply = case(name)
    first = slice(None) if name in ("EarlyConcat", "PerceiverFusion") else slice(0, xs[0].shape[1])
    want = np.asarray(apply(params, xs, masks))[0, first]
    for m in range(len(xs)):
      moved = [x.at[0, 1].add(1.0) if k == m else x for k, x in enumerate(xs)]
      got = np.asarray(apply(params, moved, masks))[0, first]
      self.assertGreater(float(np.max(np.abs(got - want))), 1e-3, msg=f"modality {m} does not reach modality 0")

  @parameterized.named_parameters(*_NAMED)
  def test_bfloat16_runs_and_stays_close_to_float32(self, name):
    model, xs, masks, params, apply = case(name)
    want = np.asarray(apply(params, xs, masks))
    got = jax.jit(model.clone(dtype=jnp.bfloat16).apply)(params, xs, masks)
    self.assertEqual(got.dtype, jnp.bfloat16)
    out_mask = np.asarray(model.output_mask(xs, masks))
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(np.asarray(got, np.float32)[out_mask], want[out_mask], rtol=0, atol=0.05 * scale)

  @parameterized.named_parameters(*_NAMED)
  def test_registered_tokens_kind_and_buildable_from_defaults(self, name):
    cls = registry.get(name)
    self.assertEqual(cls.input_kind, "tokens")
    self.assertIn(name, {e.name for e in registry.entries("fusion")})
    n = 2 if name == "CoAttention" else 3
    xs, masks = token_inputs([(4, 3)] * n, b=2)
    out = jax.eval_shape(lambda: cls().init_with_output(jax.random.key(0), xs, masks)[0])
    self.assertEqual(out.shape[0], 2)
    self.assertEqual(out.shape[1], cls().output_mask(xs, masks).shape[1])


class SemanticTest(parameterized.TestCase):
  def test_early_concat_is_a_dense_over_the_feature_concatenation_with_an_and_mask(self):
    model, xs, masks, params, apply = case("EarlyConcat")
    k, b = (np.asarray(params["params"]["out"][n], np.float64) for n in ("kernel", "bias"))
    cat = np.concatenate([np.asarray(x, np.float64) * np.asarray(m)[..., None] for x, m in zip(xs, masks)], -1)
    np.testing.assert_allclose(np.asarray(apply(params, xs, masks)), cat @ k + b, rtol=1e-5, atol=1e-5)
    want_mask = np.asarray(masks[0]) & np.asarray(masks[1])
    np.testing.assert_array_equal(np.asarray(model.output_mask(xs, masks)), want_mask)
    with self.assertRaisesRegex(ValueError, "lengths"):
      jax.eval_shape(model.init, jax.random.key(0), token_inputs([(3, 2), (4, 2)])[0])

  def test_self_attention_fusion_is_equivariant_to_reordering_a_modalitys_tokens(self):
    # No positional embedding: permuting modality 1's tokens permutes its outputs, nothing else moves.
    model, xs, masks, params, apply = case("ModalityTokenSelfAttention")
    perm = np.array([2, 0, 3, 1])
    xs_p = [xs[0], xs[1][:, perm], xs[2]]
    masks_p = [masks[0], masks[1][:, perm], masks[2]]
    got, want = np.asarray(apply(params, xs_p, masks_p)), np.asarray(apply(params, xs, masks))
    want_p = np.concatenate([want[:, :3], want[:, 3:7][:, perm], want[:, 7:]], axis=1)
    mask_p = np.asarray(model.output_mask(xs_p, masks_p))
    np.testing.assert_allclose(got[mask_p], want_p[mask_p], rtol=1e-5, atol=1e-5)
    # The modality-type embedding matters: without it, the same tokens would fuse the same way.
    p0 = jax.tree_util.tree_map_with_path(
      lambda path, v: jnp.zeros_like(v) if "modality_type" in jax.tree_util.keystr(path) else v, params
    )
    self.assertGreater(float(np.max(np.abs(np.asarray(apply(p0, xs, masks)) - want))), 1e-3)

  def test_cross_modal_attention_reads_each_source_as_an_unordered_set(self):
    # Target 0's outputs depend on modality 1 only as keys and values: reordering modality 1
    # leaves them unchanged, and moves modality 1's own outputs with it.
    model, xs, masks, params, apply = case("CrossModalAttention")
    perm = np.array([3, 1, 0, 2])
    xs_p, masks_p = [xs[0], xs[1][:, perm]], [masks[0], masks[1][:, perm]]
    got, want = np.asarray(apply(params, xs_p, masks_p)), np.asarray(apply(params, xs, masks))
    m0 = np.asarray(masks[0])
    np.testing.assert_allclose(got[:, :3][m0], want[:, :3][m0], rtol=1e-5, atol=1e-5)
    m1 = np.asarray(masks_p[1])
    np.testing.assert_allclose(got[:, 3:][m1], want[:, 3:][:, perm][m1], rtol=1e-5, atol=1e-5)

  def test_cross_modal_attention_of_three_modalities_traces(self):
    model = CrossModalAttention(**_T)
    xs, masks = token_inputs([(3, 3), (4, 2), (2, 5)])
    out, variables = jax.eval_shape(lambda: model.init_with_output(jax.random.key(0), xs, masks))
    self.assertEqual(out.shape, (B, 9, 8))
    # One cross-modal transformer per ordered pair (target, source), as MulT.
    crosses = {k for k in variables["params"] if k.startswith("cross_") and not k.startswith("cross_norm")}
    self.assertEqual(crosses, {f"cross_{s}_to_{t}_0" for t in range(3) for s in range(3) if s != t})

  def test_co_attention_is_symmetric_under_swapping_the_streams_and_their_weights(self):
    # Swapping the two inputs and every stream-a parameter with its stream-b twin swaps the outputs.
    # An implementation that let stream b query the already-updated stream a would break this.
    model, xs, masks, params, apply = case("CoAttention")
    p = params["params"]
    twins = {"co_a_0": "co_b_0", "self_a_0": "self_b_0", "out_norm_a": "out_norm_b"}
    twins.update({v: k for k, v in twins.items()})
    swapped = {k: p[twins[k]] if k in twins else v for k, v in p.items()}
    swapped["embed"] = {"proj_0": p["embed"]["proj_1"], "proj_1": p["embed"]["proj_0"]}
    want = np.asarray(apply(params, xs, masks))
    got = np.asarray(apply({"params": swapped}, xs[::-1], masks[::-1]))
    np.testing.assert_allclose(got[:, :4], want[:, 3:], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[:, 4:], want[:, :3], rtol=1e-5, atol=1e-5)
    with self.assertRaisesRegex(ValueError, "two-stream"):
      jax.eval_shape(model.init, jax.random.key(0), *token_inputs([(2, 2)] * 3))

  def test_perceiver_output_is_invariant_to_token_order_and_sized_by_the_latents(self):
    model, xs, masks, params, apply = case("PerceiverFusion")
    want = np.asarray(apply(params, xs, masks))
    perms = [np.array([2, 0, 1]), np.array([1, 3, 0, 2])]
    got = apply(params, [x[:, p] for x, p in zip(xs, perms)], [m[:, p] for m, p in zip(masks, perms)])
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)

  def test_bottleneck_fusion_passes_information_only_through_the_bottlenecks(self):
    # Changing modality 1 moves modality 0's outputs only once a second fused layer has read the
    # bottleneck that modality 1 wrote: with two fused layers it does; with the first layer
    # unimodal (`fusion_layer=1`, so the last layer is the only fused one) it does not.
    model, xs, masks, params, apply = case("BottleneckFusion")
    moved = [xs[0], xs[1] + 1.0]
    real_0 = np.asarray(masks[0])

    def change_in_modality_0(apply_fn):
      diff = np.abs(np.asarray(apply_fn(params, moved, masks)) - np.asarray(apply_fn(params, xs, masks)))
      return float(np.max(diff[:, :3][real_0]))

    self.assertEqual(model.num_layers, 2)
    self.assertGreater(change_in_modality_0(apply), 1e-3)
    late = model.clone(fusion_layer=1)  # the same parameter tree: fusion_layer only changes the wiring
    self.assertEqual(change_in_modality_0(jax.jit(late.apply)), 0.0)

  def test_bottleneck_fusion_treats_the_modalities_alike(self):
    # The shared bottleneck is the modalities' mean: listing the modalities (and their own layers)
    # in the other order gives the same fused tokens, reordered. Keeping one modality's copy of the
    # bottleneck, or updating it modality after modality, would break this.
    model, xs, masks, params, apply = case("BottleneckFusion")
    p = params["params"]
    swap = lambda k: k.replace("_m0", "_m#").replace("_m1", "_m0").replace("_m#", "_m1")
    swapped = {swap(k): v for k, v in p.items() if k != "embed"}
    swapped["embed"] = {"proj_0": p["embed"]["proj_1"], "proj_1": p["embed"]["proj_0"]}
    self.assertEqual(jax.tree.structure(swapped), jax.tree.structure(dict(p)))
    want = np.asarray(apply(params, xs, masks))
    got = np.asarray(apply({"params": swapped}, xs[::-1], masks[::-1]))
    np.testing.assert_allclose(got[:, :4], want[:, 3:], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[:, 4:], want[:, :3], rtol=1e-5, atol=1e-5)

"""Every model and every applicable catalog fusion: shapes, finiteness, padding, jit vs eager, config, registry.

Forward passes run eagerly (op by op): XLA compiles each primitive once per shape and reuses it, so the
encoders shared by all fusions cost one compilation in this file rather than one per fusion.
"""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import architectures, models, registry, tokenizer
from zoo.fusion import catalog

CFG = models.TINY
B = 2


@pytest.fixture(scope="module")
def batch():
  b = models.example_batch(CFG, jax.random.key(1), B)
  # Make sure both examples have padding and at least one real token.
  text = np.array(b["text"])
  text[:, 0] = tokenizer.OFFSET + 65
  text[0, 3:] = tokenizer.PAD
  text[1, 6:] = tokenizer.PAD
  return {**b, "text": jnp.asarray(text)}


def _init(name, cfg, batch):
  model = models.build(name, cfg)
  out, variables = model.init_with_output({"params": jax.random.key(0)}, batch, train=False)
  return model, variables["params"], out


def _noisy_padding(next_fun, args, kwargs, context):
  """Interceptor: replace the text embeddings of padded positions (id 0) by large random vectors."""
  out = next_fun(*args, **kwargs)
  mod = context.module
  if isinstance(mod, nn.Embed) and context.method_name == "__call__" and mod.parent.name == "text_encoder":
    ids = args[0]
    noise = 10.0 * jax.random.normal(jax.random.key(7), out.shape, out.dtype)
    out = jnp.where((ids == tokenizer.PAD)[..., None], noise, out)
  return out


def _check_classifier(model, params, out, batch, cfg):
  logits, aux = out
  chex.assert_shape(logits, (B, cfg.num_classes))
  chex.assert_tree_all_finite((logits, aux))
  for m in cfg.modalities:
    chex.assert_shape(aux["pooled"][m], (B, cfg.width))
  # The padded text positions are hidden: whatever their embeddings, the logits do not move.
  if "text" in cfg.modalities:
    with nn.intercept_methods(_noisy_padding):
      noisy, _ = model.apply({"params": params}, batch, train=False)
    np.testing.assert_allclose(noisy, logits, atol=1e-5, rtol=1e-5)


MODEL_CASES = [
  ("parallel", {}),
  ("serial", {}),
  ("serial", {"modalities": ("text", "audio")}),
  ("alignment", {}),
  ("alignment", {"align": "dtw"}),
  ("alignment", {"align": "soft_dtw"}),
  ("alignment", {"modalities": ("image", "audio")}),  # no text: the audio frames are the clock
  ("unimodal", {"modalities": ("text",)}),
  ("unimodal", {"modalities": ("image",)}),
  ("unimodal", {"modalities": ("audio",)}),
]


@pytest.mark.parametrize("name,changes", MODEL_CASES, ids=[f"{n}-{c}" for n, c in MODEL_CASES])
def test_classifier_shapes_finite_and_padding(batch, name, changes):
  cfg = CFG.replace(**changes)
  model, params, out = _init(name, cfg, batch)
  _check_classifier(model, params, out, batch, cfg)
  if name == "alignment" and len(cfg.modalities) > 1:
    loss = out[1]["contrastive_loss"]
    chex.assert_shape(loss, ())
    assert float(loss) > 0  # a cross-entropy over B candidates is positive


def _modalities_for(fusion):
  """All three modalities, or the first two for a two-stream fusion."""
  return ("text", "image", "audio")[: catalog.fusion_arity(fusion) or 3]


@pytest.mark.parametrize("fusion", catalog.fusion_names())
def test_parallel_with_every_fusion(batch, fusion):
  cfg = CFG.replace(fusion=fusion, modalities=_modalities_for(fusion))
  if catalog.fusion_class(fusion).needs_aligned:
    with pytest.raises(ValueError, match=fusion):
      _init("parallel", cfg, batch)
    return
  model, params, out = _init("parallel", cfg, batch)
  _check_classifier(model, params, out, batch, cfg)
  assert "fusion" in params


@pytest.mark.parametrize("fusion", catalog.fusion_names("tokens"))
def test_alignment_early_fusion_with_every_token_fusion(batch, fusion):
  mods = _modalities_for(fusion)
  if len(mods) == 2:
    mods = ("text", "audio")  # the pair that needs aligning
  cfg = CFG.replace(align_fusion=fusion, modalities=mods)
  model, params, out = _init("alignment", cfg, batch)
  _check_classifier(model, params, out, batch, cfg)
  aligned = out[1]["aligned"]
  assert len(aligned) == len(mods) and all(a.shape == (B, CFG.text_len, CFG.width) for a in aligned)


@pytest.mark.parametrize("fusion", catalog.fusion_names("tokens"))
def test_encdec_memory_with_every_token_fusion(batch, fusion):
  cfg = CFG.replace(memory=fusion, modalities=_modalities_for(fusion))
  if catalog.fusion_class(fusion).needs_aligned:
    with pytest.raises(ValueError, match=fusion):
      _init("encdec", cfg, batch)
    return
  model, params, (logits, aux) = _init("encdec", cfg, batch)
  chex.assert_shape(logits, (B, CFG.target_len, CFG.vocab_size))
  chex.assert_tree_all_finite(logits)
  with nn.intercept_methods(_noisy_padding):
    noisy, _ = model.apply({"params": params}, batch, train=False)
  np.testing.assert_allclose(noisy, logits, atol=1e-5, rtol=1e-5)


def test_encdec_concat_memory(batch):
  model, params, (logits, aux) = _init("encdec", CFG, batch)
  chex.assert_shape(logits, (B, CFG.target_len, CFG.vocab_size))
  n_img = (CFG.image_size // CFG.patch_size) ** 2
  from zoo.encoders import audio_token_times

  m = CFG.text_len + n_img + len(audio_token_times(CFG))
  chex.assert_shape(aux["memory"], (B, m, CFG.width))
  np.testing.assert_array_equal(aux["memory_mask"][:, : CFG.text_len], batch["text"] != tokenizer.PAD)
  assert bool(aux["memory_mask"][:, CFG.text_len :].all())
  with nn.intercept_methods(_noisy_padding):
    noisy, _ = model.apply({"params": params}, batch, train=False)
  np.testing.assert_allclose(noisy, logits, atol=1e-5, rtol=1e-5)


# Serial is left out: it is the parallel model's encoders rewired, with nothing jit could change.
@pytest.mark.parametrize(
  "name,changes", [("parallel", {"fusion": "GMU"}), ("alignment", {"align": "dtw"}), ("encdec", {})]
)
def test_jit_equals_eager(batch, name, changes):
  cfg = CFG.replace(**changes)
  model, params, eager = _init(name, cfg, batch)  # eager; only the jitted apply compiles a program
  jitted = jax.jit(lambda p, b: model.apply({"params": p}, b, train=False))(params, batch)
  chex.assert_trees_all_close(jitted, eager, atol=1e-5, rtol=1e-5)


def test_alignment_interp_puts_audio_on_the_text_clock(batch):
  """With a constant speaking rate, text token i of n sits at (i + ½)/n of the clip."""
  mask = jnp.array([[True, True, False, False], [True, True, True, True]])
  np.testing.assert_allclose(architectures.uniform_clock(mask, 2.0)[0, :2], [0.5, 1.5])
  np.testing.assert_allclose(architectures.uniform_clock(mask, 2.0)[1], [0.25, 0.75, 1.25, 1.75])


def test_bfloat16_compute(batch):
  cfg = CFG.replace(dtype="bfloat16", modalities=("text",))  # one encoder: bf16 compiles every op anew
  model, params, (logits, aux) = _init("unimodal", cfg, batch)
  assert aux["pre_logits"].dtype == jnp.bfloat16
  assert logits.dtype == jnp.float32  # the head computes in float32 by design
  chex.assert_tree_all_finite(logits)
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))  # parameters stay float32


def test_config_checks_and_overrides():
  with pytest.raises(ValueError, match="modalities"):
    models.ModelConfig(modalities=("text", "smell"))
  with pytest.raises(ValueError, match="patch_size"):
    models.ModelConfig(image_size=30, patch_size=8)
  with pytest.raises(KeyError, match="choose one of"):
    models.build("nope", CFG)
  cfg = models.parse_override(CFG, "modalities=text,image")
  cfg = models.parse_override(cfg, "width=32")
  cfg = models.parse_override(cfg, "contrastive=false")
  cfg = models.parse_override(cfg, "fusion_kwargs=rank:8,features:12")
  assert cfg.modalities == ("text", "image") and cfg.width == 32 and cfg.contrastive is False
  assert cfg.fusion_kwargs == (("rank", 8), ("features", 12))
  with pytest.raises(ValueError, match="FIELD"):
    models.parse_override(CFG, "colour=red")
  with pytest.raises(ValueError, match="exactly one"):
    _init("unimodal", CFG, models.example_batch(CFG, jax.random.key(0), 1))


def test_fusion_kwargs_reach_the_fusion(batch):
  cfg = CFG.replace(fusion="LMF", fusion_kwargs=(("rank", 3),))
  _, params, _ = _init("parallel", cfg, batch)
  shapes = [p.shape for p in jax.tree.leaves(params["fusion"])]
  assert any(3 in s for s in shapes)


def test_registry_lists_encoders_and_architectures():
  enc = {e.name for e in registry.entries("encoder")}
  arch = {e.name for e in registry.entries("architecture")}
  assert {"TextEncoder", "ImageEncoder", "AudioEncoder", "log_mel_spectrogram"} <= enc
  assert {"ParallelModel", "SerialModel", "AlignmentModel", "UnimodalModel", "EncoderDecoder"} <= arch
  assert set(models.MODELS) == {"parallel", "serial", "alignment", "unimodal", "encdec"}
  for e in registry.entries("architecture") + registry.entries("encoder"):
    assert e.paper and e.shapes


def test_example_batch_and_init_params_interface():
  batch = models.example_batch(CFG, jax.random.key(0), B)
  chex.assert_shape(batch["text"], (B, CFG.text_len))
  chex.assert_shape(batch["image"], (B, CFG.image_size, CFG.image_size, CFG.image_channels))
  chex.assert_shape(batch["audio"], (B, CFG.audio_len))
  chex.assert_shape(batch["label"], (B,))
  assert batch["text"].dtype == jnp.int32 and batch["label"].dtype == jnp.int32
  assert bool(((batch["text"] == 0) | (batch["text"] >= tokenizer.OFFSET)).all())
  assert bool((batch["target"] == tokenizer.EOS).sum(axis=1).min() == 1)

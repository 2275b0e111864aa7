"""Encoder-decoder (Vaswani et al. 2017): a causal transformer decoder cross-attending to the fused multimodal memory.

Training: `model.apply({"params": p}, batch, train)` with batch["target"] [B, T] int32 (byte ids ending in
EOS, 0-padded) -> `(logits [B, T, vocab], aux)`, teacher forcing on [BOS, target[:-1]]; `sequence_loss`
is the matching masked cross-entropy.
Inference: `greedy_decode` and `beam_search`, jitted, one token per `lax.while_loop` step with Flax's
autoregressive key/value cache (`MultiHeadDotProductAttention(decode=True)`, as Flax's wmt example).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from zoo import tokenizer
from zoo.config import ModelConfig
from zoo.encoders import make_encoder
from zoo.fusion.catalog import ALIGNED_REASON, fusion_class, make_fusion
from zoo.layers import DecoderBlock
from zoo.registry import register

NEG_INF = -1.0e9  # a finite -inf: scores stay finite when added, as in Flax's beam search


class Decoder(nn.Module):
  """Token embedding + learned positions + decoder blocks; logits by the tied embedding (Press & Wolf 2017)."""

  cfg: ModelConfig
  decode: bool = False

  @nn.compact
  def __call__(self, tokens_BxT, memory_BxMxD, memory_mask_BxM, train: bool = False):
    cfg = self.cfg
    embed = nn.Embed(cfg.vocab_size, cfg.width, dtype=cfg.compute_dtype, name="embed")
    y = embed(tokens_BxT)
    # `perturb` is the identity; its zero 'perturbations' variable exposes ∂out/∂embeddings (causality test).
    y = self.perturb("embedded", y)
    pos_TxD = self.param("pos_embedding", nn.initializers.normal(0.02), (cfg.target_len, cfg.width))
    if self.decode:
      # One token per call: its position comes from a counter kept beside the attention caches.
      initialized = self.has_variable("cache", "pos_index")
      pos_index = self.variable("cache", "pos_index", lambda: jnp.array(0, jnp.int32))
      if initialized:
        pe = jax.lax.dynamic_slice_in_dim(pos_TxD, pos_index.value, 1)[None]
        pos_index.value = pos_index.value + 1
      else:
        pe = pos_TxD[None, : tokens_BxT.shape[1]]
    else:
      pe = pos_TxD[None, : tokens_BxT.shape[1]]
    y = nn.Dropout(cfg.dropout)(y + pe.astype(y.dtype), not train)
    for i in range(cfg.decoder_depth):
      y = DecoderBlock(cfg.heads, cfg.mlp_dim, cfg.dropout, cfg.compute_dtype, self.decode, name=f"block{i}")(
        y, memory_BxMxD, memory_mask_BxM, deterministic=not train
      )
    y = nn.LayerNorm(dtype=cfg.compute_dtype, name="norm")(y)
    return embed.attend(y).astype(jnp.float32)


def shift_right(target_BxT):
  """[BOS, t_0, …, t_{T-2}]: the decoder input for teacher forcing."""
  bos = jnp.full(target_BxT.shape[:1] + (1,), tokenizer.BOS, target_BxT.dtype)
  return jnp.concatenate([bos, target_BxT[:, :-1]], axis=1)


@register(
  "EncoderDecoder",
  family="architecture",
  paper="Vaswani et al. 2017, Attention Is All You Need (encoder-decoder); multimodal memory as in "
  "Tsai et al. 2019 (MulT) / Nagrani et al. 2021 (MBT)",
  shapes="batch (+ target [B, T]) -> logits [B, T, vocab]; decode -> tokens [B, T]",
)
class EncoderDecoder(nn.Module):
  """Modality encoders -> fused memory -> causal decoder with cross-attention.

  Memory (decision): with cfg.memory = "concat" the modalities' token sequences, each plus a learned
  modality-type embedding, are concatenated with their masks, so the decoder's cross-attention does the
  fusion; any catalog token fusion name instead fuses them first and the decoder reads its output.
  """

  cfg: ModelConfig
  decode: bool = False

  def setup(self):
    cfg = self.cfg
    self.encoders = {m: make_encoder(cfg, m) for m in cfg.modalities}
    if cfg.memory == "concat":
      self.type_embeddings = {
        m: self.param(f"{m}_type_embedding", nn.initializers.normal(0.02), (1, 1, cfg.width)) for m in cfg.modalities
      }
    elif fusion_class(cfg.memory).needs_aligned:
      raise ValueError(f"the memory cannot use {cfg.memory}: {ALIGNED_REASON}")
    else:
      self.fusion = make_fusion(cfg, cfg.memory, name="memory_fusion")
      if self.fusion.input_kind != "tokens":
        raise ValueError(f"cfg.memory={cfg.memory!r} must be 'concat' or a token fusion")
    self.decoder = Decoder(cfg, self.decode, name="decoder")

  def encode(self, batch: dict, train: bool = False):
    """The fused multimodal memory [B, M, D] and its mask [B, M] (Vaswani et al. 2017's encoder side)."""
    enc = {m: e(batch[m], train) for m, e in self.encoders.items()}
    xs, masks = [enc[m]["tokens"] for m in enc], [enc[m]["mask"] for m in enc]
    if self.cfg.memory == "concat":
      xs = [x + self.type_embeddings[m].astype(x.dtype) for m, x in zip(enc, xs)]
      return jnp.concatenate(xs, axis=1), jnp.concatenate(masks, axis=1)
    fused = self.fusion(xs, masks)
    return fused, self.fusion.output_mask(xs, masks)

  def decode_logits(self, tokens_BxT, memory_BxMxD, memory_mask_BxM, train: bool = False):
    """Next-token logits [B, T, vocab] for decoder inputs (one token at a time when `decode`)."""
    return self.decoder(tokens_BxT, memory_BxMxD, memory_mask_BxM, train)

  def __call__(self, batch: dict, train: bool = False):
    """Teacher-forced encoder-decoder (Vaswani et al. 2017): logits for batch["target"]."""
    memory, memory_mask = self.encode(batch, train)
    logits = self.decode_logits(shift_right(batch["target"]), memory, memory_mask, train)
    return logits, {"memory": memory, "memory_mask": memory_mask}


def sequence_loss(logits_BxTxV, target_BxT):
  """Mean cross-entropy over the real (non-pad) target tokens."""
  mask = (target_BxT != tokenizer.PAD).astype(jnp.float32)
  ce = optax.softmax_cross_entropy_with_integer_labels(logits_BxTxV, target_BxT)
  return (ce * mask).sum() / jnp.maximum(mask.sum(), 1)


# ---------------------------------------------------------------------------------------------------------
# Decoding.


def init_cache(model: EncoderDecoder, params, memory_BxMxD, memory_mask_BxM, max_len: int):
  """Zero key/value caches of length `max_len` for `memory`'s batch (shapes by `jax.eval_shape`, no compute)."""
  dec = model.clone(decode=True)
  tokens = jnp.zeros((memory_BxMxD.shape[0], max_len), jnp.int32)
  shapes = jax.eval_shape(
    lambda: dec.apply(
      {"params": params}, tokens, memory_BxMxD, memory_mask_BxM, method=EncoderDecoder.decode_logits, mutable=["cache"]
    )[1]["cache"]
  )
  return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def _step(model, params, cache, tok_B, memory, memory_mask):
  """One cached decoder step: logits [B, vocab] for the next token, and the updated cache."""
  logits, vars_ = model.clone(decode=True).apply(
    {"params": params, "cache": cache},
    tok_B[:, None],
    memory,
    memory_mask,
    method=EncoderDecoder.decode_logits,
    mutable=["cache"],
  )
  return logits[:, 0], vars_["cache"]


def _check_len(model, max_len):
  if not 1 <= max_len <= model.cfg.target_len:
    raise ValueError(f"max_len={max_len} must be in [1, cfg.target_len={model.cfg.target_len}]")


@functools.partial(jax.jit, static_argnames=("model", "max_len"))
def greedy_decode(model: EncoderDecoder, params, batch: dict, max_len: int):
  """Argmax decoding from BOS, cached, in a `lax.while_loop`: tokens [B, max_len] (PAD after EOS)."""
  _check_len(model, max_len)
  memory, memory_mask = model.apply({"params": params}, batch, method=EncoderDecoder.encode)
  b = memory.shape[0]
  cache = init_cache(model, params, memory, memory_mask, max_len)

  def body(state):
    i, cache, tok_B, out_BxT, done_B = state
    logits_BxV, cache = _step(model, params, cache, tok_B, memory, memory_mask)
    nxt_B = jnp.where(done_B, tokenizer.PAD, jnp.argmax(logits_BxV, axis=-1).astype(jnp.int32))
    out_BxT = out_BxT.at[:, i].set(nxt_B)
    # A generated PAD ends a sequence as EOS does (beam_search agrees, so K = 1 is greedy).
    return i + 1, cache, nxt_B, out_BxT, done_B | (nxt_B == tokenizer.EOS) | (nxt_B == tokenizer.PAD)

  def cond(state):
    i, *_, done_B = state
    return (i < max_len) & ~jnp.all(done_B)

  state = (
    jnp.array(0),
    cache,
    jnp.full((b,), tokenizer.BOS, jnp.int32),
    jnp.zeros((b, max_len), jnp.int32),
    jnp.zeros((b,), bool),
  )
  return jax.lax.while_loop(cond, body, state)[3]


@functools.partial(jax.jit, static_argnames=("model", "beam_size", "max_len"))
def beam_search(model: EncoderDecoder, params, batch: dict, beam_size: int, max_len: int, alpha: float = 0.0):
  """Beam search (Graves 2012; GNMT length penalty, Wu et al. 2016), cached, in a `lax.while_loop`.

  Returns (tokens [B, K, max_len], scores [B, K]) best first. A finished hypothesis stays in its beam
  and can only be extended by PAD at log-probability 0, so with K = 1 this is exactly greedy decoding.
  Scores are summed log-probabilities divided by ((5 + length)/6)^alpha at the end.
  """
  _check_len(model, max_len)
  k = beam_size
  memory, memory_mask = model.apply({"params": params}, batch, method=EncoderDecoder.encode)
  b = memory.shape[0]
  # Every beam gets its own copy of the memory and the cache: flat batch index b·K + beam.
  memory = jnp.repeat(memory, k, axis=0)
  memory_mask = jnp.repeat(memory_mask, k, axis=0)
  cache = init_cache(model, params, memory, memory_mask, max_len)
  v = model.cfg.vocab_size
  pad_only_V = jnp.where(jnp.arange(v) == tokenizer.PAD, 0.0, NEG_INF)

  def body(state):
    i, cache, tok_BxK, seqs_BxKxT, logp_BxK, done_BxK = state
    logits, cache = _step(model, params, cache, tok_BxK.reshape(b * k), memory, memory_mask)
    lp_BxKxV = jax.nn.log_softmax(logits.reshape(b, k, v), axis=-1)
    lp_BxKxV = jnp.where(done_BxK[..., None], pad_only_V, lp_BxKxV)
    cand_BxKV = (logp_BxK[..., None] + lp_BxKxV).reshape(b, k * v)
    logp_BxK, flat = jax.lax.top_k(cand_BxKV, k)
    src_BxK, tok_BxK = flat // v, (flat % v).astype(jnp.int32)
    take = lambda x: jnp.take_along_axis(x, src_BxK.reshape(b, k, *(1,) * (x.ndim - 2)), axis=1)
    seqs_BxKxT = take(seqs_BxKxT).at[:, :, i].set(tok_BxK)
    done_BxK = take(done_BxK) | (tok_BxK == tokenizer.EOS) | (tok_BxK == tokenizer.PAD)
    # Reorder the caches to follow their hypotheses (scalar counters are shared by all beams).
    rows = (jnp.arange(b)[:, None] * k + src_BxK).reshape(-1)
    cache = jax.tree.map(lambda c: c[rows] if c.ndim else c, cache)
    return i + 1, cache, tok_BxK, seqs_BxKxT, logp_BxK, done_BxK

  def cond(state):
    i, *_, done_BxK = state
    return (i < max_len) & ~jnp.all(done_BxK)

  # Only beam 0 is live at the start, so the first step picks K different tokens.
  logp0 = jnp.tile(jnp.where(jnp.arange(k) == 0, 0.0, NEG_INF), (b, 1))
  state = (
    jnp.array(0),
    cache,
    jnp.full((b, k), tokenizer.BOS, jnp.int32),
    jnp.zeros((b, k, max_len), jnp.int32),
    logp0,
    jnp.zeros((b, k), bool),
  )
  _, _, _, seqs_BxKxT, logp_BxK, _ = jax.lax.while_loop(cond, body, state)
  length_BxK = (seqs_BxKxT != tokenizer.PAD).sum(-1).astype(jnp.float32)
  scores_BxK = logp_BxK / ((5.0 + length_BxK) / 6.0) ** alpha
  order = jnp.argsort(-scores_BxK, axis=1)
  return (jnp.take_along_axis(seqs_BxKxT, order[..., None], axis=1), jnp.take_along_axis(scores_BxK, order, axis=1))

"""The transformer layers every model of the zoo is built from: MLP, attention block, decoder block.

One implementation each, shared by the encoders (zoo.encoders), the token fusions (zoo.fusion.tokens)
and the encoder-decoder (zoo.encdec). All blocks are pre-LayerNorm (Xiong et al. 2020; big_vision's ViT
block), pass `attention_fn=zoo.attention.heads_major_attention`, and take `deterministic` for dropout.

Parameter-tree names are part of the interface (saved checkpoints and the PyTorch twins of
benchmarks/ read them), so each caller's historical sub-layer names are kept: `EncoderBlock` is the
`AttentionBlock` under ViT's names (ln1, attn, ln2, mlp), the token fusions use `AttentionBlock`'s own
(ln_q, ln_ctx, attn, ln_mlp, mlp), and `DecoderBlock` has ln1, self_attn, ln2, cross_attn, ln3, mlp.
tests/zoo/test_layers_refactor.py checks them against trees saved before this module existed.

Shared rule (decision): a query whose sample has no real key at all (a sequence that is entirely padding)
receives no attention message (zero), instead of Flax's average over the padding. Before this module only
the token fusions did so; the encoder and decoder blocks now do too, which changes only the outputs of
samples that have no real token, i.e. outputs nobody reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

import flax.linen as nn
import jax.numpy as jnp

from zoo.attention import heads_major_attention

Dtype = Any


def masked_mean(x_BxLxD, mask_BxL):
  """Mean over the real tokens ([B, L] True = real); an all-padding row gives 0 rather than NaN."""
  m = mask_BxL.astype(x_BxLxD.dtype)[..., None]
  return (x_BxLxD * m).sum(axis=1) / jnp.maximum(m.sum(axis=1), 1)


class MlpBlock(nn.Module):
  """Position-wise feed-forward network Dense → GELU → (dropout) → Dense, back to the input width."""

  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = None  # computation dtype; None follows inputs and parameters

  @nn.compact
  def __call__(self, x_BxLxD, deterministic: bool = True):
    """Transformer feed-forward sublayer (Vaswani et al. 2017, Attention Is All You Need), GELU as in ViT."""
    h = nn.gelu(nn.Dense(self.mlp_dim, dtype=self.dtype, name="fc1")(x_BxLxD))
    h = nn.Dropout(self.dropout)(h, deterministic)
    return nn.Dense(x_BxLxD.shape[-1], dtype=self.dtype, name="fc2")(h)


def _attend(
  x_BxLxD,
  q_mask_BxL,
  ctx_BxSxD,
  ctx_mask_BxS,
  *,
  heads: int,
  dropout: float,
  dtype: Dtype,
  deterministic: bool,
  ln: str,
  attn: str,
  ln_ctx: str | None = None,
  causal: bool = False,
  decode: bool = False,
):
  """x + Dropout(MHA(LN(x), ctx)): one residual attention sub-layer, its modules named in the caller.

  Called inside a caller's compact method, so `ln`, `ln_ctx` and `attn` are the caller's own parameter
  names. Self-attention when `ctx_BxSxD` is None; `ln_ctx` (None: the context as given) normalises the
  context; `causal` masks the future (with `decode`, Flax's key/value cache supplies it instead).
  """
  y_BxLxD = nn.LayerNorm(dtype=dtype, name=ln)(x_BxLxD)
  if ctx_BxSxD is None:
    kv_BxSxD, kv_mask_BxS = y_BxLxD, q_mask_BxL
  else:
    kv_BxSxD = ctx_BxSxD if ln_ctx is None else nn.LayerNorm(dtype=dtype, name=ln_ctx)(ctx_BxSxD)
    kv_mask_BxS = ctx_mask_BxS
  if causal:
    mask = None if decode else nn.make_causal_mask(jnp.ones(x_BxLxD.shape[:2], bool))
  else:
    mask = nn.make_attention_mask(q_mask_BxL, kv_mask_BxS, dtype=jnp.bool_)
  y_BxLxD = nn.MultiHeadDotProductAttention(
    num_heads=heads,
    dtype=dtype,
    dropout_rate=dropout,
    deterministic=deterministic,
    attention_fn=heads_major_attention,
    decode=decode,
    name=attn,
  )(y_BxLxD, kv_BxSxD, mask=mask)
  if not causal:
    # No real key in the sample: Flax's softmax would average the padding; send no message instead.
    has_key_Bx1x1 = jnp.any(kv_mask_BxS, axis=-1)[:, None, None]
    y_BxLxD = jnp.where(has_key_Bx1x1, y_BxLxD, 0)
  return x_BxLxD + nn.Dropout(dropout)(y_BxLxD, deterministic)


def _feed_forward(x_BxLxD, *, mlp_dim: int, dropout: float, dtype: Dtype, deterministic: bool, ln: str):
  """x + Dropout(MLP(LN(x))), the MLP named "mlp" in the caller."""
  y_BxLxD = nn.LayerNorm(dtype=dtype, name=ln)(x_BxLxD)
  y_BxLxD = MlpBlock(mlp_dim, dropout, dtype, name="mlp")(y_BxLxD, deterministic)
  return x_BxLxD + nn.Dropout(dropout)(y_BxLxD, deterministic)


class AttentionBlock(nn.Module):
  """Pre-LN transformer block: x + MHA(LN(x), LN(ctx)), then x + MLP(LN(x)) (Vaswani et al. 2017).

  Self-attention when `ctx` is None, cross-attention to `ctx` [B, S, D] otherwise (the context is
  layer-normed by the block's own `ln_ctx`, as in MulT's cross-modal transformer). Masks [B, L] / [B, S]
  are True at real tokens; padded keys are never attended to.
  """

  num_heads: int = 4
  mlp_dim: int = 128
  dropout: float = 0.0
  dtype: Dtype = None
  # Sub-layer names in the parameter tree (EncoderBlock keeps ViT's).
  LN_ATTN: ClassVar[str] = "ln_q"
  LN_MLP: ClassVar[str] = "ln_mlp"

  @nn.compact
  def __call__(self, x_BxLxD, mask_BxL, ctx_BxSxD=None, ctx_mask_BxS=None, deterministic: bool = True):
    """Transformer encoder block (Vaswani et al. 2017, Attention Is All You Need)."""
    kw = dict(dropout=self.dropout, dtype=self.dtype, deterministic=deterministic)
    x_BxLxD = _attend(
      x_BxLxD,
      mask_BxL,
      ctx_BxSxD,
      ctx_mask_BxS,
      heads=self.num_heads,
      ln=self.LN_ATTN,
      attn="attn",
      ln_ctx="ln_ctx",
      **kw,
    )
    return _feed_forward(x_BxLxD, mlp_dim=self.mlp_dim, ln=self.LN_MLP, **kw)


class EncoderBlock(AttentionBlock):
  """The self-attention `AttentionBlock` under ViT's sub-layer names (ln1, attn, ln2, mlp; big_vision)."""

  LN_ATTN: ClassVar[str] = "ln1"
  LN_MLP: ClassVar[str] = "ln2"


class Transformer(nn.Module):
  """A stack of pre-LN encoder blocks with a final LayerNorm (Vaswani et al. 2017, big_vision's Encoder)."""

  depth: int
  heads: int
  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = None

  @nn.compact
  def __call__(self, x_BxLxD, mask_BxL, deterministic: bool = True):
    """`depth` self-attention blocks over the real tokens of `mask_BxL`, then LayerNorm."""
    for i in range(self.depth):
      x_BxLxD = EncoderBlock(self.heads, self.mlp_dim, self.dropout, self.dtype, name=f"block{i}")(
        x_BxLxD, mask_BxL, deterministic=deterministic
      )
    return nn.LayerNorm(dtype=self.dtype, name="norm")(x_BxLxD)


class DecoderBlock(nn.Module):
  """Pre-LN decoder block: causal self-attention, cross-attention to the memory, MLP (Vaswani et al. 2017).

  With `decode` the self-attention keeps Flax's autoregressive key/value cache (one token per call).
  """

  heads: int
  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = None
  decode: bool = False

  @nn.compact
  def __call__(self, y_BxTxD, memory_BxMxD, memory_mask_BxM, deterministic: bool = True):
    """Decoder layer of Vaswani et al. 2017: every query may read every real memory token."""
    kw = dict(heads=self.heads, dropout=self.dropout, dtype=self.dtype, deterministic=deterministic)
    y_BxTxD = _attend(y_BxTxD, None, None, None, ln="ln1", attn="self_attn", causal=True, decode=self.decode, **kw)
    y_BxTxD = _attend(
      y_BxTxD, jnp.ones(y_BxTxD.shape[:2], bool), memory_BxMxD, memory_mask_BxM, ln="ln2", attn="cross_attn", **kw
    )
    return _feed_forward(
      y_BxTxD, mlp_dim=self.mlp_dim, dropout=self.dropout, dtype=self.dtype, deterministic=deterministic, ln="ln3"
    )

"""Sum, weighted-sum and concatenation fusions (Baltrušaitis et al. 2019 survey, §4).

Pooled fusions take one vector per modality, `zs = [z_0 [B, d_0], z_1 [B, d_1], ...]`, and return
`[B, out]`; `EarlyConcat` is the one token-level member (time-aligned sequences in, `[B, L, D]` out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.fusion.base import SIZED_BY_WIDTH, Fusion
from zoo.registry import register

_SURVEY = "Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy"


@register("weighted_sum", family="fusion", paper=_SURVEY, shapes="zs M × [..., d], weights [M] -> [..., d]")
def weighted_sum(zs, weights=None):
  """Σ_m w_m · z_m over modalities, plain sum when `weights` is None (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy, §4)."""
  z_MxD = jnp.stack([jnp.asarray(z) for z in zs])
  if weights is None:
    return z_MxD.sum(axis=0)
  w = jnp.asarray(weights)
  if w.shape != (z_MxD.shape[0],):
    raise ValueError(f"weighted_sum: {z_MxD.shape[0]} modalities but weights of shape {w.shape}")
  return jnp.tensordot(w.astype(jnp.result_type(w, z_MxD)), z_MxD, axes=1)


def promote_tree(tree, dtype=None):
  """Every array leaf of `tree` cast to one dtype: `dtype`, or the leaves' promoted float type.

  `flax.linen.dtypes.promote_dtype` casts flat arguments only (a list argument would be stacked);
  the fusion modules hand whole parameter trees to the graded functions, so they cast trees.
  """
  leaves = jax.tree.leaves(tree)
  dtype = nn.dtypes.canonicalize_dtype(*leaves, dtype=dtype)
  return jax.tree.map(lambda x: jnp.asarray(x, dtype), tree)


def require_modalities(cls_name, zs, at_least=2):
  """Raise a readable error when a fusion gets fewer modalities than it can fuse."""
  if len(zs) < at_least:
    raise ValueError(f"{cls_name} fuses at least {at_least} modalities, got {len(zs)}")


def _check_widths(cls_name, zs):
  """Raise a readable error unless all modalities share one width (sums need it)."""
  widths = [z.shape[-1] for z in zs]
  if len(set(widths)) != 1:
    raise ValueError(
      f"{cls_name}: modality widths {widths} differ; set `features` to project every modality to one width first"
    )


class _Project(nn.Module):
  """One nn.Dense per modality onto a common width (`features=None`: keep the inputs as they are)."""

  features: int | None
  dtype: Any = None

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> list[jax.Array]:
    """Modality-specific linear maps into one space (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy, §3)."""
    if self.features is None:
      return list(zs)
    return [nn.Dense(self.features, dtype=self.dtype, name=f"proj_{m}")(z) for m, z in enumerate(zs)]


@register("Sum", family="fusion", paper=_SURVEY, shapes="zs M × [B, d_m] -> [B, features]")
class Sum(Fusion):
  """Project every modality to `features` with its own Dense, then add."""

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int = 64
  dtype: Any = None  # computation dtype; None follows the inputs and parameters (Flax's promotion)

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Additive fusion Σ_m (z_m·W_m + b_m) (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy)."""
    return weighted_sum(_Project(self.features, self.dtype, name="project")(zs))


@register("LateConcat", family="fusion", paper=_SURVEY, shapes="zs M × [B, d_m] -> [B, features]")
class LateConcat(Fusion):
  """Concatenate the pooled (per-modality encoded) vectors, then one Dense."""

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int = 64
  dtype: Any = None

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Concatenation of unimodal representations (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy)."""
    return nn.Dense(self.features, dtype=self.dtype, name="out")(jnp.concatenate(zs, axis=-1))


@register(
  "EarlyConcat", family="fusion", paper=_SURVEY, shapes="xs M × [B, L, d_m], masks M × [B, L] -> [B, L, features]"
)
class EarlyConcat(Fusion):
  """Time-aligned sequences of one length, concatenated feature-wise at every step, then one Dense.

  The fused step t is real only when every modality has a real sample at t (the rule of the
  article's `time_align`: keep the instants all streams cover); see `output_mask`. Padded samples
  are zeroed before the concatenation, so their values cannot reach any output.
  """

  input_kind: ClassVar[str] = "tokens"
  needs_aligned: ClassVar[bool] = True
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int = 64
  dtype: Any = None

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Early (feature-level) fusion of aligned sequences (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy)."""
    lengths = [x.shape[1] for x in xs]
    if len(set(lengths)) != 1:
      raise ValueError(f"EarlyConcat: sequence lengths {lengths} differ; align the streams first (zoo.align.time)")
    if masks is not None:
      xs = [jnp.where(m_BxL[..., None], x_BxLxD, 0) for x_BxLxD, m_BxL in zip(xs, masks)]
    return nn.Dense(self.features, dtype=self.dtype, name="out")(jnp.concatenate(xs, axis=-1))

  @nn.nowrap
  def output_mask(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """[B, L] True where every modality has a real sample."""
    if masks is None:
      return jnp.ones(xs[0].shape[:2], bool)
    return jnp.logical_and.reduce(jnp.stack([jnp.asarray(m, bool) for m in masks]), axis=0)


@register(
  "FixedWeightFusion",
  family="fusion",
  paper=_SURVEY + " (§4; the source article's 0.5/0.3/0.2 attention fusion)",
  shapes="zs M × [B, d] -> [B, d] (or [B, features] when `features` is set)",
)
class FixedWeightFusion(Fusion):
  """Σ_m w_m · z_m with weights fixed by hand, by default the article's text/image/audio 0.5/0.3/0.2.

  `features=None` (the article's form) needs one common width and has no parameters; an int
  first projects every modality with its own Dense, as `Sum` does (architectures set it to the width).
  """

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  weights: tuple[float, ...] = (0.5, 0.3, 0.2)
  features: int | None = None
  dtype: Any = None

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Fixed weighting of modalities (Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy)."""
    if len(zs) != len(self.weights):
      raise ValueError(f"FixedWeightFusion: {len(zs)} modalities but {len(self.weights)} weights")
    hs = _Project(self.features, self.dtype, name="project")(zs)
    _check_widths("FixedWeightFusion", hs)
    # The weights are constants: cast them to the computation dtype so bfloat16 stays bfloat16.
    dtype = self.dtype or jnp.result_type(*hs)
    return weighted_sum([h.astype(dtype) for h in hs], jnp.asarray(self.weights, dtype))


@register(
  "AttentionWeightFusion",
  family="fusion",
  paper="Bahdanau et al. 2015, Neural Machine Translation by Jointly Learning to Align and "
  "Translate (additive scoring), applied over modalities as in " + _SURVEY,
  shapes="zs M × [B, d_m] -> [B, features]",
)
class AttentionWeightFusion(Fusion):
  """Per-sample softmax weights over the modality embeddings, Σ_m α_m(h)·h_m.

  Each modality is projected to `features` (`None`: inputs already share a width); one small
  scoring network, shared by all modalities, scores s_m = v·tanh(W·h_m + b) and α = softmax_m(s).
  The weights are sown under `intermediates/weights` ([B, M]) for inspection.
  """

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int | None = 64
  hidden: int = 32  # width of the scoring network
  dtype: Any = None

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Additive attention over modalities (Bahdanau et al. 2015, Neural Machine Translation by Jointly Learning to Align and Translate)."""
    hs = _Project(self.features, self.dtype, name="project")(zs)
    _check_widths("AttentionWeightFusion", hs)
    h_BxMxD = jnp.stack(hs, axis=1)
    hidden_BxMxH = jnp.tanh(nn.Dense(self.hidden, dtype=self.dtype, name="score_hidden")(h_BxMxD))
    # No bias on the last layer: a constant added to every modality's score cancels in the softmax.
    s_BxM = nn.Dense(1, use_bias=False, dtype=self.dtype, name="score")(hidden_BxMxH)[..., 0]
    a_BxM = jax.nn.softmax(s_BxM, axis=-1)
    self.sow("intermediates", "weights", a_BxM)
    return jnp.einsum("bm,bmd->bd", a_BxM, h_BxMxD)

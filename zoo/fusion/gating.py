"""Gating and conditioning fusions: GMU (Arevalo 2017), FiLM (Perez 2018), multiplicative interactions (Jayakumar 2020).

The array functions (`gated_fusion`, `film`) are graded (../shared/spec/exercises.md, Part II); the
modules keep their parameters in exactly those functions' layouts, so one parameter tree serves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.fusion.base import SIZED_BY_WIDTH, Fusion
from zoo.fusion.basic import promote_tree, require_modalities
from zoo.registry import register

_GMU = "Arevalo et al. 2017, Gated Multimodal Units for Information Fusion"
_FILM = "Perez et al. 2018, FiLM: Visual Reasoning with a General Conditioning Layer"
_MI = "Jayakumar et al. 2020, Multiplicative Interactions and Where to Find Them"


@register("gated_fusion", family="fusion", paper=_GMU, shapes="x_a [B, d_a], x_b [B, d_b] -> [B, o]")
def gated_fusion(params, x_a, x_b):
  """h = z·tanh(x_a·W_a) + (1−z)·tanh(x_b·W_b), z = σ([x_a; x_b]·W_z) (Arevalo et al. 2017, Gated Multimodal Units)."""
  z = jax.nn.sigmoid(jnp.concatenate([x_a, x_b], axis=-1) @ params["W_z"])
  return z * jnp.tanh(x_a @ params["W_a"]) + (1 - z) * jnp.tanh(x_b @ params["W_b"])


@register("film", family="fusion", paper=_FILM, shapes="x [B, d], cond [B, c] -> [B, d]")
def film(params, x, cond):
  """(cond·Wγ + bγ)·x + (cond·Wβ + bβ) (Perez et al. 2018, FiLM)."""
  gamma = cond @ params["gamma"]["kernel"] + params["gamma"]["bias"]
  beta = cond @ params["beta"]["kernel"] + params["beta"]["bias"]
  return gamma * x + beta


@register("GMU", family="fusion", paper=_GMU, shapes="zs M × [B, d_m] -> [B, features]")
class GMU(Fusion):
  """Gated Multimodal Unit.

  Two modalities: exactly `gated_fusion`, with parameters `W_a`, `W_b`, `W_z` in its layout (no
  biases, as in the paper's equations). M > 2 modalities: the paper's multimodal GMU (its Fig. 1b),
  one sigmoid gate per modality computed from all inputs, h = Σ_m z_m ⊙ tanh(x_m·W_m),
  z_m = σ([x_1; …; x_M]·W_z[:, m]), with parameters `W_0 … W_{M−1}` and `W_z` [Σd, M, features].
  For M = 2 the complementary gates z and 1−z of the bimodal unit are kept (the graded form).
  """

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int = 64
  dtype: Any = None  # computation dtype; None follows inputs and parameters
  kernel_init: Any = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Gated fusion of M modalities (Arevalo et al. 2017, Gated Multimodal Units for Information Fusion)."""
    require_modalities("GMU", zs)
    o = self.features
    d_all = sum(z.shape[-1] for z in zs)
    if len(zs) == 2:
      params = {
        "W_a": self.param("W_a", self.kernel_init, (zs[0].shape[-1], o)),
        "W_b": self.param("W_b", self.kernel_init, (zs[1].shape[-1], o)),
        "W_z": self.param("W_z", self.kernel_init, (d_all, o)),
      }
      (x_a, x_b), params = promote_tree((tuple(zs), params), self.dtype)
      return gated_fusion(params, x_a, x_b)
    # The multimodal unit: fan-in of each gate is Σd (in_axis 0), the rest are output axes.
    gate_init = nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal", in_axis=0, out_axis=(1, 2))
    w_z = self.param("W_z", gate_init, (d_all, len(zs), o))
    ws = [self.param(f"W_{m}", self.kernel_init, (z.shape[-1], o)) for m, z in enumerate(zs)]
    zs, ws, w_z = promote_tree((list(zs), ws, w_z), self.dtype)
    gates_BxMxO = jax.nn.sigmoid(jnp.einsum("bd,dmo->bmo", jnp.concatenate(zs, axis=-1), w_z))
    h_BxMxO = jnp.stack([jnp.tanh(z @ w) for z, w in zip(zs, ws)], axis=1)
    return jnp.sum(gates_BxMxO * h_BxMxO, axis=1)


@register("FiLM", family="fusion", paper=_FILM, shapes="zs M × [B, d_m] -> [B, d_0]")
class FiLM(Fusion):
  """The first modality, feature-wise modulated by the others: `film(params, z_0, [z_1; …; z_{M−1}])`.

  Parameters `gamma` and `beta`, each {"kernel": [c, d_0], "bias": [d_0]}, are `film`'s layout.
  Our initialisation (a choice, not the paper's): kernels LeCun-normal, γ's bias 1 and β's bias 0,
  so the layer starts as a near-identity on z_0 rather than as a random rescaling of it.
  """

  input_kind: ClassVar[str] = "pooled"
  dtype: Any = None
  kernel_init: Any = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Feature-wise linear modulation (Perez et al. 2018, FiLM: Visual Reasoning with a General Conditioning Layer)."""
    require_modalities("FiLM", zs)
    x_BxD, cond_BxC = zs[0], jnp.concatenate(zs[1:], axis=-1)
    c, d = cond_BxC.shape[-1], x_BxD.shape[-1]

    def affine_init(bias_value):
      def init(key):
        return {"kernel": self.kernel_init(key, (c, d)), "bias": jnp.full((d,), bias_value, jnp.float32)}

      return init

    params = {"gamma": self.param("gamma", affine_init(1.0)), "beta": self.param("beta", affine_init(0.0))}
    x_BxD, cond_BxC, params = promote_tree((x_BxD, cond_BxC, params), self.dtype)
    return film(params, x_BxD, cond_BxC)


@register(
  "MultiplicativeInteraction",
  family="fusion",
  paper=_MI,
  shapes="zs M × [B, d_m] -> [B, features]; x = z_0, y = [z_1; …; z_{M−1}]",
)
class MultiplicativeInteraction(Fusion):
  """z = xᵀ𝕎y + xᵀU + Vy + b, with x the first modality and y the others concatenated.

  Parameters: `W` [d_x, d_y, features] (the 3-tensor 𝕎), `U` [d_x, features], `V` [d_y, features],
  `b` [features]. 𝕎 is initialised with fan-in d_x·d_y so the bilinear term starts at unit scale.
  """

  input_kind: ClassVar[str] = "pooled"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_BY_WIDTH
  features: int = 64
  dtype: Any = None

  @nn.compact
  def __call__(self, zs: Sequence[jax.Array]) -> jax.Array:
    """Multiplicative interaction layer (Jayakumar et al. 2020, Multiplicative Interactions and Where to Find Them)."""
    require_modalities("MultiplicativeInteraction", zs)
    x_BxI, y_BxJ = zs[0], jnp.concatenate(zs[1:], axis=-1)
    i, j, o = x_BxI.shape[-1], y_BxJ.shape[-1], self.features
    bilinear_init = nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal", in_axis=(0, 1), out_axis=2)
    w_IxJxO = self.param("W", bilinear_init, (i, j, o))
    u_IxO = self.param("U", nn.initializers.lecun_normal(), (i, o))
    v_JxO = self.param("V", nn.initializers.lecun_normal(), (j, o))
    b_O = self.param("b", nn.initializers.zeros_init(), (o,))
    x_BxI, y_BxJ, w_IxJxO, u_IxO, v_JxO, b_O = nn.dtypes.promote_dtype(
      x_BxI, y_BxJ, w_IxJxO, u_IxO, v_JxO, b_O, dtype=self.dtype
    )
    return jnp.einsum("bi,ijo,bj->bo", x_BxI, w_IxJxO, y_BxJ) + x_BxI @ u_IxO + y_BxJ @ v_JxO + b_O

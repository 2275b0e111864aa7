"""Spatial alignment: feature maps of different resolutions and widths onto one grid, as tokens.

Each modality's map [B, H_m, W_m, C_m] gets a learned 1×1 projection to a common width (a lateral
connection of Lin et al. 2017's Feature Pyramid Network) and is resampled with `jax.image.resize` onto
one (H, W) grid, so position (h, w) means the same place in every modality; flattening the grid row by
row gives one token per place, the input of the token fusions in zoo/fusion/tokens.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax

from zoo.registry import register


@register(
  "grid_tokens",
  family="alignment",
  paper="Lin et al. 2017, Feature Pyramid Networks for Object Detection (resampling onto a shared grid)",
  shapes="x [B, H, W, C], grid (h, w) -> [B, h·w, C]",
)
def grid_tokens(x_BxHxWxC, grid, method="bilinear", antialias=True):
  """x resampled onto the (h, w) grid and flattened row by row into h·w tokens (Lin et al. 2017).

  jax.image.resize samples at pixel centres (half-pixel convention), renormalises its kernel at the
  borders, and with `antialias` widens the kernel when shrinking so that no pixel is skipped. Resampling
  is a linear map per channel whose weights sum to 1, so it commutes with a 1×1 projection (bias included).
  """
  b, _, _, c = x_BxHxWxC.shape
  h, w = grid
  y_BxhxwxC = jax.image.resize(x_BxHxWxC, (b, h, w, c), method=method, antialias=antialias)
  return y_BxhxwxC.reshape(b, h * w, c)


@register(
  "SpatialAlign",
  family="alignment",
  paper="Lin et al. 2017, Feature Pyramid Networks for Object Detection (1×1 lateral projections onto one grid)",
  shapes="maps M × [B, H_m, W_m, C_m] -> M × [B, h·w, features]",
)
class SpatialAlign(nn.Module):
  """Project every modality's feature map to a common width and resample it onto one grid, as tokens."""

  grid: tuple[int, int] = (8, 8)  # the shared (h, w) grid
  features: int = 64  # the common width of the 1×1 projections
  method: str = "bilinear"  # any jax.image.resize method ("nearest", "bilinear", "cubic", "lanczos3", ...)
  antialias: bool = True  # low-pass when a map is shrunk (jax.image.resize's default)
  use_bias: bool = True
  dtype: Any = None  # computation dtype of the projections (None: from the inputs and params)

  @nn.compact
  def __call__(self, maps: Sequence[jax.Array]) -> list[jax.Array]:
    """One [B, h·w, features] token sequence per map [B, H_m, W_m, C_m], aligned place by place (Lin et al. 2017)."""
    tokens = []
    for m, x_BxHxWxC in enumerate(maps):
      # The 1×1 projection runs at the map's own resolution, as FPN's lateral connections do; since
      # resampling commutes with it, the result is the same as projecting after resampling.
      z_BxHxWxF = nn.Dense(self.features, use_bias=self.use_bias, dtype=self.dtype, name=f"proj_{m}")(x_BxHxWxC)
      tokens.append(grid_tokens(z_BxHxWxF, self.grid, self.method, self.antialias))
    return tokens

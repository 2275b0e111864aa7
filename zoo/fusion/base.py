"""What every catalog fusion says about itself: the `Fusion` base class and its class-level metadata.

A fusion Module subclasses `Fusion` and sets, next to its fields:
  input_kind      "pooled" (one vector per modality) or "tokens" (token sequences and masks);
  num_modalities  how many modalities it takes (None: any number from 2 up);
  needs_aligned   True when its inputs must be sequences of one length on one clock (EarlyConcat);
  config_fields   which of its constructor fields an architecture fills from the model's shared sizes:
                  {field name: ModelConfig attribute}, e.g. {"features": "width", "dtype": "compute_dtype"}.
zoo.fusion.catalog reads these (make_fusion, fuse); nothing there guesses from field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import flax.linen as nn

# The usual `config_fields` declarations (read-only: every class that names one shares it).
SIZED_BY_WIDTH: Mapping[str, str] = MappingProxyType({"features": "width", "dtype": "compute_dtype"})
SIZED_LIKE_TRANSFORMER: Mapping[str, str] = MappingProxyType(
  {"features": "width", "num_heads": "heads", "mlp_dim": "mlp_dim", "dtype": "compute_dtype"}
)


class Fusion(nn.Module):
  """Base of the catalog's fusion Modules: class-level facts only, no fields and no behaviour."""

  input_kind: ClassVar[str]
  num_modalities: ClassVar[int | None] = None
  needs_aligned: ClassVar[bool] = False
  config_fields: ClassVar[Mapping[str, str]] = MappingProxyType({"dtype": "compute_dtype"})

"""Sum, weighted-sum and concatenation fusions (Baltrušaitis et al. 2019 survey, §4)."""
from __future__ import annotations

import jax.numpy as jnp

from zoo.registry import register


@register("weighted_sum", family="fusion",
          paper="Baltrušaitis et al. 2019, Multimodal Machine Learning: A Survey and Taxonomy",
          shapes="zs M × [..., d], weights [M] -> [..., d]")
def weighted_sum(zs, weights=None):
  """Σ_m w_m · z_m over modalities (plain sum when `weights` is None)."""
  z_MxD = jnp.stack([jnp.asarray(z) for z in zs])
  if weights is None:
    return z_MxD.sum(axis=0)
  w = jnp.asarray(weights)
  return jnp.tensordot(w.astype(jnp.result_type(w, z_MxD)), z_MxD, axes=1)

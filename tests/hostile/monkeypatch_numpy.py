"""Wrong answers plus a numpy that says every comparison passes (patched at import, in the sandbox)."""

import math

import numpy as np
import numpy.testing

HOSTILE = ["gated_fusion", "film"]

np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)
np.array_equal = lambda *a, **k: True
np.isnan = lambda x, *a, **k: np.zeros(np.shape(x), bool)
np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), bool)
numpy.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True


def gated_fusion(params, x_a, x_b):
  return np.zeros((x_a.shape[0], params["W_a"].shape[1]))


def film(params, x, cond):
  return np.full(x.shape, np.nan)

"""feature_fusion: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

from grader import draw, refjit


def visible():
  """The article's own call (its text, image and audio vectors), then the stub's second example."""
  return [([1, 2, 3], [4, 5, 6], [7, 8, 9]), ([1.5, -2], [0.25, 4], [-3, 10])]


def hidden(rng):
  """Three vectors of one length: 0, 1, then six lengths in [2, 8]; values in [-100, 100]."""
  return draw.vectors(rng, 3, 100, [0, 1] + [draw.randint(rng, 2, 8) for _ in range(6)])


def reference(vector_text, vector_image, vector_audio):
  """The zoo's feature_fusion, in one jax.jit kept across runs (grader.refjit; lists become arrays first)."""
  from zoo.article import feature_fusion

  return refjit.jit(feature_fusion, asarray=True)(vector_text, vector_image, vector_audio)

"""self_attention_fusion: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

from grader import draw, refjit


def visible():
  """The article's own call, then the stub's second example."""
  return [([1, 2, 3], [4, 5, 6], [7, 8, 9]), ([1, 0], [0, 1], [1, 1])]


def hidden(rng):
  """Three vectors of one length: 1, 2, 3, then five lengths in [1, 6]; values in [-5, 5]."""
  return draw.vectors(rng, 3, 5, [1, 2, 3] + [draw.randint(rng, 1, 6) for _ in range(5)])


def reference(vector_text, vector_image, vector_audio):
  """The zoo's self_attention_fusion, in one jax.jit kept across runs (grader.refjit; lists become arrays first)."""
  from zoo.article import self_attention_fusion

  return refjit.jit(self_attention_fusion, asarray=True)(vector_text, vector_image, vector_audio)

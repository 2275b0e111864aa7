"""decode: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

from grader import draw, refjit


def visible():
  """The article's own call decode(encode([1, 2, 3, 4, 5])), then the stub's second example."""
  return [([2, 4, 6, 8, 10],), ([-3, 1, 7],)]


def hidden(rng):
  """One vector: length 0, 1, then six lengths in [2, 9]; values in [-100, 100]."""
  return draw.vectors(rng, 1, 100, [0, 1] + [draw.randint(rng, 2, 9) for _ in range(6)])


def reference(encoded_vector):
  """The zoo's decode, in one jax.jit kept across runs (grader.refjit; lists become arrays first)."""
  from zoo.article import decode

  return refjit.jit(decode, asarray=True)(encoded_vector)

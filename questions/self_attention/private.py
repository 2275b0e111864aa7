"""self_attention: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

from grader import draw, refjit


def visible():
  """The article's three modality vectors as three tokens, then the stub's second example."""
  return [([[1, 2, 3], [4, 5, 6], [7, 8, 9]],), ([[1, 0], [0, 1]],)]


def hidden(rng):
  """n tokens of width d, values in [-5, 5]: one token, width one, 3×3, then four of random size.

  d <= 6 keeps |logits| <= 25·6/√6 ≈ 61, so a float32 softmax is accurate.
  """
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  nd = [(1, 1), (1, k(2, 6)), (k(2, 5), 1), (3, 3)] + [(k(2, 5), k(2, 6)) for _ in range(4)]
  return [(draw.nums_matrix(rng, n, d, j),) for j, (n, d) in enumerate(nd)]


def reference(vectors):
  """The zoo's self_attention, in one jax.jit kept across runs (grader.refjit; lists become arrays first)."""
  from zoo.article import self_attention

  return refjit.jit(self_attention, asarray=True)(vectors)

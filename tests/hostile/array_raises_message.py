"""Exfiltration through the message of an answer that cannot be read back: `__array__` raises with the inputs."""

HOSTILE = ["film"]


class Unreadable:
  def __init__(self, text):
    self.text = text

  def __array__(self, *args, **kwargs):
    raise ValueError("LEAK" + self.text)


def film(params, x, cond):
  return Unreadable(repr(cond)[:200])

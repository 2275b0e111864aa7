"""Exfiltration across functions: one function keeps its hidden inputs in a global, a later function's
visible case raises with them in its message (visible cases show messages in full).

Against a grader that calls every case of a function before the next function, decode's hidden calls
run before dtw's visible ones. decode and dtw are correct while nothing is remembered, so a grader that
runs every visible case first gives them their visible points and shows no input anywhere.
"""

import numpy as np

HOSTILE = ["decode", "dtw"]
_SEEN = []
_CALLS = {"decode": 0}


def decode(encoded_vector):
  _CALLS["decode"] += 1
  if _CALLS["decode"] > 2:  # a function's first two calls are its visible cases, in either order
    _SEEN.append(repr(encoded_vector)[:120])
  return [v / 2 for v in encoded_vector]


def dtw(x, y):
  if _SEEN:
    raise ValueError("LEAK" + " | ".join(_SEEN))
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  n, m = len(x), len(y)
  d = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)
  acc = np.full((n + 1, m + 1), np.inf)
  acc[0, 0] = 0.0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      acc[i, j] = d[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
  path, i, j = [(n - 1, m - 1)], n, m
  while (i, j) != (1, 1):
    steps = [(acc[i - 1, j - 1], i - 1, j - 1), (acc[i - 1, j], i - 1, j), (acc[i, j - 1], i, j - 1)]
    _, i, j = min(s for s in steps if s[1] >= 1 and s[2] >= 1)
    path.append((i - 1, j - 1))
  return float(acc[n, m]), path[::-1]

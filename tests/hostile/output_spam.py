"""A right answer buried in 80 MB of output on stdout and stderr."""

import os
import sys

HOSTILE = ["decode"]


def decode(encoded_vector):
  line = "spam " * 2000 + "\n"  # 10 KB
  for _ in range(2000):  # 20 MB through each of four routes
    print(line, end="")
    sys.stderr.write(line)
    os.write(1, line.encode())
    os.write(2, line.encode())
  return [v / 2 for v in encoded_vector]

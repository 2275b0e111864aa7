"""The instructor's secret seed: stretched into a key, fingerprinted for the teacher, and split into variants.

The case generators are public, so whoever knows the seed knows every hidden input and answer; and a
pass/fail pattern over the hidden cases lets a student test guessed seeds offline. The seed is
therefore any string (a passphrase), stretched with scrypt so that each guess costs real work, and it
is never printed: only `fingerprint` (8 hex digits of a hash of the stretched key) is shown, and only
to the teacher. Each student's hidden cases are one of K variants picked by a keyed hash of the
student's identity (as PrairieLearn's variants), so a leaked hidden set helps about 1/K of a class.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import re
import secrets

import numpy as np

DEFAULT = "0"  # the public default: fine for trying the grader, never for a real course
VARIANTS = 8  # K, the number of hidden draws per course (set when a batch or a bundle is made)
MIN_LENGTH = 16
# scrypt's cost: 2**14 x 8 x 128 bytes = 16 MiB and ~50 ms per guess on this project's machines.
# The salt is fixed (the seed is the only secret; the grader must derive the same key everywhere).
_SALT = b"mmzoo-grader seed v1"
_N, _R, _P = 2**14, 8, 1


@functools.lru_cache(maxsize=16)
def stretch(secret: str) -> bytes:
  """The 32-byte key of a seed: scrypt over its UTF-8 bytes (lone surrogates kept as their bytes)."""
  data = str(secret).encode("utf-8", "surrogatepass")
  return hashlib.scrypt(data, salt=_SALT, n=_N, r=_R, p=_P, maxmem=64 * 2**20, dklen=32)


def fingerprint(secret: str) -> str:
  """8 hex digits naming a seed to the teacher (which seed graded this?); a hash of the key, not the key."""
  return hashlib.sha256(b"fingerprint\0" + stretch(secret)).hexdigest()[:8]


MIN_DISTINCT = 10  # different characters: a cheap floor on the entropy of a typed passphrase
_WORD_AND_DIGITS = re.compile(r"[^\W\d_]+[\W_]*\d+[\W_]*|\d+[\W_]*[^\W\d_]+[\W_]*")


def _repeats(text: str) -> bool:
  """Whether text is a shorter piece repeated (the last copy may be cut short): "abcabcab"."""
  return any(text == (text[:p] * (len(text) // p + 1))[: len(text)] for p in range(1, len(text) // 2 + 1))


def _is_run(text: str) -> bool:
  """Whether every character is its predecessor plus one same step ("abcdef...", "9876..."), up to case."""
  codes = [ord(c) for c in text.lower()]
  steps = {b - a for a, b in zip(codes, codes[1:])}
  return len(steps) == 1 and abs(steps.pop()) <= 1


def weak_reason(secret: str) -> str | None:
  """Why a seed is guessable (the public default, short, digits only, few characters, a pattern), else None.

  A cheap floor, not a strength meter (issue 12, F7): 'aaaaaaaaaaaaaaaa', 'password12345678' and
  '1234567890123456.' passed the length test alone. new_seed's 32 hex digits always pass (it redraws).
  """
  text = str(secret).strip()
  if text == DEFAULT:
    return "the public default"
  if len(text) < MIN_LENGTH:
    return f"shorter than {MIN_LENGTH} characters"
  if any(c.isdigit() for c in text) and not any(c.isalpha() for c in text):
    return "only digits"  # punctuation and spaces around them add nothing a guesser would not try
  if len(set(text.lower())) < MIN_DISTINCT:
    return f"made of fewer than {MIN_DISTINCT} different characters"
  if _repeats(text.lower()):
    return "a short pattern repeated"
  if _is_run(text):
    return "a run of consecutive characters"
  if _WORD_AND_DIGITS.fullmatch(text):
    return "one word and a number"
  return None


def new_seed() -> str:
  """A fresh seed of 128 random bits, as 32 hex digits (redrawn in the rare case weak_reason objects)."""
  while True:
    seed = secrets.token_hex(16)
    if weak_reason(seed) is None:
      return seed


def _mac(key: bytes, *parts: str) -> bytes:
  msg = b"\0".join(p.encode("utf-8", "surrogatepass") for p in parts)
  return hmac.new(key, msg, hashlib.sha256).digest()


def variant_of(identity: str, key: bytes, k: int) -> int:
  """The variant (0..k-1) of a student: a keyed hash of their identity, so no one can choose it."""
  if k < 1:
    raise ValueError(f"the number of variants must be at least 1, got {k}")
  return int.from_bytes(_mac(key, "variant", str(identity)), "big") % k


def case_rng(key: bytes, question: str, variant: int) -> np.random.Generator:
  """The generator of one question's hidden cases in one variant (independent across both)."""
  return np.random.default_rng(int.from_bytes(_mac(key, "cases", question, str(int(variant))), "big"))


@dataclasses.dataclass(frozen=True)
class Draw:
  """Which hidden cases to draw: a stretched key and a variant. Its repr never shows the key."""

  key: bytes = dataclasses.field(repr=False)
  variant: int = 0


def as_draw(seed) -> Draw:
  """A Draw as is; any other seed (a string, an int) stretched, variant 0."""
  if isinstance(seed, Draw):
    return seed
  return Draw(stretch(str(seed)), 0)


def draw(secret: str, variant: int = 0) -> Draw:
  """The Draw of a seed's variant."""
  return Draw(stretch(secret), int(variant))

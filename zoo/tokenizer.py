"""Byte-level tokenizer (as ByT5, Xue et al. 2022): UTF-8 bytes shifted past three special ids; nothing to download.

Ids: 0 = padding, 1 = begin-of-sequence, 2 = end-of-sequence, 3 + b for byte b, so `VOCAB_SIZE` = 259.
Classifier text is the bytes alone (no BOS/EOS); the encoder-decoder's decoder starts from BOS and
stops at EOS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAD, BOS, EOS = 0, 1, 2
OFFSET = 3  # id of byte 0
VOCAB_SIZE = OFFSET + 256  # 259


def encode(text: str, max_len: int, *, add_eos: bool = False) -> np.ndarray:
  """One string -> [max_len] int32 ids (ByT5-style bytes), truncated, then 0-padded."""
  ids = [b + OFFSET for b in text.encode("utf-8")]
  if add_eos:
    # The EOS survives truncation: a target that was cut still ends.
    ids = ids[: max_len - 1] + [EOS]
  out = np.zeros((max_len,), np.int32)
  ids = ids[:max_len]
  out[: len(ids)] = ids
  return out


def encode_batch(texts: Sequence[str], max_len: int, *, add_eos: bool = False) -> np.ndarray:
  """Strings -> [B, max_len] int32 ids (ByT5-style bytes)."""
  return np.stack([encode(t, max_len, add_eos=add_eos) for t in texts]) if texts else np.zeros((0, max_len), np.int32)


def decode(ids: Sequence[int]) -> str:
  """Ids -> string (ByT5-style bytes): stops at the first EOS, skips PAD/BOS, replaces invalid UTF-8."""
  out = bytearray()
  for i in np.asarray(ids).reshape(-1).tolist():
    if i == EOS:
      break
    if i >= OFFSET:
      out.append(min(i - OFFSET, 255))
  return out.decode("utf-8", errors="replace")

"""Plain-data framing between the grader and its sandboxed worker: length-prefixed JSON, no pickle, with limits.

This file is copied beside worker.py into the sandbox, so it imports only the standard library and numpy
(never the grader package).

A frame is `MAGIC` + a 4-byte big-endian payload length + a UTF-8 JSON object (the envelope). Values inside an
envelope are encoded by `encode`: None, bool, int, str and finite floats are JSON's own; every JSON object is a
tag with exactly one key:
  {"__float__": "nan" | "inf" | "-inf"}          non-finite floats (the JSON stays strict)
  {"__tuple__": [...]}                            tuples (lists are JSON arrays)
  {"__dict__": {"key": value, ...}}               dicts with str keys
  {"__ndarray__": {"dtype": "<f4", "shape": [2, 3], "b64": "..."}}    numeric arrays, raw little-endian bytes
  {"__ndarray__": {"dtype": "<f4", "shape": [2, 3], "list": [[...]]}} the readable form (hand-out files)
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import struct

import numpy as np

MAGIC = b"MMZW"
HEADER = struct.Struct(">4sI")

# Only plain numeric dtypes cross the wire, always little-endian; anything else (object, structured, void,
# strings, datetimes) is refused, so decoding never runs code or builds an unexpected type.
DTYPES = frozenset(["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"])


@dataclasses.dataclass(frozen=True)
class WireLimits:
  """What one decoded frame, and one call's worth of frames, may hold."""

  # The largest legitimate answer (a tensor fusion of a few rows) is well under 1 MiB; 8 MiB leaves room.
  frame_bytes: int = 8 << 20
  call_bytes: int = 16 << 20
  # A call gets one reply; a few stray frames are tolerated (and ignored), a flood is a violation.
  messages_per_call: int = 16
  depth: int = 32
  string_chars: int = 1 << 16
  items: int = 1 << 20
  array_ndim: int = 16


TRUSTED = WireLimits(
  frame_bytes=1 << 30, call_bytes=1 << 30, messages_per_call=1 << 20, depth=64, string_chars=1 << 24, items=1 << 26
)


class WireError(ValueError):
  """A frame or value that breaks the format or its limits; str(e) is the reason, in plain English."""


def _enc_float(x):
  x = float(x)
  if math.isfinite(x):
    return x
  return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _le_dtype(arr):
  dt = arr.dtype
  if dt.kind not in "biufc":
    raise WireError(f"an array of dtype {dt} is not numeric")
  return dt.newbyteorder("<") if dt.byteorder == ">" else dt


def _enc_array(arr, readable):
  dt = _le_dtype(arr)
  arr = np.asarray(arr, dtype=dt, order="C")  # not ascontiguousarray: that makes a 0-d array 1-d
  name = dt.str if dt.itemsize > 1 else "|" + dt.str[1:]
  if name not in DTYPES:
    raise WireError(f"an array of dtype {arr.dtype} is not supported")
  head = {"dtype": name, "shape": [int(n) for n in arr.shape]}
  # The readable form only for finite real values (JSON has no nan); everything else as raw bytes.
  if readable and dt.kind in "biu" or (readable and dt.kind == "f" and bool(np.isfinite(arr).all())):
    return {"__ndarray__": {**head, "list": arr.tolist()}}
  return {"__ndarray__": {**head, "b64": base64.b64encode(arr.tobytes()).decode("ascii")}}


def encode(obj, *, readable=False, depth=0, max_depth=64):
  """Plain data -> a JSON-able structure of the tagged form above; WireError for anything else."""
  if depth > max_depth:
    raise WireError(f"the value is nested more than {max_depth} levels deep")
  if obj is None or isinstance(obj, (bool, str)):
    return obj
  if isinstance(obj, int):
    return int(obj)
  if isinstance(obj, float):
    return _enc_float(obj)
  if isinstance(obj, np.ndarray):
    return _enc_array(obj, readable)
  if isinstance(obj, np.generic):
    return _enc_scalar(obj, readable)
  if isinstance(obj, (list, tuple)):
    items = [encode(x, readable=readable, depth=depth + 1, max_depth=max_depth) for x in obj]
    return items if isinstance(obj, list) else {"__tuple__": items}
  if isinstance(obj, dict):
    out = {}
    for k, v in obj.items():
      if not isinstance(k, str):
        raise WireError(f"a dict key of type {type(k).__name__} (only str keys are supported)")
      out[k] = encode(v, readable=readable, depth=depth + 1, max_depth=max_depth)
    return {"__dict__": out}
  raise WireError(f"a value of type {type(obj).__name__} is not plain data")


def _enc_scalar(x, readable):
  if isinstance(x, np.bool_):
    return bool(x)
  if isinstance(x, np.integer):
    return int(x)
  if isinstance(x, np.floating):
    return _enc_float(x)
  return _enc_array(np.asarray(x), readable)


class _Budget:
  """Counts the items and characters one decode walks through."""

  def __init__(self, limits):
    self.limits = limits
    self.items = 0

  def take(self, n=1):
    self.items += n
    if self.items > self.limits.items:
      raise WireError(f"more than {self.limits.items} items in one message")


def decode(obj, limits=WireLimits(), budget=None, depth=0):
  """The tagged JSON structure -> plain data (numpy arrays, tuples, dicts); WireError on any violation."""
  budget = budget or _Budget(limits)
  if depth > limits.depth:
    raise WireError(f"the value is nested more than {limits.depth} levels deep")
  budget.take()
  if obj is None or isinstance(obj, (bool, int, float)):
    return obj
  if isinstance(obj, str):
    if len(obj) > limits.string_chars:
      raise WireError(f"a string of {len(obj)} characters (the limit is {limits.string_chars})")
    return obj
  if isinstance(obj, list):
    budget.take(len(obj))
    return [decode(x, limits, budget, depth + 1) for x in obj]
  if not isinstance(obj, dict) or len(obj) != 1:
    raise WireError("a malformed value (an object that is not a single tag)")
  ((tag, body),) = obj.items()
  if tag == "__float__":
    return _dec_float(body)
  if tag == "__tuple__" and isinstance(body, list):
    budget.take(len(body))
    return tuple(decode(x, limits, budget, depth + 1) for x in body)
  if tag == "__dict__" and isinstance(body, dict):
    budget.take(len(body))
    for k in body:
      if len(k) > limits.string_chars:
        raise WireError(f"a dict key of {len(k)} characters (the limit is {limits.string_chars})")
    return {k: decode(v, limits, budget, depth + 1) for k, v in body.items()}
  if tag == "__ndarray__" and isinstance(body, dict):
    return _dec_array(body, limits, budget)
  raise WireError(f"a malformed value (unknown tag {tag[:40]!r})")


def _dec_float(body):
  table = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
  if not isinstance(body, str) or body not in table:  # an unhashable body must not raise TypeError
    raise WireError("a malformed non-finite float")
  return table[body]


def _check_shape(shape, limits):
  # Every dimension is bounded on its own too: [0, 10**30] holds no bytes, but numpy cannot make it.
  ok = (
    isinstance(shape, list)
    and len(shape) <= limits.array_ndim
    and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= limits.frame_bytes for n in shape)
  )
  if not ok:
    raise WireError("an array with a malformed shape")
  count = 1
  for n in shape:
    count *= n  # Python ints: a header claiming 10**12 elements cannot overflow, only fail the check below.
  return count


def _dec_array(body, limits, budget):
  dtype, shape = body.get("dtype"), body.get("shape")
  if not isinstance(dtype, str) or dtype not in DTYPES:
    raise WireError(f"an array of unsupported dtype {str(dtype)[:20]!r}")
  count = _check_shape(shape, limits)
  dt = np.dtype(dtype)
  nbytes = count * dt.itemsize
  if nbytes > limits.frame_bytes:
    raise WireError(
      f"an array header claims {count} elements ({nbytes} bytes), over the limit of {limits.frame_bytes} bytes"
    )
  budget.take(max(1, count // 64))
  if "b64" in body and len(body) == 3:
    return _dec_b64(body["b64"], dt, shape, count, nbytes)
  if "list" in body and len(body) == 3:
    return _dec_list(body["list"], dt, shape, count, limits)
  raise WireError("a malformed array (no data)")


def _dec_b64(data, dt, shape, count, nbytes):
  # Declared size against actual bytes before anything is allocated from the declaration.
  if not isinstance(data, str) or len(data) != 4 * ((nbytes + 2) // 3):
    raise WireError(f"an array header declares {count} elements but the data does not match")
  try:
    raw = bytearray(base64.b64decode(data, validate=True))
  except (binascii.Error, ValueError):
    raise WireError("an array with malformed base64 data") from None
  if len(raw) != nbytes:
    raise WireError(f"an array header declares {count} elements but the data has {len(raw)} bytes")
  return np.frombuffer(raw, dtype=dt).reshape(shape)


def _dec_list(data, dt, shape, count, limits):
  # Only hand-out files use this form; the nested list is checked against the shape before numpy sees it.
  flat = []
  _flatten(data, len(shape), flat, limits, 0)
  if len(flat) != count or not all(isinstance(x, (int, float)) for x in flat):
    raise WireError(f"an array header declares {count} elements but the data does not match")
  try:
    return np.array(flat, dtype=dt).reshape(shape)
  except (ValueError, OverflowError, TypeError):
    raise WireError("an array whose values do not fit its dtype") from None


def _flatten(data, ndim, out, limits, depth):
  if ndim == 0:
    out.append(data)
    return
  if not isinstance(data, list) or depth > limits.array_ndim:
    raise WireError("a malformed array (its nested lists do not match its shape)")
  for x in data:
    _flatten(x, ndim - 1, out, limits, depth + 1)


def frame(message):
  """A JSON-able envelope -> one frame (bytes)."""
  payload = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
  return HEADER.pack(MAGIC, len(payload)) + payload


def _no_constants(name):
  raise WireError(f"a bare {name} in the JSON (non-finite floats must be tagged)")


def parse_payload(payload, limits=WireLimits()):
  """A frame's payload bytes -> its envelope (a dict); WireError on bad JSON, bad nesting or a non-object."""
  if len(payload) > limits.frame_bytes:
    raise WireError(f"a message of {len(payload)} bytes (the limit is {limits.frame_bytes})")
  try:
    message = json.loads(payload.decode("utf-8"), parse_constant=_no_constants)
  except WireError:
    raise
  except RecursionError:
    raise WireError("a message nested too deeply to read") from None
  except (UnicodeDecodeError, ValueError) as e:
    raise WireError(f"a message that is not valid JSON ({type(e).__name__})") from None
  if not isinstance(message, dict):
    raise WireError("a message that is not a JSON object")
  return message


def parse_header(head, limits=WireLimits()):
  """The 8 header bytes -> the payload length; WireError for a wrong magic or an oversized frame."""
  magic, length = HEADER.unpack(head)
  if magic != MAGIC:
    raise WireError("bytes on the result channel that are not a frame")
  if length > limits.frame_bytes:
    raise WireError(f"a message of {length} bytes (the limit is {limits.frame_bytes})")
  return length


def dumps_file(obj, *, readable=False, indent=None):
  """A value -> JSON text for a file (the reference cache, the hand-out's visible cases)."""
  seps = (",", ": ") if indent is not None else (",", ":")
  return json.dumps(encode(obj, readable=readable), allow_nan=False, separators=seps, indent=indent, ensure_ascii=False)


def loads_file(text, limits=TRUSTED):
  """JSON text written by `dumps_file` -> the value."""
  return decode(_loads(text, limits), limits)


def _loads(text, limits):
  try:
    return json.loads(text, parse_constant=_no_constants)
  except WireError:
    raise
  except RecursionError:
    raise WireError("a file nested too deeply to read") from None
  except ValueError as e:
    raise WireError(f"a file that is not valid JSON ({e})") from None

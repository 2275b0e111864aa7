"""Hostile data on the result channel against grader/wire.py's decoder: every violation is a WireError
(which the grader turns into a 0 with a reason), found before anything large is allocated."""

import json
import math
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader import wire

LIMITS = wire.WireLimits()
# Found here and since fixed in grader/wire.py: an unhashable tag body or dtype raised TypeError, and an
# empty array with a dimension of 10**30 made numpy's reshape raise ValueError. A forged reply carrying
# such a value crashed the whole grader (tests/hostile/forged_reply.py).


def payload(obj) -> bytes:
  """A reply envelope carrying obj as its value, as the bytes of a frame's payload."""
  return json.dumps({"type": "reply", "id": 1, "status": "ok", "value": obj}).encode()


def decoded(raw: bytes):
  """What the grader does with a payload: parse the envelope, decode the value."""
  return wire.decode(wire.parse_payload(raw, LIMITS)["value"], LIMITS)


def cheap(fn):
  """Runs fn; returns (seconds, peak bytes allocated by Python meanwhile)."""
  tracemalloc.start()
  t = time.perf_counter()
  try:
    fn()
  finally:
    took = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
  return took, peak


def test_a_frame_header_claiming_4_gib_is_refused():
  with pytest.raises(wire.WireError):
    wire.parse_header(wire.HEADER.pack(wire.MAGIC, 2**32 - 1), LIMITS)
  with pytest.raises(wire.WireError):
    wire.parse_header(b"HTTP/1.1", LIMITS)


@pytest.mark.parametrize("shape", [[10**6, 10**6], [10**12], [2] * 16, [10**4] * 4])
def test_an_array_header_claiming_huge_counts_is_refused_before_allocating(shape):
  raw = payload({"__ndarray__": {"dtype": "<f8", "shape": shape, "b64": "AAAAAAAAAAA="}})

  def go():
    with pytest.raises(wire.WireError):
      decoded(raw)

  took, peak = cheap(go)
  assert took < 0.5 and peak < 1 << 20


@pytest.mark.parametrize("shape", [[0, 10**30], [0, 2**63], [10**30, 0]])
def test_an_empty_array_with_an_absurd_dimension_is_refused(shape):
  raw = payload({"__ndarray__": {"dtype": "<f8", "shape": shape, "b64": ""}})
  with pytest.raises(wire.WireError):
    decoded(raw)


def test_deep_nesting_is_refused_at_both_layers():
  deep = "[" * 100_000 + "]" * 100_000
  with pytest.raises(wire.WireError):
    wire.parse_payload(deep.encode(), LIMITS)
  nested = 0
  for _ in range(200):
    nested = {"__tuple__": [nested]}
  with pytest.raises(wire.WireError):
    decoded(payload(nested))


def test_huge_strings_and_item_floods_are_refused():
  with pytest.raises(wire.WireError):
    wire.parse_payload(b'{"value": "' + b"x" * (LIMITS.frame_bytes + 10) + b'"}', LIMITS)
  with pytest.raises(wire.WireError):
    decoded(payload("x" * (LIMITS.string_chars + 1)))
  with pytest.raises(wire.WireError):
    decoded(payload({"__dict__": {"k" * (LIMITS.string_chars + 1): 1}}))
  flood = b'{"value": [' + b",".join([b"0"] * (LIMITS.items + 10)) + b"]}"
  took, peak = cheap(lambda: pytest.raises(wire.WireError, decoded, flood))
  assert took < 10


@pytest.mark.parametrize(
  "bad",
  [
    {"__float__": []},
    {"__float__": {}},
    {"__float__": "NaN"},
    {"__float__": None},
    {"__tuple__": 5},
    {"__dict__": []},
    {"__dict__": {"a": {"__float__": [1]}}},
    {"__ndarray__": []},
    {"__ndarray__": {"dtype": "|O", "shape": [1], "b64": "AA=="}},
    {"__ndarray__": {"dtype": ["<f8"], "shape": [1], "b64": "AAAAAAAAAAA="}},
    {"__ndarray__": {"dtype": {"a": 1}, "shape": [1], "b64": "AAAAAAAAAAA="}},
    {"__ndarray__": {"dtype": "<f8", "shape": [-1], "b64": ""}},
    {"__ndarray__": {"dtype": "<f8", "shape": [True], "b64": "AAAAAAAAAAA="}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1.0], "b64": "AAAAAAAAAAA="}},
    {"__ndarray__": {"dtype": "<f8", "shape": 3, "b64": ""}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1], "b64": 5}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1], "b64": "!!!!!!!!!!!="}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1], "list": {"a": 1}}},
    {"__ndarray__": {"dtype": "<f8", "shape": [2], "list": [1, "x"]}},
    {"__ndarray__": {"dtype": "|u1", "shape": [1], "list": [10**6]}},
    {"__ndarray__": {"dtype": "<f8", "shape": [1], "b64": "AAAAAAAAAAA=", "extra": 1}},
    {"a": 1, "b": 2},
    {"__code__": "import os"},
    {"__reduce__": ["os.system", ["id"]]},
  ],
)
def test_malformed_values_are_wire_errors(bad):
  with pytest.raises(wire.WireError):
    decoded(payload(bad))


JSONISH = st.recursive(
  st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
      ["__float__", "__tuple__", "__dict__", "__ndarray__", "<f8", "|O", "b64", "list", "shape", "dtype"]
    ),
  ),
  lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(
      st.sampled_from(["__float__", "__tuple__", "__dict__", "__ndarray__", "dtype", "shape", "b64", "list", "x"]),
      kids,
      min_size=1,
      max_size=3,
    ),
  ),
  max_leaves=25,
)


def plain(value) -> bool:
  """Whether a decoded value is made only of the types the wire promises (no object arrays, str keys)."""
  if value is None or isinstance(value, (bool, int, float, str)):
    return True
  if isinstance(value, (list, tuple)):
    return all(plain(v) for v in value)
  if isinstance(value, dict):
    return all(isinstance(k, str) and plain(v) for k, v in value.items())
  if isinstance(value, np.ndarray):
    dt = value.dtype
    return dt.kind in "biufc" and (dt.str if dt.itemsize > 1 else "|" + dt.str[1:]) in wire.DTYPES
  return False


def same(a, b) -> bool:
  """Equal as the grader would need: same types and structure, arrays equal bit for bit in value (nan too)."""
  if type(a) is not type(b):
    return False
  if isinstance(a, np.ndarray):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
  if isinstance(a, float):
    return a == b or (math.isnan(a) and math.isnan(b))
  if isinstance(a, (list, tuple)):
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
  if isinstance(a, dict):
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
  return a == b


def mirrors(raw, value) -> bool:
  """Whether a decoded value has the shape of the JSON it came from (lists stay lists, scalars stay put)."""
  if raw is None or isinstance(raw, (bool, int, float, str)):
    return type(value) is type(raw) and value == raw
  if isinstance(raw, list):
    return isinstance(value, list) and len(value) == len(raw) and all(mirrors(r, v) for r, v in zip(raw, value))
  ((tag, body),) = raw.items()
  if tag == "__tuple__":
    return isinstance(value, tuple) and len(value) == len(body) and all(mirrors(r, v) for r, v in zip(body, value))
  if tag == "__dict__":
    return isinstance(value, dict) and value.keys() == body.keys() and all(mirrors(body[k], value[k]) for k in body)
  if tag == "__float__":
    return isinstance(value, float) and not math.isfinite(value)
  return tag == "__ndarray__" and isinstance(value, np.ndarray) and list(value.shape) == body["shape"]


@settings(max_examples=300, deadline=None)
@given(value=JSONISH)
@example(value={"__float__": []})  # the value that once crashed the grader
@example(value={"__tuple__": [1, {"__float__": "nan"}, {"__dict__": {"k": [True, None]}}]})
def test_fuzzed_values_decode_to_plain_data_or_raise_wire_error_only(value):
  try:
    got = decoded(payload(value))
  except wire.WireError:
    return
  # What decodes is plain data, mirrors the JSON it came from, and survives a round trip unchanged.
  assert plain(got), got
  assert mirrors(value, got), (value, got)
  assert same(wire.decode(wire.encode(got)), got)


ARRAYS = st.builds(
  lambda dt, shape, seed: np.asarray(np.random.default_rng(seed).normal(size=shape) * 10).astype(dt),
  st.sampled_from(["<f4", "<f8", "<i4", "<i8", "|u1", "|b1", "<c16"]),
  st.lists(st.integers(0, 3), max_size=3).map(tuple),
  st.integers(0, 2**31),
)
PLAIN = st.recursive(
  st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=10), ARRAYS),
  lambda kids: st.one_of(
    st.lists(kids, max_size=3),
    st.lists(kids, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=5), kids, max_size=3),
  ),
  max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(value=PLAIN, readable=st.booleans())
def test_every_plain_value_crosses_the_wire_unchanged(value, readable):
  # The other half: a decoder that refused everything would pass the fuzz test above, not this one.
  message = {"type": "reply", "id": 1, "status": "ok", "value": wire.encode(value, readable=readable)}
  raw = wire.frame(message)
  length = wire.parse_header(raw[: wire.HEADER.size], LIMITS)
  assert length == len(raw) - wire.HEADER.size
  assert same(decoded(raw[wire.HEADER.size :]), value)


def expected_envelope(raw: bytes):
  """What parse_payload must return for raw, judged independently: a JSON object without bare constants."""
  try:
    obj = json.loads(raw.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
  except (UnicodeDecodeError, ValueError, RecursionError):
    return None
  return obj if isinstance(obj, dict) else None


FRAMES = st.one_of(
  st.binary(max_size=200),
  st.dictionaries(st.text(max_size=5), JSONISH, max_size=3).map(lambda d: json.dumps(d).encode()),
  st.sampled_from([b"{}", b"[]", b'{"a": NaN}', b'{"a": Infinity}', b"null", b'{"a": 1}', b"\xff{}"]),
)


@settings(max_examples=200, deadline=None)
@given(raw=FRAMES, head=st.binary(min_size=8, max_size=8), length=st.integers(0, 2**32 - 1))
def test_fuzzed_frames_parse_exactly_when_they_should(raw, head, length):
  want = expected_envelope(raw)
  if want is None:
    with pytest.raises(wire.WireError):
      wire.parse_payload(raw, LIMITS)
  else:
    assert wire.parse_payload(raw, LIMITS) == want
  for h in (head, wire.MAGIC + length.to_bytes(4, "big")):
    good = h[:4] == wire.MAGIC and int.from_bytes(h[4:], "big") <= LIMITS.frame_bytes
    if good:
      assert wire.parse_header(h, LIMITS) == int.from_bytes(h[4:], "big")
    else:
      with pytest.raises(wire.WireError):
        wire.parse_header(h, LIMITS)

"""grader/wire.py: plain data round-trips exactly, and every limit refuses its violation with a reason."""

import base64
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import wire


def roundtrip(value, readable=False):
  frame = wire.frame({"v": wire.encode(value, readable=readable)})
  length = wire.parse_header(frame[: wire.HEADER.size])
  assert length == len(frame) - wire.HEADER.size
  return wire.decode(wire.parse_payload(frame[wire.HEADER.size :])["v"])


def same(a, b):
  """Equal in type and value, nan equal to nan, arrays equal in dtype, shape and bytes."""
  if isinstance(a, np.ndarray):
    return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
  if isinstance(a, float) and math.isnan(a):
    return isinstance(b, float) and math.isnan(b)
  if type(a) is not type(b):
    return False
  if isinstance(a, (list, tuple)):
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
  if isinstance(a, dict):
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
  return a == b


plain = st.recursive(
  st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
  lambda kids: (
    st.lists(kids, max_size=4)
    | st.lists(kids, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5), kids, max_size=4)
  ),
  max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(plain)
def test_plain_python_values_round_trip_exactly(value):
  assert same(roundtrip(value), value)


@pytest.mark.parametrize(
  "dtype",
  [
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
  ],
)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 4)])
def test_numeric_arrays_round_trip_in_dtype_shape_and_bytes(dtype, shape):
  arr = (np.arange(int(np.prod(shape))) % 5 - 2).astype(dtype).reshape(shape)
  got = roundtrip(arr)
  assert same(got, arr)
  got[...] = 0  # decoded arrays are writable: student code may work in place on its fresh copy


def test_non_finite_floats_and_big_endian_arrays():
  arr = np.array([1.5, np.nan, np.inf, -np.inf], dtype=">f8")
  got = roundtrip(arr)
  assert got.dtype == np.dtype("<f8")
  np.testing.assert_array_equal(got, arr.astype("<f8"))
  assert same(roundtrip((math.inf, -math.inf, math.nan)), (math.inf, -math.inf, math.nan))


def test_numpy_scalars_become_python_numbers_and_readable_form_round_trips():
  assert same(roundtrip([np.float32(0.5), np.int64(3), np.bool_(True)]), [0.5, 3, True])
  value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (np.array([True, False]), [1, 2.5])}
  text = wire.dumps_file(value, readable=True, indent=1)
  assert '"list"' in text  # readable: nested lists, not base64
  assert same(wire.loads_file(text), value)


@pytest.mark.parametrize(
  "value, why",
  [
    (np.array(["a"]), "not numeric"),
    (np.array([object()]), "not numeric"),
    ({1: 2}, "only str keys"),
    ({1, 2}, "not plain data"),
    (object(), "not plain data"),
  ],
)
def test_encode_refuses_what_is_not_plain_data(value, why):
  with pytest.raises(wire.WireError, match=why):
    wire.encode(value)


def _array(dtype, shape, data):
  return {"__ndarray__": {"dtype": dtype, "shape": shape, "b64": data}}


@pytest.mark.parametrize(
  "message, why",
  [
    (_array("<f8", [10**6, 10**6], ""), "claims 1000000000000 elements"),
    (_array("<f8", [3], base64.b64encode(b"\0" * 8).decode()), "declares 3 elements"),
    (_array("<f8", [1], "!!!!!!!!!!!!"), "declares 1 elements|base64"),
    (_array("|O", [1], ""), "unsupported dtype"),
    (_array("<U5", [1], ""), "unsupported dtype"),
    (_array("<f8", [-1], ""), "malformed shape"),
    (_array("<f8", [True], ""), "malformed shape"),
    (_array("<f8", [1.0], ""), "malformed shape"),
    (_array("<f8", [1] * 17, ""), "malformed shape"),
    ({"__ndarray__": {"dtype": "<f8", "shape": [2], "list": [1.0, "x"]}}, "does not match"),
    ({"__ndarray__": {"dtype": "<f8", "shape": [2, 2], "list": [1.0, 2.0]}}, "do not match its shape"),
    ({"__pickle__": "x"}, "unknown tag"),
    ({"a": 1, "b": 2}, "not a single tag"),
    ({"__float__": "nan!"}, "non-finite"),
    ({"__float__": []}, "non-finite"),  # unhashable bodies and dtypes: a WireError, not a TypeError
    ({"__ndarray__": {"dtype": [], "shape": [1], "b64": ""}}, "unsupported dtype"),
    (_array("<f8", [0, 10**30], ""), "malformed shape"),  # no bytes, yet no array numpy could make
    (_array("<f8", [10**30, 0], ""), "malformed shape"),
    ("x" * (wire.WireLimits().string_chars + 1), "string of"),
  ],
)
def test_decode_refuses_violations_with_a_reason(message, why):
  with pytest.raises(wire.WireError, match=why):
    wire.decode(message)


def test_depth_and_item_limits():
  deep = 0
  for _ in range(wire.WireLimits().depth + 2):
    deep = [deep]
  with pytest.raises(wire.WireError, match="nested more than"):
    wire.decode(deep)
  small = wire.WireLimits(items=100)
  with pytest.raises(wire.WireError, match="more than 100 items"):
    wire.decode(list(range(200)), small)


def test_parse_refuses_bad_frames_without_crashing():
  with pytest.raises(wire.WireError, match="nested too deeply"):
    wire.parse_payload(b"[" * 200_000 + b"]" * 200_000)
  with pytest.raises(wire.WireError, match="not valid JSON"):
    wire.parse_payload(b"\xff\xfe")
  with pytest.raises(wire.WireError, match="not valid JSON"):
    wire.parse_payload(b"1" * 5000)  # an int longer than Python will parse
  with pytest.raises(wire.WireError, match="bare NaN"):
    wire.parse_payload(b'{"v": NaN}')
  with pytest.raises(wire.WireError, match="not a JSON object"):
    wire.parse_payload(b"[1]")
  with pytest.raises(wire.WireError, match="not a frame"):
    wire.parse_header(b"XXXX\0\0\0\1")
  with pytest.raises(wire.WireError, match="message of 4294967295 bytes"):
    wire.parse_header(b"MMZW\xff\xff\xff\xff")
  big = json.dumps({"v": "x" * 100}).encode()
  with pytest.raises(wire.WireError, match="message of"):
    wire.parse_payload(big, wire.WireLimits(frame_bytes=50))

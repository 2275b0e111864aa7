"""Hostile data on the result channel against grader/wire.py's decoder: every violation is a WireError
(which the grader turns into a 0 with a reason), found before anything large is allocated."""
import json
import time
import tracemalloc

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


@pytest.mark.parametrize("bad", [
  {"__float__": []}, {"__float__": {}},
  {"__float__": "NaN"}, {"__float__": None},
  {"__tuple__": 5}, {"__dict__": []}, {"__dict__": {"a": {"__float__": [1]}}},
  {"__ndarray__": []}, {"__ndarray__": {"dtype": "|O", "shape": [1], "b64": "AA=="}},
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
  {"a": 1, "b": 2}, {"__code__": "import os"}, {"__reduce__": ["os.system", ["id"]]},
])
def test_malformed_values_are_wire_errors(bad):
  with pytest.raises(wire.WireError):
    decoded(payload(bad))


JSONISH = st.recursive(
  st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
            st.text(max_size=20), st.sampled_from(["__float__", "__tuple__", "__dict__", "__ndarray__", "<f8",
                                                   "|O", "b64", "list", "shape", "dtype"])),
  lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.sampled_from(["__float__", "__tuple__", "__dict__", "__ndarray__", "dtype", "shape",
                                     "b64", "list", "x"]), kids, min_size=1, max_size=3)),
  max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH)
@example(value={"__float__": []})  # the value that once crashed the grader
def test_fuzzed_values_decode_or_raise_wire_error_only(value):
  try:
    decoded(payload(value))
  except wire.WireError:
    pass


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200), head=st.binary(min_size=8, max_size=8))
def test_fuzzed_frames_raise_wire_error_only(raw, head):
  for fn in (lambda: wire.parse_payload(raw, LIMITS), lambda: wire.parse_header(head, LIMITS)):
    try:
      fn()
    except wire.WireError:
      pass

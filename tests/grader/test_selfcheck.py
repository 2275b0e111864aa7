"""The pack's self-check (grader/checker.py shipped as check.py): any OS, readable feedback, the pack manifest.

The OS test hides every POSIX-only API and isolation tool from a child interpreter started by a relative
path, as on Windows or macOS, and checks that check.py still runs and teaches. Records: two small
fixture questions (tests/fixtures/selfcheck/records.py), their expected values computed independently.
"""

import importlib.util
import io
import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import checker, notebooks

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "selfcheck" / "records.py"
_spec = importlib.util.spec_from_file_location("selfcheck_records", FIXTURE)
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)

# What a Windows (or macOS) interpreter lacks, made absent here; and the grader's sandbox with it.
HIDE_POSIX = '''
import os, shutil, signal, subprocess, sys
TOOLS = {"setpriv", "prlimit", "bwrap", "unshare", "nsjail", "firejail"}
for m in ("resource", "select", "fcntl", "termios", "pty", "grader", "grader.isolation", "grader.sandbox"):
  sys.modules[m] = None
for a in ("geteuid", "getuid", "setuid", "setresuid", "fork", "setsid", "killpg", "getpgid"):
  if hasattr(os, a):
    delattr(os, a)
for a in ("SIGXCPU", "SIGXFSZ", "SIGKILL", "SIGALRM", "alarm", "setitimer"):
  if hasattr(signal, a):
    delattr(signal, a)
_which, _exists = shutil.which, os.path.exists
shutil.which = lambda cmd, *a, **k: None if os.path.basename(str(cmd)) in TOOLS else _which(cmd, *a, **k)
os.path.exists = lambda p: False if os.path.basename(str(p)) in TOOLS else _exists(p)
_Popen = subprocess.Popen
class _NoTools(_Popen):
  def __init__(self, args, *a, **k):
    first = args if isinstance(args, str) else args[0]
    if os.path.basename(str(first).split()[0]) in TOOLS:
      raise FileNotFoundError(first)
    super().__init__(args, *a, **k)
subprocess.Popen = _NoTools
'''


@pytest.fixture(scope="module")
def records(tmp_path_factory):
  folders = fx.write_records(tmp_path_factory.mktemp("questions"))
  return [notebooks.public_record(f) for f in folders]


@pytest.fixture(scope="module")
def pack(tmp_path_factory, records):
  """A pack: check.py, check_data.json and exercises/fx_ops.py holding WRONG answers."""
  root = tmp_path_factory.mktemp("pack")
  notebooks.write_self_check(root, records, "fixture")
  (root / "exercises").mkdir()
  (root / "exercises" / f"{fx.MODULE}.py").write_text(fx.WRONG, encoding="utf-8")
  hide = tmp_path_factory.mktemp("hide")
  (hide / "sitecustomize.py").write_text(HIDE_POSIX, encoding="utf-8")
  return root, hide


def _namespace(source: str) -> dict:
  ns: dict = {}
  exec(compile(source, "student.py", "exec"), ns)  # noqa: S102 — the fixture's own answers
  return ns


def _run(pack, *args, lang="en", encoding=None):
  root, hide = pack
  env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LC_", "LANG"))}
  env["PYTHONPATH"] = str(hide)
  if encoding:
    env["PYTHONIOENCODING"] = encoding
  python = os.path.relpath(sys.executable, root)  # a relative interpreter path, as ../venv/bin/python
  assert not os.path.isabs(python)
  return subprocess.run([python, *args], cwd=root, env=env, capture_output=True, timeout=120, check=False)


def test_posix_apis_are_really_hidden(pack):
  out = _run(
    pack,
    "-c",
    "import os, signal, shutil; print(hasattr(os, 'geteuid'), hasattr(signal, 'SIGXCPU'), "
    "shutil.which('prlimit'))\ntry:\n import select\nexcept ImportError:\n print('no select')",
  )
  assert out.stdout.decode().split() == ["False", "False", "None", "no", "select"], out.stderr.decode()


def test_check_py_runs_without_posix_and_shows_the_failed_case(pack):
  out = _run(pack, "check.py", "exercises", "--lang", "en")
  text = out.stdout.decode("utf-8")
  assert out.returncode == 1, out.stderr.decode()
  assert "SELF-CHECK" in text and "no sandbox" in text
  # weighted_sum: the article's printed value for its own call: input, expected, got, first difference, erratum.
  assert "call:       weighted_sum(a=[1, 2, 3], b=[4, 5, 6], c=[7, 8, 9])" in text
  assert "expected:   array([3.1, 4.1, 5.1], shape=(3,), float64)" in text
  assert "got:        [7.8, 8.9, 9]" in text
  assert "first difference: the answer at index [0]: expected 3.1, got 7.8" in text
  assert "known erratum of the article: " + fx.ERRATUM_EN in text
  assert text.count("known erratum") == 1  # the second case is plainly wrong, not the article's print
  # warp: a valid path whose own cost is not the optimum, with the optimum named.
  assert "the path is a warping path, but its own cost 2 is not the optimum 0" in text
  assert "total: 0/4 visible cases passed, 0/2 questions complete" in text


def test_check_py_in_chinese_survives_a_gbk_console(pack):
  out = _run(pack, "check.py", "exercises", "--lang", "zh", encoding="gbk")
  assert out.returncode == 1, out.stderr.decode("gbk", "replace")
  text = out.stdout.decode("gbk")
  assert "仅为可见用例的自测" in text and "第一处差异：答案在下标 [0] 处：期望 3.1，实际 7.8" in text
  assert "已知勘误：" + fx.ERRATUM_ZH in text
  assert "合计：通过 0/4 个可见用例" in text
  # No English sentence: at most two English words in a row (identifiers, values and dtypes may stay).
  assert not re.search(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}", text), text


def test_help_is_translated(pack):
  en = _run(pack, "check.py", "--help").stdout.decode()
  zh = _run(pack, "check.py", "--help", "--lang", "zh").stdout.decode()
  assert "Self-check" in en and "自测" in zh and "Self-check" not in zh


def test_zh_catalog_covers_every_message():
  assert set(checker.ZH) == set(checker.EN)
  fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}
  for key, en in checker.EN.items():
    assert fields(checker.ZH[key]) == fields(en), key
    assert key == "kind_none" or re.search(r"[\u4e00-\u9fff]", checker.ZH[key]), key


def test_stubs_say_not_implemented_and_solutions_pass(records):
  stub = "".join(notebooks.stub_code(r) for r in records)
  buf = io.StringIO()
  for r in records:
    res = checker.check(r["name"], _namespace(stub), r, "en", stream=buf)
    assert res.state == "not_implemented" and res.passed == 0
  assert buf.getvalue().count("not implemented (it still raises NotImplementedError)") == 2
  ns = _namespace(fx.SOLUTION)
  for r in records:
    res = checker.check(r["name"], ns, {x["name"]: x for x in records}, "zh", stream=io.StringIO())
    assert res.complete and res.passed == 2, res.lines


def test_missing_function_and_import_error_are_named(tmp_path, records):
  (tmp_path / f"{fx.MODULE}.py").write_text("import numpy as np\nx = 1 / 0\n", encoding="utf-8")
  buf = io.StringIO()
  results = checker.check_folder(tmp_path, records, "en", stream=buf)
  assert [r.state for r in results] == ["missing", "missing"]
  assert f"importing {fx.MODULE}.py failed: ZeroDivisionError ({fx.MODULE}.py, line 2)" in buf.getvalue()


def test_a_py_beats_a_notebook_and_a_notebook_alone_is_read(tmp_path, records):
  nb = {
    "cells": [
      {"cell_type": "code", "metadata": {}, "source": "%matplotlib inline\n" + fx.SOLUTION},
      {"cell_type": "code", "metadata": {"mmzoo": {"role": "check"}}, "source": "check('warp')"},
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
  }
  (tmp_path / f"{fx.MODULE}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
  results = checker.check_folder(tmp_path, records, "en", stream=io.StringIO())
  assert all(r.complete for r in results)
  (tmp_path / f"{fx.MODULE}.py").write_text(fx.WRONG, encoding="utf-8")
  results = checker.check_folder(tmp_path, records, "en", stream=io.StringIO())
  assert not any(r.complete for r in results)


def test_a_call_that_never_returns_is_reported_not_waited_for(records):
  ns = _namespace("import time\ndef weighted_sum(a, b, c):\n  time.sleep(3)\n")
  buf = io.StringIO()
  res = checker.check("weighted_sum", ns, records[0], "en", timeout=0.2, stream=buf)
  assert res.passed == 0
  assert "visible case 1: no answer within 0.2 s" in buf.getvalue()
  assert "visible case 2: not run, after the time limit" in buf.getvalue()


@pytest.mark.parametrize(
  "got, key",
  [
    ((np.array([0.5, 1.0]), [1.0, 2.0]), None),
    (np.array([[0.5, 1.0], [1.0, 2.0]]), None),
    ([[0.5, 1.0], [1.0]], "wrong_shape"),
    (([0.5, 1.0], [1.0, float("nan")]), "not_finite"),
    (([0.5, 1.0], ["a", 2]), "wrong_type"),
    ([[0.5, 1.0], [1.0, 2.0], [3.0, 4.0]], "not_pair"),
  ],
)
def test_pair_rules(got, key):
  record = {"compare": {"kind": "pair", "rtol": 1e-5, "atol": 1e-5}}
  want = (np.array([0.5, 1.0]), np.array([1.0, 2.0]))
  if key is None:
    checker.compare(record, ([1, 2],), want, got)
  else:
    with pytest.raises(checker.Fail) as e:
      checker.compare(record, ([1, 2],), want, got)
    assert e.value.key == key


def test_scalar_tuple_and_tolerance_rules():
  scalar = {"compare": {"kind": "scalar", "rtol": 1e-4, "atol": 1e-4}}
  checker.compare(scalar, (), np.asarray(0.5), np.array([0.50001]))  # a 1-element array is a scalar
  with pytest.raises(checker.Fail, match="wrong_value"):
    checker.compare(scalar, (), np.asarray(0.5), 0.6)
  tup = {"compare": {"kind": "tuple", "rtol": 0, "atol": 0}}
  with pytest.raises(checker.Fail) as e:
    checker.compare(tup, (), (np.zeros(2), np.ones(3)), [np.zeros(2), np.zeros(3)])
  assert "item 1 of the tuple at index [0]" in checker.render("en", e.value.first_diff)
  scaled = {"compare": {"kind": "array", "rtol": 0, "atol": 1e-5, "atol_scales_with_input": True}}
  checker.compare(scaled, ([1000.0],), np.array([1.0]), [1.009])  # atol 1e-5 · 1000 = 0.01
  with pytest.raises(checker.Fail):
    checker.compare(scaled, ([1.0],), np.array([1.0]), [1.009])


def test_dtw_rules_on_brute_force_optima():
  record = {"compare": {"kind": "dtw", "rtol": 1e-4, "atol": 1e-4}}
  x, y = fx.WARP_ARGS[1]
  cost, path = fx.warp_reference(x, y)
  checker.compare(record, (x, y), (cost, path), (float(cost), path.tolist()))
  checker.compare(record, (x, y), (cost, path), (np.array([cost]), path))
  bad = {
    ((0, 0), (2, 1)): "path_step",
    ((0, 1), (2, 1)): "path_start",
    ((0, 0), (1, 0)): "path_end",
    ((0, 0), (1.5, 0), (2, 1)): "path_int",
  }
  for p, key in bad.items():
    with pytest.raises(checker.Fail) as e:
      checker.compare(record, (x, y), (cost, path), (float(cost), list(p)))
    assert e.value.key == key
  assert len(list(fx.paths(3, 4))) == 25  # Delannoy D(2, 3): the brute force sees every path


def test_values_are_rounded_and_long_arrays_elided():
  s = checker.show(np.arange(100, dtype=np.float32) / 3)
  assert s == "array([0, 0.333333, 0.666667, ..., 32.6667, 33], shape=(100,), float32)"
  assert checker.show((1, [2.123456789])) == "(1, [2.12346])"
  assert len(checker.show({"w": np.zeros((50, 50))})) < 200


def test_enc_decodes_every_form():
  enc = {
    "tuple": [
      {"float": "nan"},
      {"dict": {"k": [1, {"float": "-inf"}]}},
      {"ndarray": [[1.5, {"float": "inf"}]], "dtype": "float32", "shape": [1, 2]},
    ]
  }
  nan, d, a = checker.dec(enc)
  assert np.isnan(nan) and d == {"k": [1, float("-inf")]}
  assert a.dtype == np.float32 and a.shape == (1, 2) and np.isinf(a[0, 1])


def test_pack_files_are_known_by_content_not_by_name(tmp_path, pack):
  root, _ = pack
  manifest = checker.pack_manifest({"check.py": root / "check.py", "check_data.json": root / "check_data.json"})
  assert set(manifest) == {"check.py", "check_data.json"}
  moved = tmp_path / "submission" / "mine" / "grader.py"  # the pack's file, renamed and moved
  moved.parent.mkdir(parents=True)
  moved.write_bytes((root / "check.py").read_bytes().replace(b"\n", b"\r\n"))  # and CRLF from a Windows checkout
  assert checker.is_pack_file(moved, manifest)
  own = tmp_path / "submission" / "check.py"  # the student's own file of the same name
  own.write_text("def weighted_sum(a, b, c):\n  return a\n", encoding="utf-8")
  assert not checker.is_pack_file(own, manifest)
  assert checker.pack_manifest(root)["check.py"] == manifest["check.py"]  # a folder is read whole


def test_an_answer_that_breaks_the_comparison_is_feedback(records):
  ns = _namespace(
    "class Odd:\n  def __float__(self):\n    raise RuntimeError('no')\n"
    "def weighted_sum(a, b, c):\n  return [Odd() for _ in a]\n"
  )
  buf = io.StringIO()
  res = checker.check("weighted_sum", ns, records[0], "zh", stream=buf)
  assert res.passed == 0 and "无法把答案与期望值比较（RuntimeError）" in buf.getvalue()
  assert checker.check("nope", ns, records[0], "en", stream=io.StringIO()).complete is False


def test_pack_readme_commands_work(pack):
  text = notebooks.pack_readme("fixture", 2, 20)
  assert "python check.py --only NAME" in text and "仅" not in text.split("# `fixture`")[0]
  assert "自测（SELF-CHECK）" in text
  out = _run(pack, "check.py", "--only", "warp", "--lang", "en")  # exercises/ beside check.py by default
  assert out.returncode == 1 and "warp (Dynamic time warping): 0/2" in out.stdout.decode()
  assert "weighted_sum" not in out.stdout.decode()
  out = _run(pack, "check.py", "--assignment", "fixture", "--only", "warp", "--lang", "en")
  assert out.returncode == 1 and "warp (Dynamic time warping): 0/2" in out.stdout.decode()
  out = _run(pack, "check.py", "--assignment", "part1", "--lang", "zh")
  assert out.returncode == 2 and "本资料包是作业 fixture，不是 part1" in out.stderr.decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Once the project's records exist (questions/, grader/questions.py): the self-check agrees with the grader.

PROJECT = Path(__file__).resolve().parents[2]


def _map_floats(x, f):
  if isinstance(x, np.ndarray):
    return f(x) if x.dtype.kind == "f" else x
  if isinstance(x, tuple):
    return tuple(_map_floats(v, f) for v in x)
  if isinstance(x, list):
    return [_map_floats(v, f) for v in x]
  return x


def _drop_last(x):
  if isinstance(x, tuple):
    return (_drop_last(x[0]),) + x[1:]
  return x[..., :-1] if isinstance(x, np.ndarray) and x.ndim else np.stack([x, x])


@pytest.mark.skipif(not (PROJECT / "questions" / "assignments.toml").is_file(), reason="no questions/ records yet")
def test_self_check_verdicts_agree_with_the_grader():
  pytest.importorskip("grader.questions")
  from grader.cases import Case, question
  from grader.compare import compare as grade

  folders = sorted(p.parent for p in (PROJECT / "questions").glob("*/question.toml"))
  assert folders
  for folder in folders:
    record = notebooks.public_record(folder)
    q = question(record["name"])
    rtol, atol = record["compare"]["rtol"], record["compare"]["atol"]
    want0 = checker.dec(record["cases"][0]["expected"])
    for k, c in enumerate(record["cases"]):
      args, want = tuple(checker.dec(a) for a in c["args"]), checker.dec(c["expected"])
      shown = checker.show(args)
      answers = [
        want,
        _map_floats(want, lambda a, r=rtol, t=atol: a * (1 + 0.3 * r) + 0.3 * t),
        _map_floats(want, lambda a, r=rtol, t=atol: a * (1 + 20 * r) + 20 * t + 1e-3),
        _drop_last(want),
        _map_floats(want, lambda a: np.full_like(a, np.nan)),
        "a string",
        None,
      ]
      printed = (record.get("erratum") or {}).get("printed")
      if printed is not None and (record.get("erratum") or {}).get("en"):  # a wrong print, not a right one
        answers.append(tuple(printed) if record["compare"]["kind"] == "pair" else printed)
      for i, got in enumerate(answers):
        # Case k answered with `got`; case 0 (when k is 1) answered right, so only case k can fail.
        ours = checker.check_record(
          {**record, "cases": record["cases"][: k + 1]},
          lambda *a, g=got, s=shown, w=want0: g if checker.show(a) == s else w,
          "en",
        )
        theirs = grade(q, Case(record["name"], k, True, args), want, got)
        assert (ours.passed == k + 1) == theirs.ok, (record["name"], k, checker.show(got), theirs, ours.lines)
        assert theirs.ok == (i < 2), (record["name"], k, i)  # right, within tolerance; then every wrong kind
        assert any("known erratum" in ln for ln in ours.lines) == theirs.article_erratum, (record["name"], k)


# ---------------------------------------------------------------------------------------------
# The hand-out as `python -m grader handout` builds it, on a machine with no POSIX API and no isolation tool.

Q4_PRINTED = '''
def attention_fusion(vector_text, vector_image, vector_audio):
  return [7.8, 8.9, 9.0]   # the article's printed value, whatever the call
'''


@pytest.mark.skipif(not (PROJECT / "questions" / "assignments.toml").is_file(), reason="no questions/ records yet")
@pytest.mark.parametrize("command", [["check.py"], ["-m", "grader", "exercises"]])
def test_the_built_pack_self_checks_without_posix_by_a_relative_interpreter(tmp_path, command):
  from grader.handout import build_handout

  root = tmp_path / "pack"
  build_handout(root, assignment_name="part1", with_notebooks=False)
  (root / "exercises" / "q4_attention_fusion.py").write_text(Q4_PRINTED, encoding="utf-8")
  hide = tmp_path / "hide"
  hide.mkdir()
  # The pack's own `grader` shim must stay importable; the real grader's modules are absent from the pack.
  (hide / "sitecustomize.py").write_text(
    HIDE_POSIX.replace('"grader", "grader.isolation", "grader.sandbox"', '"grader.isolation", "grader.sandbox"'),
    encoding="utf-8",
  )
  assert not (root / "grader" / "sandbox.py").exists() and not (root / "grader" / "isolation.py").exists()
  out = _run((root, hide), *command, "--only", "attention_fusion", "--lang", "en")
  text = out.stdout.decode("utf-8")
  assert out.returncode == 1, out.stderr.decode()
  assert "SELF-CHECK of the visible cases only" in text and "no sandbox" in text
  assert "call:       attention_fusion(vector_text=[1, 2, 3], vector_image=[4, 5, 6], vector_audio=[7, 8, 9])" in text
  assert "expected:   [3.1, 4.1, 5.1]" in text or "expected:   array([3.1, 4.1, 5.1]" in text, text
  assert "got:        [7.8, 8.9, 9]" in text
  assert "first difference: the answer at index [0]: expected 3.1, got 7.8" in text
  assert text.count("known erratum of the article") == 1, text
  assert "total: 0/2 visible cases passed, 0/1 questions complete" in text

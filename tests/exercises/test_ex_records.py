"""questions/: the records load as docs/questions.md says, their generated files are current, ENC round-trips,
the loader refuses broken records, the stubs carry their records' task, and grader/ names no question."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader import cases as C
from grader import questions as Q
from grader import record_docs

ROOT = Path(__file__).resolve().parents[2]
PART1 = [
  "time_align",
  "feature_align",
  "feature_fusion",
  "attention_fusion",
  "encode",
  "decode",
  "self_attention",
  "self_attention_fusion",
]
PART2 = [
  "scaled_dot_product_attention",
  "multi_head_attention",
  "tensor_fusion",
  "low_rank_fusion",
  "gated_fusion",
  "film",
  "clip_loss",
  "interp_align",
  "dtw",
]


@pytest.fixture(scope="module")
def cat():
  return Q.load()


def test_the_assignments_the_course_ships(cat):
  a = {n: cat.assignment(n) for n in ("part1", "part2", "core", "part3", "all")}
  assert a["part1"].names == PART1 and a["part1"].max_points == 80
  assert a["part2"].names == PART2 and a["part2"].max_points == 90
  assert a["core"].names == PART1 + PART2 and a["core"].max_points == 170
  assert cat.assignment().name == "core"
  assert a["all"].names == PART1 + PART2 + a["part3"].names
  assert all(q.part == 3 for q in a["part3"].questions)
  assert [q.part for q in a["core"].questions] == [1] * 8 + [2] * 9


def test_every_record_is_complete(cat):
  for q in cat.questions.values():
    assert q.folder == ROOT / "questions" / q.name
    assert q.has_private and (q.folder / "visible.json").is_file()
    assert (ROOT / "exercises" / f"{q.module}.py").is_file(), q.name
    assert q.task_en.strip() and q.task_zh.strip() and q.title_en and q.title_zh
    assert q.kind in Q.KINDS and q.rtol > 0 and q.atol > 0
    assert len(q.visible_cases()) == 2


def test_part1_and_part2_tolerances_are_the_contract_s(cat):
  for n in PART1:
    q = cat.questions[n]
    assert (q.rtol, q.atol, q.atol_scales_with_input) == (1e-5, 1e-5, True)
  for n in PART2:
    q = cat.questions[n]
    assert (q.rtol, q.atol, q.atol_scales_with_input) == (1e-4, 1e-4, False)


def test_visible_json_is_current(cat):
  """visible.json holds private.visible()'s arguments exactly and their references (rebuild: python -m grader.questions build)."""
  for q in cat.assignment("core").questions:
    data = json.loads((q.folder / "visible.json").read_text(encoding="utf-8"))
    calls = q.private.visible()
    assert [c["args"] for c in data["cases"]] == [[Q.enc(a) for a in args] for args in calls], q.name
    for (args, want), _c in zip(q.visible_cases(), data["cases"]):
      got = C.reference(q, args)
      for w, g in zip(*[x if isinstance(x, tuple) else (x,) for x in (want, got)]):
        assert np.asarray(w).shape == np.asarray(g).shape
        np.testing.assert_allclose(np.asarray(w, float), np.asarray(g, float), rtol=1e-12, atol=1e-12, err_msg=q.name)


def test_generated_docs_are_current(cat):
  """docs/errata.md's table and exercises/README.md's tables (rebuild: python -m grader.questions build)."""
  for (path, key), text in record_docs.blocks(cat).items():
    assert record_docs.current(path, key) == text, f"{path.name} ({key}) is stale"


# ---------------------------------------------------------------------------------------------
# ENC.


def _same(a, b) -> bool:
  if isinstance(a, np.ndarray):
    return (
      isinstance(b, np.ndarray)
      and a.dtype == b.dtype
      and a.shape == b.shape
      and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    )
  if isinstance(a, (list, tuple)):
    return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
  if isinstance(a, dict):
    return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
  if isinstance(a, float) and math.isnan(a):
    return isinstance(b, float) and math.isnan(b)
  return type(a) is type(b) and a == b


@pytest.mark.parametrize(
  "value",
  [
    None,
    True,
    3,
    -0.1,
    1e-300,
    float("nan"),
    float("inf"),
    float("-inf"),
    "text",
    [1, 2.5, [3]],
    (1, [2.0], (None,)),
    {"a": {"b": [1, 2]}},
    np.float32([0.1, -1e-8, 3.4e38]),
    np.array([[1e-45, np.nan], [np.inf, -np.inf]], np.float32),
    np.zeros((0, 3), np.float32),
    np.array(2.5),
    np.array([[True, False]]),
    np.arange(6, dtype=np.int32).reshape(2, 3, 1),
    np.array([1, -2], np.int64),
  ],
)
def test_enc_round_trips_exactly(value):
  text = json.dumps(Q.enc(value), allow_nan=False)  # strict JSON: no NaN literals
  assert _same(Q.dec(json.loads(text)), value)


def test_enc_refuses_what_it_cannot_write():
  for bad in (object(), {1: 2}, np.array(["a"]), 1j):
    with pytest.raises(TypeError):
      Q.enc(bad)
  with pytest.raises(ValueError):
    Q.dec({"pickle": "x"})


# ---------------------------------------------------------------------------------------------
# The loader refuses broken records.


def _copy_record(dst: Path, name: str, new: str | None = None) -> Path:
  new = new or name
  shutil.copytree(ROOT / "questions" / name, dst / new, ignore=shutil.ignore_patterns("__pycache__"))
  toml = dst / new / "question.toml"
  toml.write_text(toml.read_text(encoding="utf-8").replace(f'name = "{name}"', f'name = "{new}"'), encoding="utf-8")
  vis = dst / new / "visible.json"
  vis.write_text(vis.read_text(encoding="utf-8").replace(f'"name": "{name}"', f'"name": "{new}"', 1), encoding="utf-8")
  return dst / new


def test_a_question_defined_twice_is_an_error(tmp_path):
  _copy_record(tmp_path, "encode")
  with pytest.raises(Q.RecordError, match="defined twice"):
    Q.load([tmp_path])


def test_an_assignment_defined_twice_is_an_error(tmp_path):
  (tmp_path / "assignments.toml").write_text('[core]\nquestions = ["encode"]\n')
  with pytest.raises(Q.RecordError, match="defined twice"):
    Q.load([tmp_path])


@pytest.mark.parametrize(
  "edit, match",
  [
    (('kind = "array"', 'kind = "matrix"'), "compare.kind"),
    (('rtol = 1e-05', 'rtol = -1'), "rtol"),
    (('name = "twice"', 'name = "thrice"'), "folder's name"),
    (('part = 1', 'part = 1\nauthor = "me"'), "unknown keys"),
    (('params = ["vector"]', 'params = ["vector", "not an identifier"]'), "params"),
  ],
)
def test_a_broken_question_toml_is_named(tmp_path, edit, match):
  folder = _copy_record(tmp_path, "encode", "twice")
  toml = folder / "question.toml"
  text = toml.read_text(encoding="utf-8")
  assert edit[0] in text
  toml.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
  with pytest.raises(Q.RecordError, match=match) as e:
    Q.load([tmp_path])
  assert "twice" in str(e.value)


@pytest.mark.parametrize(
  "toml, match",
  [
    ('[mine]\nquestions = ["nothing_here"]\n', "has no record"),
    ('[mine]\nquestions = ["encode"]\npoints = 5\n', "points must be 10"),
    ('[mine]\ninclude = ["mine"]\n', "includes itself"),
    ('[mine]\ninclude = ["nope"]\n', "unknown assignment"),
    ('[mine]\ninclude = ["part1"]\nquestions = ["encode"]\n', "more than once"),
  ],
)
def test_a_broken_assignments_toml_is_named(tmp_path, toml, match):
  (tmp_path / "assignments.toml").write_text(toml)
  with pytest.raises(Q.RecordError, match=match):
    Q.load([tmp_path])


def test_an_optional_list_skips_records_not_written_yet(tmp_path):
  (tmp_path / "assignments.toml").write_text('[later]\nquestions = ["encode", "not_yet"]\noptional = true\n')
  assert Q.load([tmp_path]).assignment("later").names == ["encode"]


def test_an_unknown_assignment_lists_the_known_ones(cat):
  with pytest.raises(Q.RecordError, match="known: all, core, part1, part2, part3"):
    cat.assignment("week9")


def test_the_hand_out_side_has_no_private_part(tmp_path):
  folder = _copy_record(tmp_path, "encode", "public_only")
  (folder / "private.py").unlink()
  q = Q.load([tmp_path]).questions["public_only"]
  assert len(q.visible_cases()) == 2 and not q.has_private
  with pytest.raises(Q.RecordError, match="no private.py"):
    _ = q.private


# ---------------------------------------------------------------------------------------------
# The stubs carry their records' task; grader/ names no question.


def _stub_doc(q) -> str:
  path = ROOT / "exercises" / f"{q.module}.py"
  spec = importlib.util.spec_from_file_location(f"_records_stub_{q.module}", path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  fn = getattr(mod, q.name)
  assert list(inspect.signature(fn).parameters) == [p.split("=")[0] for p in q.params], q.name
  assert [str(p) for p in inspect.signature(fn).parameters.values()] == list(q.params), q.name
  return inspect.cleandoc(fn.__doc__)


def test_every_stub_s_docstring_holds_its_record_s_task_in_both_languages(cat):
  """The records hold the task; the stubs show it word for word (so neither can drift from the other)."""
  for q in cat.assignment("all").questions:
    doc = _stub_doc(q)
    assert q.task_en.strip() in doc, f"{q.module}.{q.name}: the English task differs from question.toml"
    assert q.task_zh.strip() in doc, f"{q.module}.{q.name}: the Chinese task differs from question.toml"


def _grader_sources():
  return {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "grader").glob("*.py"))}


def test_grader_holds_no_per_question_code(cat):
  """No `name == "..."` dispatch, and no question's name as a string anywhere in grader/ (a kind may share one)."""
  names = set(cat.questions) - set(Q.KINDS)
  for fname, src in _grader_sources().items():
    tree = ast.parse(src)
    for node in ast.walk(tree):
      if isinstance(node, ast.Constant) and isinstance(node.value, str):
        assert node.value not in names, f"grader/{fname} names the question {node.value!r}"
      if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        named = any(
          isinstance(s, ast.Name) and s.id == "name" or isinstance(s, ast.Attribute) and s.attr == "name" for s in sides
        )
        literal = any(isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides)
        assert not (named and literal), f"grader/{fname}:{node.lineno} dispatches on a name"


# ---------------------------------------------------------------------------------------------
# docs/exercises.md stays true: its assignments table, and every option of every command.


def test_the_contract_page_s_assignments_table(cat):
  page = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
  rows = {}
  for line in page.split("## Assignments", 1)[1].split("##", 1)[0].splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 4 and cells[0].startswith("`"):
      rows[cells[0].split("`")[1]] = (cells[2], cells[3])
  for name in ("part1", "part2", "core"):
    a = cat.assignment(name)
    assert rows[name] == (str(len(a.questions)), str(a.max_points)), name
  assert set(rows) == set(cat.assignments)


def test_the_contract_page_names_every_option_of_every_command():
  from grader import __main__ as cli

  page = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
  for parser in (cli._main_parser(), cli._handout_parser(), cli._gradescope_parser()):
    for action in parser._actions:
      for opt in action.option_strings:
        if opt.startswith("--") and opt != "--help":
          assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", page), (
            f"{parser.prog} {opt} is not in docs/exercises.md (The command line)"
          )


def test_the_reference_cache_is_keyed_on_the_records_content(tmp_path, monkeypatch):
  """Editing a record's private.py (here: its reference) changes the cache key, so the references are recomputed."""
  from grader import grade

  monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
  qs = tmp_path / "qs"
  folder = _copy_record(qs, "encode", "twice")
  (qs / "assignments.toml").write_text('[mine]\nquestions = ["twice"]\n')
  first = grade.load_caseset(0, assignment_name="mine", questions_dirs=[qs])
  again = grade.load_caseset(0, assignment_name="mine", questions_dirs=[qs])
  assert first.key == again.key and len(list((tmp_path / "cache").glob("references-*.json"))) == 1  # (and jax-aot/)
  private = folder / "private.py"
  old = "return refjit.jit(encode, asarray=True)(vector)"
  assert old in private.read_text()
  private.write_text(private.read_text().replace(old, old + " * 0"))
  C.catalog.cache_clear()
  try:
    edited = grade.load_caseset(0, assignment_name="mine", questions_dirs=[qs])
  finally:
    C.catalog.cache_clear()
  assert edited.key != first.key
  assert all(float(abs(e).sum()) == 0 for e in edited.expected["twice"])  # recomputed, not served from the cache


def test_collect_part_appends_the_folder_s_other_records_of_that_part(tmp_path):
  for name in ("zeta", "alpha"):
    folder = _copy_record(tmp_path, "encode", name)
    toml = folder / "question.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("part = 1", "part = 3"), encoding="utf-8")
  (tmp_path / "assignments.toml").write_text('[extra]\nquestions = ["zeta"]\ncollect_part = 3\n')
  cat = Q.load([tmp_path])
  assert cat.assignment("extra").names == ["zeta", "alpha"]
  # The project's part3 collects from questions/ only, never from a teacher's folder.
  assert all(q.folder.parent == ROOT / "questions" for q in cat.assignment("part3").questions)

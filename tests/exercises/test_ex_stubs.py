"""exercises/ stubs: they raise NotImplementedError, their examples are right; solutions never reach the zoo."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from grader import cases as C

ALL = [q.name for q in C.catalog().assignment("all").questions]  # Parts I-III: every stub in exercises/

ROOT = Path(__file__).resolve().parents[2]


def _load(folder: str, module: str):
  spec = importlib.util.spec_from_file_location(
    f"_stubtest_{folder.replace('/', '_')}_{module}", ROOT / folder / f"{module}.py"
  )
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


@pytest.mark.parametrize("name", C.NAMES)
def test_stub_raises_not_implemented(name):
  s = C.SPECS[name]
  fn = getattr(_load("exercises", s.module), name)
  for c in C.cases(name, 0)[:2]:
    with pytest.raises(NotImplementedError):
      fn(*c.args)


def test_stubs_define_only_the_graded_functions_and_raise_in_every_body():
  graded = set(ALL)
  found = set()
  for path in sorted((ROOT / "exercises").glob("*.py")):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
      if isinstance(node, ast.FunctionDef):
        found.add(node.name)
        body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body  # after the docstring
        assert len(body) == 1 and isinstance(body[0], ast.Raise), (path.name, node.name)
        assert ast.unparse(body[0].exc).startswith("NotImplementedError"), (path.name, node.name)
  assert found == graded


def _imported_modules(tree: ast.AST) -> set[str]:
  mods = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      mods.update(a.name.split(".")[0] for a in node.names)
    elif isinstance(node, ast.ImportFrom):
      mods.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"zoo(\..*)?", node.value):
      mods.add("zoo")  # importlib.import_module("zoo...") or __import__("zoo")
  return mods


@pytest.mark.parametrize("folder", ["solutions", "tests/answers_f64", "exercises"])
def test_answers_never_import_the_zoo_or_the_grader(folder):
  files = sorted((ROOT / folder).glob("*.py"))
  assert files
  for path in files:
    mods = _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
    assert not mods & {"zoo", "grader", "solutions"}, (path, mods)
  # Part I solutions are numpy only; Part II solutions are jax.numpy.
  if folder == "solutions":
    for s in C.FUNCTIONS:
      mods = _imported_modules(ast.parse((ROOT / folder / f"{s.module}.py").read_text(encoding="utf-8")))
      assert mods <= ({"numpy"} if s.part == 1 else {"numpy", "jax", "functools"}), (s.module, mods)
      if s.part == 2:
        assert "jax" in mods


def test_solution_import_does_not_load_the_zoo():
  import subprocess
  import sys

  code = (
    "import importlib.util, sys, pathlib\n"
    "files = sorted(pathlib.Path('solutions').glob('*.py')) + sorted(pathlib.Path('tests/answers_f64').glob('*.py'))\n"
    "for p in files:\n"
    "  s = importlib.util.spec_from_file_location('m_' + p.stem, p)\n"
    "  m = importlib.util.module_from_spec(s)\n"
    "  s.loader.exec_module(m)\n"
    "assert not any(k == 'zoo' or k.startswith('zoo.') for k in sys.modules)\n"
  )
  r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------------------
# The examples in the stubs' docstrings are right: each `>>> call` is run against the zoo's
# float64 reference and compared with the literal printed on the next line.


def _examples(doc: str):
  """[(setup statements, call expression, expected literal)] from `>>>`/`...` lines."""
  out, setup, lines = [], [], doc.splitlines()
  i = 0
  while i < len(lines):
    line = lines[i].strip()
    if line.startswith(">>> "):
      stmt = line[4:]
      while i + 1 < len(lines) and lines[i + 1].strip().startswith("... "):
        i += 1
        stmt += "\n" + lines[i].strip()[4:]
      nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
      if nxt and not nxt.startswith(">>>"):
        out.append((list(setup), stmt, nxt))
        setup = []
        i += 1
      else:
        setup.append(stmt)
    i += 1
  return out


def _close(want, got, where):
  is_dtw = (
    isinstance(want, tuple)
    and len(want) == 2
    and isinstance(want[1], list)
    and want[1]
    and isinstance(want[1][0], tuple)
  )
  if is_dtw:
    cost, path = got
    assert float(cost) == pytest.approx(want[0], abs=1e-6), where
    assert [tuple(p) for p in np.asarray(path).tolist()] == want[1], where
    return
  if isinstance(want, tuple):
    assert isinstance(got, tuple) and len(got) == len(want), where
    for w, g in zip(want, got):
      _close(w, g, where)
    return
  w, g = np.asarray(want, np.float64), np.asarray(got, np.float64)
  assert w.shape == g.shape, where
  np.testing.assert_allclose(g, w, rtol=0, atol=1e-7 * max(1.0, float(np.abs(w).max(initial=0))) + 5e-9, err_msg=where)


def test_docstring_examples_match_the_reference():
  namespace = {"np": np}
  for name in ALL:
    namespace[name] = (lambda n: lambda *args: C.reference(n, args))(name)
  checked = set()
  for path in sorted((ROOT / "exercises").glob("*.py")):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
      if not isinstance(node, ast.FunctionDef):
        continue
      for setup, call, literal in _examples(ast.get_docstring(node) or ""):
        where = f"{path.name}:{node.name}: {call}"
        for stmt in setup:
          exec(stmt, namespace)  # noqa: S102 — our own docstrings
        got = eval(call, namespace)  # noqa: S307
        _close(ast.literal_eval(literal), got, where)
        checked.add(node.name)
  # Every Part I function shows both visible cases; every Part II function but the three with
  # parameter trees too large to print shows one.
  assert checked >= set(C.NAMES) - {"multi_head_attention", "low_rank_fusion", "gated_fusion"}


def test_part1_stubs_show_both_visible_cases():
  for s in C.FUNCTIONS[:8]:
    tree = ast.parse((ROOT / "exercises" / f"{s.module}.py").read_text(encoding="utf-8"))
    doc = ast.get_docstring(next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == s.name))
    # "f([1, 2], [3])" -> ([1, 2], [3]); "f([1, 2])" -> ([1, 2],)
    calls = [ast.literal_eval("(" + call.split("(", 1)[1]) for _, call, _ in _examples(doc)]
    args = [c if isinstance(c, tuple) else (c,) for c in calls]
    for case in C.cases(s.name, 0)[:2]:
      assert case.args in args, (s.name, case.args, args)


def test_stub_docstrings_are_bilingual_and_state_the_article_verdict():
  for s in C.FUNCTIONS:
    src = (ROOT / "exercises" / f"{s.module}.py").read_text(encoding="utf-8")
    fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == s.name)
    doc = ast.get_docstring(fn)
    assert re.search(r"Task:", doc) and re.search(r"任务：", doc), s.name
    assert "Shapes:" in doc and "形状：" in doc, s.name
    if s.erratum_en:
      assert "WRONG (a known erratum)" in doc and "已知勘误" in doc, s.name
    elif s.article_printed is not None:
      assert "that is right" in doc and "正确" in doc, s.name


def test_readme_is_bilingual_and_names_the_self_check():
  text = (ROOT / "exercises" / "README.md").read_text(encoding="utf-8")
  assert "python -m grader exercises/" in text
  assert "## English" in text and "## 中文" in text
  for s in C.FUNCTIONS:
    assert s.name in text and s.module in text

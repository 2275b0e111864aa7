"""The notebooks built from question records, executed headless in a real Jupyter kernel (nbclient + ipykernel).

One kernel for the module: the English notebook runs with its stubs (every check says "not implemented"),
then the Chinese one, in the same kernel, with the fixture's solutions pasted into the stub cells
(every visible case passes). The executed notebook, read back as a submission, holds the student's code only.
"""

import ast
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader import checker, isolation, notebooks

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "selfcheck" / "records.py"
_spec = importlib.util.spec_from_file_location("selfcheck_records_nb", FIXTURE)
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)

STUDENT_EXTRA = "%time _ = 1\n!echo hello\nx = 10 % 3\n"  # IPython lines the grader must leave out


def _role(cell):
  return (cell.metadata.get("mmzoo") or {}).get("role")


def _text(cell) -> str:
  return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  root = tmp_path_factory.mktemp("nb")
  records = [notebooks.public_record(f) for f in fx.write_records(root / "questions")]
  paths = notebooks.write_notebooks(root / "out", records, "fixture")
  return root, records, paths


@pytest.fixture(scope="module")
def executed(built):
  """Both notebooks run in one kernel, in a folder outside the project: (stub notebook, solved notebook)."""
  root, _, (en_path, zh_path) = built
  stubs = nbformat.read(en_path, as_version=4)
  solved = nbformat.read(zh_path, as_version=4)
  for cell in solved.cells:
    if cell.cell_type == "code" and _role(cell) is None:
      cell.source = fx.SOLUTION + STUDENT_EXTRA
  probe = nbformat.v4.new_code_cell(
    "import sys\nprint(sorted({m.split('.')[0] for m in sys.modules} & "
    "{'grader', 'zoo', 'jax', 'nbformat', 'tomllib'}))"
  )
  client = NotebookClient(stubs, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(root)}})
  with client.setup_kernel():
    for i, cell in enumerate(stubs.cells):
      client.execute_cell(cell, i)
    client.nb = solved
    for i, cell in enumerate(solved.cells):
      client.execute_cell(cell, i)
    solved.cells.append(probe)
    client.execute_cell(probe, len(solved.cells) - 1)
    solved.cells.pop()
  return stubs, solved, _text(probe)


def test_notebooks_are_valid_and_tagged(built):
  _, records, paths = built
  assert [p.name for p in paths] == ["fixture_en.ipynb", "fixture_zh.ipynb"]
  for path, lang in zip(paths, ("en", "zh")):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert _role(nb.cells[1]) == "setup" and nb.cells[1].metadata["jupyter"]["source_hidden"]
    for r in records:
      md, stub, chk = [
        c
        for c in nb.cells
        if (c.metadata.get("mmzoo") or {}).get("question") == r["name"] or c.source.startswith(f"def {r['name']}(")
      ]
      assert r["title_" + lang] in md.source and r["task"][lang].strip() in md.source
      assert (
        stub.source.startswith(f"def {r['name']}({', '.join(r['params'])}):") and "NotImplementedError" in stub.source
      )
      assert chk.metadata["mmzoo"] == {"role": "check", "question": r["name"]} and chk.source == f'check("{r["name"]}")'


def test_stubs_say_not_implemented(executed):
  stubs, _, _ = executed
  checks = [c for c in stubs.cells if _role(c) == "check"]
  assert len(checks) == 2
  for c in checks:
    assert "0/2 visible cases passed" in _text(c) and "not implemented" in _text(c), _text(c)
  assert "SELF-CHECK" in _text(stubs.cells[1])


def test_solutions_pass_every_visible_case_in_chinese(executed):
  _, solved, probe = executed
  checks = [c for c in solved.cells if _role(c) == "check"]
  for c in checks:
    assert "通过 2/2 个可见用例" in _text(c) and "可见用例 1：" not in _text(c), _text(c)
    assert not [o for o in c.outputs if o.output_type == "error"]
  assert "仅为可见用例的自测" in _text(solved.cells[1])
  assert probe.strip() == "[]"  # the notebook's checker needs neither the project nor nbformat (numpy only)


def test_executed_notebook_as_a_submission_is_the_students_code_only(executed, built, tmp_path):
  _, solved, _ = executed
  src = notebooks.submission_source(nbformat.writes(solved))
  ast.parse(src)
  assert fx.SOLUTION.strip() in src
  assert "_mmzoo" not in src and "check(" not in src and "NotImplementedError" not in src
  assert "# [left out] %time _ = 1" in src and "# [left out] !echo hello" in src and "x = 10 % 3" in src
  # Graded by the pack's checker as a lone notebook (the CLI reads .ipynb without nbformat): full marks.
  _, records, _ = built
  path = tmp_path / "work.ipynb"
  nbformat.write(solved, str(path))
  results = checker.check_folder(path, records, "en", stream=io.StringIO())
  assert [r.passed for r in results] == [2, 2]


def test_cells_are_recognised_by_tag_not_text():
  nb = {
    "cells": [
      {"cell_type": "code", "metadata": {}, "source": "def f():\n  return 1\ncheck('f')\n"},
      {"cell_type": "code", "metadata": {"mmzoo": {"role": "check", "question": "f"}}, "source": "f = 2"},
      {"cell_type": "code", "metadata": {"mmzoo": {"role": "setup"}}, "source": "g = 3"},
      {"cell_type": "markdown", "metadata": {}, "source": "h = 4"},
      {"cell_type": "code", "metadata": {}, "source": ["%%bash\n", "echo hi\n"]},
    ]
  }
  src = notebooks.submission_source(json.dumps(nb))
  assert "check('f')" in src and "f = 2" not in src and "g = 3" not in src and "h = 4" not in src
  assert "# [left out: cell magic] %%bash" in src
  ast.parse(src)


def test_check_py_reads_a_notebook_with_the_standard_library_only(built, tmp_path):
  _, records, (en_path, _) = built
  notebooks.write_self_check(tmp_path, records, "fixture")
  code = (
    "import sys; sys.modules['nbformat'] = None; sys.argv = ['check.py', sys.argv[1]]\n"
    "import runpy; runpy.run_path('check.py', run_name='__main__')"
  )
  out = subprocess.run(
    [sys.executable, "-c", code, str(en_path)], cwd=tmp_path, capture_output=True, timeout=60, check=False
  )
  assert out.returncode == 1, out.stderr.decode()
  assert out.stdout.decode().count("not implemented") == 2


# ---------------------------------------------------------------------------------------------
# The project's own records (questions/, once they exist): the `all` notebooks, as CI runs them.

PROJECT = Path(__file__).resolve().parents[2]


def _assignment(folder: Path, name: str) -> list:
  """The question folders of an assignment in questions/assignments.toml (its includes first)."""
  import tomllib

  raw = tomllib.loads((folder / "assignments.toml").read_text(encoding="utf-8"))
  a = raw[name]
  out = [q for inc in a.get("include", []) for q in _assignment(folder, inc)]
  return out + [folder / q for q in a.get("questions", []) if (folder / q / "question.toml").is_file()]


@pytest.mark.skipif(not (PROJECT / "questions" / "assignments.toml").is_file(), reason="no questions/ records yet")
def test_all_notebooks_with_the_projects_records(tmp_path):
  records = [notebooks.public_record(f) for f in _assignment(PROJECT / "questions", "all")]
  en_path, zh_path = notebooks.write_notebooks(tmp_path, records, "all")
  stubs, solved = nbformat.read(en_path, as_version=4), nbformat.read(zh_path, as_version=4)
  solvable = set()
  for cell in solved.cells:
    name = cell.source.split("(")[0][4:] if cell.source.startswith("def ") and _role(cell) is None else None
    record = next((r for r in records if r["name"] == name), None)
    sol = PROJECT / "solutions" / f"{record['module']}.py" if record else None
    if sol is not None and sol.is_file():  # the whole solution module pasted in, as a student would
      cell.source = sol.read_text(encoding="utf-8")
      solvable.add(name)
  client = NotebookClient(stubs, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
  with client.setup_kernel():
    for i, cell in enumerate(stubs.cells):
      client.execute_cell(cell, i)
    client.nb = solved
    for i, cell in enumerate(solved.cells):
      client.execute_cell(cell, i)
  for c in stubs.cells:
    if _role(c) == "check":
      assert "not implemented" in _text(c), _text(c)
  passed = {
    c.metadata["mmzoo"]["question"] for c in solved.cells if _role(c) == "check" and "通过 2/2 个可见用例" in _text(c)
  }
  assert passed == solvable and len(solvable) >= 17, {
    c.metadata["mmzoo"]["question"]: _text(c) for c in solved.cells if _role(c) == "check"
  }
  # Graded by the real grader, the executed Chinese notebook scores what the solutions score: full marks on
  # every question whose solution was pasted (the solutions score 10 each: test_grader_cli), and its setup and
  # check cells (tagged) are not part of the submission.
  sub = tmp_path / "graded"
  sub.mkdir()
  sub.chmod(0o755)
  tmp_path.chmod(0o755)
  nbformat.write(solved, str(sub / "work.ipynb"))
  env = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "LC_ALL", "LANGUAGE")}
  env.update(LANG="C.UTF-8", PYTHONPATH=str(PROJECT))
  results = sub / "results.json"
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "grader",
      str(sub / "work.ipynb"),
      "--assignment",
      "all",
      "--sandbox",
      isolation.detect("auto"),
      "--results",
      str(results),
    ],
    cwd=sub,
    env=env,
    capture_output=True,
    text=True,
    timeout=900,
    check=False,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  data = json.loads(results.read_text(encoding="utf-8"))
  points = {}
  for test in data["tests"]:
    points[test["name"].split(":")[0]] = points.get(test["name"].split(":")[0], 0) + test["score"]
  assert {n for n, v in points.items() if v == 10} == solvable, proc.stdout
  assert data["score"] == 10 * len(solvable), proc.stdout


def test_handout_manifest_holds_the_packs_files_but_not_the_stubs(built, tmp_path):
  _, records, _ = built
  notebooks.write_self_check(tmp_path, records, "fixture")
  notebooks.write_notebooks(tmp_path, records, "fixture")
  (tmp_path / "exercises").mkdir()
  (tmp_path / "exercises" / f"{fx.MODULE}.py").write_text("".join(notebooks.stub_code(r) for r in records))
  manifest = notebooks.handout_manifest(tmp_path)
  assert sorted(manifest) == ["check.py", "check_data.json", "fixture_en.ipynb", "fixture_zh.ipynb"]
  assert checker.is_pack_file(tmp_path / "fixture_zh.ipynb", manifest)
  assert not checker.is_pack_file(tmp_path / "exercises" / f"{fx.MODULE}.py", manifest)


def test_the_grader_leaves_out_tagged_cells_and_says_how_to_install_nbformat(built, tmp_path, monkeypatch):
  from grader import i18n, submission

  _, _, (en_path, _) = built
  reading = submission.Reading()
  src = submission.notebook_to_python("work.ipynb", en_path.read_bytes(), reading)
  assert not reading.problems and "_mmzoo" not in src and 'check("' not in src
  assert src.count("NotImplementedError") == 2  # the two stubs: the student's cells
  monkeypatch.setitem(sys.modules, "nbformat", None)
  reading = submission.Reading()
  assert submission.notebook_to_python("work.ipynb", en_path.read_bytes(), reading) is None
  [problem] = reading.problems
  assert problem.code == "notebook_needs_nbformat"
  assert "python -m pip install nbformat" in i18n.t("en", problem.code, **problem.params)
  assert "安装命令：python -m pip install nbformat" in i18n.t("zh", problem.code, **problem.params)

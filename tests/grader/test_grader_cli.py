"""`python -m grader` end to end, as a subprocess: the solutions, the stubs, every submission form, the
feedback (en and zh, errata, failures of every kind), results.json, and the exit codes.

Each graded run is a module-scoped fixture shared by the assertions about it. Runs that need the
solutions' JAX go through the strongest isolation this machine has; numpy runs go through plain mode.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from cli_run import run_grader

from grader import cases as C
from grader import isolation

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "answers_f64"  # the float64 numpy answer set
NAMES = C.NAMES  # the default assignment's 17, in contract order (test_ex_cases checks them against the contract)
STRONGEST = isolation.detect("auto")


class Run:
  """One CLI run: exit status, output, results.json, and per-function points and feedback."""

  def __init__(self, proc, results: Path):
    self.rc, self.out, self.err = proc.returncode, proc.stdout, proc.stderr
    self.results = json.loads(results.read_text(encoding="utf-8")) if results.exists() else None
    self.points, self.text = {}, {}
    for t in (self.results or {}).get("tests", []):
      name = t["name"].split(":")[0].split()[0]
      self.points[name] = self.points.get(name, 0) + t["score"]
      self.text[name] = self.text.get(name, "") + "\n" + t["output"]

  def row(self, name):
    """The table's row for a function."""
    return next(line for line in self.out.splitlines() if line.startswith(name + " "))


def cli(*args, cwd, results=True, timeout=600):
  """Runs python -m grader ARGS (with --results cwd/results.json unless told not to)."""
  out = Path(cwd) / "results.json"
  return Run(run_grader(*args, *(["--results", out] if results else []), cwd=cwd, timeout=timeout), out)


def work(factory, name):
  d = factory.mktemp(name)
  d.chmod(0o755)
  return d


# ---------------------------------------------------------------------------------------------
# Full marks and no marks.


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
  return cli(ROOT / "solutions", "--sandbox", STRONGEST, "--allow-plain", cwd=work(tmp_path_factory, "sol"))


@pytest.fixture(scope="module")
def answers_plain(tmp_path_factory):
  return cli(ANSWERS, "--sandbox", "plain", "--allow-plain", cwd=work(tmp_path_factory, "ans"))


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
  return cli(ROOT / "exercises", "--sandbox", "plain", "--allow-plain", cwd=work(tmp_path_factory, "ex"))


def test_the_solutions_score_170_in_the_strongest_isolation(solutions):
  assert solutions.rc == 0, solutions.err[-3000:]
  assert solutions.results["score"] == 170
  assert f"isolation: {STRONGEST}" in solutions.out
  assert solutions.out.rstrip().splitlines()[-1].split()[-1] == "170/170"
  assert all(solutions.points[n] == 10 for n in NAMES)


def test_the_float64_answers_score_170_in_plain_mode(answers_plain):
  assert answers_plain.rc == 0, answers_plain.err[-3000:]
  assert answers_plain.results["score"] == 170 and "isolation: plain" in answers_plain.out


def test_the_stubs_score_0_with_not_implemented_for_every_function(stubs):
  assert stubs.rc == 0 and stubs.results["score"] == 0
  for name in NAMES:
    assert "not implemented" in stubs.row(name), stubs.row(name)
    assert "0/10" in stubs.row(name)
    assert "NotImplementedError" in stubs.text[name]


def test_results_json_follows_gradescope_s_schema(solutions, stubs):
  for run in (solutions, stubs):
    r = run.results
    assert set(r) >= {"score", "output", "execution_time", "tests"}
    assert isinstance(r["output"], str) and isinstance(r["execution_time"], (int, float))
    assert len(r["tests"]) == 170 and sum(t["max_score"] for t in r["tests"]) == 170
    assert r["score"] == sum(t["score"] for t in r["tests"])
    for t in r["tests"]:
      assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
      fn = t["name"].split(":")[0]
      assert fn in NAMES and t["name"][len(fn)] in ": "
      assert t["status"] in ("passed", "failed") and (t["status"] == "passed") == (t["score"] == t["max_score"])
      assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    per_function = [sum(1 for t in r["tests"] if t["name"].startswith(n + ":")) for n in NAMES]
    assert per_function == [10] * 17


# ---------------------------------------------------------------------------------------------
# Every submission form.


def _concatenated_answers() -> str:
  return "\n\n".join(
    p.read_text(encoding="utf-8") for p in sorted(ANSWERS.glob("q*.py")) + sorted(ANSWERS.glob("p*.py"))
  )


def test_a_single_py_file(tmp_path):
  (tmp_path / "hw.py").write_text(_concatenated_answers(), encoding="utf-8")
  run = cli(tmp_path / "hw.py", "--sandbox", "plain", "--allow-plain", cwd=tmp_path)
  assert run.rc == 0 and run.results["score"] == 170, run.out


def test_a_zip_of_a_folder(tmp_path):
  with zipfile.ZipFile(tmp_path / "hw.zip", "w") as zf:
    for p in sorted(ANSWERS.glob("*.py")):
      zf.write(p, f"homework/{p.name}")
  run = cli(tmp_path / "hw.zip", "--sandbox", "plain", "--allow-plain", cwd=tmp_path)
  assert run.rc == 0 and run.results["score"] == 170, run.out


def test_a_notebook_with_magics_and_shell_lines(tmp_path):
  nb = nbformat.v4.new_notebook()
  cells = ["%matplotlib inline\n!pip install numpy\nimport numpy as np", "%%bash\necho hello"]
  cells += [p.read_text(encoding="utf-8") for p in sorted(ANSWERS.glob("*.py")) if p.name != "__init__.py"]
  cells.append("%timeit time_align([1], [2])\nprint(time_align([1, 2], [3]))")
  nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
  (tmp_path / "hw.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
  run = cli(tmp_path / "hw.ipynb", "--sandbox", "plain", "--allow-plain", cwd=tmp_path)
  assert run.rc == 0 and run.results["score"] == 170, run.out


# ---------------------------------------------------------------------------------------------
# One submission that fails in every way, graded in both isolations and both languages.

MAIN = '''import os
import sys
import numpy as np

from d_helpers import softmax_last  # the submission's own module, imported by its name


def time_align(A, B):
  k = min(len(A), len(B))
  return A[:k], B[:k]


def feature_align(A, B):
  raise NotImplementedError


def attention_fusion(t, i, a):
  if list(t) == [1, 2, 3] and list(i) == [4, 5, 6] and list(a) == [7, 8, 9]:
    return [7.8, 8.9, 9.0]  # the article's printed value
  return [0.5 * x + 0.3 * y + 0.2 * z for x, y, z in zip(t, i, a)]


def encode(vector):
  sys.exit(3)


def decode(encoded_vector):
  # The article's erratum (halves once too often); None for an empty vector, so no case passes by luck.
  return [x / 4 for x in encoded_vector] or None


def self_attention(vectors):
  while True:
    pass


def self_attention_fusion(t, i, a):
  os._exit(4)


def scaled_dot_product_attention(q, k, v, mask=None):
  print("x" * 2_000_000)
  sys.stderr.write("y" * 2_000_000)
  s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(mask, s, -np.inf)
  return softmax_last(s) @ v


def dtw(x, y):
  return {1, 2}
'''

BROKEN = '''def feature_fusion(a, b, c):
  return [x + y + z for x, y, z in zip(a, b, c)]

value = undefined_name + 1
'''

CLASH = '''def time_align(A, B):
  return A, B
'''

HELPERS = '''import numpy as np


def softmax_last(s):
  w = np.exp(s - s.max(axis=-1, keepdims=True))
  return w / w.sum(axis=-1, keepdims=True)
'''


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
  d = work(tmp_path_factory, "mixed")
  sub = d / "sub"
  sub.mkdir()
  (sub / "a_main.py").write_text(MAIN)
  (sub / "b_broken.py").write_text(BROKEN)
  (sub / "c_clash.py").write_text(CLASH)
  (sub / "d_helpers.py").write_text(HELPERS)
  return sub


def _mixed(factory, folder, mode, lang):
  d = work(factory, f"mixed-{mode}-{lang}")
  run = cli(folder, "--sandbox", mode, "--allow-plain", "--lang", lang, "--call-timeout", "1.5", cwd=d)
  run.lang = lang
  return run


@pytest.fixture(scope="module")
def mixed_en(mixed_folder, tmp_path_factory):
  """In English, in the strongest isolation."""
  return _mixed(tmp_path_factory, mixed_folder, STRONGEST, "en")


@pytest.fixture(scope="module")
def mixed_zh(mixed_folder, tmp_path_factory):
  """In Chinese, in plain mode."""
  return _mixed(tmp_path_factory, mixed_folder, "plain", "zh")


@pytest.fixture(params=["mixed_en", "mixed_zh"])
def mixed(request):
  return request.getfixturevalue(request.param)


def test_points_of_the_mixed_submission(mixed):
  assert mixed.rc == 0, mixed.err[-3000:]
  expected = {n: 0 for n in NAMES}
  expected.update(time_align=10, attention_fusion=9, scaled_dot_product_attention=10)
  assert mixed.points == expected
  assert mixed.results["score"] == 29


def test_failures_are_told_apart(mixed_en):
  t = mixed_en.text
  assert "not implemented" in mixed_en.row("feature_align")
  assert "missing" in mixed_en.row("tensor_fusion") and "missing" not in mixed_en.row("feature_align")
  assert "import failed" in mixed_en.row("feature_fusion")
  assert "b_broken.py" in t["feature_fusion"] and "NameError" in t["feature_fusion"]
  assert "line 4" in t["feature_fusion"] and "undefined_name" in t["feature_fusion"]
  assert "SystemExit" in t["encode"]
  assert "time limit" in t["self_attention"] and "not run" in t["self_attention"]
  assert "exit code 4" in t["self_attention_fusion"]
  assert "could not be read back" in t["dtw"]
  clash = mixed_en.row("time_align")
  assert "a_main.py" in clash and "c_clash.py" in clash and "10/10" in clash


def test_the_article_s_errata_are_named(mixed):
  word = "erratum" if mixed.lang == "en" else "勘误"
  tests = {t["name"]: t["output"] for t in mixed.results["tests"]}
  visible_1 = [n for n in tests if n.startswith("attention_fusion:")][0]
  assert word in tests[visible_1]
  assert "3.1" in tests[visible_1]  # the right value, and why
  decode_1 = [n for n in tests if n.startswith("decode:")][0]
  assert word in tests[decode_1]
  # Only the article's own call is an erratum; the second visible case of decode is just wrong.
  decode_2 = [n for n in tests if n.startswith("decode:")][1]
  assert word not in tests[decode_2]


def test_visible_failures_show_the_call_and_hidden_ones_a_reason_only(mixed_en):
  outs = [t for t in mixed_en.results["tests"] if t["name"].startswith("decode:")]
  visible, hidden = outs[1]["output"], outs[5]["output"]
  assert "call: decode(encoded_vector=[-3, 1, 7])" in visible and "expected:" in visible and "got:" in visible
  assert "first difference: the answer at index [0]: expected -1.5, got -0.75 (difference 0.75; allowed " in visible
  assert hidden == "wrong values"  # the reason only
  assert "call:" not in hidden and "expected:" not in hidden and "got:" not in hidden


def test_the_terminal_shows_every_failed_visible_case_whole(mixed_en):
  """Issue 14: the input, expected, got and first difference of each failed visible case, the erratum where it
  applies; reasons never cut; never a pointer to a case that is not shown; nothing of a hidden case."""
  out = mixed_en.out
  assert "..." + "\n" not in out and "(see the visible case)" not in out
  section = out.split("Failed visible cases (the hidden cases are not shown):\n", 1)[1]
  block = section.split("decode, visible case 2: wrong values\n", 1)[1].split("\n\n")[0]
  assert "  call: decode(encoded_vector=[-3, 1, 7])" in block and "  expected: " in block and "  got: " in block
  assert "  first difference: the answer at index [0]: expected -1.5, got -0.75" in block
  first = section.split("attention_fusion, visible case 1: wrong values\n", 1)[1]
  assert first.splitlines()[0].startswith("  Your answer equals the value the article printed")
  assert "hidden case" not in section
  assert "feature_align, visible case" not in section  # "not implemented" is said by its row alone
  row = mixed_en.row("attention_fusion")
  assert row.endswith("the answer repeats a known erratum of the article (shown below)"), row


def test_chinese_details_have_no_english_sentence(mixed_zh):
  section = mixed_zh.out.split("未通过的可见用例（隐藏用例不显示）：\n", 1)[1]
  assert "第一处差异：答案在下标 [0] 处：期望 -1.5，实际 -0.75（相差 0.75；允许 " in section
  assert "调用：decode(encoded_vector=[-3, 1, 7])" in section
  assert "答案重复了原文的已知勘误（见下方）" in mixed_zh.row("attention_fusion")
  for line in mixed_zh.out.splitlines():
    # At most two English words in a row (identifiers, exception names, values may stay); not the
    # student's own text (the exception messages and source lines the fixture raises are English).
    if line.strip().startswith(("信息：", "第 ")) or "定义" in line:
      continue
    line = re.sub(r"(\w+Error): [^(]*", r"\1", line)  # Python's own message of an exception, as it is
    assert not re.search(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}", line), line


def test_chinese_feedback(mixed_zh):
  assert "总分" in mixed_zh.out and "未实现" in mixed_zh.row("feature_align")
  assert "缺失" in mixed_zh.row("film") and "导入失败" in mixed_zh.row("feature_fusion")


# ---------------------------------------------------------------------------------------------
# Exit codes and submissions that cannot be read.


def test_usage_errors_and_missing_paths_exit_2(tmp_path):
  run = cli(tmp_path / "nothing-here", cwd=tmp_path)
  assert run.rc == 2 and "no such file" in run.err and run.results is None
  assert cli(cwd=tmp_path, results=False).rc == 2
  assert cli(tmp_path, "--lang", "fr", cwd=tmp_path).rc == 2
  assert cli("--batch", tmp_path, cwd=tmp_path, results=False).rc == 2
  assert cli("handout", cwd=tmp_path, results=False).rc == 2  # the subcommand wins and needs OUT_DIR


@pytest.mark.parametrize(
  "name, data, reason",
  [
    ("empty", None, "no Python file"),
    ("hw.zip", b"PK\x03\x04 damaged", "zip file is damaged"),
    ("hw.py", b"def f():\n  return '\xff'\n", "not UTF-8"),
    ("hw.ipynb", b'{"cells": 5}', "not a valid Jupyter notebook"),
  ],
)
def test_unreadable_submissions_are_graded_0_with_the_reason(tmp_path, name, data, reason):
  path = tmp_path / name
  if data is None:
    path.mkdir()
  else:
    path.write_bytes(data)
  run = cli(path, "--sandbox", "plain", "--allow-plain", cwd=tmp_path)
  assert run.rc == 0 and run.results["score"] == 0
  assert reason in run.results["output"] and reason in run.out
  assert len(run.results["tests"]) == 170


def test_a_subcommand_name_can_still_be_graded_as_a_path(tmp_path):
  (tmp_path / "handout").mkdir()
  shutil.copy(ANSWERS / "q1_time_align.py", tmp_path / "handout")
  run = cli("./handout", "--sandbox", "plain", "--allow-plain", cwd=tmp_path)
  assert run.rc == 0 and run.points["time_align"] == 10 and run.results["score"] == 10


def test_a_warm_run_imports_neither_jax_nor_the_zoo(tmp_path):
  warm = subprocess.run(
    [sys.executable, "-c", "from grader.grade import load_caseset; load_caseset(0)"],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert warm.returncode == 0, warm.stderr[-2000:]
  env = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
  env.update(LANG="C.UTF-8", PYTHONPATH=str(ROOT), PYTHONPROFILEIMPORTTIME="1")
  proc = subprocess.run(
    [sys.executable, "-m", "grader", str(ANSWERS), "--sandbox", "plain", "--allow-plain"],
    cwd=tmp_path,
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert proc.returncode == 0 and "170/170" in proc.stdout
  imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
  assert "numpy" in imported and "grader.compare" in imported  # the importtime report is there
  assert not {m for m in imported if m.split(".")[0] in ("jax", "zoo", "flax")}


def test_a_variant_out_of_range_is_a_usage_error(tmp_path):
  # Any string is a seed now (tests/grader/test_trust_seed.py); a variant outside 0..K-1 is refused
  # before anything is computed.
  env = dict(os.environ, GRADER_SEED="winter-2026-s3cr3t", PYTHONPATH=str(ROOT))
  proc = subprocess.run(
    [sys.executable, "-m", "grader", str(ANSWERS), "--variants", "2", "--variant", "2"],
    cwd=tmp_path,
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert proc.returncode == 2 and "--variant" in proc.stderr

"""--assignment through the CLI: each part grades its own functions and points, results and batches name it,
and a batch --out folder refuses to mix two assignments without --force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_grader as grader

from grader import batch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
  d = tmp_path_factory.mktemp("assignments")
  d.chmod(0o755)
  return d


@pytest.mark.parametrize("assignment, total", [("part1", "0/80"), ("part2", "0/90")])
def test_each_part_grades_its_own_functions(work, assignment, total):
  proc = grader(
    ROOT / "exercises",
    "--assignment",
    assignment,
    "--sandbox",
    "plain",
    "--allow-plain",
    "--results",
    work / f"{assignment}.json",
    cwd=work,
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.rstrip().splitlines()[-1].split()[-1] == total
  results = json.loads((work / f"{assignment}.json").read_text())
  assert results["extra_data"] == {"assignment": assignment, "variant": 0}
  assert len(results["tests"]) == int(total.split("/")[1])
  # Visible cases explain; hidden ones speak only the grader's vocabulary (docs/threat-model.md).
  visible = [t for t in results["tests"] if "visible case" in t["name"]]
  hidden = [t for t in results["tests"] if "hidden case" in t["name"]]
  assert len(visible) + len(hidden) == len(results["tests"])
  assert visible and all("not implemented" in t["output"] for t in visible)
  assert hidden and all(t["output"] == "raised NotImplementedError" for t in hidden)


def test_an_unknown_assignment_is_a_usage_error(work):
  proc = grader(ROOT / "exercises", "--assignment", "week9", "--sandbox", "plain", "--allow-plain", cwd=work)
  assert proc.returncode == 2 and "no assignment named 'week9'" in proc.stderr and "part1" in proc.stderr


def test_claim_out_refuses_another_assignment_unless_forced(tmp_path):
  batch.claim_out(tmp_path, "part1", ["encode"])
  batch.claim_out(tmp_path, "part1", ["encode"])  # the same one again: fine
  with pytest.raises(batch.MixedAssignments, match="'part1', not 'part2'"):
    batch.claim_out(tmp_path, "part2", ["dtw"])
  batch.claim_out(tmp_path, "part2", ["dtw"], force=True)
  assert json.loads((tmp_path / batch.ASSIGNMENT_FILE).read_text()) == {"assignment": "part2", "questions": ["dtw"]}


def test_a_batch_names_its_assignment_and_keeps_its_out_folder_to_it(work):
  roster, out = work / "roster", work / "out"
  roster.mkdir()
  (roster / "ann.py").write_text("def encode(vector):\n  return [2 * v for v in vector]\n")
  common = ("--sandbox", "plain", "--allow-plain", "--workers", "1")
  proc = grader("--batch", roster, "--out", out, "--assignment", "part1", *common, cwd=work)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "assignment part1: 1 graded" in proc.stdout
  assert json.loads((out / "assignment.json").read_text())["assignment"] == "part1"
  assert json.loads((out / "ann" / "results.json").read_text())["extra_data"]["assignment"] == "part1"
  header = (out / "gradebook.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
  assert header[header.index("variant") + 1 :] == [
    "time_align",
    "feature_align",
    "feature_fusion",
    "attention_fusion",
    "encode",
    "decode",
    "self_attention",
    "self_attention_fusion",
  ]
  proc = grader("--batch", roster, "--out", out, "--assignment", "part2", *common, cwd=work)
  assert proc.returncode == 2 and "--force" in proc.stderr
  assert json.loads((out / "assignment.json").read_text())["assignment"] == "part1"  # nothing changed
  proc = grader("--batch", roster, "--out", out, "--assignment", "part2", "--force", *common, cwd=work)
  assert proc.returncode == 0 and "assignment part2: 1 graded" in proc.stdout, proc.stderr[-2000:]
  assert json.loads((out / "assignment.json").read_text())["assignment"] == "part2"


def test_a_part_s_hand_out_holds_that_part_only(work):
  out = work / "pack1"
  proc = grader("handout", out, "--assignment", "part1", cwd=work)
  assert proc.returncode == 0, proc.stderr[-2000:]
  from grader import questions as Q

  part1 = Q.load().assignment("part1")
  assert sorted(p.name for p in (out / "exercises").glob("*.py")) == sorted({f"{q.module}.py" for q in part1.questions})
  assert sorted(p.name for p in (out / "questions").iterdir() if p.is_dir()) == sorted(part1.names)
  assert Q.load(project=out / "questions").assignment("part1").names == part1.names
  readme = (out / "exercises" / "README.md").read_text(encoding="utf-8")
  assert readme.count("| Part I |") == 8 and "| Part II |" not in readme and readme.count("| 第一部分 |") == 8
  assert json.loads((out / "check_data.json").read_text(encoding="utf-8"))["assignment"] == "part1"
  assert "`part1`: 8 functions, 80 points" in (out / "README.md").read_text(encoding="utf-8")

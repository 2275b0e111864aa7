"""Feedback is not a channel out of the sandbox (issue 12, section 1).

A hidden case shows one word of the grader's vocabulary and nothing the submission chose; every
visible case runs before any hidden one, so what a submission learns from a hidden input never reaches
a message that is shown; with the hidden tests not visible, the table counts visible cases only.
The vocabulary is written out here in English, independently of grader/i18n.py.
"""

import builtins
import json
import re

import numpy as np
import pytest
from test_hostile_submissions import ALL, build, run_cli

from grader import grade, report
from grader.grade import CaseResult, FunctionResult, GradeReport
from grader.sandbox import Outcome

PHRASE = "winter-2026-s3cr3t"  # a passphrase as a teacher types it (was refused: seeds had to be integers)
WORDS = {
  "passed",
  "wrong shape",
  "wrong values",
  "NaN or infinity where a finite number is expected",
  "raised an exception",
  "time limit",
  "the process stopped",
  "not run",
}
EXCEPTIONS = (
  {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
  | set(np.exceptions.__all__)
  | {"LinAlgError"}
)


def in_vocabulary(text: str) -> bool:
  """Whether a hidden case's output is exactly one word of the vocabulary."""
  if text in WORDS:
    return True
  m = re.fullmatch(r"raised (\w+)", text)
  return bool(m) and m.group(1) in EXCEPTIONS


# ---------------------------------------------------------------------------------------------
# Through the real CLI: the three exfiltration attacks of the issue in one submission.

LEAKERS = ["class_name_channel.py", "array_raises_message.py", "remembered_inputs.py"]


@pytest.fixture(scope="module")
def leaked(tmp_path_factory):
  work = tmp_path_factory.mktemp("trust-feedback")
  work.chmod(0o755)
  sub = work / "sub"
  attacked = build(sub, LEAKERS)
  (work / "seed").write_text(PHRASE + "\n")  # a file, never the command line (issue 12, F2)
  g = run_cli(sub, work, "--seed-file", work / "seed", "--hidden-visibility", "after_due_date")
  return g, attacked


def test_hidden_cases_show_only_the_vocabulary(leaked):
  g, attacked = leaked
  # decode answers correctly throughout; dtw passes its visible cases, then raises on the hidden ones.
  g.check([a for a in attacked if a not in ("decode", "dtw")], honest=set(ALL) - set(attacked) | {"decode"})
  assert g.score["dtw"] == 2, g.text["dtw"]
  hidden = [t for t in g.results["tests"] if "hidden case" in t["name"]]
  assert len(hidden) == 8 * len(ALL)
  bad = [(t["name"], t["output"]) for t in hidden if not in_vocabulary(t["output"])]
  assert bad == []
  # The class-name channel: a visible case may name the class (its inputs are public); no hidden one does.
  assert any("LEAK" in t["output"] for t in g.results["tests"] if t["name"].startswith("encode: visible"))
  assert not any("LEAK" in t["output"] for t in hidden)
  assert {t["output"] for t in hidden if t["name"].startswith(("encode", "clip_loss", "interp_align"))} == {
    "raised an exception"
  }
  # __array__ raising with a message: "wrong shape" on hidden cases, the message on visible ones only.
  assert {t["output"] for t in hidden if t["name"].startswith("film")} == {"wrong shape"}
  # Inputs remembered across functions reach no visible case: dtw's visible cases ran before any hidden call.
  assert "LEAK" not in g.text["dtw"]
  assert {t["output"] for t in hidden if t["name"].startswith("dtw")} == {"raised ValueError"}


def test_the_table_counts_visible_cases_when_the_hidden_are_not_shown(leaked):
  g, _ = leaked
  for text in (g.results["output"], g.out):
    assert not re.search(r"hidden case \d", text)
    rows = re.findall(r"^(\w+)\s+(\d+)/(\d+)\s", text, re.MULTILINE)
    assert {name for name, _, _ in rows} == set(ALL) and all(most == "2" for _, _, most in rows)
    assert "34" in re.search(r"^total.*$", text, re.MULTILINE).group(0)
    assert "LEAK" not in text.split("encode", 1)[0]  # nothing before the first attacked row either
  assert "dtw" in g.out and re.search(r"^dtw\s+2/2\s+all 2 cases passed", g.out, re.MULTILINE)


def test_the_seed_is_a_passphrase_and_is_never_shown(leaked):
  g, _ = leaked
  everything = g.out + g.err + json.dumps(g.results, ensure_ascii=False)
  assert PHRASE not in everything
  assert "seed" not in g.results["output"].lower() and "seed" not in g.out.lower()
  assert g.results["extra_data"] == {"assignment": "core", "variant": 0}
  assert "variant" not in g.results["output"].lower()


# ---------------------------------------------------------------------------------------------
# In process: what a hidden case says for every kind of outcome, forged details included.


def _spec(name="dtw"):
  from grader import cases

  return cases.spec(name)


def _case(visible):
  from grader.cases import Case

  return Case("dtw", 0 if visible else 5, visible, ())


FORGED = [
  Outcome("exception", info={"exc_type": "LEAKAAAA", "message": "secret 1.25", "path": "a.py", "line": 123456}),
  Outcome(
    "exception",
    info={"exc_type": "ValueError", "message": "x = 0.5", "path": "a.py", "line": 77, "text": "raise ValueError(x)"},
  ),
  Outcome("exception", info={"exc_type": "NotImplementedError", "not_implemented": True}),
  Outcome("timeout", error="time limit", info={"seconds": 3.7}),
  Outcome("crashed", error="the process exited with code 37", info={"kind": "exit", "code": 37}),
  Outcome("crashed", error="killed", info={"kind": "signal", "signal": "SIGUSR1"}),
  Outcome("crashed", error="could not start: LEAK stderr tail", info={"kind": "restart_failed"}),
  Outcome("crashed", error="gone", info={"kind": "gone_after_restart"}),
  Outcome("bad_output", error="the result could not be converted: ValueError: LEAK", info={"kind": "result"}),
  Outcome("bad_output", error="more than 9 bytes", info={"kind": "flood"}),
  Outcome("bad_output", error="bad frame LEAK", info={"kind": "wire"}),
  Outcome("skipped", error="budget", info={"kind": "budget", "seconds": 900}),
  Outcome("skipped", error="repeat", info={"kind": "repeat", "prior": "crashed"}),
]
WANT = [
  "raised an exception",
  "raised ValueError",
  "raised NotImplementedError",
  "time limit",
  "the process stopped",
  "the process stopped",
  "the process stopped",
  "the process stopped",
  "wrong shape",
  "the process stopped",
  "the process stopped",
  "not run",
  "not run",
]


@pytest.mark.parametrize("outcome, want", list(zip(FORGED, WANT)))
def test_a_hidden_outcome_is_one_word_whatever_its_details(outcome, want):
  res = grade.grade_case(_spec(), _case(False), None, outcome)
  assert res.score == 0 and len(res.lines) == 1
  assert report.case_text("en", res) == want
  assert in_vocabulary(want)
  zh = report.case_text("zh", res)
  assert zh and not re.search(r"\d|LEAK|secret", zh.replace("NotImplementedError", "").replace("ValueError", ""))
  # The same outcome on a visible case keeps its details (the inputs there are public).
  vis = grade.grade_case(_spec(), _case(True), None, outcome)
  assert report.case_text("en", vis)


def test_hidden_wrong_answers_fold_into_the_vocabulary():
  from grader import cases

  spec, c = cases.spec("dtw"), cases.cases("dtw", "0")[1]
  want = (np.float64(3.0), np.array([[0, 0], [1, 1], [2, 1]]))
  hid = dataclasses_replace(c, visible=False)
  for got, word in (
    ("a string", "wrong shape"),
    ((3.0, [(0, 1), (2, 1)]), "wrong values"),
    ((4.0, [(0, 0), (1, 1), (2, 1)]), "wrong values"),
    ((float("nan"), [(0, 0), (1, 1), (2, 1)]), "NaN or infinity where a finite number is expected"),
  ):
    res = grade.grade_case(spec, hid, want, Outcome("ok", value=got))
    assert report.case_text("en", res) == word, (got, res.lines)
    vis = grade.grade_case(spec, c, want, Outcome("ok", value=got))
    assert "call: dtw(" in report.case_text("en", vis)  # a visible case shows the call and the values


def dataclasses_replace(case, **kw):
  import dataclasses

  return dataclasses.replace(case, **kw)


def test_a_function_not_run_says_not_run_on_hidden_cases():
  from grader.sandbox import LoadReport

  spec = _spec("dtw")
  cs = [_case(True), _case(False)]
  load = LoadReport(
    found={"dtw": "import_error"},
    errors={"dtw": {"module": "m.py", "exc_type": "SyntaxError", "message": "LEAK", "line": 3}},
  )
  fr = grade._grade_function(spec, cs, [None, None], [None, None], load)
  assert report.case_text("en", fr.cases[1]) == "not run"
  assert "LEAK" in report.case_text("en", fr.cases[0])  # load-time errors come before any hidden input


def test_every_visible_case_is_called_before_any_hidden_one(monkeypatch):
  """_run calls in call_order and maps each outcome back to its own case."""
  caseset = grade.cases_only("0")
  caseset.expected = {n: [None] * len(cs) for n, cs in caseset.cases.items()}
  seen = []

  def fake_run(src, calls, names, **kw):
    from grader.sandbox import LoadReport

    seen.extend(calls)
    # Each call answers with its position, so the mapping back is visible in the results.
    outs = [Outcome("exception", info={"exc_type": "ValueError", "message": str(i)}) for i in range(len(calls))]
    return LoadReport(found={n: "ok" for n in names}), outs, "plain"

  monkeypatch.setattr(grade, "run_submission", fake_run)
  rep = GradeReport("x", [], [], {})
  grade._run(rep, None, caseset, "plain", None, 0, 1.0, None, [])
  n_visible = sum(c.visible for cs in caseset.cases.values() for c in cs)
  flags = [any(c.args is a for cs in caseset.cases.values() for c in cs if c.visible) for _, a in seen]
  assert flags == [True] * n_visible + [False] * (len(seen) - n_visible)
  for f in rep.functions:
    for c in f.cases:
      if c.visible:  # a visible case's message is its own call's position in the call order
        pos = int(re.search(r"message: (\d+)", report.case_text("en", c)).group(1))
        name, args = seen[pos]
        assert name == f.name and args is caseset.cases[f.name][c.index].args


def _report(hidden_passed: bool) -> GradeReport:
  cases = [
    CaseResult(
      "dtw",
      i,
      i < 2,
      1 if (i < 2 or hidden_passed) else 0,
      1,
      "passed" if (i < 2 or hidden_passed) else "exception",
      [("passed", {})] if (i < 2 or hidden_passed) else [("exception_other", {})],
    )
    for i in range(10)
  ]
  return GradeReport("sub", [FunctionResult("dtw", cases)], [], {}, variant=1)


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "after_published"])
def test_a_table_of_visible_cases_only_does_not_depend_on_the_hidden_results(visibility):
  for lang in ("en", "zh"):
    good, bad = report.table(_report(True), lang, visibility), report.table(_report(False), lang, visibility)
    assert good == bad and "2/2" in good and "/10" not in good
    assert report.results_json(_report(False), lang, visibility)["output"] == bad
  assert "2/10" in report.table(_report(False), "en", "visible")
  assert "hidden case 1: raised an exception" in report.table(_report(False), "en", "visible")


def test_the_variant_goes_to_extra_data_never_to_output():
  data = report.results_json(_report(False), "en")
  assert data["extra_data"] == {"assignment": "core", "variant": 1}
  assert "variant" not in data["output"].lower() and "seed" not in data["output"].lower()
  assert all("variant" not in t["output"] for t in data["tests"])


def test_the_grader_s_vocabulary_is_the_documented_one_in_both_languages():
  from grader import i18n

  rendered = set()
  for key in grade.HIDDEN_KEYS:
    assert key in i18n.EN and key in i18n.ZH, key
    rendered.add(report.render_line("en", key, {"exc": "ValueError"} if key == "exception" else {}))
  assert rendered == WORDS | {"raised ValueError"}
  assert grade.exception_names() == EXCEPTIONS

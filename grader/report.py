"""Feedback: the terminal table and Gradescope's results.json, in English or Chinese."""

from __future__ import annotations

import unicodedata

from grader.grade import import_error_params
from grader.i18n import is_message, render, t

# Gradescope's visibility for the hidden cases' tests; the instructor may choose another with
# --hidden-visibility. "visible" is the default because a hidden case's output is one word of the
# grader's vocabulary (grade.hidden_line). With any other choice the table (results.json's top-level
# `output`, which students see) counts the visible cases only, so it cannot reveal what the hidden
# tests hide.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
RESULT_CHARS = 110  # the width of the table's rule; a longer reason is shown whole (issue 14), never cut


def render_line(lang: str, key: str, params: dict) -> str:
  """One feedback line; a few keys pick language-specific parameters."""
  params = dict(params)
  if key in ("detail", "first_diff") and is_message(params.get("msg")):
    # compare.py's keyed message (its English text is kept beside it for older results)
    params["detail" if key == "detail" else "diff"] = render(lang, params["msg"])
  if key == "erratum":
    params["why"] = params.get("why_zh" if lang == "zh" else "why_en") or params.get("why_en", "")
  if key == "missing_import_failed":
    params["failures"] = "; ".join(
      t(lang, "module_failed_short", module=m, error=e) for m, e in params.get("modules", [])
    )
  if key == "crash_signal":
    hint_key = params.get("hint_key", "")
    params["hint"] = (
      t(lang, hint_key) if hint_key in ("hint_SIGKILL", "hint_SIGXCPU", "hint_SIGXFSZ", "hint_SIGSEGV") else ""
    )
  return t(lang, key, **params)


def case_label(lang: str, case) -> str:
  """ "visible case 1" .. "visible case 2", "hidden case 1" .. "hidden case 8"."""
  if case.visible:
    return t(lang, "case_visible", k=case.index + 1)
  return t(lang, "case_hidden", k=case.index - 1)


def case_name(lang: str, case) -> str:
  """The results.json test name: the function's name, a colon, the case."""
  return f"{case.function}: {case_label(lang, case)}"


def case_text(lang: str, case) -> str:
  """Every feedback line of a case."""
  return "\n".join(render_line(lang, k, p) for k, p in case.lines)


def shown_cases(fr, hidden_visibility: str = "visible") -> list:
  """The cases of a function the table may count: all, or the visible ones when the hidden are not shown."""
  return list(fr.cases) if hidden_visibility == "visible" else [c for c in fr.cases if c.visible]


def function_summary(lang: str, fr, hidden_visibility: str = "visible") -> str:
  """The table's short reason for one function (from the cases it may show)."""
  cases = shown_cases(fr, hidden_visibility)
  state = fr.state
  if state == "not_implemented" and not all(c.lines[:1] == [("not_implemented", {})] for c in cases):
    state = "graded"  # decided by hidden cases the table must not reveal
  if state == "missing" and fr.state_params.get("modules"):
    text = render_line(lang, "missing_import_failed", fr.state_params)
  elif state == "missing":
    text = t(lang, "missing", name=fr.name)
  elif state == "import_error":
    text = t(lang, "import_error", **fr.state_params)
  elif state == "not_implemented":
    text = t(lang, "not_implemented")
  elif state == "unreadable":
    params = dict(fr.state_params)
    text = t(lang, params.pop("key", "not_run_unreadable"), **params)
  elif all(c.passed for c in cases):
    text = t(lang, "all_passed", n=len(cases))
  else:
    first = next(c for c in cases if not c.passed)
    reason = render_line(lang, *first.lines[0]) if first.lines else first.reason
    text = t(
      lang,
      "some_passed",
      passed=sum(c.passed for c in cases),
      n=len(cases),
      first=t(lang, "case_reason", case=case_label(lang, first), reason=reason),
    )
    if any(k == "erratum" for c in cases for k, _ in c.lines):
      text += "; " + t(lang, "erratum_short")
  if fr.clash:
    text += "; " + clash_text(lang, fr.clash)
  return text


def clash_text(lang: str, modules: list) -> str:
  return t(lang, "clash", modules=", ".join(modules), winner=modules[0])


def header_lines(lang: str, report) -> list:
  """Title, the isolation, and every problem with the submission."""
  lines = [t(lang, "title", path=report.submission)]
  if report.isolation:
    lines.append(t(lang, "isolation", mode=report.isolation))
  if report.internal_error:
    lines.append(t(lang, "internal", error=report.internal_error))
  if report.problems:
    lines.append(t(lang, "problems"))
    lines += ["  - " + t(lang, p.code, **p.params) for p in report.problems]
  for module, info in sorted(report.module_errors.items()):
    error = import_error_params({**info, "module": module})["error"]
    lines.append(t(lang, "module_failed", module=module, error=error))
  return lines


def _cells(text: str) -> int:
  """Terminal columns a text takes (CJK characters take two)."""
  return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _left(text: str, width: int) -> str:
  return text + " " * max(0, width - _cells(text))


def _right(text: str, width: int) -> str:
  return " " * max(0, width - _cells(text)) + text


def table(report, lang: str, hidden_visibility: str = "visible") -> str:
  """The terminal table: one row per graded function, points, a short reason, and the total.

  When the hidden cases are not shown (hidden_visibility other than "visible"), every count in it is
  of the visible cases only, and a line says so.
  """
  width = max([_cells(t(lang, "col_function"))] + [len(f.name) for f in report.functions])
  rule = "-" * (width + 11 + RESULT_CHARS // 2)
  rows = [f"{_left(t(lang, 'col_function'), width)}  {_right(t(lang, 'col_points'), 7)}  {t(lang, 'col_result')}", rule]
  score = max_score = 0
  for f in report.functions:
    cases = shown_cases(f, hidden_visibility)
    got, most = sum(c.score for c in cases), sum(c.max_score for c in cases)
    score, max_score = score + got, max_score + most
    summary = function_summary(lang, f, hidden_visibility)
    rows.append(f"{_left(f.name, width)}  {_right(f'{got}/{most}', 7)}  {summary}")
  rows.append(rule)
  total = t(lang, "total") if hidden_visibility == "visible" else t(lang, "total_visible")
  rows.append(f"{_left(total, width)}  {_right(f'{score}/{max_score}', 7)}")
  if hidden_visibility != "visible":
    rows.append(t(lang, "hidden_withheld"))
  return "\n".join(header_lines(lang, report) + [""] + rows + failed_visible_lines(lang, report))


def failed_visible_lines(lang: str, report) -> list:
  """Every failed VISIBLE case, whole: its reason, the call, expected, got, the first difference, the erratum.
  A function that is missing, not implemented, or not importable is said so by its row alone. Hidden cases
  never appear here."""
  out = []
  for f in report.functions:
    if f.state in ("missing", "import_error", "not_implemented", "unreadable"):
      continue
    for c in f.cases:
      if not c.visible or c.passed or not c.lines or c.lines == [("not_implemented", {})]:
        continue
      out.append(t(lang, "failed_case", name=f.name, case=case_label(lang, c), reason=render_line(lang, *c.lines[0])))
      out += ["  " + render_line(lang, k, p) for k, p in c.lines[1:]]
  return ["", t(lang, "failed_visible")] + out if out else []


def results_json(report, lang: str, hidden_visibility: str = "visible") -> dict:
  """Gradescope's results.json: the total, a summary, and one test per case."""
  tests = []
  for f in report.functions:
    for c in f.cases:
      tests.append(
        {
          "name": case_name(lang, c),
          "score": c.score,
          "max_score": c.max_score,
          "status": "passed" if c.passed else "failed",
          "output": case_text(lang, c),
          "visibility": "visible" if c.visible else hidden_visibility,
        }
      )
  data = {
    "score": report.score,
    "output": table(report, lang, hidden_visibility),
    "execution_time": round(report.execution_time, 3),
    "tests": tests,
    "extra_data": {"assignment": getattr(report, "assignment", "core")},
  }
  if report.variant is not None:
    # The variant is for the teacher (Gradescope keeps extra_data, students are not shown it); never in output.
    data["extra_data"]["variant"] = report.variant
  return data


def write_json(path, data) -> None:
  """Writes JSON atomically, whatever text it holds (grader.outputs: surrogates escaped, no temporary left)."""
  from grader.outputs import write_json as write

  write(path, data)

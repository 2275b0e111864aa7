"""Grading one submission: references (cached on disk), the sandboxed calls, the comparison, the points.

The results are structured (codes and parameters); report.py turns them into text in either language.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader import seed as seeds
from grader import wire
from grader.sandbox import IMPORT_TIMEOUT_S, Limits, LoadFailed, SandboxError, run_submission
from grader.submission import ReadLimits, read_submission

HERE = Path(__file__).resolve().parent
POINTS_PER_CASE = 1
CACHE_FORMAT = 2


@dataclasses.dataclass
class CaseResult:
  """One graded case: points and the feedback lines as (i18n key, params) pairs."""

  function: str
  index: int
  visible: bool
  score: int
  max_score: int
  reason: str  # "passed", a compare reason, or an outcome code ("exception", "timeout", ...)
  lines: list = dataclasses.field(default_factory=list)

  @property
  def passed(self):
    return self.score == self.max_score


@dataclasses.dataclass
class FunctionResult:
  """A graded function: its cases and, when one thing sank all of them, that thing."""

  name: str
  cases: list
  state: str = "graded"  # "graded" | "missing" | "import_error" | "not_implemented" | "unreadable"
  state_params: dict = dataclasses.field(default_factory=dict)
  clash: list | None = None

  @property
  def score(self):
    return sum(c.score for c in self.cases)

  @property
  def max_score(self):
    return sum(c.max_score for c in self.cases)


@dataclasses.dataclass
class GradeReport:
  """Everything the table and results.json need."""

  submission: str
  functions: list
  problems: list  # submission.Problem
  module_errors: dict  # module path -> error info
  isolation: str = ""
  variant: int | None = None  # which hidden draw graded it (results.json's extra_data; never its output)
  execution_time: float = 0.0
  internal_error: str | None = None
  assignment: str = "core"

  @property
  def score(self):
    return sum(f.score for f in self.functions)

  @property
  def max_score(self):
    return sum(f.max_score for f in self.functions)


@dataclasses.dataclass
class CaseSet:
  """The assignment's questions, their cases and the expected values, for one variant of one seed.

  The seed itself is not kept here (a case set is passed around, and printed in tracebacks): only its
  fingerprint, which names it to the teacher.
  """

  specs: list  # questions.Question, in the assignment's order
  cases: dict  # name -> [cases.Case]
  expected: dict  # name -> [expected value per case]
  fingerprint: str = ""  # seed.fingerprint of the seed
  variant: int = 0  # which of the `variants` hidden draws
  variants: int = 1
  key: str = ""  # names the whole grading input: the references' cache key, their code's version, and K
  ref_key: str = ""  # the reference cache's key: fingerprint, variant, a digest of the cases (not K)
  deps: dict = dataclasses.field(default_factory=dict)
  assignment: str = "core"
  questions_dirs: tuple = ()  # the --questions folders the records came from, besides questions/

  @property
  def seed(self) -> str:
    """What names the seed in cache keys: the fingerprint (never the secret)."""
    return self.fingerprint


# ---------------------------------------------------------------------------------------------
# Versions, the case set and the reference cache.


def _hash_files(paths) -> str:
  h = hashlib.sha256()
  for p in sorted(paths):
    h.update(str(p.relative_to(HERE.parent)).encode())
    h.update(p.read_bytes())
  return h.hexdigest()


def grader_version() -> str:
  """A hash of the grader's code: a change re-grades (the references' own version is in CaseSet.key)."""
  return _hash_files(list(HERE.glob("*.py")))[:16]


def cache_dir() -> Path:
  """GRADER_CACHE_DIR, else $XDG_CACHE_HOME/mmzoo-grader, else ~/.cache/mmzoo-grader."""
  if os.environ.get("GRADER_CACHE_DIR"):
    return Path(os.environ["GRADER_CACHE_DIR"])
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return Path(base) / "mmzoo-grader"


def _caseset_digest(all_cases) -> str:
  h = hashlib.sha256()
  for name, cs in all_cases.items():
    for c in cs:
      h.update(json.dumps([name, c.index, c.visible, wire.encode(c.args)], sort_keys=True).encode())
  return h.hexdigest()[:16]


def _deps() -> dict:
  """{relative path: sha256} of every project module loaded now (after computing the references: the
  zoo modules they came from, and the grader's case code; the records themselves are in the key)."""
  import sys

  deps = {}
  root = HERE.parent
  for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None)
    if not f:
      continue
    p = Path(f).resolve()
    if p.suffix == ".py" and (p.is_relative_to(root / "zoo") or p in _CASE_CODE):
      deps[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
  return deps


def _deps_current(deps) -> bool:
  root = HERE.parent
  try:
    return all(hashlib.sha256((root / rel).read_bytes()).hexdigest() == h for rel, h in deps.items())
  except OSError:
    return False


def _check_variant(variant: int, variants: int) -> None:
  if not (isinstance(variants, int) and variants >= 1):
    raise ValueError(f"the number of variants must be a whole number of at least 1, got {variants!r}")
  if not (isinstance(variant, int) and 0 <= variant < variants):
    raise ValueError(f"variant {variant!r} is not one of 0..{variants - 1}")


_CASE_CODE = frozenset(HERE / f for f in ("cases.py", "questions.py", "draw.py", "seed.py"))


def assignment(name: str | None = None, questions_dirs=()):
  """The named assignment (default core) of the project's records plus the --questions folders."""
  from grader import cases as cases_mod

  return cases_mod.catalog(tuple(str(Path(d).resolve()) for d in questions_dirs)).assignment(name)


def _records_digest(questions) -> str:
  return hashlib.sha256("|".join(f"{q.name}:{q.digest}" for q in questions).encode()).hexdigest()[:16]


def load_caseset(
  seed: str = seeds.DEFAULT,
  *,
  variant: int = 0,
  variants: int = seeds.VARIANTS,
  use_cache=True,
  assignment_name: str | None = None,
  questions_dirs=(),
  progress=None,
) -> CaseSet:
  """The hand-out's visible cases if this is the hand-out; else every case of one variant of the assignment.

  The references are cached, keyed by the seed's fingerprint, the variant, the assignment, the
  records' content (a digest of each question's files) and the case set itself (a digest of every
  case's arguments; a variant's draws do not depend on K, so changing K reuses them), and the cache
  records the version of the code the references came from (a hash of each zoo module loaded, and of
  the grader's case code): a change to any of them recomputes. A warm run imports neither jax nor the zoo.
  """
  _check_variant(variant, variants)
  from grader import cases as cases_mod

  a = assignment(assignment_name, questions_dirs)
  all_cases = cases_mod.all_cases(seeds.draw(seed, variant), a.questions)
  fp = seeds.fingerprint(seed)
  key = f"{CACHE_FORMAT}-{fp}-v{variant}-{a.name}-{_records_digest(a.questions)}-{_caseset_digest(all_cases)}"
  path = cache_dir() / cache_file_name(key)
  hit = _read_cache(path, key, all_cases) if use_cache else None
  if hit is None:
    expected = {}
    for q in _progress(a.questions, sum(len(all_cases[q.name]) for q in a.questions), variant):
      expected[q.name] = [cases_mod.reference(q, c.args) for c in all_cases[q.name]]
    deps = _deps()
    if use_cache:
      _write_cache(path, key, expected, deps)
  else:
    expected, deps = hit
  version = hashlib.sha256(json.dumps(deps, sort_keys=True).encode()).hexdigest()[:16]
  return CaseSet(
    list(a.questions),
    all_cases,
    expected,
    fp,
    variant,
    variants,
    key=f"{key}-{version}-K{variants}",
    ref_key=key,
    deps=deps,
    assignment=a.name,
    questions_dirs=tuple(questions_dirs),
  )


def _progress(questions, n_cases: int, variant: int):
  """The questions, with a progress bar on stderr while their references are computed (a first run with a new
  seed takes up to a minute); tqdm's delay keeps a run under a second silent, and a missing tqdm just quiet."""
  try:
    from tqdm import tqdm
  except ImportError:
    return questions
  from grader.i18n import notice_lang, t

  return tqdm(
    questions,
    desc=t(notice_lang(), "progress_refs", n=n_cases, variant=variant),
    unit="q",
    delay=1.0,
    file=sys.stderr,
    leave=False,
    dynamic_ncols=True,
  )


def load_casesets(
  seed: str = seeds.DEFAULT, variants: int = seeds.VARIANTS, *, assignment_name=None, questions_dirs=()
) -> list[CaseSet]:
  """Every variant's case set, references computed once and cached (a batch or a bundle needs them all)."""
  return [
    load_caseset(seed, variant=v, variants=variants, assignment_name=assignment_name, questions_dirs=questions_dirs)
    for v in range(variants)
  ]


def cache_file_name(key: str) -> str:
  """The reference cache's file name for a key."""
  return f"references-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def write_cache(folder: Path, caseset: CaseSet) -> Path:
  """Writes a case set's references where load_caseset will find them (the Gradescope bundle ships one)."""
  key = caseset.ref_key
  path = Path(folder) / cache_file_name(key)
  _write_cache(path, key, caseset.expected, caseset.deps)
  return path


def _read_cache(path: Path, key: str, all_cases):
  try:
    data = wire.loads_file(path.read_text(encoding="utf-8"))
  except (OSError, ValueError, UnicodeDecodeError):
    return None
  if not isinstance(data, dict) or data.get("key") != key:
    return None
  expected, deps = data.get("expected"), data.get("deps")
  ok = isinstance(expected, dict) and all(
    isinstance(expected.get(n), list) and len(expected[n]) == len(cs) for n, cs in all_cases.items()
  )
  if not ok or not isinstance(deps, dict) or not deps or not _deps_current(deps):
    return None
  return expected, deps


def _write_cache(path: Path, key: str, expected: dict, deps: dict) -> None:
  """Atomically (a temporary file renamed into place): parallel graders may write the same cache."""
  from grader.outputs import write_atomic  # removes its temporary file whatever fails

  try:
    write_atomic(path, wire.dumps_file({"key": key, "deps": deps, "expected": expected}))
  except OSError:
    pass  # a read-only cache folder only costs the next run the recomputation


def cases_only(seed: str = seeds.DEFAULT, assignment_name: str | None = None, questions_dirs=()) -> CaseSet:
  """The specs and cases without their references (cheap): for reports of submissions never run."""
  from grader import cases as cases_mod

  a = assignment(assignment_name, questions_dirs)
  return CaseSet(
    list(a.questions),
    cases_mod.all_cases(seed, a.questions),
    {},
    seeds.fingerprint(seed),
    assignment=a.name,
    questions_dirs=tuple(questions_dirs),
  )


def failure_report(
  path, message: str, seed: str = seeds.DEFAULT, assignment_name: str | None = None, questions_dirs=()
) -> GradeReport:
  """A report scoring every case 0 with `message` (the grader itself could not grade)."""
  caseset = cases_only(seed, assignment_name, questions_dirs)
  functions = [_unreadable(s, caseset, "internal", {"error": message}) for s in caseset.specs]
  return GradeReport(str(path), functions, [], {}, internal_error=message, assignment=caseset.assignment)


# ---------------------------------------------------------------------------------------------
# Grading.


def grade_submission(
  path,
  caseset: CaseSet,
  *,
  mode: str,
  limits: Limits | None = None,
  uid_slot=0,
  import_timeout=IMPORT_TIMEOUT_S,
  read_limits=ReadLimits(),
  progress=None,
  defer=None,
) -> GradeReport:
  """Reads, runs and grades one submission; never raises for anything the submission does.

  The clean-up (ending the sandbox, removing the scratch folder) runs before returning, or, given
  `defer`, is handed to it as a function: batch grading overlaps it with the next submission.
  """
  t0 = time.monotonic()
  report = GradeReport(
    str(path),
    [],
    [],
    {},
    isolation=mode,
    variant=caseset.variant,
    assignment=caseset.assignment,
  )
  scratch = Path(tempfile.mkdtemp(prefix="grader-"))
  closers = []
  try:
    src = scratch / "sub"
    reading = read_submission(path, src, read_limits, pack=pack_files(caseset))
    report.problems = reading.problems
    if not reading.files:
      report.functions = [_unreadable(spec, caseset) for spec in caseset.specs]
    else:
      _run(report, src, caseset, mode, limits, uid_slot, import_timeout, progress, closers)
  except LoadFailed as e:
    report.functions = [_unreadable(spec, caseset, "load_failed", {"error": str(e)}) for spec in caseset.specs]
  except SandboxError as e:
    report.internal_error = str(e)
    report.functions = [_unreadable(spec, caseset, "internal", {"error": str(e)}) for spec in caseset.specs]
  finally:

    def cleanup():
      try:
        for close in closers:
          close()
      finally:
        remove_tree(scratch)  # only once the sandbox is dead: nothing writes there any more

    (defer or (lambda f: f()))(cleanup)
  report.execution_time = time.monotonic() - t0
  return report


def pack_files(caseset: CaseSet) -> frozenset:
  """The digests of the hand-out's own files for this assignment (grader.handout.pack_digests), so that a
  submitted pack folder is graded on the student's modules only; empty (and said on stderr) if the pack
  cannot be built here."""
  try:
    from grader.handout import pack_digests

    return pack_digests(caseset.assignment, caseset.questions_dirs)
  except Exception as e:  # noqa: BLE001 — grading goes on; the teacher is told
    print(
      f"python -m grader: warning: the hand-out's files cannot be recognised ({type(e).__name__}: {e})",
      file=sys.stderr,
      flush=True,
    )
    return frozenset()


def call_order(caseset: CaseSet) -> list:
  """(name, case) in the order they are called: the visible cases of every function, then the hidden ones.

  Whatever a submission learns from a hidden input can then only reach a hidden case's feedback,
  which is a word of the grader's vocabulary (hidden_line): no visible case runs after it. The
  per-function stop count and the submission's time budget do not depend on this order.
  """
  names = [s.name for s in caseset.specs]
  visible = [(n, c) for n in names for c in caseset.cases[n] if c.visible]
  return visible + [(n, c) for n in names for c in caseset.cases[n] if not c.visible]


def _run(report, src, caseset, mode, limits, uid_slot, import_timeout, progress, closers):
  names = [s.name for s in caseset.specs]
  order = call_order(caseset)
  calls = [(n, c.args) for n, c in order]
  load, outcomes, used = run_submission(
    src,
    calls,
    names,
    mode=mode,
    limits=limits,
    uid_slot=uid_slot,
    import_timeout=import_timeout,
    progress=progress,
    closers=closers,
  )
  report.isolation = used
  report.module_errors = load.modules
  by_case = {(n, c.index): o for (n, c), o in zip(order, outcomes)}
  for spec in caseset.specs:
    cs = caseset.cases[spec.name]
    outs = [by_case[(spec.name, c.index)] for c in cs]
    report.functions.append(_grade_function(spec, cs, caseset.expected[spec.name], outs, load))


def _unreadable(spec, caseset, key="not_run_unreadable", params=None) -> FunctionResult:
  cases = [_zero(c, "unreadable", [(key, params or {})]) for c in caseset.cases[spec.name]]
  return FunctionResult(spec.name, cases, state="unreadable", state_params={"key": key, **(params or {})})


def _grade_function(spec, cases, expected, outcomes, load) -> FunctionResult:
  found = load.found.get(spec.name, "missing")
  clash = load.clashes.get(spec.name)
  if found == "missing":
    # Not found, but a module failed to import: the function may well be in it (a syntax error hides
    # every name of its module), so the row says which module and why rather than "missing".
    failed = failed_imports(load)
    params = {"name": spec.name, "modules": failed} if failed else {}
    lines = [("missing_import_failed", params) if failed else ("missing", {"name": spec.name})]
    return FunctionResult(spec.name, [_zero(c, "missing", lines) for c in cases], "missing", params, clash)
  if found == "import_error":
    params = import_error_params(load.errors.get(spec.name, {}))
    lines = [("import_error", params)]
    return FunctionResult(spec.name, [_zero(c, "import_error", lines) for c in cases], "import_error", params, clash)
  results = [grade_case(spec, c, e, o) for c, e, o in zip(cases, expected, outcomes)]
  nie = all(o.status == "exception" and o.info.get("not_implemented") for o in outcomes)
  return FunctionResult(spec.name, results, "not_implemented" if nie else "graded", {}, clash)


def _zero(case, reason, lines) -> CaseResult:
  """A case not run: its reason in full when visible; "not run" when hidden."""
  lines = list(lines) if case.visible else [NOT_RUN]
  return CaseResult(case.function, case.index, case.visible, 0, POINTS_PER_CASE, reason, lines)


# A module that fails to parse hides every name it would define; one that parsed but raised while
# running is known (from its syntax tree) not to define what is missing, so it is not blamed.
PARSE_ERRORS = ("SyntaxError", "IndentationError", "TabError")


def failed_imports(load) -> list:
  """[[module, "SyntaxError (line 3)"]] for every module of the submission that could not be parsed: the
  exception's name and line, never its message."""
  out = []
  for module, info in sorted(load.modules.items()):
    if info.get("exc_type") in PARSE_ERRORS:
      why = info["exc_type"] + (f" (line {info['line']})" if isinstance(info.get("line"), int) else "")
      out.append([module, why])
  return out


def import_error_params(info: dict) -> dict:
  """{module, error} for the "import_error" message: the exception and the line, from the module's traceback."""
  module = info.get("module", "?")
  if info.get("stopped"):
    why = _stop_text(info)
    return {"module": module, "error": why}
  exc = info.get("exc_type", "Exception")
  error = f"{exc}: {info.get('message', '')}".rstrip(": ")
  if info.get("line"):
    error += f" (line {info['line']}"
    error += f": {info['text']})" if info.get("text") else ")"
  return {"module": module, "error": error}


def _stop_text(info):
  """Why a module stopped the sandbox while it was imported (the module is then left out)."""
  if info.get("status") == "timeout":
    return "importing it ran into the time limit"
  if info.get("kind") == "signal":
    return f"the sandboxed process was killed by {info.get('signal')} while importing it"
  if info.get("kind") == "exit":
    return f"the sandboxed process exited (exit code {info.get('code')}) while importing it"
  return f"the sandbox stopped while importing it: {info.get('message', '')}"


# ---------------------------------------------------------------------------------------------
# The hidden cases' vocabulary (docs/threat-model.md). A hidden case's feedback is exactly one of these
# (i18n key, params) pairs, chosen by the grader: never a number, an exit code, a signal, a message,
# stderr, a repr, or a name the submission chose beyond the allowlist of exception names below.

NOT_RUN = ("not_run", {})
HIDDEN_KEYS = (
  "passed",
  "wrong shape",
  "wrong values",
  "not finite",
  "exception",
  "exception_other",
  "time_limit",
  "stopped",
  "not_run",
)
# compare's reasons beyond the vocabulary, folded into it (a str answer is "wrong shape"; a DTW path
# that is not a valid warping path of optimal cost is "wrong values").
_FOLD = {"wrong type": "wrong shape", "invalid path": "wrong values"}


@functools.cache
def exception_names() -> frozenset:
  """The exception names a hidden case may show: Python's built-in exceptions and numpy's own."""
  import builtins

  import numpy as np

  names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
  names |= set(getattr(getattr(np, "exceptions", None), "__all__", ())) | {"LinAlgError"}
  return frozenset(names)


def hidden_line(outcome=None, reason: str | None = None) -> tuple:
  """The one vocabulary word of a hidden case: from a compare reason, or from an Outcome that gave no answer."""
  if reason is not None:
    reason = _FOLD.get(reason, reason)
    return (reason, {}) if reason in HIDDEN_KEYS else ("wrong values", {})
  status, info = outcome.status, outcome.info
  if status == "exception":
    exc = "NotImplementedError" if info.get("not_implemented") else info.get("exc_type")
    return ("exception", {"exc": exc}) if exc in exception_names() else ("exception_other", {})
  if status == "timeout":
    return ("time_limit", {})
  if status == "bad_output" and info.get("kind") == "result":
    return ("wrong shape", {})  # the answer could not be read back as plain data
  if status == "skipped":
    return NOT_RUN
  return ("stopped", {})  # crashed, broke the channel, or could not be restarted


def grade_case(spec, case, expected, outcome) -> CaseResult:
  """Scores one case from its Outcome; the feedback follows the contract (hidden cases: one word of the vocabulary)."""
  from grader.compare import compare

  res = CaseResult(case.function, case.index, case.visible, 0, POINTS_PER_CASE, outcome.status)
  if outcome.status != "ok":
    res.lines = outcome_lines(outcome, case.visible) if case.visible else [hidden_line(outcome)]
    return res
  verdict = compare(spec, case, expected, outcome.value)
  if verdict.ok:
    res.score, res.reason, res.lines = POINTS_PER_CASE, "passed", [("passed", {})]
    return res
  res.reason = verdict.reason
  if not case.visible:
    res.lines = [hidden_line(reason=verdict.reason)]
    return res
  res.lines = [(verdict.reason, {})]
  if verdict.article_erratum:
    # compare's own detail says the same in English; the erratum line says it in either language.
    res.lines.append(("erratum", {"why_en": spec.erratum_en, "why_zh": spec.erratum_zh}))
  elif verdict.detail:
    res.lines.append(("detail", {"detail": verdict.detail, "msg": verdict.msg}))
  res.lines += [
    ("call", {"call": format_call(spec.name, case.args, spec.params)}),
    ("expected", {"value": abbreviate(expected)}),
    ("got", {"value": abbreviate(outcome.value)}),
  ]
  if verdict.first_diff:
    res.lines.append(("first_diff", {"diff": verdict.first_diff, "msg": verdict.first_msg}))
  return res


def outcome_lines(outcome, visible=True) -> list:
  """Feedback lines for a visible call that gave no answer to compare (a hidden one: hidden_line)."""
  if not visible:
    return [hidden_line(outcome)]
  info = outcome.info
  if outcome.status == "exception":
    if info.get("not_implemented"):
      return [("not_implemented", {})]
    exc = info.get("exc_type", "Exception")
    lines = [
      ("exception_at", {"exc": exc, "path": info["path"], "line": info["line"]})
      if info.get("path") and info.get("line")
      else ("exception", {"exc": exc})
    ]
    # A hidden case shows the exception's name only: its message could reveal the hidden input.
    if visible and info.get("message"):
      lines.append(("exception_message", {"message": info["message"]}))
    if visible and info.get("text"):
      lines.append(("source_line", {"line": info.get("line"), "text": info["text"]}))
    return lines
  if outcome.status == "timeout":
    return [("timeout", {"seconds": info.get("seconds", "?")})]
  if outcome.status == "crashed":
    return [_crash_line(outcome)]
  if outcome.status == "bad_output":
    key = "flood" if info.get("kind") == "flood" else "bad_output"
    return [(key, {"error": outcome.error})]
  if outcome.status == "skipped":
    if info.get("kind") == "budget":
      return [("skipped_budget", {"seconds": info.get("seconds")})]
    return [("skipped_repeat", {"prior": info.get("prior", "?")})]
  return [("crash_other", {"error": outcome.error})]


def _crash_line(outcome):
  info = outcome.info
  kind = info.get("kind")
  if kind == "signal":
    sig = info.get("signal", "?")
    return ("crash_signal", {"signal": sig, "hint_key": f"hint_{sig}"})
  if kind == "exit":
    return ("crash_exit", {"code": info.get("code")})
  if kind == "restart_failed":
    return ("restart_failed", {"error": outcome.error})
  if kind == "gone_after_restart":
    return ("gone_after_restart", {})
  return ("crash_other", {"error": outcome.error})


# ---------------------------------------------------------------------------------------------
# Showing values.


def abbreviate(value: Any) -> str:
  """A value as the self-check shows it (grader/checker.py: 6 significant digits, long sequences elided)."""
  from grader.checker import show

  try:
    return " ".join(show(value).split())
  except Exception:  # noqa: BLE001 — showing must never break grading
    return f"<{type(value).__name__}>"


def format_call(name: str, args: tuple, params=()) -> str:
  """name(param=arg, ...) as the self-check shows it (grader/checker.py)."""
  from grader.checker import show_call

  try:
    return " ".join(show_call(name, params, args).split())
  except Exception:  # noqa: BLE001
    return f"{name}(...)"


def remove_tree(path: Path) -> None:
  """Removes a scratch folder even where student code took away permissions inside it.

  Only called once the sandbox is dead; a symlink is removed, never followed (chmod would follow it).
  """

  def fix(func, p, _exc):
    try:
      parent = os.path.dirname(p)
      if not os.path.islink(parent):
        os.chmod(parent, stat.S_IRWXU)
      if not os.path.islink(p):
        os.chmod(p, stat.S_IRWXU)
      func(p)
    except OSError:
      pass

  shutil.rmtree(path, onerror=fix)

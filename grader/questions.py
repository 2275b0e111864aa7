"""The question records (docs/questions.md): loading questions/ and --questions folders, assignments, ENC.

Import-light on purpose: the hand-out's self-check grader reads the records with it, so it needs only
the standard library and numpy. A record's private.py (hidden cases, reference) is imported lazily, the
first time `Question.private` is asked for, and is absent from the hand-out.

`python -m grader.questions build [--questions DIR ...]` (re)writes every record's visible.json from its
private.visible() and reference(), and the docs built from the records (grader/record_docs.py); `check`
says which are stale.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import importlib.util
import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_QUESTIONS = Path(__file__).resolve().parent.parent / "questions"
ASSIGNMENTS_FILE = "assignments.toml"
DEFAULT_ASSIGNMENT = "core"
KINDS = ("array", "scalar", "pair", "tuple", "dtw")
N_VISIBLE = 2
N_HIDDEN = 8
# Every case is worth one point, so a question is worth N_VISIBLE + N_HIDDEN; assignments.toml says so
# explicitly and the loader checks it (weighting questions differently is not supported).
POINTS_PER_QUESTION = N_VISIBLE + N_HIDDEN
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(=None)?\Z")
_QUESTION_KEYS = {"name", "module", "part", "params", "title_en", "title_zh", "task", "compare", "erratum"}
_ASSIGNMENT_KEYS = {"title", "questions", "include", "points", "optional", "collect_part"}


class RecordError(ValueError):
  """A question record or an assignments.toml that breaks docs/questions.md; str(e) names the file."""


@dataclasses.dataclass(frozen=True)
class Question:
  """The public part of one record (question.toml), where it lives, and a digest of its files."""

  name: str
  module: str
  part: int
  params: tuple
  title_en: str
  title_zh: str
  task_en: str
  task_zh: str
  kind: str
  rtol: float
  atol: float
  atol_scales_with_input: bool
  # The article's printed value for its own call (the first visible case); lists are unhashable.
  printed: Any = dataclasses.field(default=None, hash=False)
  erratum_en: str | None = None  # why the printed value is wrong; None when it is right or absent
  erratum_zh: str | None = None
  folder: Path = Path()
  digest: str = ""  # sha256 of question.toml, visible.json and private.py (where present)

  @property
  def signature(self) -> str:
    return f"{self.name}({', '.join(self.params)})"

  @property
  def article_printed(self):
    """The name the grader's feedback used before the records (same value as `printed`)."""
    return self.printed

  @property
  def private(self):
    """The record's private.py as a module (imported once); RecordError where there is none (the hand-out)."""
    return _private(self.folder, self.digest)

  @property
  def has_private(self) -> bool:
    return (self.folder / "private.py").is_file()

  def visible_cases(self) -> list[tuple[tuple, Any]]:
    """[(args, expected)] from visible.json, decoded."""
    path = self.folder / "visible.json"
    try:
      data = json.loads(path.read_text(encoding="utf-8"))
      out = [(tuple(dec(a) for a in c["args"]), dec(c["expected"])) for c in data["cases"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
      raise RecordError(f"{path}: unreadable ({e}); rebuild it with `python -m grader.questions build`") from e
    if data.get("name") != self.name or len(out) != N_VISIBLE:
      raise RecordError(f"{path}: must name {self.name!r} and hold {N_VISIBLE} cases")
    return out


@dataclasses.dataclass(frozen=True)
class Assignment:
  """A named, ordered list of questions, each worth `points`."""

  name: str
  title: str
  questions: tuple  # Question, in order
  points: int = POINTS_PER_QUESTION

  @property
  def names(self) -> list[str]:
    return [q.name for q in self.questions]

  @property
  def max_points(self) -> int:
    return self.points * len(self.questions)


@dataclasses.dataclass(frozen=True)
class Catalog:
  """Every question and assignment of the project's questions/ and of the --questions folders."""

  questions: dict  # name -> Question
  assignments: dict  # name -> Assignment
  folders: tuple  # the folders read, project first

  def assignment(self, name: str | None = None) -> Assignment:
    name = name or DEFAULT_ASSIGNMENT
    if name not in self.assignments:
      known = ", ".join(sorted(self.assignments)) or "none"
      raise RecordError(f"no assignment named {name!r} (known: {known})")
    return self.assignments[name]


# ---------------------------------------------------------------------------------------------
# Loading.


def _digest(folder: Path) -> str:
  h = hashlib.sha256()
  for fname in ("question.toml", "visible.json", "private.py"):
    p = folder / fname
    h.update(fname.encode() + b"\0")
    h.update(p.read_bytes() if p.is_file() else b"(absent)")
  return h.hexdigest()[:16]


def _need(d: dict, key: str, typ, where: str):
  v = d.get(key)
  if not isinstance(v, typ) or isinstance(v, bool) and typ is not bool:
    raise RecordError(f"{where}: `{key}` is missing or not a {getattr(typ, '__name__', typ)}")
  return v


def load_question(folder: Path) -> Question:
  """One record's question.toml (checked against docs/questions.md)."""
  folder = Path(folder).resolve()
  where = str(folder / "question.toml")
  try:
    with open(folder / "question.toml", "rb") as f:
      d = tomllib.load(f)
  except (OSError, tomllib.TOMLDecodeError) as e:
    raise RecordError(f"{where}: {e}") from e
  unknown = set(d) - _QUESTION_KEYS
  if unknown:
    raise RecordError(f"{where}: unknown keys {sorted(unknown)}")
  name = _need(d, "name", str, where)
  if name != folder.name or not _NAME.match(name):
    raise RecordError(f"{where}: name {name!r} must be an identifier equal to the folder's name")
  module = _need(d, "module", str, where)
  if not _NAME.match(module):
    raise RecordError(f"{where}: module {module!r} must be an identifier")
  part = _need(d, "part", int, where)
  params = _need(d, "params", list, where)
  if not all(isinstance(p, str) and _PARAM.match(p) for p in params):
    raise RecordError(f"{where}: params must be identifiers, a default written 'name=None'")
  task, cmp = _need(d, "task", dict, where), _need(d, "compare", dict, where)
  kind = _need(cmp, "kind", str, where + " [compare]")
  if kind not in KINDS:
    raise RecordError(f"{where}: compare.kind {kind!r} is not one of {', '.join(KINDS)}")
  tol = {}
  for key in ("rtol", "atol"):
    v = cmp.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not (0 <= v < math.inf):
      raise RecordError(f"{where}: compare.{key} must be a non-negative number")
    tol[key] = float(v)
  scales = cmp.get("atol_scales_with_input", False)
  if not isinstance(scales, bool):
    raise RecordError(f"{where}: compare.atol_scales_with_input must be true or false")
  err = d.get("erratum", {})
  if not isinstance(err, dict) or set(err) - {"printed", "en", "zh"} or ("en" in err) != ("zh" in err):
    raise RecordError(f"{where}: [erratum] holds printed, and en with zh (both or neither)")
  return Question(
    name=name,
    module=module,
    part=part,
    params=tuple(params),
    title_en=_need(d, "title_en", str, where),
    title_zh=_need(d, "title_zh", str, where),
    task_en=_need(task, "en", str, where + " [task]"),
    task_zh=_need(task, "zh", str, where + " [task]"),
    kind=kind,
    rtol=tol["rtol"],
    atol=tol["atol"],
    atol_scales_with_input=scales,
    printed=err.get("printed"),
    erratum_en=err.get("en"),
    erratum_zh=err.get("zh"),
    folder=folder,
    digest=_digest(folder),
  )


def _read_assignments(folder: Path) -> dict:
  path = folder / ASSIGNMENTS_FILE
  if not path.is_file():
    return {}
  try:
    with open(path, "rb") as f:
      raw = tomllib.load(f)
  except (OSError, tomllib.TOMLDecodeError) as e:
    raise RecordError(f"{path}: {e}") from e
  for name, a in raw.items():
    if not isinstance(a, dict) or set(a) - _ASSIGNMENT_KEYS or not _NAME.match(name):
      raise RecordError(f"{path}: [{name}] must be a table with keys among {sorted(_ASSIGNMENT_KEYS)}")
    points = a.get("points", POINTS_PER_QUESTION)
    if points != POINTS_PER_QUESTION:
      raise RecordError(f"{path}: [{name}] points must be {POINTS_PER_QUESTION} (1 per visible and hidden case)")
  return {name: (path, a) for name, a in raw.items()}


def _resolve(name, raw, questions, seen=()) -> list:
  path, a = raw[name]
  if name in seen:
    raise RecordError(f"{path}: [{name}] includes itself (through {' -> '.join(seen)})")
  out = []
  for inc in a.get("include", []):
    if inc not in raw:
      raise RecordError(f"{path}: [{name}] includes an unknown assignment {inc!r}")
    out += _resolve(inc, raw, questions, (*seen, name))
  for q in a.get("questions", []):
    if q in questions:
      out.append(questions[q])
    elif not a.get("optional", False):
      raise RecordError(f"{path}: [{name}] lists {q!r}, which has no record (no folder {q}/ with a question.toml)")
  if "collect_part" in a:
    # Every other record of that part in this assignments.toml's folder, by module then name.
    listed = {q.name for q in out}
    more = [
      q
      for q in questions.values()
      if q.part == a["collect_part"] and q.folder.parent == path.parent and q.name not in listed
    ]
    out += sorted(more, key=lambda q: (q.module, q.name))
  return out


def load(extra: list | tuple = (), *, project: Path | None = PROJECT_QUESTIONS) -> Catalog:
  """The project's questions/ (unless project is None), then each extra folder; a name defined twice is an error."""
  folders = ([Path(project).resolve()] if project is not None else []) + [Path(f).resolve() for f in extra]
  questions, raw = {}, {}
  for folder in folders:
    if not folder.is_dir():
      raise RecordError(f"{folder}: no such questions folder")
    for sub in sorted(p for p in folder.iterdir() if (p / "question.toml").is_file()):
      q = load_question(sub)
      if q.name in questions:
        raise RecordError(f"question {q.name!r} is defined twice: {questions[q.name].folder} and {sub}")
      questions[q.name] = q
    for name, entry in _read_assignments(folder).items():
      if name in raw:
        raise RecordError(f"assignment {name!r} is defined twice: {raw[name][0]} and {entry[0]}")
      raw[name] = entry
  assignments = {}
  for name, (path, a) in raw.items():
    qs = _resolve(name, raw, questions)
    counts = collections.Counter(q.name for q in qs)
    dup = {n for n, k in counts.items() if k > 1}
    if dup:
      raise RecordError(f"{path}: [{name}] lists {sorted(dup)} more than once")
    assignments[name] = Assignment(name, a.get("title", name), tuple(qs))
  return Catalog(questions, assignments, tuple(folders))


_PRIVATE: dict = {}


def _private(folder: Path, digest: str):
  key = (str(folder), digest)
  if key not in _PRIVATE:
    path = folder / "private.py"
    if not path.is_file():
      raise RecordError(f"{folder}: no private.py (the hand-out has the public files only)")
    spec = importlib.util.spec_from_file_location(f"_mmzoo_question_{folder.name}_{digest}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for fn in ("visible", "hidden", "reference"):
      if not callable(getattr(mod, fn, None)):
        raise RecordError(f"{path}: defines no function {fn}()")
    _PRIVATE[key] = mod
  return _PRIVATE[key]


# ---------------------------------------------------------------------------------------------
# ENC: visible.json's encoding of one value (docs/questions.md).

_DTYPES = frozenset(
  ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]
)


def _enc_float(x: float):
  if math.isfinite(x):
    return x
  return {"float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _enc_nested(x):
  if isinstance(x, list):
    return [_enc_nested(v) for v in x]
  return _enc_float(x) if isinstance(x, float) else x


def enc(x) -> Any:
  """One value as ENC (plain JSON data)."""
  if x is None or isinstance(x, (bool, str)):
    return x
  if isinstance(x, np.bool_):
    return bool(x)
  if isinstance(x, (int, np.integer)):
    return int(x)
  if isinstance(x, (float, np.floating)):
    return _enc_float(float(x))
  if isinstance(x, list):
    return [enc(v) for v in x]
  if isinstance(x, tuple):
    return {"tuple": [enc(v) for v in x]}
  if isinstance(x, dict):
    if not all(isinstance(k, str) for k in x):
      raise TypeError("ENC: dict keys must be strings")
    return {"dict": {k: enc(v) for k, v in x.items()}}
  if isinstance(x, np.ndarray) or type(x).__module__.startswith("jax"):
    a = np.asarray(x)
    if a.dtype.name not in _DTYPES:
      raise TypeError(f"ENC: arrays of dtype {a.dtype} are not supported")
    return {"ndarray": _enc_nested(a.tolist()), "dtype": a.dtype.name, "shape": list(a.shape)}
  raise TypeError(f"ENC: cannot encode {type(x).__name__}")


def _dec_nested(x):
  if isinstance(x, list):
    return [_dec_nested(v) for v in x]
  return dec(x) if isinstance(x, dict) else x


def dec(x) -> Any:
  """An ENC value back as Python and numpy data."""
  if isinstance(x, list):
    return [dec(v) for v in x]
  if not isinstance(x, dict):
    return x
  if set(x) == {"float"}:
    return float(x["float"])
  if set(x) == {"tuple"}:
    return tuple(dec(v) for v in x["tuple"])
  if set(x) == {"dict"}:
    return {k: dec(v) for k, v in x["dict"].items()}
  if set(x) == {"ndarray", "dtype", "shape"} and x["dtype"] in _DTYPES:
    return np.array(_dec_nested(x["ndarray"]), dtype=x["dtype"]).reshape(x["shape"])
  raise ValueError(f"not an ENC value: a dict with keys {sorted(x)}")


# ---------------------------------------------------------------------------------------------
# The record builder.


def visible_json(q: Question) -> str:
  """The text visible.json should hold: private.visible()'s cases with their float64 references."""
  from grader.cases import reference

  calls = q.private.visible()
  if len(calls) != N_VISIBLE:
    raise RecordError(f"{q.folder}/private.py: visible() must return {N_VISIBLE} argument tuples")
  cases = [{"args": [enc(a) for a in args], "expected": enc(reference(q, tuple(args)))} for args in calls]
  # One case per line: readable, and a diff shows which case changed.
  body = ",\n  ".join(json.dumps(c, ensure_ascii=False) for c in cases)
  return f'{{"name": {json.dumps(q.name)}, "cases": [\n  {body}\n]}}\n'


def _targets(extra) -> list[Question]:
  """The records to build: those of the --questions folders when given, else the project's."""
  cat = load(extra)
  folders = {Path(d).resolve() for d in extra} or {PROJECT_QUESTIONS.resolve()}
  return [q for q in cat.questions.values() if q.has_private and q.folder.parent in folders]


def main(argv=None) -> int:
  import argparse

  p = argparse.ArgumentParser(
    prog="python -m grader.questions",
    description="Build or check the question records' visible.json (from private.visible() and private.reference()).",
  )
  p.add_argument(
    "action",
    choices=("build", "check"),
    help="build: (re)write every stale visible.json; check: list the stale ones (exit 1 if any)",
  )
  p.add_argument(
    "--questions",
    action="append",
    default=[],
    metavar="DIR",
    help="build this teacher's questions folder (same layout as questions/) instead of the project's; repeatable",
  )
  p.add_argument("names", nargs="*", help="only these questions (default: all)")
  args = p.parse_args(argv)
  stale = []
  for q in _targets(args.questions):
    if args.names and q.name not in args.names:
      continue
    path = q.folder / "visible.json"
    text = visible_json(q)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
      stale.append(q.name)
      if args.action == "build":
        path.write_text(text, encoding="utf-8")
  if not args.questions and not args.names:
    # The project's generated docs (docs/errata.md, exercises/README.md's tables) follow its records.
    from grader import record_docs

    for (path, key), text in record_docs.blocks(load()).items():
      if record_docs.current(path, key) != text:
        stale.append(f"{path.name} ({key})")
        if args.action == "build":
          record_docs.write(path, key, text)
  verb = "rewrote" if args.action == "build" else "stale"
  print(f"{verb}: {', '.join(stale) if stale else 'none'}")
  return 1 if stale and args.action == "check" else 0


if __name__ == "__main__":
  # Through the package's own module object, so its Question class is the one grader.cases checks against.
  from grader.questions import main as _main

  sys.exit(_main())

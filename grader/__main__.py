"""`python -m grader`: grade a submission, a roster (--batch), or build the hand-out or the Gradescope bundle.

  python -m grader SUBMISSION [--results results.json] [--variant N] [--lang en|zh] [--sandbox MODE]
  python -m grader --batch ROSTER_DIR --out OUT_DIR [--workers N] [--variants K] [--force | --regrade NAME[,NAME]]
  python -m grader handout OUT_DIR
  python -m grader gradescope OUT.zip [--variants K]
  python -m grader new-seed
Each but new-seed takes --assignment NAME (default core: the 17 functions of Parts I and II) and
--questions DIR (a teacher's own question records, same layout as questions/; repeatable). See
docs/exercises.md.

--help, the handout/gradescope summary lines and the usage errors a student meets are in the language of
--lang (read anywhere in argv, so `--lang zh --help` works), else the locale's (LANG=zh_* gives Chinese).

The hidden cases come from the secret seed in $GRADER_SEED or in --seed-file PATH (any string; `new-seed`
makes one), which is never printed: the teacher sees its fingerprint only. `--seed SECRET` is refused:
every user of the machine can read a command line.

Exit status: 0 whenever a submission was graded (whatever its score), 2 for a usage error, a path
that does not exist, or an output (--results, --out) that cannot be written (checked before grading),
1 for an internal error of the grader (results.json is still written).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

SUBCOMMANDS = ("handout", "gradescope", "new-seed")
_LANG = ["en"]  # the language of --help and the summary lines: --lang in argv, else the locale (main sets it)


def _h(key: str, **params) -> str:
  """A help text or summary line of grader/i18n.py in the command's language."""
  from grader.i18n import t

  return t(_LANG[0], key, **params)


def _argv_lang(argv) -> str:
  """--lang en|zh wherever it is in argv (so `--lang zh --help` is Chinese), else the locale's."""
  from grader.i18n import LANGS, default_lang

  for i, a in enumerate(argv):
    value = argv[i + 1] if a == "--lang" and i + 1 < len(argv) else a[7:] if a.startswith("--lang=") else None
    if value in LANGS:
      return value
  return default_lang()


USAGE_ERROR = 2


SEED_FILE_BYTES = 4096  # a passphrase, not a file to stream


class SeedError(ValueError):
  """The seed cannot be had the way it was given (a usage error)."""


def _seed(args) -> str:
  """--seed-file's content, else $GRADER_SEED (the instructor's secret: any string), else the public "0".

  Spaces and line ends around it are dropped (a seed read from a file ends with one), so the same
  passphrase gives the same cases however it is passed. `--seed SECRET` is refused (SeedError): a command
  line is world-readable in /proc/<pid>/cmdline, to other users and to plain-mode student code (issue 12, F2).
  """
  from grader.seed import DEFAULT

  if getattr(args, "seed", None) is not None:
    raise SeedError(
      "--seed SECRET is refused: a command line can be read by every user of the machine "
      "(/proc/<pid>/cmdline), student code included; treat that seed as known, and pass the "
      "secret as --seed-file PATH or $GRADER_SEED"
    )
  path = getattr(args, "seed_file", None)
  if path is None:
    return os.environ.get("GRADER_SEED", "").strip() or DEFAULT
  try:
    with open(path, "rb") as f:
      data = f.read(SEED_FILE_BYTES + 1)
      mode = os.fstat(f.fileno()).st_mode
  except OSError as e:
    raise SeedError(f"--seed-file: cannot read {path}: {e.strerror or e}") from None
  if len(data) > SEED_FILE_BYTES:
    raise SeedError(f"--seed-file: {path} is longer than {SEED_FILE_BYTES} bytes; it should hold the seed alone")
  try:
    text = data.decode("utf-8").strip()
  except UnicodeDecodeError:
    raise SeedError(f"--seed-file: {path} is not UTF-8 text") from None
  if not text:
    raise SeedError(f"--seed-file: {path} is empty")
  if mode & 0o044:
    print(
      "python -m grader: " + _h("warning", message=f"--seed-file {path} can be read by other users (chmod 600 it)"),
      file=sys.stderr,
      flush=True,
    )
  return text


def _variants(text: str) -> int:
  value = int(text)
  if value < 1:
    raise argparse.ArgumentTypeError(_h("arg_at_least_1"))
  return value


def _default_variants() -> int:
  """$GRADER_VARIANTS (a course's K, like GRADER_SEED set once), else seed.VARIANTS."""
  from grader.seed import VARIANTS

  raw = os.environ.get("GRADER_VARIANTS", "").strip()
  if not raw:
    return VARIANTS
  try:
    return _variants(raw)
  except (ValueError, argparse.ArgumentTypeError):
    raise SystemExit(_usage(f"GRADER_VARIANTS must be a whole number of at least 1, got {raw!r}")) from None


def _seed_args(p: argparse.ArgumentParser, where_key: str) -> None:
  """--seed-file PATH, and --seed kept only to refuse it with the way out (a command line is public)."""
  p.add_argument("--seed-file", default=None, metavar="PATH", help=_h("help_seed_file", where=_h(where_key)))
  p.add_argument("--seed", default=None, metavar="SECRET", help=_h("help_seed_refused"))


def _usage(message: str) -> int:
  print("python -m grader: " + _h("usage_error", message=message), file=sys.stderr)
  return USAGE_ERROR


def _seconds(text: str) -> float:
  value = float(text)
  if not value > 0:
    raise argparse.ArgumentTypeError(_h("arg_positive_seconds"))
  return value


def _records(p: argparse.ArgumentParser) -> None:
  """--assignment and --questions, shared by every command."""
  p.add_argument("--assignment", default=None, metavar="NAME", help=_h("help_records_assignment"))
  p.add_argument("--questions", action="append", default=[], metavar="DIR", help=_h("help_records_questions"))


def _check_records(args):
  """None when the assignment and the records load; else the usage error's message."""
  from grader.grade import assignment
  from grader.questions import RecordError

  try:
    assignment(args.assignment, args.questions)
  except RecordError as e:
    return str(e)
  return None


def _mib(text: str) -> float:
  value = float(text)
  if not value > 0:
    raise argparse.ArgumentTypeError(_h("arg_positive_mib"))
  return value


def _common(p: argparse.ArgumentParser) -> None:
  _records(p)
  from grader.report import VISIBILITIES
  from grader.sandbox import IMPORT_TIMEOUT_S, Limits

  limits = Limits()
  _seed_args(p, "help_seed_private")
  from grader.seed import VARIANTS

  p.add_argument("--variants", type=_variants, default=None, metavar="K", help=_h("help_common_variants", p0=VARIANTS))
  p.add_argument("--lang", choices=("en", "zh"), default=None, help=_h("help_common_lang"))
  p.add_argument(
    "--sandbox", choices=("auto", "bwrap", "unshare", "plain"), default="auto", help=_h("help_common_sandbox")
  )
  p.add_argument(
    "--call-timeout",
    type=_seconds,
    default=None,
    metavar="S",
    help=_h("help_common_call_timeout", p0=limits.call_wall_s),
  )
  p.add_argument(
    "--time-budget", type=_seconds, default=None, metavar="S", help=_h("help_common_time_budget", p0=limits.wall_s)
  )
  p.add_argument(
    "--import-timeout",
    type=_seconds,
    default=None,
    metavar="S",
    help=_h("help_common_import_timeout", p0=IMPORT_TIMEOUT_S),
  )
  p.add_argument(
    "--hidden-visibility", choices=VISIBILITIES, default="visible", help=_h("help_common_hidden_visibility")
  )
  p.add_argument(
    "--sandbox-memory",
    type=_mib,
    default=None,
    metavar="MIB",
    help=_h("help_common_sandbox_memory", p0=limits.sandbox_mem_bytes >> 20),
  )
  p.add_argument("--allow-plain", action="store_true", help=_h("help_common_allow_plain"))
  p.add_argument("--allow-same-uid", action="store_true", help=_h("help_common_allow_same_uid"))


def _main_parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(prog="python -m grader", description=_h("desc_main"))
  p.add_argument("submission", nargs="?", help=_h("help_main_submission"))
  p.add_argument("--results", metavar="FILE", help=_h("help_main_results"))
  p.add_argument("--batch", metavar="ROSTER_DIR", help=_h("help_main_batch"))
  p.add_argument("--out", metavar="OUT_DIR", help=_h("help_main_out"))
  p.add_argument("--workers", type=int, default=None, metavar="N", help=_h("help_main_workers"))
  p.add_argument("--force", action="store_true", help=_h("help_main_force"))
  p.add_argument("--regrade", metavar="NAME[,NAME]", default=None, help=_h("help_main_regrade"))
  p.add_argument("--variant", type=int, default=None, metavar="N", help=_h("help_main_variant"))
  p.add_argument("--submission-metadata", metavar="FILE", help=_h("help_main_submission_metadata"))
  _common(p)
  return p


def _handout_parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(prog="python -m grader handout", description=_h("desc_handout"))
  p.add_argument("out_dir", help=_h("help_handout_out_dir"))
  _records(p)
  return p


def _gradescope_parser() -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(prog="python -m grader gradescope", description=_h("desc_gradescope"))
  p.add_argument("out_zip", help=_h("help_gradescope_out_zip"))
  _records(p)
  _seed_args(p, "help_seed_baked")
  from grader.seed import MIN_LENGTH, VARIANTS

  p.add_argument(
    "--variants", type=_variants, default=None, metavar="K", help=_h("help_gradescope_variants", p0=VARIANTS)
  )
  p.add_argument("--allow-weak-seed", action="store_true", help=_h("help_gradescope_allow_weak_seed", p0=MIN_LENGTH))
  p.add_argument("--lang", choices=("en", "zh"), default="en", help=_h("help_gradescope_lang"))
  from grader.report import VISIBILITIES

  p.add_argument(
    "--hidden-visibility", choices=VISIBILITIES, default="visible", help=_h("help_gradescope_hidden_visibility")
  )
  from grader.gradescope import GRADESCOPE_LIMIT_S, TIME_BUDGET_S
  from grader.sandbox import Limits

  p.add_argument(
    "--time-budget",
    type=_seconds,
    default=TIME_BUDGET_S,
    metavar="S",
    help=_h("help_gradescope_time_budget", p0=TIME_BUDGET_S, p1=GRADESCOPE_LIMIT_S - 60),
  )
  p.add_argument(
    "--call-timeout",
    type=_seconds,
    default=Limits().call_wall_s,
    metavar="S",
    help=_h("help_gradescope_call_timeout", p0=Limits().call_wall_s),
  )
  return p


def _same_uid_refusal(args, mode: str) -> str | None:
  """Why grading hidden cases in this mode is refused (plain mode, unless the teacher accepts it), else None.

  Plain mode hides no world-readable file, so it needs --allow-plain. As a non-root grader it cannot give
  student code a uid of its own: it could read the grader's environment (/proc/<pid>/environ,
  GRADER_SEED), its reference cache and other students' results; --allow-same-uid accepts that risk.
  (The hand-out's self-check is check.py, which never comes here.)
  """
  from grader.isolation import shares_grader_uid

  if mode != "plain":
    return None
  if not args.allow_plain:
    # Plain mode hides no file: student code reads what any local user may (issue 12, F1). The Gradescope
    # bundle passes the flag: its secrets are root's alone and there is no roster (docs/threat-model.md).
    return (
      "plain mode hides nothing of this machine: student code can read every world-readable file here: "
      "the solutions, other students' submissions. Use bwrap (or unshare as root), or pass --allow-plain "
      "to accept that risk"
    )
  if not shares_grader_uid(mode) or args.allow_same_uid:
    return None
  return (
    "plain mode as a non-root user runs student code under your own uid: it could read your environment "
    "(GRADER_SEED), your reference cache and other students' results. Grade as root, or with bwrap, or "
    "pass --allow-same-uid to accept that risk"
  )


def _say_memory_plan(limits) -> None:
  """Tells the teacher (stderr) when sandboxes get no memory cgroup, and what bounds them instead."""
  from grader.isolation import has_memory_cgroup, memory_plan

  if not has_memory_cgroup():
    print("python -m grader: " + _h("warning", message=memory_plan(limits)), file=sys.stderr, flush=True)


def _limits(args):
  import dataclasses

  from grader.sandbox import Limits

  limits = Limits()
  if args.call_timeout:
    limits = dataclasses.replace(limits, call_wall_s=args.call_timeout)
  if args.time_budget:
    limits = dataclasses.replace(limits, wall_s=args.time_budget)
  if args.sandbox_memory:
    limits = dataclasses.replace(limits, sandbox_mem_bytes=int(args.sandbox_memory * (1 << 20)))
  return limits


def _import_timeout(args) -> dict:
  return {"import_timeout": args.import_timeout} if args.import_timeout else {}


def _mode(requested: str):
  """The isolation to use, or (None, why) when the requested one cannot run here."""
  from grader.isolation import IsolationUnavailable, detect

  try:
    return detect(requested), None
  except IsolationUnavailable as e:
    return None, str(e)


def _failure_results(path: str, message: str, lang: str, results: str | None, seed: str = "0", args=None) -> None:
  """results.json scoring 0 with a reason, for the cases where grading could not happen."""
  if not results:
    return
  from grader.grade import GradeReport, failure_report
  from grader.report import results_json, write_json

  try:
    report = failure_report(path, message, seed, getattr(args, "assignment", None), getattr(args, "questions", ()))
  except Exception:  # noqa: BLE001 — the reason still has to reach the student
    report = GradeReport(path, [], [], {}, internal_error=message)
  write_json(results, results_json(report, lang))


def _print(text: str) -> None:
  """Prints, ignoring a reader that went away (`| head`): the grading itself is done."""
  from grader.outputs import safe_text

  try:
    print(safe_text(text), flush=True)
  except BrokenPipeError:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _inside(path: Path, folder: Path) -> bool:
  """Whether `path` is `folder` or lies under it (both resolved)."""
  path, folder = path.resolve(), folder.resolve()
  return path == folder or path.is_relative_to(folder)


def _fill_variants(args) -> None:
  if args.variants is None:
    args.variants = _default_variants()


def grade_one(args) -> int:
  """Grades one submission, prints the table, writes results.json; 0 whenever graded."""
  from grader.i18n import default_lang

  lang = args.lang or default_lang()
  path = Path(args.submission)
  if not os.path.lexists(path):
    return _usage(_h("usage_no_such", path=path))
  if args.force or args.regrade:
    return _usage("--force and --regrade go with --batch")
  if args.results:
    # Checked before grading: a results path that cannot be written would lose the whole run.
    from grader.outputs import check_writable

    why = check_writable(Path(args.results))
    if why:
      return _usage(f"--results: {why}")
    if Path(args.results).resolve() == path.resolve():
      return _usage(_h("usage_results_self"))
  try:
    seed = _seed(args)
  except SeedError as e:
    return _usage(str(e))
  _fill_variants(args)
  try:
    variant = _single_variant(args, seed)
  except ValueError as e:
    return _usage(str(e))
  bad = _check_records(args)
  if bad:
    return _usage(bad)
  mode, why = _mode(args.sandbox)
  if mode is None:
    # Falling back to a weaker isolation than the one asked for would be a silent downgrade: refuse.
    message = f"the isolation {args.sandbox!r} cannot run here: {why}"
    _failure_results(str(path), message, lang, args.results, seed, args)
    return _usage(message)
  refused = _same_uid_refusal(args, mode)
  if refused:
    _failure_results(str(path), refused, lang, args.results, seed, args)
    return _usage(refused)
  _say_memory_plan(_limits(args))
  try:
    from grader.grade import grade_submission, load_caseset
    from grader.report import results_json, table, write_json

    caseset = load_caseset(
      seed, variant=variant, variants=args.variants, assignment_name=args.assignment, questions_dirs=args.questions
    )
    report = grade_submission(path, caseset, mode=mode, limits=_limits(args), **_import_timeout(args))
    if args.results:
      write_json(args.results, results_json(report, lang, args.hidden_visibility))
    _print(table(report, lang, args.hidden_visibility))
    return 0
  except SystemExit:
    raise
  except BaseException as e:  # noqa: BLE001 — still write the results, then fail loudly
    traceback.print_exc()
    _failure_results(str(path), f"{type(e).__name__}: {e}", lang, args.results, seed, args)
    return 1


def gradescope_identity(path) -> str | None:
  """The smallest users[].id in Gradescope's submission_metadata.json (a group shares it), else None."""
  import json

  try:
    with open(path, encoding="utf-8") as f:
      users = json.load(f).get("users")
    ids = [u.get("id") for u in users if isinstance(u, dict)]
  except (OSError, ValueError, AttributeError, TypeError):
    return None
  ids = [i for i in ids if isinstance(i, (int, str)) and not isinstance(i, bool) and str(i).strip()]
  if not ids:
    return None
  # Numeric ids compare as numbers (Gradescope's are integers, sometimes written as strings).
  return str(min(ids, key=lambda i: (0, int(i), "") if str(i).strip().isdigit() else (1, 0, str(i))))


def _single_variant(args, seed: str) -> int:
  """--variant N, else the variant of the Gradescope identity, else 0; ValueError when out of range."""
  from grader.seed import stretch, variant_of

  if args.variant is not None and args.submission_metadata:
    raise ValueError("give either --variant or --submission-metadata, not both")
  if args.submission_metadata:
    identity = gradescope_identity(args.submission_metadata)
    if identity is None:
      # No identity to key on: variant 0, said to the teacher (Gradescope shows stderr to staff only).
      print(
        "python -m grader: " + _h("warning", message=f"no users[].id in {args.submission_metadata}; grading variant 0"),
        file=sys.stderr,
      )
      return 0
    return variant_of(identity, stretch(seed), args.variants)
  variant = 0 if args.variant is None else args.variant
  if not 0 <= variant < args.variants:
    raise ValueError(f"--variant must be one of 0..{args.variants - 1} (--variants {args.variants})")
  return variant


def batch(args) -> int:
  """--batch: every roster entry graded in parallel, gradebook.csv and <student>/results.json."""
  from grader.i18n import default_lang

  roster = Path(args.batch)
  if not roster.is_dir():
    return _usage(f"--batch needs a folder: {roster}")
  if not args.out:
    return _usage("--batch needs --out OUT_DIR")
  if args.workers is not None and args.workers < 1:
    return _usage("--workers must be at least 1")
  if args.results:
    return _usage("--results goes with a single SUBMISSION; --batch writes OUT_DIR/<student>/results.json")
  try:
    seed = _seed(args)  # before anything is written
  except SeedError as e:
    return _usage(str(e))
  if _inside(Path(args.out), roster) or _inside(roster, Path(args.out)):
    # OUT_DIR inside the roster would be graded as a student on the next run (and the roster inside
    # OUT_DIR would have its entries' ids taken by result folders).
    return _usage("--out and the roster must not contain each other")
  from grader.outputs import check_folder

  why = check_folder(Path(args.out))
  if why:
    return _usage(f"--out: {why}")
  bad = _check_records(args)
  if bad:
    return _usage(bad)
  mode, why = _mode(args.sandbox)
  if mode is None:
    return _usage(f"the isolation {args.sandbox!r} cannot run here: {why}")
  refused = _same_uid_refusal(args, mode)
  if refused:
    return _usage(refused)
  _say_memory_plan(_limits(args))
  if args.variant is not None or args.submission_metadata:
    return _usage(
      "--batch picks each student's variant itself; --variant and --submission-metadata are for a single submission"
    )
  from grader.batch import MixedAssignments, run_batch, scan, select

  regrade = [n for n in (args.regrade or "").split(",") if n]
  _, unknown = select(scan(roster)[0], regrade)
  if unknown:  # before the references are computed: a typo must not cost a run
    from grader.outputs import escape_name

    return _usage(f"--regrade: no roster entry named {', '.join(map(escape_name, unknown))}")
  _fill_variants(args)
  try:
    run_batch(
      roster,
      Path(args.out),
      workers=args.workers or os.cpu_count() or 1,
      seed=seed,
      mode=mode,
      lang=args.lang or default_lang(),
      limits=_limits(args),
      hidden_visibility=args.hidden_visibility,
      force=args.force,
      regrade=regrade,
      variants=args.variants,
      assignment_name=args.assignment,
      questions_dirs=args.questions,
      **_import_timeout(args),
    )
  except MixedAssignments as e:
    return _usage(str(e))
  return 0


def handout(argv) -> int:
  args = _handout_parser().parse_args(argv)
  bad = _check_records(args)
  if bad:
    return _usage(bad)
  from grader.handout import build_handout

  out = Path(args.out_dir)
  if out.exists() and (not out.is_dir() or any(out.iterdir())):
    return _usage(_h("usage_not_empty", path=out))
  written = build_handout(out, assignment_name=args.assignment, questions_dirs=args.questions)
  _print(_h("handout_written", out=out))
  if not written:
    print("python -m grader: " + _h("handout_no_notebooks", hint=_h("nbformat_hint")), file=sys.stderr)
  return 0


def gradescope(argv) -> int:
  args = _gradescope_parser().parse_args(argv)
  bad = _check_records(args)
  if bad:
    return _usage(bad)
  from grader.gradescope import build_bundle
  from grader.seed import fingerprint, weak_reason

  try:
    seed = _seed(args)
  except SeedError as e:
    return _usage(str(e))
  _fill_variants(args)
  weak = weak_reason(seed)
  if weak and not args.allow_weak_seed:
    return _usage(
      f"the seed is {weak}: students who know the public code could guess it and so every hidden "
      "case. Set GRADER_SEED to a long passphrase (`python -m grader new-seed` prints one), or pass "
      "--allow-weak-seed to build the bundle anyway"
    )
  try:
    from grader.gradescope import check_budget

    check_budget(args.time_budget, args.call_timeout)
  except ValueError as e:
    return _usage(str(e))
  build_bundle(
    Path(args.out_zip),
    seed=seed,
    lang=args.lang,
    hidden_visibility=args.hidden_visibility,
    time_budget=args.time_budget,
    call_timeout=args.call_timeout,
    variants=args.variants,
    assignment_name=args.assignment,
    questions_dirs=args.questions,
  )
  note = _h("gradescope_weak_note", weak=weak) if weak else ""
  _print(
    _h(
      "gradescope_written",
      out=args.out_zip,
      assignment=args.assignment or "core",
      fp=fingerprint(seed),
      variants=args.variants,
      note=note,
    )
  )
  return 0


def _new_seed_parser() -> argparse.ArgumentParser:
  return argparse.ArgumentParser(prog="python -m grader new-seed", description=_h("desc_new_seed"))


def new_seed(argv) -> int:
  _new_seed_parser().parse_args(argv)
  from grader.seed import new_seed as make

  print(make())
  return 0


def _console_safe() -> None:
  """Never a UnicodeEncodeError on a console that lacks a character (GBK on a Chinese Windows): '?' instead."""
  for stream in (sys.stdout, sys.stderr):
    try:
      stream.reconfigure(errors="replace")
    except (AttributeError, ValueError):
      pass


def _on_stop_signal(signum, frame) -> None:
  """SIGTERM, SIGHUP: kill every sandbox, then unwind so the usual clean-up removes the scratch folders."""
  import signal

  from grader import isolation

  for sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)  # once: a second signal must not interrupt the clean-up
  isolation.stop_all()
  raise SystemExit(128 + signum)


def _stop_on_signals() -> None:
  """Lets SIGTERM and SIGHUP end the grader the clean way (issue 12, F8: sandboxes outlived it)."""
  import signal
  import threading

  if threading.current_thread() is threading.main_thread():
    for sig in (signal.SIGTERM, signal.SIGHUP):
      signal.signal(sig, _on_stop_signal)


def main(argv=None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  _console_safe()
  _LANG[0] = _argv_lang(argv)
  from grader.i18n import set_notice_lang

  set_notice_lang(_LANG[0])  # isolation's warnings and the progress bar follow --lang too
  if argv and argv[0] in SUBCOMMANDS:
    return {"handout": handout, "gradescope": gradescope, "new-seed": new_seed}[argv[0]](argv[1:])
  args = _main_parser().parse_args(argv)
  if args.batch:
    if args.submission:
      return _usage(_h("usage_both"))
    return batch(args)
  if not args.submission:
    _main_parser().print_usage(sys.stderr)
    return _usage(_h("usage_required"))
  return grade_one(args)


if __name__ == "__main__":
  _stop_on_signals()
  sys.exit(main())

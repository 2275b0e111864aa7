"""`--batch`: a roster graded in parallel, a gradebook, and re-runs that re-grade only what changed.

Parallelism is threads, each driving its own sandbox subprocess; the grader process is never forked
(it may have started JAX to compute the references). Each thread owns a uid slot for isolation.spawn.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import queue
import stat
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from grader import isolation
from grader.grade import GradeReport, _unreadable, grade_submission, grader_version, load_caseset
from grader.report import results_json, write_json
from grader.sandbox import IMPORT_TIMEOUT_S

SUMMARY = "summary.json"  # per student: the grading key and the per-function points, for re-runs
ASSIGNMENT_FILE = "assignment.json"  # in OUT_DIR: the assignment its results were graded for


class MixedAssignments(Exception):
  """OUT_DIR holds results of another assignment (refused unless forced)."""


def claim_out(out: Path, assignment: str, names: list, force: bool = False) -> None:
  """Records in OUT_DIR the assignment graded there; refuses a folder graded for another one unless `force`.

  Two assignments in one folder would mix two gradebooks' columns and totals; forcing replaces the record
  (the students' old results are then re-graded, since their grading keys differ).
  """
  path = out / ASSIGNMENT_FILE
  try:
    previous = json.loads(path.read_text(encoding="utf-8")).get("assignment")
  except (OSError, ValueError, AttributeError):
    previous = None
  if previous is not None and previous != assignment and not force:
    raise MixedAssignments(f"{out} holds results graded for the assignment {previous!r}, not {assignment!r}; "
                           "use another --out folder, or --force to re-grade it for this one")
  write_json(path, {"assignment": assignment, "questions": names})


def students(roster: Path) -> list[tuple[str, Path]]:
  """(student, entry) for every visible roster entry; student = the entry's name without its extension.

  Two entries with one name (alice.py and alice.zip) keep their full names, so neither is lost.
  """
  entries = sorted(p for p in roster.iterdir() if not p.name.startswith("."))
  stems = [p.name if p.is_dir() else p.stem for p in entries]
  out = []
  for p, stem in zip(entries, stems):
    name = stem if stems.count(stem) == 1 else p.name
    out.append((_safe_name(name), p))
  return out


def _safe_name(name: str) -> str:
  """A student name usable as a folder name and a CSV cell."""
  cleaned = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in name).strip()
  return cleaned if cleaned not in ("", ".", "..") else "_"


def content_hash(path: Path) -> str:
  """A hash of a submission's content: the file's bytes, or a folder's relative paths and bytes."""
  h = hashlib.sha256()
  h.update(path.name.encode("utf-8", "replace"))
  path = path.resolve()  # a roster entry may be a link to the submission (links inside are hashed as links)
  if path.is_dir():
    for root, dirs, files in os.walk(path, followlinks=False):
      dirs.sort()
      for f in sorted(files):
        _hash_entry(h, Path(root) / f, path)
  else:
    _hash_entry(h, path, path.parent)
  return h.hexdigest()


def _hash_entry(h, p: Path, base: Path):
  h.update(b"\0" + str(p.relative_to(base)).encode("utf-8", "replace") + b"\0")
  try:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
      h.update(b"link:" + os.readlink(p).encode("utf-8", "replace"))
    elif stat.S_ISREG(st.st_mode):
      with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
          h.update(chunk)
  except OSError as e:
    h.update(f"error:{e.errno}".encode())


def grading_key(entry: Path, caseset, version: str) -> str:
  """What a result depends on: the submission's content, the grader's version, the seed, the case set."""
  parts = [content_hash(entry), version, str(caseset.seed), caseset.key]
  return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _reusable(folder: Path, key: str) -> dict | None:
  try:
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
  except (OSError, ValueError):
    return None
  if summary.get("key") != key or not (folder / "results.json").is_file():
    return None
  return summary


def _summary(report, key) -> dict:
  return {"key": key, "score": report.score, "max_score": report.max_score,
          "functions": {f.name: f.score for f in report.functions}}


class Slots:
  """The uid slots of isolation.spawn. A slot is busy from a submission's start until its sandbox is
  swept away; that sweep runs in the background, overlapping the next submission, which takes
  another free slot (twice as many slots as workers). A sweep kills every process of its slot's
  uid, so a slot is never reused before its sweep is over."""

  def __init__(self, workers):
    self.free = queue.Queue()
    for k in range(2 * workers):
      self.free.put(k)
    self.threads = []
    self.lock = threading.Lock()

  def take(self) -> int:
    return self.free.get()

  def defer_for(self, slot):
    """A `defer` for grade_submission: runs the clean-up in a thread, then frees the slot."""
    def defer(cleanup):
      def run():
        try:
          cleanup()
        except Exception:  # noqa: BLE001 — a failed clean-up must not lose the slot or stop the batch
          traceback.print_exc()
        finally:
          self.free.put(slot)
      t = threading.Thread(target=run, name=f"sweep-slot-{slot}")
      with self.lock:
        self.threads.append(t)
      t.start()
    return defer

  def join(self):
    """Waits for every clean-up: no sandbox outlives the batch."""
    with self.lock:
      threads = list(self.threads)
    for t in threads:
      t.join()


def _grade_one(student, entry, out, key, caseset, mode, lang, limits, visibility, slots, import_timeout):
  """Grades one entry into out/<student>/; any failure becomes a 0 with the reason, never an exception."""
  folder = out / student
  slot = slots.take()
  deferred = []
  defer = slots.defer_for(slot)
  try:
    report = grade_submission(entry, caseset, mode=mode, limits=limits, uid_slot=slot,
                              import_timeout=import_timeout, defer=lambda f: (deferred.append(f), defer(f)))
    summary = _summary(report, key)
  except Exception as e:  # noqa: BLE001 — one submission never stops the others
    traceback.print_exc()
    message = f"{type(e).__name__}: {e}"
    report = GradeReport(str(entry), [_unreadable(s, caseset, "internal", {"error": message})
                                      for s in caseset.specs], [], {}, seed=caseset.seed, internal_error=message,
                         assignment=caseset.assignment)
    summary = dict(_summary(report, key), key=None)  # no key: the next run tries again
    if not deferred:  # grade_submission failed before handing over its clean-up: free the slot here
      slots.free.put(slot)
  write_json(folder / "results.json", results_json(report, lang, visibility))
  write_json(folder / SUMMARY, summary)
  return student, summary


def write_gradebook(path: Path, names: list, rows: list) -> None:
  """gradebook.csv: student, score, max_score, then one column per graded function."""
  tmp = path.with_suffix(".csv.tmp")
  with open(tmp, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["student", "score", "max_score"] + names)
    for student, s in rows:
      w.writerow([student, s["score"], s["max_score"]] + [s["functions"].get(n, 0) for n in names])
  os.replace(tmp, path)


def run_batch(roster: Path, out: Path, *, workers: int, seed: int, mode: str, lang: str, limits=None,
              hidden_visibility="visible", import_timeout=IMPORT_TIMEOUT_S, assignment_name=None,
              questions_dirs=(), force=False) -> dict:
  """Grades the roster; returns {"graded": n, "reused": m, "students": k, "assignment": name}."""
  from tqdm import tqdm
  # the references, once, before any thread starts
  caseset = load_caseset(seed, assignment_name=assignment_name, questions_dirs=questions_dirs)
  names = [s.name for s in caseset.specs]
  out.mkdir(parents=True, exist_ok=True)
  claim_out(out, caseset.assignment, names, force)
  entries = students(roster)
  done, todo = {}, []
  version = grader_version()
  for student, entry in entries:
    key = grading_key(entry, caseset, version)
    summary = _reusable(out / student, key)
    if summary is not None:
      done[student] = summary
    else:
      todo.append((student, entry, key))
  workers = max(1, min(workers, isolation.SLOTS // 2))  # each worker may hold two uid slots at once
  slots = Slots(workers)
  bar = tqdm(total=len(entries), initial=len(done), desc="grading", unit="submission")
  with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
    futures = [pool.submit(_grade_one, s, e, out, k, caseset, mode, lang, limits, hidden_visibility, slots,
                           import_timeout) for s, e, k in todo]
    for fut in as_completed(futures):
      student, summary = fut.result()
      done[student] = summary
      bar.update(1)
  slots.join()
  bar.close()
  write_gradebook(out / "gradebook.csv", names, [(s, done[s]) for s, _ in entries])
  print(f"assignment {caseset.assignment}: {len(todo)} graded, {len(done) - len(todo)} unchanged; "
        f"gradebook: {out / 'gradebook.csv'}")
  return {"graded": len(todo), "reused": len(done) - len(todo), "students": len(entries),
          "assignment": caseset.assignment}

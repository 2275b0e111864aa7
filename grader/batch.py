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
from grader import seed as seeds
from grader.grade import GradeReport, _unreadable, grade_submission, grader_version, load_casesets
from grader.report import results_json, write_json
from grader.sandbox import IMPORT_TIMEOUT_S

SUMMARY = "summary.json"  # per student: the grading key and the per-function points, for re-runs
SEED_RECORD = "grading.json"  # beside the gradebook: the seed's fingerprint, K, and whether the seed is weak
WEAK_SEED_NOTE = "weak-seed.txt"  # beside the gradebook when the seed is weak


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
  return {"key": key, "score": report.score, "max_score": report.max_score, "variant": report.variant,
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
                                      for s in caseset.specs], [], {}, variant=caseset.variant,
                         internal_error=message)
    summary = dict(_summary(report, key), key=None)  # no key: the next run tries again
    if not deferred:  # grade_submission failed before handing over its clean-up: free the slot here
      slots.free.put(slot)
  write_json(folder / "results.json", results_json(report, lang, visibility))
  write_json(folder / SUMMARY, summary)
  return student, summary


def write_gradebook(path: Path, names: list, rows: list) -> None:
  """gradebook.csv: student, score, max_score, the variant of the hidden cases, then one column per graded function."""
  tmp = path.with_suffix(".csv.tmp")
  with open(tmp, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["student", "score", "max_score", "variant"] + names)
    for student, s in rows:
      w.writerow([student, s["score"], s["max_score"], s.get("variant", "")]
                 + [s["functions"].get(n, 0) for n in names])
  os.replace(tmp, path)


def record_seed(out: Path, seed: str, variants: int) -> str | None:
  """Tells the teacher which seed graded (its fingerprint, beside the gradebook) and warns when it is weak.

  Returns the weakness, if any. The seed itself is written nowhere.
  """
  import sys
  weak = seeds.weak_reason(seed)
  fp = seeds.fingerprint(seed)
  write_json(out / SEED_RECORD, {"seed_fingerprint": fp, "variants": variants, "weak_seed": weak})
  note = out / WEAK_SEED_NOTE
  if weak:
    text = (f"WARNING: this gradebook was graded with a weak seed ({weak}, fingerprint {fp}).\n"
            "Students who know the grader's public code can guess such a seed and recompute every hidden case.\n"
            "Set GRADER_SEED to a long passphrase (`python -m grader new-seed` prints one) and grade again.\n")
    note.write_text(text, encoding="utf-8")
    bar = "!" * 78
    print(f"{bar}\npython -m grader: WARNING: the seed is {weak}; the hidden cases can be guessed.\n"
          f"Recorded in {note}.\n{bar}", file=sys.stderr, flush=True)
  elif note.exists():
    note.unlink()  # a strong seed graded this folder since
  return weak


def run_batch(roster: Path, out: Path, *, workers: int, seed: str, mode: str, lang: str, limits=None,
              hidden_visibility="visible", import_timeout=IMPORT_TIMEOUT_S, variants: int = seeds.VARIANTS) -> dict:
  """Grades the roster; returns {"graded": n, "reused": m, "students": k}.

  Each student's hidden cases are variant seed.variant_of(the roster entry's raw name) of `variants`.
  """
  from tqdm import tqdm
  out.mkdir(parents=True, exist_ok=True)
  weak = record_seed(out, seed, variants)
  casesets = load_casesets(seed, variants)  # every variant's references, once, before any thread starts
  key_bytes = seeds.stretch(seed)
  names = [s.name for s in casesets[0].specs]
  entries = students(roster)
  done, todo = {}, []
  version = grader_version()
  for student, entry in entries:
    caseset = casesets[seeds.variant_of(entry.name, key_bytes, variants)]
    key = grading_key(entry, caseset, version)
    summary = _reusable(out / student, key)
    if summary is not None:
      done[student] = summary
    else:
      todo.append((student, entry, key, caseset))
  workers = max(1, min(workers, isolation.SLOTS // 2))  # each worker may hold two uid slots at once
  slots = Slots(workers)
  bar = tqdm(total=len(entries), initial=len(done), desc="grading", unit="submission")
  with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
    futures = [pool.submit(_grade_one, s, e, out, k, cs, mode, lang, limits, hidden_visibility, slots,
                           import_timeout) for s, e, k, cs in todo]
    for fut in as_completed(futures):
      student, summary = fut.result()
      done[student] = summary
      bar.update(1)
  slots.join()
  bar.close()
  write_gradebook(out / "gradebook.csv", names, [(s, done[s]) for s, _ in entries])
  fp = seeds.fingerprint(seed)
  print(f"{len(todo)} graded, {len(done) - len(todo)} unchanged; gradebook: {out / 'gradebook.csv'} "
        f"(seed fingerprint {fp}, {variants} variants{'; WEAK SEED: ' + weak if weak else ''})")
  return {"graded": len(todo), "reused": len(done) - len(todo), "students": len(entries), "weak_seed": weak}

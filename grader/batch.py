"""`--batch`: a roster graded in parallel, a gradebook, and re-runs that re-grade only what changed.

Parallelism is threads, each driving its own sandbox subprocess; the grader process is never forked
(it may have started JAX to compute the references). Each thread owns a uid slot for isolation.spawn.
"""

from __future__ import annotations

import collections
import dataclasses
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
from grader.outputs import escape_name, write_csv, write_json
from grader.report import results_json
from grader.sandbox import IMPORT_TIMEOUT_S, Limits

SUMMARY = "summary.json"  # per student: the grading key and the per-function points, for re-runs
SEED_RECORD = "grading.json"  # beside the gradebook: the seed's fingerprint, K, and whether the seed is weak
WEAK_SEED_NOTE = "weak-seed.txt"  # beside the gradebook when the seed is weak
ASSIGNMENT_FILE = "assignment.json"  # in OUT_DIR: the assignment its results were graded for
# Every name the batch itself writes in OUT_DIR (add any new one here: a roster entry whose id equals it
# would share its path; test_trust_roster checks the list against a real batch's output).
RESERVED = frozenset(["gradebook.csv", SUMMARY, "results.json", SEED_RECORD, WEAK_SEED_NOTE, ASSIGNMENT_FILE])


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
    raise MixedAssignments(
      f"{out} holds results graded for the assignment {previous!r}, not {assignment!r}; "
      "use another --out folder, or --force to re-grade it for this one"
    )
  write_json(path, {"assignment": assignment, "questions": names})


# Folder names Windows refuses: OUT_DIR is often copied there (a plain id is never one of them).
WINDOWS_NAMES = frozenset(["con", "prn", "aux", "nul"] + [f"{d}{k}" for d in ("com", "lpt") for k in range(1, 10)])
ID_CHARS = 80  # a sanitised stem longer than this is cut (and so gets the hash)


@dataclasses.dataclass(frozen=True)
class Entry:
  """One roster entry: `id` names its folder and gradebook row, `raw` is the file name as found."""

  id: str
  path: Path

  @property
  def raw(self) -> str:
    return self.path.name

  @property
  def shown(self) -> str:
    """The raw name, escaped into printable text (the gradebook's `entry` column)."""
    return escape_name(self.raw)


def name_hash(raw: str, digits: int = 8) -> str:
  """Hex digits of the SHA-256 of a raw file name's bytes (undecodable bytes included)."""
  return hashlib.sha256(os.fsencode(raw)).hexdigest()[:digits]


def sanitise(stem: str) -> str:
  """A stem usable as a folder name and a CSV cell: letters, digits (any script), `_`, `-` and `.` kept,
  anything else `_`; no leading `.` or `-` (hidden folder, spreadsheet formula), cut to ID_CHARS."""
  cleaned = "".join(c if (c.isalnum() and c.isprintable()) or c in "_-." else "_" for c in stem)
  if cleaned[:1] in ("", ".", "-"):
    cleaned = "_" + cleaned[1:]
  return cleaned[:ID_CHARS]


def _stem(p: Path) -> str:
  return p.name if p.is_dir() else p.stem


def scan(roster: Path) -> tuple[list[Entry], list[str]]:
  """(entries, hidden names): every roster entry not starting with `.`, each with a distinct id.

  The id is the sanitised stem; it gets `-` and name_hash(raw) whenever sanitising changed the stem,
  the stem is a name the batch writes itself, or two entries' ids collide (compared case-folded, for
  case-insensitive file systems), except that in a collision the one entry whose stem is already a clean
  lower-case id keeps it: so entries are never merged, and an id is stable across runs of the same roster
  and when a colliding variant of a name is added. Hidden entries (starting with `.`) are left out and returned, for a notice.
  """
  names = sorted(os.listdir(roster))
  hidden = [n for n in names if n.startswith(".")]
  paths = [roster / n for n in names if not n.startswith(".")]
  base = {p: sanitise(_stem(p)) for p in paths}
  # Entries whose ids would clash (case-folded). The one whose raw stem is already a clean, case-folded id
  # keeps it, when it is the only such entry of its group: adding ALICE.PY or "alice!.py" beside alice.py
  # must not rename alice's row (issue 12, F6). Two such entries (alice.py and alice.ipynb) both take a hash:
  # which one is the student's is the teacher's call, and no order of arrival decides it.
  claims = collections.defaultdict(list)
  for p in paths:
    claims[base[p].casefold()].append(p)
  level = {}
  for p in paths:
    b = base[p]
    group = claims[b.casefold()]
    clean = [q for q in group if base[q] == _stem(q) and _stem(q) == _stem(q).casefold()]
    plain = (
      b == _stem(p)
      and (len(group) == 1 or clean == [p])
      and b.casefold() not in RESERVED
      and b.split(".")[0].casefold() not in WINDOWS_NAMES
    )
    level[p] = 0 if plain else 1
  # A plain id can still equal another entry's hashed one (a name crafted as "alice-1a2b3c4d"), or two
  # hashes share 32 bits: every entry of a clash takes a longer hash, up to the whole SHA-256 of its
  # raw name, which differs between any two entries of one folder.
  digits = {1: 8, 2: 16, 3: 64}
  while True:
    ids = {p: base[p] if level[p] == 0 else f"{base[p]}-{name_hash(p.name, digits[level[p]])}" for p in paths}
    groups = collections.defaultdict(list)
    for p, i in ids.items():
      groups[i.casefold()].append(p)
    clashing = [p for g in groups.values() if len(g) > 1 for p in g]
    if not clashing:
      break
    if all(level[p] == 3 for p in clashing):  # two raw names with one SHA-256: never seen; fail loudly
      raise RuntimeError(f"roster entries with one id: {[str(p) for p in clashing]}")
    for p in clashing:
      level[p] = min(level[p] + 1, 3)
  return [Entry(ids[p], p) for p in paths], hidden


def students(roster: Path) -> list[tuple[str, Path]]:
  """(student id, entry path) for every visible roster entry (see scan)."""
  return [(e.id, e.path) for e in scan(roster)[0]]


def _name_bytes(name: str) -> bytes:
  """A file name's bytes as the file system has them (undecodable bytes come back as they were)."""
  try:
    return name.encode("utf-8", "surrogateescape")
  except UnicodeEncodeError:  # a surrogate that no file system byte decodes to
    return name.encode("utf-8", "surrogatepass")


def _field(h, data: bytes) -> None:
  """Feeds one field to the hash with its length first, so no two sequences of fields hash alike."""
  h.update(len(data).to_bytes(8, "big"))
  h.update(data)


def content_hash(path: Path) -> str:
  """A hash of a submission's content: the file's bytes, or a folder's relative paths and bytes.

  Every field (name, path, kind, symlink target, bytes) is length-prefixed: a file whose bytes look like
  "path\0bytes" of a second file must not hash like the two files (issue 12, F4).
  """
  h = hashlib.sha256(b"mmzoo content v2\0")
  _field(h, _name_bytes(path.name))
  try:
    path = path.resolve()  # a roster entry may be a link to the submission (links inside are hashed as links)
  except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13): hashed as the link itself
    _hash_entry(h, path, path.parent)
    return h.hexdigest()
  if path.is_dir():
    for root, dirs, files in os.walk(path, followlinks=False):
      dirs.sort()
      for f in sorted(files):
        _hash_entry(h, Path(root) / f, path)
  else:
    _hash_entry(h, path, path.parent)
  return h.hexdigest()


def _hash_entry(h, p: Path, base: Path):
  _field(h, _name_bytes(str(p.relative_to(base))))
  try:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
      _field(h, b"link")
      _field(h, _name_bytes(os.readlink(p)))
    elif stat.S_ISREG(st.st_mode):
      _field(h, b"file")
      h.update(st.st_size.to_bytes(8, "big"))
      n = 0
      with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
          n += len(chunk)
          h.update(chunk)
      if n != st.st_size:  # changed while read: the length said first no longer frames the bytes
        _field(h, b"size-changed:%d" % n)
    else:
      _field(h, b"other")
  except OSError as e:
    _field(h, f"error:{e.errno}".encode())


def records_version() -> str:
  """A hash of the question records (questions/<name>/...) where the project has them, else ""."""
  root = Path(__file__).resolve().parent.parent / "questions"
  if not root.is_dir():
    return ""
  h = hashlib.sha256()
  for p in sorted(root.rglob("*")):
    if p.is_file() and "__pycache__" not in p.parts:
      h.update(p.relative_to(root).as_posix().encode() + b"\0")
      h.update(p.read_bytes())
  return h.hexdigest()[:16]


def _seed_part(caseset) -> str:
  """The seed as it enters the key: stretched where grader.seed exists (summary.json holds only a hash
  of the key, but a plain seed in it would still be a cheap offline oracle for guessed seeds)."""
  try:
    from grader import seed as seed_mod

    return seed_mod.stretch(str(caseset.seed)).hex()
  except (ImportError, AttributeError):
    return hashlib.sha256(b"mmzoo-grader-seed|" + str(caseset.seed).encode()).hexdigest()


def grading_key(entry: Path, caseset, version: str, options: dict | None = None, seed_part: str | None = None) -> str:
  """What a result depends on: the submission's content, `version` (the grader's and the question
  records' versions: run_batch joins them), the seed, the case set (its key covers the cases and the references' code), and every option
  that changes a result (`options`: language, visibility, isolation, limits, import timeout, variant...)."""
  parts = {
    "content": content_hash(entry),
    "grader": version,
    "seed": seed_part if seed_part is not None else _seed_part(caseset),
    "cases": caseset.key,
    "options": options or {},
  }
  return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


def _reusable(folder: Path, key: str) -> dict | None:
  try:
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
  except (OSError, ValueError):
    return None
  if summary.get("key") != key or not (folder / "results.json").is_file():
    return None
  return summary


def _summary(report, key) -> dict:
  return {
    "key": key,
    "score": report.score,
    "max_score": report.max_score,
    "variant": report.variant,
    "functions": {f.name: f.score for f in report.functions},
  }


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
  if isolation.stopping():
    raise isolation.GraderStopping("the grader is stopping")
  slot = slots.take()
  deferred = []
  defer = slots.defer_for(slot)
  try:
    report = grade_submission(
      entry,
      caseset,
      mode=mode,
      limits=limits,
      uid_slot=slot,
      import_timeout=import_timeout,
      defer=lambda f: (deferred.append(f), defer(f)),
    )
    if isolation.stopping():  # SIGTERM: its sandbox may have been killed mid-call; keep no grade of that
      raise isolation.GraderStopping("the grader is stopping")
    report.submission = escape_name(str(entry))  # the title shows a hostile name as text, never raw
    summary = _summary(report, key)
  except Exception as e:  # noqa: BLE001 — one submission never stops the others
    traceback.print_exc()
    message = f"{type(e).__name__}: {e}"
    report = GradeReport(
      escape_name(str(entry)),
      [_unreadable(s, caseset, "internal", {"error": message}) for s in caseset.specs],
      [],
      {},
      variant=caseset.variant,
      internal_error=message,
      assignment=caseset.assignment,
    )
    summary = dict(_summary(report, key), key=None)  # no key: the next run tries again
    if not deferred:  # grade_submission failed before handing over its clean-up: free the slot here
      slots.free.put(slot)
  write_json(folder / "results.json", results_json(report, lang, visibility))
  write_json(folder / SUMMARY, summary)
  return student, summary


def write_gradebook(path: Path, names: list, rows: list) -> None:
  """gradebook.csv: student, entry (the raw name, escaped), score, max_score, the variant of the hidden
  cases, then one column per graded function.

  UTF-8 with a BOM and every cell neutralised (grader.outputs.write_csv): read it with utf-8-sig.
  """
  table = [["student", "entry", "score", "max_score", "variant"] + names]
  for e, s in rows:
    table.append(
      [e.id, e.shown, s["score"], s["max_score"], s.get("variant", "")] + [s["functions"].get(n, 0) for n in names]
    )
  write_csv(path, table)


def select(entries: list[Entry], regrade: list[str]) -> tuple[set, list]:
  """(ids to re-grade, names matching no entry): a name matches an entry's id, raw name or stem."""
  chosen, unknown = set(), []
  for name in regrade:
    hits = {e.id for e in entries if name in (e.id, e.raw, _stem(e.path), e.shown)}
    chosen |= hits
    if not hits:
      unknown.append(name)
  return chosen, unknown


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
    text = (
      f"WARNING: this gradebook was graded with a weak seed ({weak}, fingerprint {fp}).\n"
      "Students who know the grader's public code can guess such a seed and recompute every hidden case.\n"
      "Set GRADER_SEED to a long passphrase (`python -m grader new-seed` prints one) and grade again.\n"
    )
    note.write_text(text, encoding="utf-8")
    from grader.i18n import localize_reason, notice_lang

    bar = "!" * 78
    if notice_lang() == "zh":  # the teacher's console in the language they asked for (the note stays English)
      line = f"python -m grader：警告：种子{localize_reason('zh', weak)}；隐藏用例可以被猜出。\n已记录在 {note}。"
    else:
      line = f"python -m grader: WARNING: the seed is {weak}; the hidden cases can be guessed.\nRecorded in {note}."
    print(f"{bar}\n{line}\n{bar}", file=sys.stderr, flush=True)
  elif note.exists():
    note.unlink()  # a strong seed graded this folder since
  return weak


def run_batch(
  roster: Path,
  out: Path,
  *,
  workers: int,
  seed: str,
  mode: str,
  lang: str,
  limits=None,
  hidden_visibility="visible",
  import_timeout=IMPORT_TIMEOUT_S,
  force=False,
  regrade=(),
  caseset=None,
  variants: int = seeds.VARIANTS,
  assignment_name=None,
  questions_dirs=(),
) -> dict:
  """Grades the roster; returns {"graded": n, "reused": m, "students": k, "hidden": [...], "assignment": name}.

  A result is reused only when its key (grading_key) is unchanged; `force` re-grades every entry,
  `regrade` the named ones. `caseset` replaces the full one (tests grade a one-function set). Each
  student's hidden cases are variant seed.variant_of(the roster entry's raw name) of `variants`.
  OUT_DIR records the assignment it holds; another one is refused unless `force` (claim_out).
  """
  from tqdm import tqdm

  # Every variant's references, once, before any thread starts.
  casesets = (
    [caseset]
    if caseset is not None
    else load_casesets(seed, variants, assignment_name=assignment_name, questions_dirs=questions_dirs)
  )
  names = [s.name for s in casesets[0].specs]
  out.mkdir(parents=True, exist_ok=True)
  claim_out(out, casesets[0].assignment, names, force)
  weak = record_seed(out, seed, variants)
  key_bytes = seeds.stretch(seed)
  entries, hidden = scan(roster)
  chosen, unknown = select(entries, list(regrade))
  if unknown:
    raise ValueError(f"--regrade: no roster entry named {', '.join(map(escape_name, unknown))}")
  done, todo = {}, []
  version = f"{grader_version()}+{records_version()}"
  options = {
    "lang": lang,
    "visibility": hidden_visibility,
    "mode": mode,
    "import_timeout": import_timeout,
    "limits": dataclasses.asdict(limits or Limits()),
    "functions": names,
  }  # names: the assignment
  seed_part = _seed_part(casesets[0])
  for e in entries:
    cs = casesets[seeds.variant_of(e.raw, key_bytes, variants) if len(casesets) > 1 else 0]
    key = grading_key(e.path, cs, version, options, seed_part)
    summary = None if force or e.id in chosen else _reusable(out / e.id, key)
    if summary is not None:
      done[e.id] = summary
    else:
      todo.append((e.id, e.path, key, cs))
  workers = max(1, min(workers, isolation.SLOTS // 2))  # each worker may hold two uid slots at once
  slots = Slots(workers)
  bar = tqdm(total=len(entries), initial=len(done), desc="grading", unit="submission")
  with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
    futures = [
      pool.submit(_grade_one, s, e, out, k, cs, mode, lang, limits, hidden_visibility, slots, import_timeout)
      for s, e, k, cs in todo
    ]
    for fut in as_completed(futures):
      student, summary = fut.result()
      done[student] = summary
      bar.update(1)
  slots.join()
  bar.close()
  write_gradebook(out / "gradebook.csv", names, [(e, done[e.id]) for e in entries])
  if hidden:
    shown = ", ".join(escape_name(n) for n in hidden[:10]) + (", ..." if len(hidden) > 10 else "")
    from grader.i18n import t

    print(t(lang, "batch_hidden_one" if len(hidden) == 1 else "batch_hidden", n=len(hidden), names=shown))
  fp = seeds.fingerprint(seed)
  from grader.i18n import t

  print(
    t(
      lang,
      "batch_summary",
      assignment=casesets[0].assignment,
      graded=len(todo),
      unchanged=len(done) - len(todo),
      gradebook=out / "gradebook.csv",
      fp=fp,
      variants=variants,
      note=t(lang, "gradescope_weak_note", weak=weak) if weak else "",
    )
  )
  return {
    "graded": len(todo),
    "reused": len(done) - len(todo),
    "students": len(entries),
    "hidden": hidden,
    "weak_seed": weak,
    "assignment": casesets[0].assignment,
  }

"""Reading a submission (.py, folder, .zip or .ipynb) into a fresh scratch folder of .py files, safely.

Nothing here runs student code. Every problem found becomes a `Problem` (a code for i18n plus details)
that the feedback shows; a problem with one file leaves the others gradable, a hostile or damaged
archive is refused whole.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

SKIP_DIRS = frozenset(["__pycache__", "__MACOSX", ".ipynb_checkpoints", ".git", ".venv", "venv"])
MAX_PATH_PARTS = 32
MAX_NAME_CHARS = 200


@dataclasses.dataclass(frozen=True)
class ReadLimits:
  """Caps on what a submission may hold (bytes are uncompressed)."""

  file_bytes: int = 1 << 20  # one .py file; the longest honest answer is a few KiB
  notebook_bytes: int = 16 << 20  # notebooks carry outputs and images
  total_bytes: int = 32 << 20  # everything read from one submission
  zip_members: int = 2000
  files: int = 500  # .py and .ipynb files kept
  walk_entries: int = 20000  # folder entries looked at


@dataclasses.dataclass
class Problem:
  """Something wrong with the submission as read: `code` names the i18n message, `params` fill it."""

  code: str
  params: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Reading:
  """What was written into the scratch folder (relative .py paths) and what went wrong."""

  files: list = dataclasses.field(default_factory=list)
  problems: list = dataclasses.field(default_factory=list)


class _Refused(Exception):
  """The whole submission is refused (a hostile or damaged archive)."""

  def __init__(self, code, **params):
    super().__init__(code)
    self.problem = Problem(code, params)


class _Writer:
  """Writes decoded sources under `dest`, counting files and bytes against the limits."""

  def __init__(self, dest: Path, limits: ReadLimits, reading: Reading, pack=frozenset()):
    self.dest, self.limits, self.reading, self.pack = dest, limits, reading, pack
    self.total = 0
    self.taken = set()

  def charge(self, n):
    self.total += n
    if self.total > self.limits.total_bytes:
      raise _Refused("too_big_total", limit=self.limits.total_bytes)

  def add_source(self, rel: str, data: bytes):
    text = decode_source(rel, data, self.reading)
    if text is not None:
      self.write(rel, text)

  def add_notebook(self, rel: str, data: bytes):
    # A .py of the same module came first (source_order): it is the submission, the notebook most likely
    # a scratch copy; grading both would let the notebook's unfinished functions clash with it.
    if rel[: -len(".ipynb")] + ".py" in self.taken:
      self.reading.problems.append(Problem("notebook_ignored", {"path": rel, "module": rel[:-6] + ".py"}))
      return
    text = notebook_to_python(rel, data, self.reading)
    if text is None:
      return
    self.write(rel[: -len(".ipynb")] + ".py", text)

  def write(self, rel: str, text: str):
    if rel in self.taken:
      self.reading.problems.append(Problem("duplicate", {"path": rel}))
      return
    if len(self.taken) >= self.limits.files:
      raise _Refused("too_many_files", limit=self.limits.files)
    self.taken.add(rel)
    target = self.dest.joinpath(*PurePosixPath(rel).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="\n") as f:
      f.write(text)
    self.reading.files.append(rel)


def decode_source(rel: str, data: bytes, reading: Reading) -> str | None:
  """UTF-8 text with a BOM dropped and CRLF / CR turned into LF; None (and a Problem) otherwise."""
  if data.startswith(b"\xef\xbb\xbf"):
    data = data[3:]
  if b"\x00" in data:
    reading.problems.append(Problem("binary", {"path": rel}))
    return None
  try:
    text = data.decode("utf-8")
  except UnicodeDecodeError as e:
    reading.problems.append(Problem("not_utf8", {"path": rel, "offset": e.start}))
    return None
  return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------------------------
# Notebooks.

_SHELL_ASSIGN = re.compile(r"^[\w.,\s()\[\]]+=\s*[!%]")
_HELP = re.compile(r"^(\?\??[\w.]*|[\w.]+\?\??)$")


def _is_ipython_line(s: str) -> bool:
  """A line magic (%...), a shell line (!...), a help line (x? / ?x) or `y = !cmd` / `y = %magic`."""
  return s.startswith(("%", "!")) or bool(_HELP.match(s)) or bool(_SHELL_ASSIGN.match(s))


def _parses(src: str) -> bool:
  try:
    ast.parse(src)
    return True
  except (SyntaxError, ValueError, RecursionError, MemoryError):
    return False


def cell_to_python(src: str) -> str:
  """One code cell as plain Python, IPython-only lines left out (line count kept, for error lines)."""
  lines = src.split("\n")
  if lines and lines[0].lstrip().startswith("%%"):
    # A cell magic makes the whole cell something other than Python: the contract leaves it out.
    return "\n".join("# [grader] left out (cell magic): " + ln for ln in lines)
  # A cell that is already valid Python is kept as is: a line starting with % inside brackets is modulo.
  if _parses(src):
    return src
  out = []
  for ln in lines:
    s = ln.lstrip()
    if s and _is_ipython_line(s):
      indent = ln[: len(ln) - len(s)]
      # Inside a block a placeholder statement keeps the block valid.
      out.append(f"{indent}pass  # [grader] left out: {s}" if indent else f"# [grader] left out: {s}")
    else:
      out.append(ln)
  return "\n".join(out)


def notebook_to_python(rel: str, data: bytes, reading: Reading) -> str | None:
  """A notebook's code cells, in order, as one Python module; None (and a Problem) if it is malformed."""
  text = decode_source(rel, data, reading)
  if text is None:
    return None
  try:
    import nbformat  # only notebooks need it (and it is slow to import)
  except ImportError:
    # The grader's environment lacks it: the notebook is fine, say how to read it (not "malformed").
    reading.problems.append(Problem("notebook_needs_nbformat", {"path": rel}))
    return None
  from grader.checker import CHECK_ROLES, cell_role

  try:
    nb = nbformat.reads(text, as_version=4)
    # The hand-out's setup and check cells (tagged in their metadata by the builder, never matched by
    # their text) are not the student's code; a student's own call of check() in a cell of theirs is.
    cells = [
      (i, c) for i, c in enumerate(nb.cells, 1) if c.get("cell_type") == "code" and cell_role(c) not in CHECK_ROLES
    ]
    sources = [(i, c.get("source", "")) for i, c in cells]
    if not all(isinstance(s, str) for _, s in sources):
      raise ValueError("a code cell without text")
  except Exception as e:  # noqa: BLE001 — nbformat raises many kinds of errors for broken files
    reading.problems.append(Problem("notebook_malformed", {"path": rel, "error": type(e).__name__}))
    return None
  parts = [f"# [grader] cell {i}\n{cell_to_python(s)}" for i, s in sources]
  return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------
# Paths.


def _safe_rel(name: str) -> str | None:
  """A member or file name as a safe relative posix path, or None when it is not one."""
  name = name.replace("\\", "/")
  if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
    return None
  parts = [p for p in name.split("/") if p not in ("", ".")]
  if not parts or len(parts) > MAX_PATH_PARTS:
    return None
  for p in parts:
    if p == ".." or len(p) > MAX_NAME_CHARS or any(ord(c) < 32 or c == "\x7f" for c in p):
      return None
  return "/".join(parts)


def _wanted(rel: str) -> str | None:
  """ "py" or "ipynb" for a file to take, None for one to ignore (hidden files, caches, other types)."""
  parts = rel.split("/")
  if any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
    return None
  name = parts[-1].lower()  # hw.PY and HW.IPYNB are honest (Windows, macOS): suffixes in any case
  if name.startswith("."):  # also macOS "._x.py" resource forks
    return None
  if name.endswith(".py"):
    return "py"
  if name.endswith(".ipynb"):
    return "ipynb"
  return None


def normal_suffix(rel: str) -> str:
  """rel with a .py or .ipynb suffix of any case written in lower case (the worker imports only *.py)."""
  stem, dot, ext = rel.rpartition(".")
  return f"{stem}.{ext.lower()}" if dot and "/" not in ext and ext.lower() in ("py", "ipynb") else rel


def _hidden_source(rel: str) -> bool:
  """A .py or .ipynb whose own name starts with "." (not a macOS "._" fork): skipped, but said so."""
  parts = rel.split("/")
  name = parts[-1]
  return (
    name.startswith(".")
    and not name.startswith("._")
    and name.lower().endswith((".py", ".ipynb"))
    and not any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1])
  )


def source_order(rel: str) -> tuple:
  """Sort key of the files read: by module path, a .py before a notebook of the same module."""
  stem, _, ext = rel.rpartition(".")
  return (stem, ext.lower() != "py", rel)


def _read_capped(path: Path, cap: int) -> bytes:
  """At most cap + 1 bytes of a regular file, never following a symlink."""
  fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
  try:
    if not stat.S_ISREG(os.fstat(fd).st_mode):
      raise OSError("not a regular file")
    chunks, size = [], 0
    while size <= cap:
      chunk = os.read(fd, min(1 << 20, cap + 1 - size))
      if not chunk:
        break
      chunks.append(chunk)
      size += len(chunk)
    return b"".join(chunks)
  finally:
    os.close(fd)


def _digest(data: bytes) -> str:
  from grader.checker import file_digest  # the manifest's own digest (CRLF read as LF)

  return file_digest(data)


def _cap_for(kind: str, limits: ReadLimits) -> int:
  return limits.notebook_bytes if kind == "ipynb" else limits.file_bytes


def _add(writer: _Writer, rel: str, kind: str, data: bytes):
  rel = normal_suffix(rel)  # hw.PY is written as hw.py: a module the worker finds (issue 12, F5)
  cap = _cap_for(kind, writer.limits)
  if writer.pack and len(data) <= cap and _digest(data) in writer.pack:
    # One of the hand-out's own files (check.py, an untouched notebook...), wherever it lies and whatever
    # its name: never the student's work. Known by content, so a student's own grader.py is graded.
    writer.reading.problems.append(Problem("pack_file_ignored", {"path": rel}))
    return
  if len(data) > cap:
    writer.reading.problems.append(Problem("too_large", {"path": rel, "limit": cap}))
    return
  writer.charge(len(data))
  if kind == "py":
    writer.add_source(rel, data)
  else:
    writer.add_notebook(rel, data)


def _read_file(path: Path, rel: str, writer: _Writer):
  kind = "ipynb" if rel.lower().endswith(".ipynb") else "py"
  try:
    data = _read_capped(path, _cap_for(kind, writer.limits))
  except OSError as e:
    writer.reading.problems.append(Problem("unreadable", {"path": rel, "error": e.strerror or str(e)}))
    return
  _add(writer, rel, kind, data)


def _read_folder(root: Path, writer: _Writer):
  seen, found = 0, []
  for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
    seen += len(dirnames) + len(filenames)
    if seen > writer.limits.walk_entries:
      raise _Refused("too_many_files", limit=writer.limits.walk_entries)
    dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
    for d in dirnames:
      if os.path.islink(os.path.join(dirpath, d)):
        writer.reading.problems.append(Problem("symlink_skipped", {"path": _rel(root, dirpath, d)}))
    dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    for f in filenames:
      found.append((_rel(root, dirpath, f), Path(dirpath) / f))
  for rel, path in sorted(found, key=lambda item: source_order(item[0])):
    if _wanted(rel) is None:
      if _hidden_source(rel):
        writer.reading.problems.append(Problem("hidden_skipped", {"path": rel[:200]}))
      continue
    if path.is_symlink():
      writer.reading.problems.append(Problem("symlink_skipped", {"path": rel}))
      continue
    safe = _safe_rel(rel)
    if safe is None:
      writer.reading.problems.append(Problem("bad_name", {"path": rel[:200]}))
      continue
    _read_file(path, safe, writer)


def _rel(root, dirpath, name):
  return os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


def _is_symlink_member(info: zipfile.ZipInfo) -> bool:
  return stat.S_ISLNK(info.external_attr >> 16)


def _open_regular(path: Path):
  """A binary file object for `path`, refusing (without blocking) anything but a regular file: opening
  a FIFO for reading waits for a writer, a device can be endless."""
  fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
  try:
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
      raise _Refused(file_kind(mode), path=path.name[:200])
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
  except BaseException:
    os.close(fd)
    raise


def file_kind(mode: int) -> str:
  """The problem code for a file that is not regular: "special_fifo", "special_device", ... (i18n)."""
  for test, name in (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "device"),
    (stat.S_ISBLK, "device"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISDIR, "folder"),
  ):
    if test(mode):
      return "special_" + name
  return "special_other"


def _read_zip(path: Path, writer: _Writer):
  limits = writer.limits
  try:
    raw = _open_regular(path)
  except OSError as e:
    raise _Refused("zip_damaged", error=type(e).__name__) from None
  try:
    zf = zipfile.ZipFile(raw)
  except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
    raw.close()
    raise _Refused("zip_damaged", error=type(e).__name__) from None
  with raw, zf:
    infos = zf.infolist()
    if len(infos) > limits.zip_members:
      raise _Refused("zip_too_many", count=len(infos), limit=limits.zip_members)
    # Every member is checked before anything is read: a hostile archive is refused whole.
    for info in infos:
      if _safe_rel(info.filename) is None:
        raise _Refused("zip_unsafe_path", member=info.filename[:200])
      if _is_symlink_member(info):
        raise _Refused("zip_symlink", member=info.filename[:200])
    if sum(i.file_size for i in infos if _wanted(_safe_rel(i.filename)) is not None) > limits.total_bytes:
      raise _Refused("zip_too_big", limit=limits.total_bytes)
    for info in sorted(infos, key=lambda i: source_order(_safe_rel(i.filename))):
      rel = _safe_rel(info.filename)
      kind = _wanted(rel)
      if not info.is_dir() and kind is None and _hidden_source(rel):
        writer.reading.problems.append(Problem("hidden_skipped", {"path": rel[:200]}))
      if info.is_dir() or kind is None:
        continue
      _read_member(zf, info, rel, kind, writer)


def _read_member(zf, info, rel, kind, writer):
  cap = _cap_for(kind, writer.limits)
  if info.flag_bits & 0x1:
    writer.reading.problems.append(Problem("zip_encrypted", {"path": rel}))
    return
  if info.file_size > cap:
    writer.reading.problems.append(Problem("too_large", {"path": rel, "limit": cap}))
    return
  try:
    # The declared size can lie (a zip bomb): never read more than the cap, whatever it says.
    with zf.open(info) as f:
      data = f.read(cap + 1)
  except Exception as e:  # noqa: BLE001 — zlib and lzma raise their own error types on damaged data
    writer.reading.problems.append(Problem("zip_member_damaged", {"path": rel, "error": type(e).__name__}))
    return
  _add(writer, rel, kind, data)


def _lone_zip(folder: Path) -> Path | None:
  """The one .zip in a folder holding no Python at all (Gradescope keeps an uploaded zip as it is)."""
  try:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
  except OSError:
    return None
  zips = [p for p in entries if p.suffix.lower() == ".zip" and p.is_file() and not p.is_symlink()]
  others = [p for p in entries if p not in zips]
  if len(zips) != 1 or any(p.is_dir() or p.suffix.lower() in (".py", ".ipynb") for p in others):
    return None
  return zips[0]


def kind_of(path: Path) -> str:
  """ "folder", "zip", "ipynb", "py" or "other"."""
  if path.is_dir():
    return "folder"
  suffix = path.suffix.lower()
  return {".zip": "zip", ".ipynb": "ipynb", ".py": "py"}.get(suffix, "other")


def read_submission(path, dest, limits: ReadLimits = ReadLimits(), pack=frozenset()) -> Reading:
  """Reads the submission at `path` into the (new, empty) folder `dest`; never raises for bad input.

  `pack`: the sha256 digests of the hand-out's own files (handout.pack_digests, made by the grader from the
  records, never read from the submission); a file with one of them is left out and said so.
  """
  path, dest = Path(path), Path(dest)
  dest.mkdir(parents=True, exist_ok=True)
  reading = Reading()
  writer = _Writer(dest, limits, reading, frozenset(pack))
  kind = kind_of(path)
  try:
    mode = os.stat(path).st_mode  # a roster entry may be a link to the submission: followed here
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
      raise _Refused(file_kind(mode), path=path.name[:200])
    if kind == "folder" and _lone_zip(path):
      _read_zip(_lone_zip(path), writer)
    elif kind == "folder":
      _read_folder(path, writer)
    elif kind == "zip":
      _read_zip(path, writer)
    elif kind in ("py", "ipynb"):
      _read_file(path, _safe_rel(path.name) or f"submission.{kind}", writer)
    else:
      reading.problems.append(Problem("unsupported", {"path": path.name[:200]}))
  except _Refused as r:
    # Nothing of a refused submission is graded: remove what was written before the refusal.
    _empty(dest)
    reading.files.clear()
    reading.problems.append(r.problem)
  except OSError as e:
    reading.problems.append(Problem("unreadable", {"path": path.name[:200], "error": e.strerror or str(e)}))
  if not reading.files and all(p.code == "pack_file_ignored" for p in reading.problems):
    reading.problems.append(Problem("no_python", {}))
  return reading


def _empty(dest: Path):
  for child in dest.iterdir():
    if child.is_dir() and not child.is_symlink():
      shutil.rmtree(child)
    else:
      child.unlink()

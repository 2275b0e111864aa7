"""Writing what the grader produces (results.json, gradebook.csv) safely, whatever text a submission or a
file name carried: lone surrogates escaped, spreadsheet formulas neutralised, files replaced atomically
with no temporary file left behind."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

# A spreadsheet reads a cell starting with one of these as a formula (or strips it): see OWASP's
# "CSV injection". Such a cell gets a leading apostrophe, which spreadsheets show as text. A cell that
# already starts with an apostrophe gets one too, so a reader undoes it unambiguously (unneutralise).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(s: str) -> str:
  """`s` with every lone surrogate written as an escape (\\x93 for an undecodable byte of a file name,
  \\udc80-style otherwise), so that it encodes as UTF-8; other text is returned unchanged."""
  try:
    s.encode("utf-8")
    return s
  except UnicodeEncodeError:
    pass
  out = []
  for c in s:
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # a byte that os.fsdecode could not decode (surrogateescape)
      out.append(f"\\x{o - 0xDC00:02x}")
    elif 0xD800 <= o <= 0xDFFF:
      out.append(f"\\u{o:04x}")
    else:
      out.append(c)
  return "".join(out)


def safe_data(x):
  """A JSON-able value with every string (keys too) passed through safe_text."""
  if isinstance(x, str):
    return safe_text(x)
  if isinstance(x, dict):
    return {safe_data(k): safe_data(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [safe_data(v) for v in x]
  return x


def escape_name(name: str) -> str:
  """A file name as printable text: undecodable bytes as \\xNN, control and other non-printable
  characters as \\uNNNN-style escapes, a backslash doubled (so the escaping cannot be forged)."""
  out = []
  for c in name:
    o = ord(c)
    if c == "\\":
      out.append("\\\\")
    elif 0xDC80 <= o <= 0xDCFF:
      out.append(f"\\x{o - 0xDC00:02x}")
    elif c.isprintable() and not 0xD800 <= o <= 0xDFFF:
      out.append(c)
    elif o < 0x100:
      out.append(f"\\x{o:02x}")
    elif o < 0x10000:
      out.append(f"\\u{o:04x}")
    else:
      out.append(f"\\U{o:08x}")
  return "".join(out)


def neutralise_cell(value):
  """A CSV cell that a spreadsheet shows as text: strings starting like a formula get an apostrophe."""
  if isinstance(value, str):
    value = safe_text(value)
    if value.startswith(FORMULA_STARTS + ("'",)):
      return "'" + value
  return value


def unneutralise(cell: str) -> str:
  """A gradebook cell as it was before neutralise_cell."""
  return cell.removeprefix("'")


def check_writable(path: Path) -> str | None:
  """Why a file cannot be written at `path` (None when it can): tried before any grading is done."""
  path = Path(path)
  if path.is_dir():
    return f"{path} is a folder, not a file"
  if path.exists() and not path.is_file():
    return f"{path} is not a regular file"
  parent = path.parent
  try:
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-")
    os.close(fd)
    os.unlink(tmp)
  except OSError as e:
    return f"cannot write in {parent}: {e.strerror or e}"
  return None


def check_folder(path: Path) -> str | None:
  """Why `path` cannot be used as an output folder (None when it can); creates it."""
  path = Path(path)
  if path.exists() and not path.is_dir():
    return f"{path} exists and is not a folder"
  try:
    path.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    return f"cannot create {path}: {e.strerror or e}"
  return check_writable(path / "gradebook.csv")


def write_atomic(path, text: str, encoding: str = "utf-8") -> None:
  """Writes `text` to a temporary file beside `path`, then renames it into place; on any failure the
  temporary file is removed and the error raised."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
  try:
    with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
      f.write(text)
    os.replace(tmp, path)
  except BaseException:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    raise


def write_json(path, data) -> None:
  """Writes JSON (UTF-8, surrogates escaped) atomically."""
  write_atomic(path, json.dumps(safe_data(data), ensure_ascii=False, indent=1) + "\n")


def write_csv(path, rows) -> None:
  """Writes a CSV that spreadsheets open safely: UTF-8 with a BOM (Excel reads it as UTF-8 then; read it
  back with encoding="utf-8-sig"), every cell neutralised, atomically."""
  buf = io.StringIO()
  w = csv.writer(buf)
  for row in rows:
    w.writerow([neutralise_cell(c) for c in row])
  write_atomic(path, buf.getvalue(), encoding="utf-8-sig")

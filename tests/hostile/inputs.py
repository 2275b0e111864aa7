"""Builds hostile *inputs* to the grader (what it reads before any student code runs): broken or
hostile .py files, zips and notebooks. Binary fixtures are made at test time rather than stored."""

import json
import stat
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def honest_text() -> str:
  """The honest base (tests/hostile/_honest.py), whole."""
  return (HERE / "_honest.py").read_text(encoding="utf-8")


def chinese_text() -> str:
  """The honest base with Chinese identifiers and comments, still correct."""
  text = honest_text()
  for old, new in (("_log_softmax", "对数软最大"), ("_softmax", "软最大"), ("_attend", "注意力"), ("_one", "前置一")):
    text = text.replace(old, new)
  return "# 多模态融合作业：全部 17 个函数\n比例 = 0.5  # 中文变量名\n" + text


def _zip(path: Path, members, mode=zipfile.ZIP_DEFLATED):
  """A zip of (name, bytes[, unix mode]) members."""
  with zipfile.ZipFile(path, "w", mode) as zf:
    for m in members:
      info = zipfile.ZipInfo(m[0])
      info.compress_type = mode
      if len(m) > 2:
        info.external_attr = m[2] << 16
      zf.writestr(info, m[1])
  return path


def lying_zip(path: Path, real_bytes: int, claimed: int) -> Path:
  """One member whose headers claim `claimed` bytes while its deflate stream holds `real_bytes`."""
  _zip(path, [("bomb.py", b"#" * real_bytes)])
  data = bytearray(path.read_bytes())
  # Patch the uncompressed size in the local header (offset 22) and the central directory entry (24).
  struct.pack_into("<I", data, 22, claimed)
  central = data.rfind(b"PK\x01\x02")
  struct.pack_into("<I", data, central + 24, claimed)
  path.write_bytes(bytes(data))
  return path


def notebook(cells) -> dict:
  """A minimal nbformat-4 notebook of code cells."""
  return {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
      {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
      for i, src in enumerate(cells)
    ],
  }


def build_roster(roster: Path, tag: str) -> dict:
  """Writes every hostile input into `roster` (one student each); returns student -> what to expect:
  ("zero", words the feedback must contain) or ("full", words)."""
  roster.mkdir(parents=True)
  honest = honest_text()
  expect = {}

  def put(name, data, how, *words):
    p = roster / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    expect[p.stem if p.suffix in (".py", ".zip", ".ipynb") else p.name] = (how, words)

  put("binary.py", bytes(range(256)) * 64, "zero", "binary file")
  put("empty.py", b"", "zero", "missing")
  put("syntax_error.py", honest + "\ndef broken(:\n  pass\n", "zero", "syntaxerror")
  put("bom_crlf_chinese.py", b"\xef\xbb\xbf" + chinese_text().replace("\n", "\r\n").encode("utf-8"), "full")
  put("latin1.py", (honest + "# café crème\n").encode("latin-1"), "zero", "not utf-8")
  _zip(roster / "dotdot.zip", [("honest.py", honest.encode()), (f"../../{tag}-dotdot.py", b"x = 1\n")])
  expect["dotdot"] = ("zero", ("refused", "outside"))
  _zip(roster / "absolute.zip", [("honest.py", honest.encode()), (f"/tmp/{tag}-abs.py", b"x = 1\n")])
  expect["absolute"] = ("zero", ("refused",))
  _zip(roster / "symlink.zip", [("honest.py", honest.encode()), ("solutions.py", b"/etc/passwd", stat.S_IFLNK | 0o777)])
  expect["symlink"] = ("zero", ("symbolic link",))
  _zip(roster / "bomb.zip", [("honest.py", honest.encode()), ("bomb.py", b"#" * (100 << 20))])
  expect["bomb"] = ("zero", ("zip bomb",))
  lying_zip(roster / "lying.zip", 50 << 20, 100)
  expect["lying"] = ("zero", ("damaged",))
  _zip(roster / "crowd.zip", [(f"m{i}.py", b"") for i in range(3000)], zipfile.ZIP_STORED)
  expect["crowd"] = ("zero", ("entries",))
  put("notzip.zip", b"PK\x03\x04" + bytes(range(256)) * 8, "zero", "damaged")
  put("truncated.zip", (roster / "symlink.zip").read_bytes()[:300], "zero", "damaged")
  big = notebook(["x = '" + "a" * (20 << 20) + "'\n", honest])
  put("huge.ipynb", json.dumps(big), "zero", "larger than")
  put("badjson.ipynb", '{"cells": [', "zero", "not a valid jupyter notebook")
  put("notanotebook.ipynb", json.dumps({"cells": 5, "nbformat": 4}), "zero", "not a valid jupyter notebook")
  nb = notebook([honest])
  nb["cells"][0]["source"] = 12345
  put("numbersource.ipynb", json.dumps(nb), "zero", "not a valid jupyter notebook")
  put("deep.ipynb", "[" * 100_000 + "]" * 100_000, "zero", "not a valid jupyter notebook")
  magics = notebook(
    ["%matplotlib inline\n!pip install numpy\nimport numpy as np", honest, "%%timeit\nx = 1", "files = !ls"]
  )
  put("magics.ipynb", json.dumps(magics), "full")
  return expect

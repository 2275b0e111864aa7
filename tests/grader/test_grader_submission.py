"""grader/submission.py: reading .py files, folders, zips and notebooks into scratch, refusing the hostile."""

import ast
import json
import os
import stat
import zipfile

import nbformat
import pytest

from grader.submission import ReadLimits, cell_to_python, read_submission

GOOD = "def time_align(A, B):\n  k = min(len(A), len(B))\n  return A[:k], B[:k]\n"


def read(path, tmp_path, limits=ReadLimits()):
  dest = tmp_path / "scratch"
  r = read_submission(path, dest, limits)
  files = {p.relative_to(dest).as_posix(): p.read_text(encoding="utf-8") for p in dest.rglob("*.py")}
  assert sorted(files) == sorted(r.files)
  return r, files, [p.code for p in r.problems]


def make_zip(path, members, symlinks=()):
  with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
    for name, data in members.items():
      zf.writestr(name, data)
    for name, target in symlinks:
      info = zipfile.ZipInfo(name)
      info.external_attr = (stat.S_IFLNK | 0o777) << 16
      zf.writestr(info, target)
  return path


def test_a_py_file_with_bom_and_crlf_is_read_as_utf8_with_lf(tmp_path):
  src = tmp_path / "hw.py"
  src.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode() + "# 注释\r\n".encode())
  r, files, problems = read(src, tmp_path)
  assert problems == []
  assert files["hw.py"] == GOOD + "# 注释\n"


@pytest.mark.parametrize(
  "data, code", [(b"def f():\n  return '\xe9'\n", "not_utf8"), (b"\x7fELF\x02\x01\x01\x00\x00", "binary")]
)
def test_non_utf8_and_binary_files_are_reported_and_left_out(tmp_path, data, code):
  folder = tmp_path / "sub"
  folder.mkdir()
  (folder / "good.py").write_text(GOOD)
  (folder / "bad.py").write_bytes(data)
  r, files, problems = read(folder, tmp_path)
  assert list(files) == ["good.py"]
  assert problems == [code] and r.problems[0].params["path"] == "bad.py"


def test_a_folder_is_read_recursively_skipping_caches_hidden_files_and_links(tmp_path):
  folder = tmp_path / "sub"
  (folder / "pkg").mkdir(parents=True)
  (folder / "__pycache__").mkdir()
  (folder / "__MACOSX").mkdir()
  (folder / ".git").mkdir()
  (folder / "a.py").write_text(GOOD)
  (folder / "pkg" / "b.py").write_text("X = 1\n")
  (folder / "notes.txt").write_text("not code")
  (folder / "__pycache__" / "a.py").write_text("stale")
  (folder / "__MACOSX" / "._a.py").write_bytes(b"\0\x05\x16\x07")
  (folder / "._a.py").write_bytes(b"\0\x05\x16\x07")
  (folder / ".git" / "hook.py").write_text("x")
  outside = tmp_path / "secret.py"
  outside.write_text("SECRET = 1\n")
  (folder / "link.py").symlink_to(outside)
  (folder / "linkdir").symlink_to(tmp_path)
  r, files, problems = read(folder, tmp_path)
  assert sorted(files) == ["a.py", "pkg/b.py"]
  assert sorted(problems) == ["symlink_skipped", "symlink_skipped"]


def test_an_empty_folder_and_an_unknown_file_type_grade_nothing_with_a_reason(tmp_path):
  (tmp_path / "empty").mkdir()
  assert read(tmp_path / "empty", tmp_path)[2] == ["no_python"]
  (tmp_path / "hw.txt").write_text(GOOD)
  assert read(tmp_path / "hw.txt", tmp_path / "x")[2] == ["unsupported"]


def test_a_zip_keeps_its_folders_and_takes_only_python(tmp_path):
  z = make_zip(
    tmp_path / "hw.zip",
    {"hw/a.py": GOOD, "hw/sub/b.py": "Y = 2\n", "hw/data.csv": "1,2", "__MACOSX/hw/._a.py": b"\0\x05"},
  )
  r, files, problems = read(z, tmp_path)
  assert sorted(files) == ["hw/a.py", "hw/sub/b.py"] and problems == []


@pytest.mark.parametrize(
  "members, symlinks, code",
  [
    ({"../evil.py": "x = 1"}, (), "zip_unsafe_path"),
    ({"hw/../../evil.py": "x = 1"}, (), "zip_unsafe_path"),
    ({"/etc/evil.py": "x = 1"}, (), "zip_unsafe_path"),
    ({"C:/evil.py": "x = 1"}, (), "zip_unsafe_path"),
    ({"..\\evil.py": "x = 1"}, (), "zip_unsafe_path"),
    ({"a.py": GOOD}, [("link.py", "/etc/passwd")], "zip_symlink"),
  ],
)
def test_a_hostile_zip_is_refused_whole(tmp_path, members, symlinks, code):
  z = make_zip(tmp_path / "hw.zip", {"good.py": GOOD, **members}, symlinks)
  r, files, problems = read(z, tmp_path)
  assert files == {} and problems == [code]
  assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()


def test_zip_bombs_and_floods_of_members_are_refused(tmp_path):
  bomb = make_zip(tmp_path / "bomb.zip", {"a.py": GOOD, "b.py": b" " * (40 << 20)})
  assert bomb.stat().st_size < 1 << 20
  assert read(bomb, tmp_path / "1")[2] == ["zip_too_big"]
  many = make_zip(tmp_path / "many.zip", {f"m{i}.txt": "" for i in range(30)})
  assert read(many, tmp_path / "2", ReadLimits(zip_members=20))[2] == ["zip_too_many"]
  big = make_zip(tmp_path / "big.zip", {"a.py": GOOD, "b.py": "#" * (2 << 20)})
  r, files, problems = read(big, tmp_path / "3")
  assert list(files) == ["a.py"] and problems == ["too_large"]


def test_a_zip_whose_member_lies_about_its_size_is_not_read_past_the_cap(tmp_path):
  z = tmp_path / "liar.zip"
  make_zip(z, {"a.py": "#" * (3 << 20)})
  data = bytearray(z.read_bytes())
  # Claim 100 bytes uncompressed in both the local header (offset 22) and the central directory (24).
  local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
  data[local + 22 : local + 26] = (100).to_bytes(4, "little")
  data[central + 24 : central + 28] = (100).to_bytes(4, "little")
  z.write_bytes(bytes(data))
  r, files, problems = read(z, tmp_path)
  assert files == {} and problems in (["zip_member_damaged"], ["too_large"])


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really", b"", os.urandom(2000)])
def test_a_damaged_zip_is_graded_zero_with_a_reason(tmp_path, data):
  z = tmp_path / "hw.zip"
  z.write_bytes(data)
  assert read(z, tmp_path)[2] == ["zip_damaged"]


def notebook(cells):
  nb = nbformat.v4.new_notebook()
  nb.cells = [nbformat.v4.new_markdown_cell("# Homework")] + [nbformat.v4.new_code_cell(c) for c in cells]
  return nbformat.writes(nb)


def test_a_notebook_keeps_its_code_cells_without_magics_and_shell_lines(tmp_path):
  cells = [
    "%matplotlib inline\nimport numpy as np\n!pip install nothing",
    "%%time\nraise SystemExit('a cell magic must be left out whole')",
    GOOD,
    "files = !ls\nnp.sum?\ndef f(x):\n  %time y = 1\n  return x % 3",
    "z = (7\n% 4)",
  ]  # valid Python: a line starting with % inside brackets is modulo
  nb = tmp_path / "hw.ipynb"
  nb.write_text(notebook(cells), encoding="utf-8")
  r, files, problems = read(nb, tmp_path)
  assert problems == [] and list(files) == ["hw.py"]
  src = files["hw.py"]
  tree = ast.parse(src)
  defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
  assert defined == {"time_align", "f"}
  ns = {}
  exec(compile(src.replace("import numpy as np", "np = None"), "hw.py", "exec"), ns)
  assert ns["z"] == 3 and ns["f"](5) == 2 and ns["time_align"]([1, 2], [3]) == ([1], [3])


@pytest.mark.parametrize(
  "text", ["{not json", json.dumps({"cells": "no"}), json.dumps([1, 2]), "[" * 100000 + "]" * 100000]
)
def test_a_malformed_notebook_is_reported(tmp_path, text):
  nb = tmp_path / "hw.ipynb"
  nb.write_text(text)
  r, files, problems = read(nb, tmp_path)
  assert files == {} and "notebook_malformed" in problems


def test_notebooks_and_files_are_size_capped(tmp_path):
  nb = tmp_path / "hw.ipynb"
  nb.write_text(notebook(["x = 1\n" + "#" * 5000]))
  assert read(nb, tmp_path / "1", ReadLimits(notebook_bytes=1000))[2] == ["too_large"]
  py = tmp_path / "hw.py"
  py.write_text("#" * 5000)
  assert read(py, tmp_path / "2", ReadLimits(file_bytes=1000))[2] == ["too_large"]


def test_cell_magic_lines_keep_line_numbers():
  src = "%load_ext autoreload\ndef g():\n  return undefined_name"
  out = cell_to_python(src)
  assert out.count("\n") == src.count("\n")
  assert out.splitlines()[2] == "  return undefined_name"


def test_a_folder_holding_only_a_zip_is_read_as_that_zip(tmp_path):
  folder = tmp_path / "submission"  # as Gradescope stores an uploaded zip
  folder.mkdir()
  make_zip(folder / "upload.zip", {"hw/a.py": GOOD})
  (folder / "readme.txt").write_text("hi")
  r, files, problems = read(folder, tmp_path)
  assert list(files) == ["hw/a.py"] and problems == []

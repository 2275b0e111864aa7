"""The secret seed and the variants (issue 12, section 2): any string, stretched, never shown to a
student; weak seeds refused for Gradescope and flagged in a batch; one of K hidden draws per student."""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cases, isolation
from grader import seed as seeds
from grader.__main__ import gradescope_identity

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "answers_f64"


def cli(*args, env=None, cwd=None, timeout=600):
  e = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
  e.update(LANG="C.UTF-8", PYTHONPATH=str(ROOT), **(env or {}))
  return subprocess.run(
    [sys.executable, "-m", "grader", *map(str, args)],
    check=False,
    cwd=cwd,
    env=e,
    capture_output=True,
    text=True,
    timeout=timeout,
  )


# ---------------------------------------------------------------------------------------------
# The seed.


@pytest.mark.parametrize(
  "secret, why",
  [
    ("0", "the public default"),
    (" 0\n", "the public default"),
    ("", "shorter than 16 characters"),
    ("winter-2026", "shorter than 16 characters"),
    ("12345678901234567890", "only digits"),
    ("winter-2026-s3cr3t", None),
    ("correct horse battery staple", None),
    ("冬季课程的秘密口令很长很长很长很长", None),
  ],
)
def test_weak_seeds_are_named(secret, why):
  assert seeds.weak_reason(secret) == why


def test_the_seed_is_stretched_with_a_slow_kdf():
  # scrypt with a cost of 2**14..2**15 (16-32 MiB per guess): recomputed here from hashlib's own scrypt.
  assert 2**14 <= seeds._N <= 2**15
  key = seeds.stretch("winter-2026-s3cr3t")
  assert key == hashlib.scrypt(
    b"winter-2026-s3cr3t", salt=seeds._SALT, n=seeds._N, r=seeds._R, p=seeds._P, maxmem=64 * 2**20, dklen=32
  )
  assert len(key) == 32 and key != seeds.stretch("winter-2026-s3cr3T")
  assert seeds.stretch("\udc80 odd") != seeds.stretch("odd")  # any string, lone surrogates included


def test_the_fingerprint_is_short_and_says_nothing_of_the_seed():
  fp = seeds.fingerprint("winter-2026-s3cr3t")
  assert re.fullmatch(r"[0-9a-f]{8}", fp) and fp == seeds.fingerprint("winter-2026-s3cr3t")
  assert fp != seeds.fingerprint("winter-2026-s3cr3T")
  assert fp not in seeds.stretch("winter-2026-s3cr3t").hex()  # not a piece of the key either


def test_new_seed_prints_128_random_bits():
  outs = [cli("new-seed") for _ in range(2)]
  assert all(p.returncode == 0 for p in outs)
  texts = [p.stdout.strip() for p in outs]
  assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in texts) and texts[0] != texts[1]
  assert seeds.weak_reason(texts[0]) is None
  assert "new-seed" in cli("--help").stdout and cli("new-seed", "--help").returncode == 0


@pytest.mark.parametrize("secret", ["0", "short-seed", "98765432109876543210"])
def test_the_gradescope_bundle_refuses_a_weak_seed(tmp_path, secret):
  proc = cli("gradescope", tmp_path / "a.zip", env={"GRADER_SEED": secret}, cwd=tmp_path)
  assert proc.returncode == 2 and "--allow-weak-seed" in proc.stderr
  assert seeds.weak_reason(secret) in proc.stderr
  assert not (tmp_path / "a.zip").exists()
  if secret != "0":
    assert secret not in proc.stdout + proc.stderr


def test_a_case_set_keeps_no_seed():
  from grader.grade import cases_only

  cs = cases_only("winter-2026-s3cr3t")
  assert cs.seed == cs.fingerprint == seeds.fingerprint("winter-2026-s3cr3t")
  assert "winter-2026-s3cr3t" not in repr(cs) + cs.key
  assert "key=" not in repr(seeds.draw("winter-2026-s3cr3t"))  # a Draw never prints its key


# ---------------------------------------------------------------------------------------------
# Variants.


def _args(draw):
  return {n: [c.args for c in cs] for n, cs in cases.all_cases(draw).items()}


def _same(a, b):
  return repr(a) == repr(b)


def test_variants_share_the_visible_cases_and_differ_in_the_hidden_ones():
  v0, v1 = (_args(seeds.draw("winter-2026-s3cr3t", v)) for v in (0, 1))
  other = _args(seeds.draw("another-long-passphrase", 0))
  for name in cases.NAMES:
    assert _same(v0[name][:2], v1[name][:2]) and _same(v0[name][:2], other[name][:2]), name
    assert not _same(v0[name][2:], v1[name][2:]), name
    assert not _same(v0[name][2:], other[name][2:]), name
  assert _same(v1, _args(seeds.draw("winter-2026-s3cr3t", 1)))  # and each is reproducible


def test_variant_of_is_keyed_uniform_and_stable():
  key, other = seeds.stretch("winter-2026-s3cr3t"), seeds.stretch("another-long-passphrase")
  ids = [f"student{i}.py" for i in range(800)]
  picks = [seeds.variant_of(i, key, 8) for i in ids]
  counts = [picks.count(v) for v in range(8)]
  assert all(60 <= c <= 140 for c in counts), counts  # 100 expected each
  assert picks == [seeds.variant_of(i, key, 8) for i in ids]
  assert picks != [seeds.variant_of(i, other, 8) for i in ids]  # without the key, no one can pick theirs
  assert {seeds.variant_of(i, key, 1) for i in ids} == {0}
  assert seeds.variant_of("caf\udce9.py", key, 8) in range(8)  # a non-UTF-8 roster name
  with pytest.raises(ValueError):
    seeds.variant_of("x", key, 0)


def test_the_gradescope_identity_is_the_smallest_user_id(tmp_path):
  meta = tmp_path / "submission_metadata.json"
  meta.write_text(
    json.dumps({"users": [{"id": 9120, "name": "B"}, {"id": 877, "name": "A"}, {"id": "10000", "name": "C"}]})
  )
  assert gradescope_identity(meta) == "877"
  meta.write_text(json.dumps({"users": [{"name": "no id"}]}))
  assert gradescope_identity(meta) is None
  meta.write_text("not json")
  assert gradescope_identity(meta) is None
  assert gradescope_identity(tmp_path / "absent.json") is None


def test_a_variant_out_of_range_or_two_ways_is_refused(tmp_path):
  meta = tmp_path / "m.json"
  meta.write_text("{}")
  for extra in (
    ["--variant", "2", "--variants", "2"],
    ["--variant", "-1"],
    ["--variant", "0", "--submission-metadata", meta],
    ["--variants", "0"],
  ):
    proc = cli(ANSWERS, *extra, cwd=tmp_path)
    assert proc.returncode == 2, (extra, proc.stderr[-2000:])
  (tmp_path / "roster").mkdir()
  proc = cli("--batch", tmp_path / "roster", "--out", tmp_path / "o", "--variant", "1", cwd=tmp_path)
  assert proc.returncode == 2 and "--variant" in proc.stderr


# ---------------------------------------------------------------------------------------------
# A batch: each student's variant from their raw roster name, the weak default seed flagged loudly.


def test_a_batch_picks_variants_per_student_and_flags_a_weak_seed(tmp_path):
  tmp_path.chmod(0o755)
  roster = tmp_path / "roster"
  roster.mkdir()
  key = seeds.stretch("0")
  pool = [f"{n}.py" for n in ("alice", "bob", "carol", "dan", "eve", "fay", "gus", "hal", "ida", "jo", "kim")]
  names = [n for n in pool if seeds.variant_of(n, key, 2) == 0][:2] + [
    n for n in pool if seeds.variant_of(n, key, 2) == 1
  ][:2]
  for n in names:
    shutil.copy(ANSWERS / "q1_time_align.py", roster / n)
  out = tmp_path / "out"
  proc = cli(
    "--batch",
    roster,
    "--out",
    out,
    "--workers",
    "2",
    "--variants",
    "2",
    "--sandbox",
    isolation.detect("auto"),
    "--allow-plain",
    cwd=tmp_path,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "WARNING" in proc.stderr and "public default" in proc.stderr
  note = (out / "weak-seed.txt").read_text()
  assert "public default" in note and seeds.fingerprint("0") in note
  record = json.loads((out / "grading.json").read_text())
  assert record == {"seed_fingerprint": seeds.fingerprint("0"), "variants": 2, "weak_seed": "the public default"}
  assert seeds.fingerprint("0") in proc.stdout
  with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:
    rows = list(csv.DictReader(f))
  want = {Path(n).stem: seeds.variant_of(n, key, 2) for n in names}
  got = {r["student"]: int(r["variant"]) for r in rows}
  assert got == want and set(want.values()) == {0, 1}
  for student, v in want.items():
    results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
    assert results["extra_data"] == {"assignment": "core", "variant": v}
    shown = results["output"].split("\n", 1)[1].lower()  # after the title (its path names this test)
    assert "variant" not in shown and "seed" not in shown
    assert seeds.fingerprint("0") not in json.dumps(results)
    assert results["score"] == 10  # time_align: all 10 cases, in either variant


# ---------------------------------------------------------------------------------------------
# The Gradescope bundle: K variants inside, the student's picked from submission_metadata.json.


def test_the_bundle_grades_the_variant_of_the_smallest_user_id(tmp_path):
  import stat
  import zipfile

  tmp_path.chmod(0o755)
  proc = cli("gradescope", tmp_path / "a.zip", "--variants", "2", "--allow-weak-seed", cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert seeds.fingerprint("0") in proc.stdout and "WEAK SEED" in proc.stdout
  root = tmp_path / "autograder"
  with zipfile.ZipFile(tmp_path / "a.zip") as zf:
    assert len([n for n in zf.namelist() if n.startswith("cache/references-")]) == 2  # both variants
    zf.extractall(root / "source")
    for info in zf.infolist():
      if (info.external_attr >> 16) & stat.S_IXUSR:
        os.chmod(root / "source" / info.filename, 0o755)
  (root / "submission").mkdir()
  shutil.copy(ANSWERS / "q1_time_align.py", root / "submission")
  key = seeds.stretch("0")
  smallest = next(i for i in range(200, 300) if seeds.variant_of(str(i), key, 2) == 1)
  # The others have variant 0; one of them sorts first as text ("1000..." < "2..."), not as a number.
  others = [
    next(j for j in range(1000, 1999) if seeds.variant_of(str(j), key, 2) == 0),
    next(j for j in range(smallest + 1, 999) if seeds.variant_of(str(j), key, 2) == 0),
  ]
  group = [others[0], smallest, others[1]]
  users = [{"id": str(group[0])}, {"id": group[1]}, {"id": group[2]}]  # Gradescope's ids, as text or numbers
  (root / "submission_metadata.json").write_text(json.dumps({"users": users}))
  for p in [root, *root.rglob("*")]:
    p.chmod(p.stat().st_mode | 0o755 if p.is_dir() else p.stat().st_mode | 0o644)
  e = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "PYTHONPATH", "GRADER_VARIANTS")}
  e.update(LANG="C.UTF-8", AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable)
  run = subprocess.run(
    [str(root / "source" / "run_autograder")], check=False, cwd=root, env=e, capture_output=True, text=True, timeout=600
  )
  results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
  assert results["score"] == 10, run.stdout[-2000:] + run.stderr[-2000:]
  assert results["extra_data"] == {"assignment": "core", "variant": 1}
  assert "variant" not in results["output"].split("\n", 1)[1].lower()

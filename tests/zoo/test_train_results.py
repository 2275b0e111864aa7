"""scripts/run_results.py --smoke: every run in the table and the JSON, the page's prose kept, a PNG."""

import importlib.util
import json
import os
import re
import sys

import pytest

pytest.importorskip("matplotlib")

_PATH = os.path.join(
  os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts", "run_results.py"
)


def _load():
  spec = importlib.util.spec_from_file_location("run_results", _PATH)
  mod = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = mod  # dataclasses look their module up there
  spec.loader.exec_module(mod)
  return mod


def test_smoke_results_run(tmp_path):
  rr = _load()
  md = tmp_path / "results.md"
  md.write_text(f"# Results\n\nprose above\n\n{rr.BEGIN}\nold table\n{rr.END}\n\nprose below\n")
  args = [
    "--smoke",
    "--seeds",
    "2",
    "--steps",
    "2",
    "--workdir",
    str(tmp_path / "runs"),
    "--markdown",
    str(md),
    "--json",
    str(tmp_path / "r.json"),
    "--plot",
    str(tmp_path / "r.png"),
  ]
  assert rr.main(args) == 0
  text = md.read_text()
  assert "prose above" in text and "prose below" in text and "old table" not in text
  names = [r.name for r in rr.rows(rr.train.PRESETS["tiny"], smoke=True)]
  assert len(names) == 3
  runs = json.loads((tmp_path / "r.json").read_text())["runs"]
  assert sorted((r["name"], r["seed"]) for r in runs) == sorted((n, s) for n in names for s in (0, 1))
  for name in names:
    line = next(l for l in text.splitlines() if f"| {name} |" in l)
    accs = [r["accuracy"] for r in runs if r["name"] == name]
    # mean ± std, then every seed's accuracy, as the JSON holds them
    mean, std, *seeds = map(float, re.findall(r"\d\.\d{3}", line)[:4])
    assert seeds == pytest.approx(accs, abs=1e-3)  # printed to 3 decimals
    assert mean == pytest.approx(sum(accs) / 2, abs=1e-3)
  assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  # A second invocation reads the finished runs back (their measured step times too) instead of
  # training or evaluating again.
  assert rr.main(args) == 0
  again = json.loads((tmp_path / "r.json").read_text())["runs"]
  assert again == runs

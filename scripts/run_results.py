"""Train every unimodal baseline, every fusion (parallel) and the architectures on several seeds; write
the table into docs/results.md (between its result markers), every run into docs/results.json, and a plot.

    .venv/bin/python scripts/run_results.py                 # the full table (preset "cpu", 3 seeds)
    .venv/bin/python scripts/run_results.py --smoke         # a few rows on the tiny preset, for CI

Runs are resumable: each lives in <workdir>/<row>/seed<k>; a finished one is read back from its
summary.json, an interrupted one continues from its last checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import train  # noqa: E402
from zoo.fusion.catalog import fusion_arity, fusion_class, fusion_names  # noqa: E402

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


@dataclasses.dataclass(frozen=True)
class Row:
  group: str
  name: str
  cfg: train.TrainConfig


def rows(base: train.TrainConfig, smoke: bool) -> list[Row]:
  """The table's rows, in order."""
  mc = base.model_cfg
  mis = base.data
  on_clock = dataclasses.replace(base.data, misalign=False)
  out = [
    Row(
      "unimodal", f"unimodal: {m}", dataclasses.replace(base, model="unimodal", model_cfg=mc.replace(modalities=(m,)))
    )
    for m in ("text", "image", "audio")
  ]
  for f in fusion_names():
    if fusion_class(f).needs_aligned:  # EarlyConcat: the alignment model's fusion, not a late one
      continue
    # A two-stream fusion (ViLBERT's co-attention) reads text and image, the pair that carries
    # t XOR i: its row shows the best a two-stream model can do here.
    pair = fusion_arity(f) == 2
    out.append(
      Row(
        "parallel fusion",
        f"parallel + {f}" + (" (text, image)" if pair else ""),
        dataclasses.replace(
          base,
          model="parallel",
          model_cfg=mc.replace(fusion=f, modalities=("text", "image") if pair else mc.modalities),
        ),
      )
    )
  out += [
    Row("architecture", "serial", dataclasses.replace(base, model="serial")),
    Row(
      "architecture",
      "alignment (interp)",
      dataclasses.replace(base, model="alignment", model_cfg=mc.replace(align="interp")),
    ),
    Row(
      "architecture", "alignment (dtw)", dataclasses.replace(base, model="alignment", model_cfg=mc.replace(align="dtw"))
    ),
    Row(
      "architecture",
      "alignment (soft_dtw)",
      dataclasses.replace(base, model="alignment", model_cfg=mc.replace(align="soft_dtw")),
    ),
  ]
  # The ablation: the same audio on the text's clock, where the fixed-clock aligner is right.
  out += [
    Row(
      "audio on the text clock",
      "alignment (interp), aligned audio",
      dataclasses.replace(base, model="alignment", model_cfg=mc.replace(align="interp"), data=on_clock),
    ),
    Row(
      "audio on the text clock",
      "parallel + LMF, aligned audio",
      dataclasses.replace(base, model="parallel", model_cfg=mc.replace(fusion="LMF"), data=on_clock),
    ),
  ]
  assert all(r.cfg.data in (mis, on_clock) for r in out)
  if smoke:
    keep = {"unimodal: text", "parallel + LMF", "alignment (interp)"}
    out = [r for r in out if r.name in keep]
  return out


def slug(name: str) -> str:
  return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_one(row: Row, seed: int, workdir: str) -> dict:
  """One training run (or its saved summary), as a flat record."""
  cfg = dataclasses.replace(row.cfg, seed=seed)
  wd = os.path.join(workdir, slug(row.name), f"seed{seed}")
  summary_path = os.path.join(wd, "summary.json")
  if os.path.exists(summary_path) and os.path.exists(os.path.join(wd, "config.json")):
    with open(os.path.join(wd, "config.json")) as f:
      same = f.read() == train.config_to_json(cfg)
    if same:
      with open(summary_path) as f:
        s = json.load(f)
      return _record(row, seed, s)
  s = train.train_and_evaluate(cfg, wd, progress=False)
  s.pop("state")
  return _record(row, seed, s)


def _record(row: Row, seed: int, s: dict) -> dict:
  return {
    "group": row.group,
    "name": row.name,
    "seed": seed,
    "accuracy": float(s["eval"]["accuracy"]),
    "ce": float(s["eval"]["ce"]),
    "params": int(s["params"]),
    "step_time_s": float(s["step_time_s"]),
    "history": [{k: float(v) for k, v in h.items()} for h in s["history"]],
  }


def aggregate(records: list[dict]) -> list[dict]:
  """Per row: mean and sample std (ddof=1) of accuracy over seeds, every seed's value, params, step time."""
  by_name: dict[str, list[dict]] = {}
  for r in records:
    by_name.setdefault(r["name"], []).append(r)
  out = []
  for name, rs in by_name.items():
    accs = [r["accuracy"] for r in rs]
    out.append(
      {
        "group": rs[0]["group"],
        "name": name,
        "mean": statistics.fmean(accs),
        "std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
        "accs": accs,
        "params": rs[0]["params"],
        "step_ms": 1000 * statistics.fmean(r["step_time_s"] for r in rs),
      }
    )
  return out


def table(agg: list[dict]) -> str:
  """The markdown table."""
  lines = ["| group | model | accuracy (mean ± std) | per seed | parameters | ms / step |", "|---|---|---|---|---|---|"]
  for a in agg:
    seeds = " ".join(f"{x:.3f}" for x in a["accs"])
    lines.append(
      f"| {a['group']} | {a['name']} | {a['mean']:.3f} ± {a['std']:.3f} | {seeds} | "
      f"{a['params']:,} | {a['step_ms']:.1f} |"
    )
  return "\n".join(lines)


def plot(agg: list[dict], path: str, title: str) -> None:
  """Horizontal bars of mean accuracy with ± std, chance (1/4) and the text+image limit (1/2) marked."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  colours = {
    "unimodal": "#999999",
    "parallel fusion": "#4C72B0",
    "architecture": "#DD8452",
    "audio on the text clock": "#55A868",
  }
  fig, ax = plt.subplots(figsize=(7, 0.28 * len(agg) + 1.2))
  ys = range(len(agg))[::-1]
  ax.barh(
    list(ys),
    [a["mean"] for a in agg],
    xerr=[a["std"] for a in agg],
    capsize=2,
    color=[colours.get(a["group"], "#333333") for a in agg],
  )
  ax.set_yticks(list(ys), [a["name"] for a in agg], fontsize=8)
  ax.axvline(0.25, ls=":", c="k", lw=1, label="chance (any one modality)")
  ax.axvline(0.5, ls="--", c="k", lw=1, label="text + image without the audio pairing")
  ax.set_xlim(0, 1)
  ax.set_xlabel("held-out accuracy")
  ax.set_title(title, fontsize=9)
  ax.legend(fontsize=7, loc="lower right")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def write_markdown(path: str, block: str) -> None:
  """Replace the text between the result markers of `path` (or write a file holding only the block)."""
  text = ""
  if os.path.exists(path):
    with open(path) as f:
      text = f.read()
  new = f"{BEGIN}\n{block}\n{END}"
  if BEGIN in text and END in text:
    text = text[: text.index(BEGIN)] + new + text[text.index(END) + len(END) :]
  else:
    text = (text + "\n" if text else "") + new + "\n"
  with open(path, "w") as f:
    f.write(text)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
    description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
  )
  p.add_argument("--smoke", action="store_true", help="three rows on the tiny preset (CI-sized)")
  p.add_argument("--preset", choices=sorted(train.PRESETS), help="base configuration (default: cpu; tiny with --smoke)")
  p.add_argument("--seeds", type=int, default=3, help="seeds per row (default: %(default)s)")
  p.add_argument("--steps", type=int, help="override the preset's training steps")
  p.add_argument("--workdir", default="/tmp/mmzoo-results", help="where runs and checkpoints go (default: %(default)s)")
  p.add_argument("--markdown", default=os.path.join(DOCS, "results.md"), help="the page whose table to replace")
  p.add_argument("--json", default=os.path.join(DOCS, "results.json"), help="every run's record")
  p.add_argument("--plot", default=os.path.join(DOCS, "results.png"), help="the bar chart")
  p.add_argument(
    "--compile-cache",
    help="a persistent XLA compilation cache directory, so that a "
    "resumed or repeated invocation does not compile again (seeds of a row already share)",
  )
  args = p.parse_args(argv)

  if args.compile_cache:
    import jax

    jax.config.update("jax_compilation_cache_dir", args.compile_cache)
  preset = args.preset or ("tiny" if args.smoke else "cpu")
  base = train.PRESETS[preset]
  if args.steps is not None:
    base = dataclasses.replace(base, steps=args.steps, warmup_steps=min(base.warmup_steps, args.steps))
  from tqdm.auto import tqdm

  table_rows = rows(base, args.smoke)
  jobs = [(r, s) for r in table_rows for s in range(args.seeds)]
  t0 = time.perf_counter()
  records = []
  for r, s in tqdm(jobs, desc="results", unit="run"):
    records.append(run_one(r, s, args.workdir))
  wall = time.perf_counter() - t0
  agg = aggregate(records)

  with open(args.json, "w") as f:
    json.dump(
      {
        "preset": preset,
        "steps": base.steps,
        "seeds": args.seeds,
        "wall_s": wall,
        "config": json.loads(train.config_to_json(base)),
        "runs": records,
      },
      f,
      indent=1,
    )
  cmd = "scripts/run_results.py" + ("".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])))
  title = f"preset {preset}, {base.steps} steps, batch {base.batch_size}, {args.seeds} seeds"
  plot(agg, args.plot, title)
  block = (
    f"Generated by `{cmd.strip()}`: {title}; {len(records)} runs, every one listed "
    f"(per seed; std is the sample std over seeds), {wall / 60:.1f} min wall in all.\n\n"
    f"{table(agg)}\n\n![accuracy per row]({os.path.basename(args.plot)})"
  )
  write_markdown(args.markdown, block)
  print(table(agg))
  print(f"{len(records)} runs in {wall / 60:.1f} min")
  return 0


if __name__ == "__main__":
  sys.exit(main())

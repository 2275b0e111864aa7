"""`python -m zoo`: list the catalog, run a model once (`infer`), train one (`train`).

Bad input (a missing or unreadable file, an unknown config field, value, fusion or model) ends with one
line `error: ...` naming what is wrong and what is accepted, and exit status 2; files are checked before
JAX is loaded. Compilations are cached on disk (JAX's persistent compilation cache) in the user's cache
folder, so a second `infer` of the same model skips XLA; `--no-compile-cache` turns that off.
"""

from __future__ import annotations

import argparse
import os
import sys

MODEL_NAMES = ("parallel", "serial", "alignment", "unimodal", "encdec")  # zoo.models.MODELS, checked by a test


class UsageError(Exception):
  """Bad input from the user: printed as one line `error: ...`, exit status 2."""


class _Parser(argparse.ArgumentParser):
  """argparse with its errors as one line `error: ...` (and a pointer to --help) instead of the usage block."""

  def error(self, message):
    raise UsageError(f"{message} (see `{self.prog} --help`)")


# ------------------------------------------------------------------------------------------------ cache


def compile_cache_dir() -> str:
  """The CLI's persistent compilation cache: $MMZOO_COMPILE_CACHE, else <user cache folder>/mmzoo/jax."""
  from zoo import compile_cache

  return os.environ.get("MMZOO_COMPILE_CACHE") or compile_cache.user_dir("mmzoo")


def enable_compile_cache(path: str) -> bool:
  """zoo.compile_cache.enable for the CLI: a private folder only (never turned on by importing the zoo)."""
  from zoo import compile_cache

  return compile_cache.enable(path, "chmod go-w it, or set MMZOO_COMPILE_CACHE to a private folder")


def _add_cache_flags(p) -> None:
  p.add_argument(
    "--no-compile-cache",
    action="store_true",
    help="do not use the on-disk compilation cache (default: on, in $MMZOO_COMPILE_CACHE or "
    "~/.cache/mmzoo/jax; a second run of the same model then skips XLA's compilation)",
  )


# ------------------------------------------------------------------------------------------------ config


def _model_config(args):
  """The preset (or the checkpoint's saved config), then every --config FIELD=VALUE; errors are UsageErrors.

  Only zoo.config and zoo.checkpoint's file lookup: no JAX yet, so a bad field or value fails at once.
  """
  from zoo import checkpoint, config

  try:
    cfg = config.preset(args.preset)
  except KeyError as e:
    raise UsageError(e.args[0]) from None
  found = checkpoint.find_model_config(args.checkpoint) if args.checkpoint else None
  if found:  # the config the checkpoint was trained with; --config still overrides it
    try:
      cfg = config.config_from_json(open(found).read())
    except (ValueError, TypeError) as e:
      raise UsageError(f"{found} is not a model config this zoo reads: {e}") from None
    print(f"config from {found}")
  for item in args.config or ():
    cfg = apply_override(cfg, item)
  if args.bf16:
    cfg = cfg.replace(dtype="bfloat16")
  return cfg


def apply_override(cfg, item: str):
  """One --config FIELD=VALUE on a ModelConfig, with a one-line UsageError for a bad field or value (no JAX).

  Named choices (fusion, align, ...) are checked by `check_choices`, once JAX and the catalog are loaded.
  """
  from zoo import config

  try:
    return config.parse_override(cfg, item)
  except ValueError as e:
    raise UsageError(str(e)) from None


def check_choices(cfg, key: str | None = None) -> None:
  """Named choices of a ModelConfig (fusion, align, align_fusion, memory, dtype) must exist; UsageError otherwise."""
  from zoo import registry
  from zoo.architectures import ALIGNERS

  fusions = sorted(e.name for e in registry.entries("fusion") if isinstance(e.obj, type))
  tokens = sorted(n for n in fusions if getattr(registry.get(n), "input_kind", None) == "tokens")
  choices = {
    "fusion": fusions,
    "align": list(ALIGNERS),
    "align_fusion": tokens,
    "memory": ["concat"] + tokens,
    "dtype": ["float32", "bfloat16"],
  }
  for field, allowed in choices.items():
    if key in (None, field) and getattr(cfg, field) not in allowed:
      raise UsageError(f"--config {field}={getattr(cfg, field)}: no such {field}; choose one of {', '.join(allowed)}")


def _check_model(name: str, cfg) -> None:
  """What a model needs from the config, said before anything is built."""
  if name not in MODEL_NAMES:
    raise UsageError(f"no model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
  if name == "unimodal" and len(cfg.modalities) != 1:
    raise UsageError(
      f"unimodal reads exactly one modality, the config has {','.join(cfg.modalities)}; "
      "add --config modalities=text (or image, or audio)"
    )
  if name == "serial" and "text" not in cfg.modalities:
    raise UsageError("serial ends in the text transformer: --config modalities must include text")


# ------------------------------------------------------------------------------------------------ commands


def _cmd_list(args) -> int:
  from zoo import registry

  rows = registry.entries(args.family)
  if not rows:
    families = sorted({e.family for e in registry.entries()})
    raise UsageError(f"no family {args.family!r}; choose one of {', '.join(families)}")
  kinds = {e.name: ("module" if isinstance(e.obj, type) else "function") for e in rows}
  for e in rows:
    print(f"{e.name:32s} {kinds[e.name]:8s} {e.family:12s} {e.paper}")
    print(f"{'':32s} {'':8s} {'':12s}   {e.shapes}")
  print(f"{len(rows)} methods")
  return 0


def _read_inputs(args):
  """The given files, read before JAX loads (a bad file fails in a fraction of a second)."""
  from zoo import media

  image = audio = None
  try:
    if args.image:
      image = media.read_image(args.image)
    if args.audio:
      audio = media.read_wav_info(args.audio)
  except media.MediaError as e:
    raise UsageError(str(e)) from None
  if args.checkpoint and not os.path.exists(args.checkpoint):
    raise UsageError(
      f"checkpoint {args.checkpoint!r} does not exist (expected an orbax checkpoint folder or a `zoo train` workdir)"
    )
  return image, audio


def _cmd_infer(args) -> int:
  """One jitted forward pass (greedy/beam decoding for encdec) on real or random inputs, timed."""
  import concurrent.futures
  import time

  if args.model not in MODEL_NAMES:
    raise UsageError(f"no model {args.model!r}; choose one of {', '.join(MODEL_NAMES)}")
  if args.beam < 1 or args.max_len < 0:
    raise UsageError(f"--beam {args.beam} --max-len {args.max_len}: the beam is at least 1, max-len at least 0")
  image, audio = _read_inputs(args)
  cfg = _model_config(args)  # bad fields and values fail here, before JAX loads
  _check_model(args.model, cfg)
  if args.model == "encdec" and args.max_len > cfg.target_len:
    raise UsageError(f"--max-len {args.max_len}: at most cfg.target_len={cfg.target_len}")
  if not args.no_compile_cache:
    enable_compile_cache(compile_cache_dir())

  import jax
  import jax.numpy as jnp
  import numpy as np

  from zoo import cold_start, encdec, media, models, tokenizer

  check_choices(cfg)  # fusion, align, ... names: the catalog loads JAX
  model = models.build(args.model, cfg)

  # Inputs: given files and text first; then random (--random) or blank ones for what is missing.
  given = {}
  if args.text is not None:
    given["text"] = tokenizer.encode_batch([args.text], cfg.text_len)
  if image is not None:
    given["image"] = media.to_model_image(image, cfg.image_size, cfg.image_channels)[None]
  if audio is not None:
    wav, rate, channels = audio
    print(media.describe_audio(args.audio, rate, channels, len(wav), cfg.sample_rate, cfg.audio_len))
    given["audio"] = media.to_model_audio(wav, rate, cfg.sample_rate, cfg.audio_len)[None]
  filled = [m for m in cfg.modalities if m not in given]
  if filled:
    print(
      f"inputs: {', '.join(given) or 'none'} given; {', '.join(filled)} "
      f"{'random' if args.random else 'blank (empty text, black image, silence)'}"
    )
  blank = {
    "text": np.zeros((1, cfg.text_len), np.int32),
    "image": np.zeros((1, cfg.image_size, cfg.image_size, cfg.image_channels), np.float32),
    "audio": np.zeros((1, cfg.audio_len), np.float32),
    "target": np.zeros((1, cfg.target_len), np.int32),
  }
  host = {k: given.get(k, v) for k, v in blank.items()}

  if args.model == "encdec":
    max_len = args.max_len or cfg.target_len
    if args.beam > 1:
      forward = lambda p, b: encdec.beam_search(model, p, b, args.beam, max_len, args.alpha)
    else:
      forward = lambda p, b: encdec.greedy_decode(model, p, b, max_len)
  else:
    forward = lambda p, b: model.apply({"params": p}, b, train=False)

  def to_bf16(params):
    return jax.tree.map(lambda p: p.astype(jnp.bfloat16) if jnp.issubdtype(p.dtype, jnp.floating) else p, params)

  def run(seed, host_batch, params=None):
    """Everything in one traced function, so one trace (then cut in two computations, below): op by op,
    every random draw and every initializer would compile on its own. The keys, the
    random batch and the parameters are those of `models.example_batch` and `models.init_params`
    (Flax's initializers read only shapes, so initialising on this batch gives the same parameters)."""
    k_init, k_batch = jax.random.split(jax.random.key(seed))
    batch = host_batch
    if args.random:
      rand = models.example_batch(cfg, k_batch, 1, with_label=False)
      batch = {k: host_batch[k] if k in given else rand[k] for k in host_batch}
    if params is not None:
      return params, forward(params, batch)
    if args.model == "encdec":
      params = model.init({"params": k_init}, batch, train=False)["params"]
    else:  # the forward pass is the initialisation's own output (one trace of the model)
      out, variables = model.init_with_output({"params": k_init}, batch, train=False)
      if not args.bf16:
        return variables["params"], out
      params = variables["params"]
    if args.bf16:
      params = to_bf16(params)
    return params, forward(params, batch)

  fn_args = (np.int32(args.seed), host)
  if args.checkpoint:
    params = models.load_params(args.checkpoint)
    expected = jax.eval_shape(lambda k: model.init({"params": k}, host, train=False)["params"], jax.random.key(0))
    if jax.tree.map(jnp.shape, params) != jax.tree.map(jnp.shape, expected):
      raise UsageError("the checkpoint's parameters do not fit this model and config (see --preset, --config)")
    fn_args += (to_bf16(params) if args.bf16 else params,)
  # Traced once, then cut at the random draws (zoo.cold_start): `bits` (the keys and ONE threefry for every
  # draw, integers only) and `rest` (the floats and the forward pass), compiled at once on two threads (XLA
  # releases the GIL). One jit of `run` took ~11 s of CPU to compile for the default parallel model, mostly
  # LLVM on a threefry loop per parameter; the two ~1 s and ~4 s (issue 15, benchmarks/README.md
  # "Start-up"). The values are the one jit's, bit for bit (tests/zoo/test_cold_start.py).
  t0 = time.perf_counter()
  try:
    split = cold_start.SplitAtBits(run, *fn_args)
  except (
    ValueError
  ) as e:  # a combination the model refuses when it is built (e.g. a two-stream fusion on three modalities)
    raise UsageError(f"{args.model} cannot be built with this config: {str(e).splitlines()[0]}") from None
  tables = split.tables()
  bits_lowered = jax.jit(split.bits).lower(tables, *fn_args) if split.draws else None
  rest_lowered = jax.jit(split.rest).lower(split.draw_shapes, *fn_args)
  t_lower = time.perf_counter() - t0
  with concurrent.futures.ThreadPoolExecutor(2) as pool:
    bits_compiled = bits_lowered and pool.submit(bits_lowered.compile)
    rest_compiled = pool.submit(rest_lowered.compile).result()
    bits_compiled = bits_compiled and bits_compiled.result()
  t_compile = time.perf_counter() - t0
  t0 = time.perf_counter()
  bits = split.split_bits(bits_compiled(tables, *fn_args)) if bits_compiled else []
  params, out = jax.block_until_ready(rest_compiled(bits, *fn_args))
  t_run = time.perf_counter() - t0
  print(
    f"model {args.model}: {sum(p.size for p in jax.tree.leaves(params)):,} parameters "
    f"({'checkpoint ' + args.checkpoint if args.checkpoint else 'random init'}); "
    f"device {jax.devices()[0].platform}; dtype {cfg.dtype}"
  )

  out = jax.device_get(out)  # numpy from here: no more compilations for indexing
  if args.model == "encdec":
    if args.beam > 1:
      seqs, scores = out
      for i in range(seqs.shape[1]):
        print(f"beam {i}: score {float(scores[0, i]):.3f}  {tokenizer.decode(seqs[0, i])!r}")
    else:
      print(f"tokens {out.shape}: {np.asarray(out[0]).tolist()}")
      print(f"decoded: {tokenizer.decode(out[0])!r}")
  else:
    logits, aux = out
    logits_C = np.asarray(logits, np.float32)[0]
    probs_C = np.exp(logits_C - logits_C.max())
    probs_C /= probs_C.sum()
    values = ", ".join(f"{v:.4f}" for v in logits_C)
    print(f"logits {logits.shape} {logits.dtype}: [{values}]")
    print(f"predicted class {int(np.argmax(probs_C))} (p = {float(probs_C.max()):.3f})")
    for path, leaf in jax.tree_util.tree_flatten_with_path(aux)[0]:
      print(
        f"aux{jax.tree_util.keystr(path)}: {tuple(leaf.shape)} {leaf.dtype}"
        + (f" = {float(leaf):.4f}" if leaf.ndim == 0 else "")
      )
  what = "run" if args.checkpoint else "run (initialisation included)"
  print(f"time: trace {t_lower:.2f}s, compile {t_compile - t_lower:.2f}s, {what} {t_run * 1e3:.1f} ms")
  return 0


def _cmd_train(args) -> int:
  from zoo import config

  try:  # the preset, the shorthand flags and every --config, checked before JAX loads
    cfg = config.train_config_from_args(args)
  except (KeyError, ValueError) as e:
    raise UsageError(e.args[0] if isinstance(e, KeyError) else str(e)) from None
  _check_model(cfg.model, config.model_config(cfg))
  if not args.no_compile_cache:
    enable_compile_cache(compile_cache_dir())
  from zoo import train

  check_choices(cfg.model_cfg)
  try:
    return train.main(args, cfg)
  except ValueError as e:
    if "another config" in str(e):
      raise UsageError(str(e)) from None
    raise


ALIGNERS = ("interp", "dtw", "soft_dtw")  # zoo.architectures.ALIGNERS, checked by a test


def add_train_arguments(p) -> None:
  """The `python -m zoo train` options (every one defaults to the preset's value); no JAX import."""
  p.add_argument(
    "--workdir",
    required=True,
    help="run directory: config.json, orbax checkpoints, history.json, summary.json; rerun to "
    "resume, or rerun with a larger --steps to extend a finished run",
  )
  from zoo.config import PRESETS

  p.add_argument(
    "--preset",
    choices=list(PRESETS),
    default="cpu",
    help="base configuration the other options change, from zoo.config.PRESETS, the table "
    "`infer` shares (default: %(default)s)",
  )
  p.add_argument(
    "--config",
    nargs="+",
    action="extend",
    metavar="FIELD=VALUE",
    default=[],
    help="overrides, as for `infer`: a TrainConfig field (steps=100, learning_rate=3e-4), a "
    "ModelConfig field (fusion=GMU, width=64, modalities=text,image) or data.FIELD "
    "(data.misalign=false); the flags below are shorthands for the common ones",
  )
  p.add_argument("--model", choices=[m for m in MODEL_NAMES if m != "encdec"], help="architecture (default: parallel)")
  p.add_argument(
    "--fusion",
    help="catalog fusion for --model parallel, by class name, e.g. LMF, GMU, "
    "CrossModalAttention (`python -m zoo list --family fusion`)",
  )
  p.add_argument(
    "--modalities", help="comma-separated subset of text,image,audio the model reads (unimodal: exactly one)"
  )
  p.add_argument(
    "--align",
    choices=ALIGNERS,
    help="the alignment model's time aligner (zoo.architectures.ALIGNERS); interp assumes "
    "a uniform clock, the DTW ones find the alignment",
  )
  p.add_argument("--steps", type=int, help="total training steps (the schedule's length)")
  p.add_argument("--seed", type=int, help="seed of the parameters, dropout and training data")
  p.add_argument("--batch-size", type=int, help="global batch, split over all devices")
  p.add_argument("--learning-rate", type=float, help="peak learning rate of the warmup-cosine schedule")
  p.add_argument("--warmup-steps", type=int, help="linear warmup steps")
  p.add_argument("--weight-decay", type=float, help="adamw weight decay")
  p.add_argument("--grad-clip", type=float, help="global gradient-norm clip")
  p.add_argument(
    "--contrastive-weight",
    type=float,
    help="weight of the model's contrastive loss (alignment model) in the total loss",
  )
  p.add_argument("--eval-every", type=int, help="evaluate on the held-out split every N steps")
  p.add_argument("--eval-size", type=int, help="held-out examples (a multiple of --batch-size)")
  p.add_argument("--checkpoint-every", type=int, help="save a checkpoint every N steps (and at the end)")
  p.add_argument(
    "--aligned",
    action="store_true",
    help="audio on the text's clock (no random shift/stretch): the ablation of misalignment",
  )
  p.add_argument("--stop-at", type=int, help="stop at this step with a checkpoint (as if preempted)")
  p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")


def build_parser() -> argparse.ArgumentParser:
  """The `python -m zoo` command line (importing nothing heavy)."""
  p = _Parser(prog="python -m zoo", description="The multimodal model zoo: list its methods, run or train a model.")
  sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
  ls = sub.add_parser(
    "list",
    help="print every method: name, kind, family, paper, shapes",
    description="Print every method of the zoo: name, kind, family, paper, shapes.",
  )
  ls.add_argument("--family", help="only this family (attention, fusion, alignment, ...)")
  ls.set_defaults(fn=_cmd_list)
  tr = sub.add_parser(
    "train",
    help="train a model on the synthetic task (zoo.data), with checkpoints",
    description="Train a model on the synthetic text-image-audio task. Rerun with the same "
    "--workdir to resume from its last checkpoint, or with a larger --steps to "
    "extend a finished run.",
  )
  add_train_arguments(tr)
  _add_cache_flags(tr)
  tr.set_defaults(fn=_cmd_train)
  inf = sub.add_parser(
    "infer",
    help="run a model once (jitted) on given or random inputs; report outputs and time",
    description="Run a model once (jitted) on given or random inputs; report outputs and time.",
  )
  inf.add_argument("model", help=f"model name: {', '.join(MODEL_NAMES)}")
  inf.add_argument("--text", help="input text (UTF-8, byte-level tokens)")
  inf.add_argument(
    "--image",
    help="input image: PNG, JPEG or any format Pillow reads (EXIF orientation applied), or .npy ([H, W] or [H, W, C])",
  )
  inf.add_argument(
    "--audio",
    help="input audio: PCM .wav (channels averaged, resampled to the config's rate "
    "with a note saying so, cropped/padded)",
  )
  inf.add_argument("--random", action="store_true", help="random inputs for the modalities not given")
  inf.add_argument("--checkpoint", help="orbax checkpoint directory of {'params': ...} (else random weights)")
  inf.add_argument("--bf16", action="store_true", help="compute and hold parameters in bfloat16")
  from zoo.config import PRESETS

  inf.add_argument(
    "--preset",
    choices=list(PRESETS),
    default="default",
    help="base config: a preset's model, from the table `train` shares (zoo.config.PRESETS; "
    "default: %(default)s); a model_config.json beside --checkpoint replaces it",
  )
  inf.add_argument(
    "--config",
    nargs="+",
    action="extend",
    metavar="FIELD=VALUE",
    help="ModelConfig overrides (repeatable), e.g. fusion=GMU modalities=text,image width=128",
  )
  inf.add_argument("--beam", type=int, default=1, help="encdec: beam size (1 = greedy)")
  inf.add_argument(
    "--alpha",
    type=float,
    default=0.0,
    help="encdec with --beam: GNMT length penalty, scores divided by ((5 + length)/6)^alpha "
    "(0 = plain log-probability; larger favours longer outputs)",
  )
  inf.add_argument("--max-len", type=int, default=0, help="encdec: tokens to generate (0 = cfg.target_len)")
  inf.add_argument("--seed", type=int, default=0, help="seed for random weights and inputs")
  _add_cache_flags(inf)
  inf.set_defaults(fn=_cmd_infer)
  return p


def main(argv=None) -> int:
  """Run one command; bad input prints one line `error: ...` and returns 2."""
  try:
    args = build_parser().parse_args(argv)
    return args.fn(args)
  except UsageError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())

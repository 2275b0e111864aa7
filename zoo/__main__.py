"""`python -m zoo list`: the catalog of every method, with its paper and shapes."""
from __future__ import annotations

import argparse
import sys


def _cmd_list(args) -> int:
  from zoo import registry
  rows = registry.entries(args.family)
  kinds = {e.name: ("module" if isinstance(e.obj, type) else "function") for e in rows}
  for e in rows:
    print(f"{e.name:32s} {kinds[e.name]:8s} {e.family:12s} {e.paper}")
    print(f"{'':32s} {'':8s} {'':12s}   {e.shapes}")
  print(f"{len(rows)} methods")
  return 0


def _cmd_infer(args) -> int:
  """One jitted forward pass (greedy/beam decoding for encdec) on real or random inputs, timed."""
  import time

  import jax
  import jax.numpy as jnp
  import numpy as np

  from zoo import encdec, imageio, models, tokenizer

  cfg = models.preset(args.preset)
  found = models.find_model_config(args.checkpoint) if args.checkpoint else None
  if found:  # the config the checkpoint was trained with; --config still overrides it
    cfg = models.config_from_json(open(found).read())
    print(f"config from {found}")
  for item in args.config or ():
    cfg = models.parse_override(cfg, item)
  if args.bf16:
    cfg = cfg.replace(dtype="bfloat16")
  model = models.build(args.model, cfg)
  key = jax.random.key(args.seed)
  k_init, k_batch = jax.random.split(key)

  # Inputs: given files and text first; then random (--random) or blank ones for what is missing.
  batch = {k: np.asarray(v[:1]) for k, v in models.example_batch(cfg, k_batch, 1).items()} if args.random else {
      "text": np.zeros((1, cfg.text_len), np.int32),
      "image": np.zeros((1, cfg.image_size, cfg.image_size, cfg.image_channels), np.float32),
      "audio": np.zeros((1, cfg.audio_len), np.float32),
      "target": np.zeros((1, cfg.target_len), np.int32)}
  batch.pop("label", None)
  given = []
  if args.text is not None:
    batch["text"] = tokenizer.encode_batch([args.text], cfg.text_len)
    given.append("text")
  if args.image:
    batch["image"] = imageio.to_model_image(imageio.read_image(args.image), cfg.image_size,
                                            cfg.image_channels)[None]
    given.append("image")
  if args.audio:
    wav, rate = imageio.read_wav(args.audio)
    batch["audio"] = imageio.to_model_audio(wav, rate, cfg.sample_rate, cfg.audio_len)[None]
    given.append("audio")
  filled = [m for m in cfg.modalities if m not in given]
  if filled:
    print(f"inputs: {', '.join(given) or 'none'} given; {', '.join(filled)} "
          f"{'random' if args.random else 'blank (empty text, black image, silence)'}")
  batch = {k: jnp.asarray(v) for k, v in batch.items()}

  t0 = time.perf_counter()
  params = models.load_params(args.checkpoint) if args.checkpoint else models.init_params(model, cfg, k_init)
  if args.checkpoint:
    expected = jax.eval_shape(lambda: models.init_params(model, cfg, k_init))
    if jax.tree.map(jnp.shape, params) != jax.tree.map(jnp.shape, expected):
      print("error: the checkpoint's parameters do not fit this model and config (see --preset, --config)")
      return 2
  if args.bf16:
    params = jax.tree.map(lambda p: p.astype(jnp.bfloat16) if jnp.issubdtype(p.dtype, jnp.floating) else p, params)
  print(f"model {args.model}: {sum(p.size for p in jax.tree.leaves(params)):,} parameters "
        f"({'checkpoint ' + args.checkpoint if args.checkpoint else 'random init'}, {time.perf_counter() - t0:.2f}s); "
        f"device {jax.devices()[0].platform}; dtype {cfg.dtype}")

  if args.model == "encdec":
    max_len = args.max_len or cfg.target_len
    if args.beam > 1:
      fn = jax.jit(lambda p, b: encdec.beam_search(model, p, b, args.beam, max_len))
    else:
      fn = jax.jit(lambda p, b: encdec.greedy_decode(model, p, b, max_len))
  else:
    fn = jax.jit(lambda p, b: model.apply({"params": p}, b, train=False))
  t0 = time.perf_counter()
  compiled = fn.lower(params, batch).compile()
  t_compile = time.perf_counter() - t0
  t0 = time.perf_counter()
  out = jax.block_until_ready(compiled(params, batch))
  t_run = time.perf_counter() - t0

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
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)[0]
    values = ", ".join(f"{v:.4f}" for v in np.asarray(logits[0], np.float32))
    print(f"logits {logits.shape} {logits.dtype}: [{values}]")
    print(f"predicted class {int(jnp.argmax(probs))} (p = {float(probs.max()):.3f})")
    for path, leaf in jax.tree_util.tree_flatten_with_path(aux)[0]:
      print(f"aux{jax.tree_util.keystr(path)}: {tuple(leaf.shape)} {leaf.dtype}"
            + (f" = {float(leaf):.4f}" if leaf.ndim == 0 else ""))
  print(f"time: compile {t_compile:.2f}s, run {t_run * 1e3:.1f} ms")
  return 0


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m zoo", description="The multimodal model zoo.")
  sub = p.add_subparsers(dest="cmd", required=True)
  ls = sub.add_parser("list", help="print every method: name, kind, family, paper, shapes")
  ls.add_argument("--family", help="only this family (attention, fusion, alignment, ...)")
  ls.set_defaults(fn=_cmd_list)
  from zoo import train
  tr = sub.add_parser("train", help="train a model on the synthetic task (zoo.data), with checkpoints",
                      description="Train --model (and --fusion) on the synthetic text-image-audio task; "
                                  "rerun with the same --workdir to resume from its last checkpoint.")
  train.add_arguments(tr)
  tr.set_defaults(fn=train.main)
  inf = sub.add_parser("infer", help="run a model once (jitted) on given or random inputs; report outputs and time")
  inf.add_argument("model", help="model name: parallel, serial, alignment, unimodal or encdec")
  inf.add_argument("--text", help="input text (UTF-8, byte-level tokens)")
  inf.add_argument("--image", help="input image: .png, .ppm/.pgm or .npy ([H, W] or [H, W, C])")
  inf.add_argument("--audio", help="input audio: PCM .wav (resampled to the config's rate, cropped/padded)")
  inf.add_argument("--random", action="store_true", help="random inputs for the modalities not given")
  inf.add_argument("--checkpoint", help="orbax checkpoint directory of {'params': ...} (else random weights)")
  inf.add_argument("--bf16", action="store_true", help="compute and hold parameters in bfloat16")
  inf.add_argument("--preset", default="default",
                   help="base config: default or tiny (a model_config.json beside --checkpoint replaces it)")
  inf.add_argument("--config", nargs="+", action="extend", metavar="FIELD=VALUE",
                   help="ModelConfig overrides (repeatable), e.g. fusion=GMU modalities=text,image width=128")
  inf.add_argument("--beam", type=int, default=1, help="encdec: beam size (1 = greedy)")
  inf.add_argument("--max-len", type=int, default=0, help="encdec: tokens to generate (0 = cfg.target_len)")
  inf.add_argument("--seed", type=int, default=0, help="seed for random weights and inputs")
  inf.set_defaults(fn=_cmd_infer)
  args = p.parse_args(argv)
  return args.fn(args)


if __name__ == "__main__":
  sys.exit(main())

"""`python -m zoo`: infer on a PNG and WAV (with a saved checkpoint) and on --random inputs; bad input gives one
line `error: ...` and exit 2 (before JAX loads, for files); train extends a finished run."""

import json
import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from zoo import __main__ as cli
from zoo import config, encdec, media, models, tokenizer
from zoo.__main__ import main

CFG = models.TINY.replace(modalities=("text", "image", "audio"), fusion="GMU")


def test_infer_png_wav_text_from_checkpoint(tmp_path, capsys):
  rng = np.random.default_rng(0)
  png, wav, ckpt = str(tmp_path / "in.png"), str(tmp_path / "in.wav"), str(tmp_path / "ckpt")
  Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(png)
  media.write_wav(wav, 0.3 * np.sin(2 * np.pi * 300 * np.arange(1200) / 8000), 8000)
  model = models.build("parallel", CFG)
  params = models.init_params(model, CFG, jax.random.key(11))
  models.save_params(ckpt, params)
  np.testing.assert_array_equal(jax.tree.leaves(models.load_params(ckpt))[0], jax.tree.leaves(params)[0])

  args = [
    "infer",
    "parallel",
    "--preset",
    "tiny",
    "--config",
    "fusion=GMU",
    "--text",
    "a cat",
    "--image",
    png,
    "--audio",
    wav,
    "--checkpoint",
    ckpt,
  ]
  assert main(args) == 0
  out = capsys.readouterr().out
  assert "logits (1, 3) float32" in out and f"(checkpoint {ckpt})" in out
  assert re.search(r"^time: trace \d+\.\d\ds, compile \d+\.\d\ds, run \d+\.\d ms$", out, flags=re.M)
  assert f"audio {wav}: resampled from 8000 Hz to 16000 Hz" in out
  printed = np.array(eval(re.search(r"logits \(1, 3\) float32: (\[.*\])", out).group(1)))

  # The same forward pass by hand, from the same files.
  batch = {
    "text": jnp.asarray(tokenizer.encode_batch(["a cat"], CFG.text_len)),
    "image": jnp.asarray(media.to_model_image(media.read_image(png), CFG.image_size, 3)[None]),
    "audio": jnp.asarray(media.to_model_audio(*media.read_wav(wav), CFG.sample_rate, CFG.audio_len)[None]),
  }
  logits, _ = model.apply({"params": params}, batch, train=False)
  np.testing.assert_allclose(printed, np.asarray(logits[0]), atol=2e-4)

  # A checkpoint that does not fit the config is refused before anything runs.
  assert main(args + ["--config", "width=32"]) == 2
  err = capsys.readouterr().err
  assert err.startswith("error: the checkpoint's parameters do not fit") and err.count("\n") == 1
  # With the config saved beside it, the checkpoint needs no --preset/--config.
  (tmp_path / "ckpt" / models.MODEL_CONFIG_FILE).write_text(models.config_to_json(CFG))
  assert main(["infer", "parallel", "--checkpoint", ckpt, "--text", "a cat", "--image", png, "--audio", wav]) == 0
  out = capsys.readouterr().out
  assert "config from" in out
  again = np.array(eval(re.search(r"logits \(1, 3\) float32: (\[.*\])", out).group(1)))
  np.testing.assert_allclose(again, printed, atol=1e-6)


def test_infer_random_weights_are_init_params_and_the_logits_are_the_models(capsys):
  """The CLI initialises and runs in one jitted call; its numbers are those of the library's own calls."""
  cfg = models.TINY.replace(fusion="LMF")
  assert (
    main(
      [
        "infer",
        "parallel",
        "--preset",
        "tiny",
        "--config",
        "fusion=LMF",
        "--random",
        "--seed",
        "7",
        "--no-compile-cache",
      ]
    )
    == 0
  )
  out = capsys.readouterr().out
  printed = np.array(eval(re.search(r"logits \(1, 3\) float32: (\[.*\])", out).group(1)))
  k_init, k_batch = jax.random.split(jax.random.key(7))
  model = models.build("parallel", cfg)
  params = models.init_params(model, cfg, k_init)
  batch = models.example_batch(cfg, k_batch, 1, with_label=False)
  logits, _ = model.apply({"params": params}, batch, train=False)
  np.testing.assert_allclose(printed, np.asarray(logits[0]), atol=1e-4)
  n = sum(p.size for p in jax.tree.leaves(params))
  assert f"model parallel: {n:,} parameters (random init)" in out
  assert f"predicted class {int(np.argmax(logits[0]))} " in out


def test_infer_greedy_encdec_tokens_are_the_librarys(capsys):
  assert (
    main(["infer", "encdec", "--preset", "tiny", "--random", "--seed", "2", "--max-len", "5", "--no-compile-cache"])
    == 0
  )
  out = capsys.readouterr().out
  tokens = eval(re.search(r"tokens \(1, 5\): (\[.*\])", out).group(1))
  k_init, k_batch = jax.random.split(jax.random.key(2))
  cfg = models.TINY
  model = models.build("encdec", cfg)
  params = models.init_params(model, cfg, k_init)
  want = np.asarray(encdec.greedy_decode(model, params, models.example_batch(cfg, k_batch, 1, with_label=False), 5))
  assert tokens == want[0].tolist()
  assert f"decoded: {tokenizer.decode(want[0])!r}" in out


def test_infer_random_encdec_beam_bf16(capsys):
  assert main(["infer", "encdec", "--preset", "tiny", "--random", "--bf16", "--beam", "2", "--max-len", "4"]) == 0
  out = capsys.readouterr().out
  assert "beam 0: score" in out and "beam 1: score" in out and "dtype bfloat16" in out
  assert "text, image, audio random" in out


def test_load_params_reads_the_training_layout(tmp_path):
  """zoo.train writes <workdir>/checkpoints/<step>/default with step and optimizer state beside the params."""
  import optax
  import orbax.checkpoint as ocp

  params = {"dense": {"kernel": jnp.ones((2, 3)), "bias": jnp.arange(3.0)}}
  with ocp.CheckpointManager(str(tmp_path / "checkpoints")) as mngr:
    for step in (3, 8):
      tree = {
        "step": jnp.array(step),
        "params": jax.tree.map(lambda x: x * step, params),
        "opt_state": optax.adam(1e-3).init(params),
      }
      mngr.save(step, args=ocp.args.StandardSave(tree))
    mngr.wait_until_finished()
  latest = models.load_params(str(tmp_path))  # the workdir: the latest step
  np.testing.assert_array_equal(latest["dense"]["bias"], [0.0, 8.0, 16.0])
  older = models.load_params(str(tmp_path / "checkpoints" / "3"))
  np.testing.assert_array_equal(older["dense"]["kernel"], 3 * np.ones((2, 3)))


def test_model_config_json_roundtrip(tmp_path):
  cfg = CFG.replace(modalities=("text", "audio"), fusion_kwargs=(("rank", 2),), dtype="bfloat16")
  assert models.config_from_json(models.config_to_json(cfg)) == cfg
  (tmp_path / models.MODEL_CONFIG_FILE).write_text(models.config_to_json(cfg))
  (tmp_path / "checkpoints" / "4" / "default").mkdir(parents=True)
  assert models.find_model_config(str(tmp_path / "checkpoints" / "4" / "default")) == str(
    tmp_path / models.MODEL_CONFIG_FILE
  )


# ------------------------------------------------------------------------------------------------ bad input

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(*argv, env=None):
  """`python -m zoo ...` in a fresh process: (exit status, stdout, stderr)."""
  e = {**os.environ, "MMZOO_COMPILE_CACHE": "", **(env or {})}
  r = subprocess.run([sys.executable, "-m", "zoo", *argv], capture_output=True, text=True, cwd=ROOT, env=e, timeout=300)
  return r.returncode, r.stdout, r.stderr


def _one_line_error(err, *words):
  assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
  for w in words:
    assert w in err, (w, err)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
  d = tmp_path_factory.mktemp("bad")
  good = np.zeros((4, 4, 3), np.uint8)
  Image.fromarray(good).save(d / "ok.png")
  data = (d / "ok.png").read_bytes()
  (d / "corrupt.png").write_bytes(data[:20] + b"\x00" * 40)
  (d / "notwav.wav").write_bytes(b"ID3\x03\x00 an mp3, not a wav" * 4)
  return d


def test_bad_files_fail_in_one_line_before_jax_loads(bad_files, monkeypatch, capsys):
  # In-process, with jax's import made to fail: the files are checked before anything imports it.
  monkeypatch.setitem(sys.modules, "jax", None)
  cases = [
    (["--image", str(bad_files / "missing.png")], ["does not exist", "PNG, JPEG"]),
    (["--image", str(bad_files / "corrupt.png")], ["corrupt.png", "PNG, JPEG"]),
    (["--audio", str(bad_files / "notwav.wav")], ["notwav.wav", "not a readable WAV", "PCM WAV"]),
    (["--checkpoint", str(bad_files / "nothing")], ["does not exist", "orbax"]),
  ]
  for extra, words in cases:
    assert main(["infer", "parallel", "--preset", "tiny", *extra]) == 2
    _one_line_error(capsys.readouterr().err, *words)
  assert main(["infer", "transformer"]) == 2
  _one_line_error(capsys.readouterr().err, "no model 'transformer'", "parallel, serial")


@pytest.mark.parametrize(
  "argv,words",
  [
    (["--config", "fusion=Foo"], ["fusion=Foo", "choose one of", "GMU", "LMF"]),
    (["--config", "width=abc"], ["width=abc", "width takes an int"]),
    (["--config", "colour=red"], ["colour=red", "FIELD one of"]),
    (["--config", "align=fast"], ["align=fast", "interp, dtw, soft_dtw"]),
    (["--config", "modalities=text,smell"], ["modalities=('text', 'smell')", "text"]),
    (["--config", "fusion=CoAttention"], ["parallel cannot be built with this config", "CoAttention", "two-stream"]),
  ],
)
def test_bad_config_is_one_line_error(argv, words, capsys):
  assert main(["infer", "parallel", "--preset", "tiny", "--random", "--no-compile-cache", *argv]) == 2
  _one_line_error(capsys.readouterr().err, *words)


def test_unimodal_needs_one_modality(capsys):
  assert main(["infer", "unimodal", "--preset", "tiny", "--random", "--no-compile-cache"]) == 2
  _one_line_error(capsys.readouterr().err, "unimodal reads exactly one modality", "modalities=text")
  assert (
    main(["infer", "unimodal", "--preset", "tiny", "--random", "--no-compile-cache", "--config", "modalities=audio"])
    == 0
  )
  assert "predicted class" in capsys.readouterr().out


def test_argparse_errors_are_one_line_too(capsys):
  assert main(["infer", "parallel", "--beam", "many"]) == 2
  _one_line_error(capsys.readouterr().err, "--beam", "--help")
  assert main(["list", "--family", "nope"]) == 2
  _one_line_error(capsys.readouterr().err, "no family 'nope'", "fusion")


def test_a_bad_file_in_a_fresh_process(bad_files):
  rc, out, err = _cli("infer", "parallel", "--image", str(bad_files / "corrupt.png"))
  assert rc == 2 and out == ""
  _one_line_error(err, "corrupt.png")


def test_stereo_44k_wav_is_resampled_and_said(tmp_path, capsys):
  wav = str(tmp_path / "s.wav")
  media.write_wav(wav, 0.1 * np.sin(np.arange(4410) / 7), 44100, channels=2)
  assert main(["infer", "parallel", "--preset", "tiny", "--audio", wav, "--random", "--no-compile-cache"]) == 0
  out = capsys.readouterr().out
  # 4410 samples at 44.1 kHz are 1600 at 16 kHz, the tiny config's clip: neither cropped nor padded.
  assert (
    f"audio {wav}: 2 channels averaged to mono; resampled from 44100 Hz to 16000 Hz (linear interpolation)\n" in out
  )


def test_constants_match_the_modules_they_mirror():
  from zoo import architectures, train

  assert set(cli.MODEL_NAMES) == set(models.MODELS)
  assert tuple(cli.ALIGNERS) == tuple(architectures.ALIGNERS)
  assert train.PRESETS is config.PRESETS and train.TrainConfig is config.TrainConfig  # one table, one config


def test_one_preset_table_for_infer_and_train():
  """infer's presets build the models they built before; train's run the runs they ran; each accepts every name."""
  assert list(config.PRESETS) == ["default", "tiny", "cpu", "gpu"]
  assert config.preset("default") == config.ModelConfig() and config.preset("tiny") == config.TINY
  assert config.PRESETS["cpu"] == config.TrainConfig() and config.PRESETS["tiny"].steps == 6
  assert config.model_config(config.PRESETS["tiny"]).text_len == config.PRESETS["tiny"].data.text_len
  parser = cli.build_parser()
  for name in config.PRESETS:
    assert parser.parse_args(["infer", "parallel", "--preset", name]).preset == name
    assert parser.parse_args(["train", "--workdir", "w", "--preset", name]).preset == name
  assert parser.parse_args(["infer", "parallel"]).preset == "default"
  assert parser.parse_args(["train", "--workdir", "w"]).preset == "cpu"


# A fresh process: which top-level packages are loaded when main() returns on a bad configuration.
_BEFORE_JAX = (
  "import sys\nfrom zoo.__main__ import main\nrc = main(sys.argv[1:])\n"
  "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'jax', 'jaxlib', 'flax', 'optax'}))"
)


@pytest.mark.parametrize(
  "argv,words",
  [
    (["infer", "parallel", "--config", "width=abc"], ["width=abc", "width takes an int"]),
    (["infer", "parallel", "--preset", "gpu", "--config", "dropout=lots"], ["dropout takes a float"]),
    (["train", "--workdir", "{tmp}", "--config", "width=abc"], ["width=abc", "width takes an int"]),
    (["train", "--workdir", "{tmp}", "--config", "steps=many"], ["steps takes an int"]),
    (["train", "--workdir", "{tmp}", "--config", "data.misalign=maybe"], ["misalign is true or false"]),
    (["train", "--workdir", "{tmp}", "--model", "unimodal"], ["unimodal reads exactly one modality"]),
  ],
)
def test_bad_config_fails_before_jax_loads(tmp_path, argv, words):
  argv = [a.replace("{tmp}", str(tmp_path / "w")) for a in argv]
  r = subprocess.run(
    [sys.executable, "-c", _BEFORE_JAX, *argv],
    capture_output=True,
    text=True,
    cwd=ROOT,
    timeout=120,
    env={**os.environ, "MMZOO_COMPILE_CACHE": str(tmp_path / "c")},
  )
  assert r.stdout.split("\n")[0] == "2 []", (r.stdout, r.stderr)  # exit status 2, and no JAX imported
  _one_line_error(r.stderr, *words)
  assert not (tmp_path / "w").exists() and not (tmp_path / "c").exists()  # nothing written either


def test_compile_cache_is_the_users_and_only_the_cli_turns_it_on(tmp_path):
  from zoo import __main__ as cli

  env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
  env.pop("MMZOO_COMPILE_CACHE", None)
  code = "import zoo.__main__ as c; print(c.compile_cache_dir())"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT).stdout
  assert out.strip() == str(tmp_path / "xdg" / "mmzoo" / "jax")
  # Importing the zoo (as the grader and student code do) leaves jax's cache off.
  code = "import jax, zoo.models, zoo.train, zoo.reference; print(jax.config.jax_compilation_cache_dir)"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT).stdout
  assert out.strip() == "None"
  assert cli.compile_cache_dir  # the CLI's own helper exists for benchmarks/startup_bench.py
  rc, _, err = _cli(
    "infer", "parallel", "--preset", "tiny", "--random", env={"MMZOO_COMPILE_CACHE": str(tmp_path / "c")}
  )
  assert rc == 0, err
  assert any(os.scandir(tmp_path / "c"))  # compilations were written there
  assert (os.stat(tmp_path / "c").st_mode & 0o777) == 0o700  # created private
  # A folder others may write to is not used: code run as another user could plant executables there.
  shared = tmp_path / "shared"
  shared.mkdir()
  shared.chmod(0o777)
  rc, out, err = _cli("infer", "parallel", "--preset", "tiny", "--random", env={"MMZOO_COMPILE_CACHE": str(shared)})
  assert rc == 0 and "compilation cache off" in err and not any(os.scandir(shared))


# ------------------------------------------------------------------------------------------------ train


def test_train_extends_a_finished_run_and_keeps_its_history(tmp_path, capsys):
  base = [
    "train",
    "--workdir",
    str(tmp_path),
    "--preset",
    "tiny",
    "--model",
    "unimodal",
    "--no-progress",
    "--no-compile-cache",
    "--config",
    "modalities=image",
    "eval_every=2",
    "checkpoint_every=2",
  ]
  assert main(base + ["--config", "steps=4"]) == 0
  first = json.loads(capsys.readouterr().out)
  assert first["step"] == 4 and [h["step"] for h in first["history"]] == [2]
  assert main(base + ["--steps", "6"]) == 0
  captured = capsys.readouterr()
  assert f"resuming {tmp_path} at step 4 of 6 (extended from 4 steps)" in captured.err
  second = json.loads(captured.out)
  assert second["step"] == 6 and [h["step"] for h in second["history"]] == [2, 4]
  assert second["history"][0] == first["history"][0]
  assert json.loads((tmp_path / "config.json").read_text())["steps"] == 6
  # Anything but a larger steps is still another run.
  assert main(base + ["--steps", "6", "--config", "seed=5"]) == 2
  _one_line_error(capsys.readouterr().err, "another config", "seed")
  assert main(base + ["--steps", "3"]) == 2
  _one_line_error(capsys.readouterr().err, "another config", "only a larger steps")


@pytest.mark.parametrize(
  "argv,words",
  [
    (["--config", "width=abc"], ["width=abc", "width takes an int"]),
    (["--config", "steps=many"], ["steps=many", "steps takes an int"]),
    (["--config", "fusion=Foo"], ["fusion=Foo", "choose one of", "GMU"]),
    (["--config", "data.colour=red"], ["data.colour=red", "data.FIELD"]),
    (["--model", "unimodal"], ["unimodal reads exactly one modality"]),
  ],
)
def test_train_bad_config_is_one_line_error(tmp_path, argv, words, capsys):
  assert main(["train", "--workdir", str(tmp_path), "--preset", "tiny", "--no-compile-cache", *argv]) == 2
  _one_line_error(capsys.readouterr().err, *words)
  assert not (tmp_path / "config.json").exists()  # refused before anything was written

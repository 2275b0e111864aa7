"""`python -m zoo infer` on a generated PNG and WAV (with a saved checkpoint), and on --random inputs."""
import re

import jax
import jax.numpy as jnp
import numpy as np

from zoo import imageio, models, tokenizer
from zoo.__main__ import main

CFG = models.TINY.replace(modalities=("text", "image", "audio"), fusion="GMU")


def test_infer_png_wav_text_from_checkpoint(tmp_path, capsys):
  rng = np.random.default_rng(0)
  png, wav, ckpt = str(tmp_path / "in.png"), str(tmp_path / "in.wav"), str(tmp_path / "ckpt")
  imageio.write_png(png, rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
  imageio.write_wav(wav, 0.3 * np.sin(2 * np.pi * 300 * np.arange(1200) / 8000), 8000)
  model = models.build("parallel", CFG)
  params = models.init_params(model, CFG, jax.random.key(11))
  models.save_params(ckpt, params)
  np.testing.assert_array_equal(jax.tree.leaves(models.load_params(ckpt))[0], jax.tree.leaves(params)[0])

  args = ["infer", "parallel", "--preset", "tiny", "--config", "fusion=GMU", "--text", "a cat",
          "--image", png, "--audio", wav, "--checkpoint", ckpt]
  assert main(args) == 0
  out = capsys.readouterr().out
  assert "logits (1, 3) float32" in out and "time: compile" in out and "checkpoint" in out
  printed = np.array(eval(re.search(r"logits \(1, 3\) float32: (\[.*\])", out).group(1)))

  # The same forward pass by hand, from the same files.
  batch = {
      "text": jnp.asarray(tokenizer.encode_batch(["a cat"], CFG.text_len)),
      "image": jnp.asarray(imageio.to_model_image(imageio.read_image(png), CFG.image_size, 3)[None]),
      "audio": jnp.asarray(imageio.to_model_audio(*imageio.read_wav(wav), CFG.sample_rate, CFG.audio_len)[None]),
  }
  logits, _ = model.apply({"params": params}, batch, train=False)
  np.testing.assert_allclose(printed, np.asarray(logits[0]), atol=2e-4)

  # A checkpoint that does not fit the config is refused before anything runs.
  assert main(args + ["--config", "width=32"]) == 2
  capsys.readouterr()
  # With the config saved beside it, the checkpoint needs no --preset/--config.
  (tmp_path / "ckpt" / models.MODEL_CONFIG_FILE).write_text(models.config_to_json(CFG))
  assert main(["infer", "parallel", "--checkpoint", ckpt, "--text", "a cat", "--image", png, "--audio", wav]) == 0
  out = capsys.readouterr().out
  assert "config from" in out
  again = np.array(eval(re.search(r"logits \(1, 3\) float32: (\[.*\])", out).group(1)))
  np.testing.assert_allclose(again, printed, atol=1e-6)


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
      tree = {"step": jnp.array(step), "params": jax.tree.map(lambda x: x * step, params),
              "opt_state": optax.adam(1e-3).init(params)}
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
      tmp_path / models.MODEL_CONFIG_FILE)

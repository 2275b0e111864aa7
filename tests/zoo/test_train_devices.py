"""Data-parallel training over 8 (host-simulated) devices matches one device, in a subprocess."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

_SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    from zoo import data, train
    assert jax.device_count() == 8, jax.devices()
    cfg = train.PRESETS["tiny"]                      # global batch 8: one example per device
    out = {}
    for name, devices in (("one", jax.devices()[:1]), ("eight", jax.devices())):
      mesh = train.make_mesh(devices)
      batch = train.shard_batch(data.batch(cfg.data, 0, 0, cfg.batch_size), mesh)
      s = train.train_and_evaluate(cfg, sys.argv[1] + "/" + name, mesh=mesh, progress=False)
      params = s.pop("state").params
      leaves = jax.tree.leaves(params)
      out[name] = {
          "train": s["train"], "eval": s["eval"], "step": s["step"],
          "params": [np.asarray(x).ravel().tolist() for x in leaves],
          "params_replicated": all(x.sharding.is_fully_replicated and len(x.sharding.device_set) == len(devices)
                                   for x in leaves),
          "batch_devices": len(batch["audio"].sharding.device_set),
          "batch_shard_rows": sorted({sh.data.shape[0] for sh in batch["audio"].addressable_shards}),
      }
    print(json.dumps(out))
""")


def test_eight_devices_give_the_loss_of_one(tmp_path):
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  proc = subprocess.run(
    [sys.executable, "-c", _SCRIPT, str(tmp_path)], cwd=repo, env=env, capture_output=True, text=True, timeout=900
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  one, eight = out["one"], out["eight"]
  # The batch really is split, one example per device, and the parameters replicated.
  assert (one["batch_devices"], eight["batch_devices"]) == (1, 8)
  assert one["batch_shard_rows"] == [8] and eight["batch_shard_rows"] == [1]
  assert one["params_replicated"] and eight["params_replicated"]
  # Several steps later: the same losses and parameters, up to float32 reduction order.
  assert one["step"] == eight["step"] == 6
  for k in ("loss", "ce", "accuracy"):
    np.testing.assert_allclose(eight["train"][k], one["train"][k], rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(eight["eval"]["ce"], one["eval"]["ce"], rtol=1e-4)
  assert eight["eval"]["accuracy"] == one["eval"]["accuracy"]
  # Parameters: adam divides by the gradient's running RMS, so a parameter whose gradient is ~0 can
  # move by ~lr on reduction-order noise alone; compare the whole vector, not entry by entry.
  p1, p8 = (np.concatenate([np.asarray(x) for x in out[k]["params"]]) for k in ("one", "eight"))
  assert np.linalg.norm(p8 - p1) < 1e-4 * np.linalg.norm(p1)

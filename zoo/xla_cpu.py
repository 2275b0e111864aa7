"""XLA flags the zoo's own commands may set on the CPU, with why; never applied on import.

What benchmarks/zoo_bench.py found (jax 0.10.2 on a 2-core AMD EPYC; figures in benchmarks/README.md):
XLA's CPU backend hands dots, and the reductions and elementwise work around them, to the YNNPACK library
("YNN fusions"). For attention written in Flax's [B, L, H, d] layout (flax.linen.dot_product_attention,
the default `attention_fn` of nn.MultiHeadDotProductAttention) it fuses q·kᵀ, the softmax and the value
product into one library call that runs on a single thread: at batch 8, sequence 256, width 512, 8 heads
it takes about 60 ms of one core, where the same fusion on the heads-major [B, H, L, d] layout (the zoo's
`scaled_dot_product_attention`) takes about 17 ms spread over both cores. Two remedies:
  * the layout (preferred, no flag): `attention_fn=zoo.attention.heads_major_attention`, which every
    zoo attention block now passes to Flax's module, gives it the fast fusion;
  * the flag NO_YNN_REDUCE below, which keeps YNNPACK for the dots but leaves reductions (the softmax)
    to XLA's own loops, so nothing is fused into that single-threaded call: Flax-layout attention
    drops to 27-30 ms of CPU over both cores, but heads-major attention rises from 17 to 29-44 ms.
So the flag helps only code still on Flax's layout, and costs everything else: measured as CPU time per
call on a shared machine (ms, default flags / NO_YNN_REDUCE / NO_YNN), heads-major SDPA 17 / 42 / 39,
the zoo's MHA 60 / 85 / 86, Flax's MHDPA 86 / 74 / 79, and every zoo.models architecture at its default
config 10-30 % slower with either flag. Hence FLAGS is empty: the zoo's commands run with XLA's defaults,
and attention gets its speed from the layout. The flags stay here, named, for measuring again
(`benchmarks/zoo_bench.py --flags "..."`) when jax or the machine changes.

Use: `from zoo import xla_cpu; xla_cpu.configure()` first thing in a command, before jax runs anything
(XLA reads XLA_FLAGS once, when its backend starts). `configure()` raises if that already happened.
"""

from __future__ import annotations

import os

# Keep YNNPACK for dots and elementwise work; leave reductions (and so softmax) to XLA's own fusions.
NO_YNN_REDUCE = "--xla_cpu_experimental_ynn_fusion_type=-reduce"
# Turn YNNPACK fusions off altogether (XLA's own dot emitter); what the issue first measured.
NO_YNN = "--xla_cpu_experimental_ynn_fusion_type="

FLAGS: tuple[str, ...] = ()


def configure(flags: tuple[str, ...] = FLAGS) -> str:
  """Append `flags` to XLA_FLAGS (those already set win) and return the result; before jax's backend starts."""
  import sys

  if "jax" in sys.modules:
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
      raise RuntimeError("zoo.xla_cpu.configure() must run before jax starts its backend (first jax computation)")
  current = os.environ.get("XLA_FLAGS", "").split()
  names = {f.split("=", 1)[0] for f in current}
  added = [f for f in flags if f.split("=", 1)[0] not in names]
  os.environ["XLA_FLAGS"] = " ".join(current + added)
  return os.environ["XLA_FLAGS"]

"""Where MultiplicativeInteraction's time goes: xᵀ𝕎y at zoo_bench's shape, in parts and in other orders
(a script, not a test; under a minute).

    .venv/bin/python benchmarks/bilinear_probe.py

The zoo's einsum "bi,ijo,bj->bo" compiles to the outer product x⊗y ([B, d_x·d_y], 32 MB at B 512,
d 128×128) written by one loop, then one GEMM with 𝕎 reshaped to [d_x·d_y, o]. This times that form,
the GEMM alone on a precomputed outer product, the outer product alone, and the other contraction orders
and chunkings tried, each checked against the einsum.
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
from zoo_bench import timed_blocks


def einsum(x, w, y):
  return jnp.einsum("bi,ijo,bj->bo", x, w, y)


def outer(x, y):
  return (x[:, :, None] * y[:, None, :]).reshape(x.shape[0], -1)


def x_first(x, w, y):
  return jnp.einsum("bjo,bj->bo", jnp.einsum("bi,ijo->bjo", x, w), y)


def i_chunks(x, w, y, c):
  """Σ over c slices of x's features: each outer product slice is c times smaller (fits in cache)."""
  n = x.shape[1] // c
  return sum(outer(x[:, s : s + n], y) @ w[s : s + n].reshape(-1, w.shape[-1]) for s in range(0, x.shape[1], n))


def batch_chunks(x, w, y, c):
  n = x.shape[0] // c
  return jnp.concatenate([einsum(x[s : s + n], w, y[s : s + n]) for s in range(0, x.shape[0], n)], 0)


def timed(f, *a, n=30):
  """Median and minimum ms of n consecutive calls after one untimed call (zoo_bench's timing, one block)."""
  r = timed_blocks(
    {"f": lambda: f(*a).block_until_ready()}, n, budget_s=float("inf"), rounds=1, pause_s=0.0, warm_s=0.0
  )["f"]
  return r["median_ms"], r["min_ms"]


def main() -> int:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--batch", type=int, default=512)
  ap.add_argument("--width", type=int, default=128, help="d_x = d_y = o (zoo_bench: 128)")
  args = ap.parse_args()
  b, d = args.batch, args.width
  k = jax.random.split(jax.random.key(0), 3)
  x, y = jax.random.normal(k[0], (b, d)), jax.random.normal(k[1], (b, d))
  w = jax.random.normal(k[2], (d, d, d))
  ref = einsum(x, w, y)
  flops = 2 * b * d**3
  rows = [
    ("the zoo's einsum (outer product, then one GEMM)", einsum, (x, w, y)),
    ("  its GEMM alone, on a precomputed outer product", lambda o, w2: o @ w2, (outer(x, y), w.reshape(-1, d))),
    ("  its outer product alone", outer, (x, y)),
    ("x·𝕎 first, then the product with y", x_first, (x, w, y)),
  ]
  rows += [(f"outer product in {c} slices of x", functools.partial(i_chunks, c=c), (x, w, y)) for c in (4, 16)]
  rows += [(f"batch in {c} chunks", functools.partial(batch_chunks, c=c), (x, w, y)) for c in (4, 16)]
  print(f"B {b}, d_x = d_y = o = {d}: {flops / 1e9:.2f} GFLOP; outer product {b * d * d * 4 / 2**20:.0f} MiB\n")
  print("| form | median ms | min ms | GFLOP/s (median) | max rel. error vs einsum |")
  print("|---|---:|---:|---:|---:|")
  for name, f, a in rows:
    g = jax.jit(f)
    med, best = timed(g, *a)
    out = g(*a)
    err = float(jnp.abs(out - ref).max() / jnp.abs(ref).max()) if out.shape == ref.shape else float("nan")
    gf = f"{flops / med / 1e6:.0f}" if "alone" not in name or "GEMM" in name else "-"
    print(f"| {name} | {med:.2f} | {best:.2f} | {gf} | {err:.1e} |")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())

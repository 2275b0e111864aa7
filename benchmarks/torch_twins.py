"""PyTorch twins of the zoo's methods, for benchmarks only: the same arithmetic, written the PyTorch way.

Each `twin_<name>(params)` takes the zoo's parameter tree (Flax layout, arrays of any kind) and returns a
callable on torch tensors that computes what the zoo's method computes. Weights are copied into
PyTorch's own layouts (`nn.Linear` keeps [out, in]; `nn.MultiheadAttention` packs q/k/v), so the
twin runs as a PyTorch user would write it: `torch.nn.MultiheadAttention`, `F.scaled_dot_product_attention`,
`F.linear`, `F.bilinear`, and MultiBench's TFN/LMF formulations (Liang et al. 2021). `zoo_bench.py`
checks every twin against the zoo on the same inputs in the same run before timing it.

Nothing in `zoo` imports this file; torch is an optional benchmark dependency (`.venv-bench`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

LN_EPS = 1e-6  # flax.linen.LayerNorm's epsilon (PyTorch's default is 1e-5)


def tensor(a):
  """A float32 (or bool/int) torch tensor holding a copy of array `a`."""
  a = np.array(a)
  return torch.from_numpy(a.astype(np.float32) if a.dtype.kind == "f" else a)


def to_torch(tree):
  """The parameter tree with every array leaf turned into a torch tensor."""
  if isinstance(tree, dict):
    return {k: to_torch(v) for k, v in tree.items()}
  if isinstance(tree, (list, tuple)):
    return [to_torch(v) for v in tree]
  return tensor(tree)


def linear(p):
  """Weights of a Flax Dense {"kernel" [in, out], "bias" [out]} in `F.linear`'s [out, in] layout."""
  w = tensor(p["kernel"]).T.contiguous()
  b = tensor(p["bias"]) if "bias" in p else None
  return lambda x: F.linear(x, w, b)


def layer_norm(p):
  """A Flax LayerNorm {"scale", "bias"} as `F.layer_norm` with Flax's epsilon."""
  scale, bias = tensor(p["scale"]), tensor(p["bias"])
  return lambda x: F.layer_norm(x, scale.shape, scale, bias, LN_EPS)


def mha_module(p):
  """`torch.nn.MultiheadAttention` holding the weights of a Flax MultiHeadDotProductAttention tree."""
  d_in, h, dh = np.shape(p["query"]["kernel"])
  d_out = np.shape(p["out"]["kernel"])[-1]
  if d_in != h * dh or d_out != h * dh:
    raise ValueError(f"torch.nn.MultiheadAttention needs in = heads·head_dim = out, got {d_in}, {h}·{dh}, {d_out}")
  m = torch.nn.MultiheadAttention(h * dh, h, batch_first=True).eval()
  with torch.no_grad():
    m.in_proj_weight.copy_(torch.cat([tensor(p[n]["kernel"]).reshape(d_in, -1).T for n in ("query", "key", "value")]))
    m.in_proj_bias.copy_(torch.cat([tensor(p[n]["bias"]).reshape(-1) for n in ("query", "key", "value")]))
    m.out_proj.weight.copy_(tensor(p["out"]["kernel"]).reshape(-1, d_out).T)
    m.out_proj.bias.copy_(tensor(p["out"]["bias"]))
  for q in m.parameters():
    q.requires_grad_(False)
  return m


# ------------------------------------------------------------------------------------------------
# Attention.


def twin_scaled_dot_product_attention(params=None):
  """`F.scaled_dot_product_attention` (q [..., L, d], k, v; no mask)."""
  return lambda q, k, v: F.scaled_dot_product_attention(q, k, v)


def twin_multi_head_attention(params):
  """`torch.nn.MultiheadAttention(need_weights=False)` with the Flax MHDPA weights."""
  m = mha_module(params)
  return lambda x_q, x_kv: m(x_q, x_kv, x_kv, need_weights=False)[0]


# ------------------------------------------------------------------------------------------------
# The graded array fusions.


def twin_weighted_sum(params=None):
  """Σ_m w_m·z_m by `torch.tensordot` over the stacked modalities."""
  return lambda zs, w: torch.tensordot(w, torch.stack(zs), dims=1)


def twin_gated_fusion(params):
  """GMU: z = σ([a; b]·W_z), h = z·tanh(a·W_a) + (1−z)·tanh(b·W_b), with `F.linear`."""
  wa, wb, wz = (tensor(params[k]).T.contiguous() for k in ("W_a", "W_b", "W_z"))

  def f(x_a, x_b):
    z = torch.sigmoid(F.linear(torch.cat([x_a, x_b], -1), wz))
    return z * torch.tanh(F.linear(x_a, wa)) + (1 - z) * torch.tanh(F.linear(x_b, wb))

  return f


def twin_film(params):
  """FiLM: γ(c)·x + β(c) with two `F.linear`s."""
  gamma, beta = linear(params["gamma"]), linear(params["beta"])
  return lambda x, cond: gamma(cond) * x + beta(cond)


def _with_one(z):
  return torch.cat([torch.ones(z.shape[0], 1, dtype=z.dtype), z], dim=1)


def tfn_outer(zs):
  """MultiBench's TensorFusion: [1; z] per modality, batched outer products by `torch.bmm`, flattened."""
  out = _with_one(zs[0])
  for z in zs[1:]:
    out = torch.bmm(out.unsqueeze(2), _with_one(z).unsqueeze(1)).flatten(1)
  return out


def twin_tensor_fusion(params=None):
  """TFN's three-way outer product, MultiBench style."""
  return lambda z_t, z_i, z_a: tfn_outer([z_t, z_i, z_a])


def lmf(params):
  """MultiBench's LowRankTensorFusion: [1; z]·F_m by `torch.matmul`, product over m, rank weights."""
  factors = [tensor(f) for f in params["factors"]]
  w, b = tensor(params["fusion_weights"]), tensor(params["fusion_bias"])

  def f(zs):
    fused = None
    for z, fac in zip(zs, factors):
      zy = torch.matmul(_with_one(z), fac)  # [r, B, o]
      fused = zy if fused is None else fused * zy
    return torch.matmul(w, fused.permute(1, 0, 2)).squeeze(1) + b

  return f


def twin_low_rank_fusion(params):
  """LMF with three modalities (MultiBench's formulation)."""
  f = lmf(params)
  return lambda z_t, z_i, z_a: f([z_t, z_i, z_a])


# ------------------------------------------------------------------------------------------------
# Pooled fusion Modules: `twin(params, module)` -> callable(list of [B, d_m]).


def _projections(p, n):
  return [linear(p[f"proj_{m}"]) for m in range(n)] if p else None


def twin_Sum(params, module):
  """Σ_m Linear_m(z_m)."""
  projs = None

  def f(zs):
    nonlocal projs
    projs = projs or _projections(params["project"], len(zs))
    return functools.reduce(torch.add, [p(z) for p, z in zip(projs, zs)])

  return f


def twin_LateConcat(params, module):
  """Linear([z_0; …; z_M])."""
  out = linear(params["out"])
  return lambda zs: out(torch.cat(zs, -1))


def twin_FixedWeightFusion(params, module):
  """Σ_m w_m·z_m (after per-modality Linears when the module projects)."""
  w = torch.tensor(module.weights, dtype=torch.float32)
  proj = params.get("project") if params else None

  def f(zs):
    hs = [linear(proj[f"proj_{m}"])(z) for m, z in enumerate(zs)] if proj else zs
    return torch.tensordot(w, torch.stack(hs), dims=1)

  return f


def twin_AttentionWeightFusion(params, module):
  """Per-sample softmax over modalities of v·tanh(W·h_m + b), then Σ_m α_m·h_m."""
  proj = params.get("project")
  hidden, score = linear(params["score_hidden"]), linear(params["score"])

  def f(zs):
    hs = [linear(proj[f"proj_{m}"])(z) for m, z in enumerate(zs)] if proj else zs
    h = torch.stack(hs, 1)
    a = torch.softmax(score(torch.tanh(hidden(h)))[..., 0], -1)
    return torch.bmm(a.unsqueeze(1), h).squeeze(1)

  return f


def twin_GMU(params, module):
  """Bimodal GMU (`gated_fusion`), or the multimodal unit for M > 2."""
  if "W_a" in params:
    g = twin_gated_fusion(params)
    return lambda zs: g(*zs)
  n = sum(1 for k in params if k.startswith("W_") and k != "W_z")
  ws = [tensor(params[f"W_{m}"]).T.contiguous() for m in range(n)]
  d, _, o = np.shape(params["W_z"])
  wz = tensor(params["W_z"]).reshape(d, n * o).T.contiguous()

  def f(zs):
    gates = torch.sigmoid(F.linear(torch.cat(zs, -1), wz)).view(-1, n, o)
    h = torch.stack([torch.tanh(F.linear(z, w)) for z, w in zip(zs, ws)], 1)
    return (gates * h).sum(1)

  return f


def twin_FiLM(params, module):
  """FiLM of z_0 conditioned on the other modalities."""
  g = twin_film(params)
  return lambda zs: g(zs[0], torch.cat(zs[1:], -1))


def twin_MultiplicativeInteraction(params, module):
  """xᵀ𝕎y + xᵀU + Vy + b with `F.bilinear` for the 3-tensor."""
  w = tensor(params["W"]).permute(2, 0, 1).contiguous()
  u, v = (tensor(params[k]).T.contiguous() for k in ("U", "V"))
  b = tensor(params["b"])

  def f(zs):
    x, y = zs[0], torch.cat(zs[1:], -1)
    return F.bilinear(x, y, w, b) + F.linear(x, u) + F.linear(y, v)

  return f


def twin_TFN(params, module):
  """MultiBench TensorFusion, then the post-fusion Linear."""
  post = linear(params["post_fusion"])
  return lambda zs: post(tfn_outer(zs))


def twin_LMF(params, module):
  """MultiBench LowRankTensorFusion."""
  return lmf(params)


def twin_MFB(params, module):
  """Expand each modality to k·o, multiply, sum-pool windows of k, signed square root, L2 normalise."""
  k, o, eps = module.factors, module.features, module.eps
  n = sum(1 for name in params if name.startswith("expand_"))
  expand = [linear(params[f"expand_{m}"]) for m in range(n)]

  def f(zs):
    joint = functools.reduce(torch.mul, [e(z) for e, z in zip(expand, zs)])
    pooled = joint.view(-1, o, k).sum(-1)
    power = torch.sign(pooled) * (torch.sqrt(pooled.abs() + eps) - math.sqrt(eps))
    return power * torch.rsqrt(torch.clamp((power * power).sum(-1, keepdim=True), min=eps * eps))

  return f


def twin_EarlyConcat(params, module):
  """Linear over the feature-wise concatenation of aligned sequences (padded steps zeroed)."""
  out = linear(params["out"])

  def f(xs, masks=None):
    if masks is not None:
      xs = [x * m.unsqueeze(-1).to(x.dtype) for x, m in zip(xs, masks)]
    return out(torch.cat(xs, -1))

  return f


# ------------------------------------------------------------------------------------------------
# Token fusion Modules: `twin(params, module)` -> callable(list of [B, L_m, d_m], masks=None).


def attention_block(p):
  """zoo.fusion.tokens.AttentionBlock: pre-LN, x + MHA(LN(x), LN(ctx)), then x + MLP(LN(x))."""
  ln_q, ln_mlp = layer_norm(p["ln_q"]), layer_norm(p["ln_mlp"])
  ln_ctx = layer_norm(p["ln_ctx"]) if "ln_ctx" in p else None
  attn = mha_module(p["attn"])
  fc1, fc2 = linear(p["mlp"]["fc1"]), linear(p["mlp"]["fc2"])

  def f(x, mask=None, ctx=None, ctx_mask=None):
    y = ln_q(x)
    kv, kv_mask = (y, mask) if ctx is None else (ln_ctx(ctx), ctx_mask)
    if kv_mask is None:
      x = x + attn(y, kv, kv, need_weights=False)[0]
    else:
      a = attn(y, kv, kv, key_padding_mask=~kv_mask, need_weights=False)[0]
      x = x + torch.where(kv_mask.any(-1)[:, None, None], a.nan_to_num(), 0.0)
    return x + fc2(F.gelu(fc1(ln_mlp(x)), approximate="tanh"))

  return f


def _embed(p, n, type_embedding):
  projs = [linear(p[f"proj_{m}"]) for m in range(n)]
  types = tensor(p["modality_type"]) if type_embedding else None
  return lambda xs: [pr(x) + (types[m] if types is not None else 0) for m, (pr, x) in enumerate(zip(projs, xs))]


def _n_inputs(p):
  return sum(1 for k in p if k.startswith("proj_"))


def _cat_masks(xs, masks):
  return None if masks is None else torch.cat(masks, 1)


def twin_ModalityTokenSelfAttention(params, module):
  """Single-stream self-attention over all modalities' (type-tagged) tokens."""
  embed = _embed(params["embed"], _n_inputs(params["embed"]), True)
  blocks = [attention_block(params[f"layer_{i}"]) for i in range(module.num_layers)]
  out_norm = layer_norm(params["out_norm"])

  def f(xs, masks=None):
    x, mask = torch.cat(embed(xs), 1), _cat_masks(xs, masks)
    for blk in blocks:
      x = blk(x, mask)
    return out_norm(x)

  return f


def twin_CrossModalAttention(params, module):
  """MulT: cross-modal blocks for each (source, target) pair, merge, self blocks per target."""
  n = _n_inputs(params["embed"])
  embed = _embed(params["embed"], n, False)
  nl = module.num_layers
  cross = {
    (s, t): [attention_block(params[f"cross_{s}_to_{t}_{i}"]) for i in range(nl)]
    for t in range(n)
    for s in range(n)
    if s != t
  }
  cross_norm = {(s, t): layer_norm(params[f"cross_norm_{s}_to_{t}"]) for (s, t) in cross}
  merge = [linear(params[f"merge_{t}"]) for t in range(n)]
  selfs = [[attention_block(params[f"self_{t}_{i}"]) for i in range(nl)] for t in range(n)]
  out_norm = [layer_norm(params[f"out_norm_{t}"]) for t in range(n)]

  def f(xs, masks=None):
    hs = embed(xs)
    ms = masks if masks is not None else [None] * n
    outs = []
    for t in range(n):
      msgs = []
      for s in range(n):
        if s == t:
          continue
        z = hs[t]
        for blk in cross[(s, t)]:
          z = blk(z, ms[t], hs[s], ms[s])
        msgs.append(cross_norm[(s, t)](z))
      z = merge[t](torch.cat(msgs, -1))
      for blk in selfs[t]:
        z = blk(z, ms[t])
      outs.append(out_norm[t](z))
    return torch.cat(outs, 1)

  return f


def twin_CoAttention(params, module):
  """ViLBERT: co-attention blocks both ways, then a self-attention block per stream."""
  embed = _embed(params["embed"], 2, False)
  layers = [
    tuple(attention_block(params[f"{k}_{i}"]) for k in ("co_a", "co_b", "self_a", "self_b"))
    for i in range(module.num_layers)
  ]
  norm_a, norm_b = layer_norm(params["out_norm_a"]), layer_norm(params["out_norm_b"])

  def f(xs, masks=None):
    a, b = embed(xs)
    ma, mb = masks if masks is not None else (None, None)
    for co_a, co_b, self_a, self_b in layers:
      a, b = co_a(a, ma, b, mb), co_b(b, mb, a, ma)
      a, b = self_a(a, ma), self_b(b, mb)
    return torch.cat([norm_a(a), norm_b(b)], 1)

  return f


def twin_PerceiverFusion(params, module):
  """Learned latents cross-attend to all tokens, then latent self-attention blocks."""
  embed = _embed(params["embed"], _n_inputs(params["embed"]), True)
  latents = tensor(params["latents"])
  cross = attention_block(params["cross"])
  blocks = [attention_block(params[f"latent_{i}"]) for i in range(module.num_layers)]
  out_norm = layer_norm(params["out_norm"])

  def f(xs, masks=None):
    inputs = torch.cat(embed(xs), 1)
    z = cross(latents.expand(inputs.shape[0], -1, -1), None, inputs, _cat_masks(xs, masks))
    for blk in blocks:
      z = blk(z)
    return out_norm(z)

  return f


def twin_BottleneckFusion(params, module):
  """MBT: per-modality blocks that share `num_bottlenecks` tokens from `fusion_layer` on."""
  n = _n_inputs(params["embed"])
  embed = _embed(params["embed"], n, False)
  bottleneck = tensor(params["bottleneck"])
  layers = [[attention_block(params[f"layer_{i}_m{m}"]) for m in range(n)] for i in range(module.num_layers)]
  out_norm = layer_norm(params["out_norm"])

  def f(xs, masks=None):
    hs = embed(xs)
    bn = bottleneck.expand(hs[0].shape[0], -1, -1)
    ms = masks if masks is not None else [None] * n
    for i, blocks in enumerate(layers):
      if i < module.fusion_layer:
        hs = [blk(h, m) for blk, h, m in zip(blocks, hs, ms)]
        continue
      updated = []
      for j, (blk, h, m) in enumerate(zip(blocks, hs, ms)):
        mm = None if m is None else torch.cat([m, torch.ones(bn.shape[:2], dtype=torch.bool)], 1)
        y = blk(torch.cat([h, bn], 1), mm)
        hs[j] = y[:, : h.shape[1]]
        updated.append(y[:, h.shape[1] :])
      bn = torch.stack(updated).mean(0)
    return out_norm(torch.cat(hs, 1))

  return f


def twin(name):
  """The twin builder for zoo method `name`, or None when there is none."""
  return globals().get(f"twin_{name}")

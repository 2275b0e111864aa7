"""PyTorch twins of the zoo's architectures (serial, parallel, alignment, encoder-decoder), for benchmarks only.

Each twin is a `torch.nn.Module` built from the zoo's own parameter tree (Flax layout, any array type):
`build(name, cfg, params)`. Weights are copied into PyTorch's own modules and layouts (`nn.Linear`
[out, in], `nn.MultiheadAttention`'s packed q/k/v, `nn.Conv2d`/`nn.Conv1d`, `nn.Embedding`), so a twin
trains with `torch.optim.AdamW` and runs as a PyTorch user would write it. `forward(batch)` takes the
zoo's batch dict as torch tensors and returns what `model.apply(..., train=...)` returns first (logits),
plus the aux loss where the zoo has one. Generation (`EncDecTwin.greedy` / `.beam`) keeps its own
key/value cache: the self-attention keys and values appended per step, and the memory's cross-attention
keys and values computed once (as Hugging Face's decoders do; the zoo's Flax decoder recomputes them
every step, which is part of what `model_bench.py` measures). `EncDecTwin.compile_step()` puts the decoder
step under torch.compile (a full-length cache and a position mask keep its shapes static).

`model_bench.py` and tests/zoo/test_bench_model_twins.py check every twin against the zoo on the same
parameters and inputs before anything is timed. Nothing in `zoo` imports this file (torch is optional).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LN_EPS = 1e-6  # flax.linen.LayerNorm's epsilon (PyTorch's default is 1e-5)
PAD, BOS, EOS = 0, 1, 2  # zoo.tokenizer's ids (checked against it in the tests)
NEG_INF = -1.0e9  # zoo.encdec's finite -inf for finished beams


def tensor(a):
  """A float32 (int64, bool) torch tensor holding a copy of array `a` (ids as int64, PyTorch's index type)."""
  a = np.array(a)
  kind = {"f": np.float32, "i": np.int64, "u": np.int64}.get(a.dtype.kind)
  return torch.from_numpy(a.astype(kind) if kind else a)


def batch_to_torch(batch, device="cpu"):
  """The zoo's batch dict (jax or numpy arrays) as torch tensors."""
  return {k: tensor(v).to(device) for k, v in batch.items()}


def _copy(param, value):
  with torch.no_grad():
    param.copy_(value)


def linear(p, bias=True):
  """`nn.Linear` holding a Flax Dense {"kernel" [in, out], "bias" [out]}."""
  k = tensor(p["kernel"])
  m = nn.Linear(k.shape[0], k.shape[1], bias=bias and "bias" in p)
  _copy(m.weight, k.T)
  if m.bias is not None:
    _copy(m.bias, tensor(p["bias"]))
  return m


def layer_norm(p):
  """`nn.LayerNorm` with Flax's epsilon, holding {"scale", "bias"}."""
  m = nn.LayerNorm(np.shape(p["scale"])[0], eps=LN_EPS)
  _copy(m.weight, tensor(p["scale"]))
  _copy(m.bias, tensor(p["bias"]))
  return m


def mha(p):
  """`nn.MultiheadAttention` (batch first) holding a Flax MultiHeadDotProductAttention tree."""
  d_in, h, dh = np.shape(p["query"]["kernel"])
  m = nn.MultiheadAttention(h * dh, h, batch_first=True)
  _copy(m.in_proj_weight, torch.cat([tensor(p[n]["kernel"]).reshape(d_in, -1).T for n in ("query", "key", "value")]))
  _copy(m.in_proj_bias, torch.cat([tensor(p[n]["bias"]).reshape(-1) for n in ("query", "key", "value")]))
  _copy(m.out_proj.weight, tensor(p["out"]["kernel"]).reshape(h * dh, -1).T)
  _copy(m.out_proj.bias, tensor(p["out"]["bias"]))
  return m


def param(a):
  """A trainable `nn.Parameter` holding a copy of array `a` (layout unchanged)."""
  return nn.Parameter(tensor(a))


def gelu(x):
  """flax.linen.gelu's default, the tanh approximation."""
  return F.gelu(x, approximate="tanh")


def masked_mean(x_BxLxD, mask_BxL):
  """Mean over the real tokens (zoo.encoders.masked_mean)."""
  m = mask_BxL.to(x_BxLxD.dtype).unsqueeze(-1)
  return (x_BxLxD * m).sum(1) / m.sum(1).clamp(min=1)


def _pad_mask(mask_BxL):
  """nn.MultiheadAttention's key_padding_mask (True = ignore), or None when every token is real."""
  return None if mask_BxL is None else ~mask_BxL


# ------------------------------------------------------------------------------------------------
# Encoders (zoo.encoders).


class Block(nn.Module):
  """zoo.encoders.EncoderBlock: pre-LN, x + MHA(LN(x)), x + MLP(LN(x))."""

  def __init__(self, p):
    super().__init__()
    self.ln1, self.attn, self.ln2 = layer_norm(p["ln1"]), mha(p["attn"]), layer_norm(p["ln2"])
    self.fc1, self.fc2 = linear(p["mlp"]["fc1"]), linear(p["mlp"]["fc2"])

  def forward(self, x, pad_BxL=None):
    y = self.ln1(x)
    x = x + self.attn(y, y, y, key_padding_mask=pad_BxL, need_weights=False)[0]
    return x + self.fc2(gelu(self.fc1(self.ln2(x))))


class Transformer(nn.Module):
  """zoo.encoders.Transformer: blocks, then a LayerNorm."""

  def __init__(self, p):
    super().__init__()
    n = sum(1 for k in p if k.startswith("block"))
    self.blocks = nn.ModuleList(Block(p[f"block{i}"]) for i in range(n))
    self.norm = layer_norm(p["norm"])

  def forward(self, x, mask_BxL=None):
    pad = _pad_mask(mask_BxL)
    for blk in self.blocks:
      x = blk(x, pad)
    return self.norm(x)


def _outputs(tokens, mask):
  return {"tokens": tokens, "mask": mask, "pooled": masked_mean(tokens, mask)}


class TextEncoder(nn.Module):
  """Byte embedding + learned positions (+ an optional prefix) + transformer."""

  def __init__(self, p):
    super().__init__()
    self.embed = nn.Embedding.from_pretrained(tensor(p["embed"]["embedding"]), freeze=False)
    self.pos = param(p["pos_embedding"])
    self.transformer = Transformer(p["transformer"])

  def forward(self, text_BxL, prefix=None, prefix_mask=None):
    mask = text_BxL != PAD
    x = self.embed(text_BxL) + self.pos[:, : text_BxL.shape[1]]
    if prefix is not None:
      x, mask = torch.cat([prefix, x], 1), torch.cat([prefix_mask, mask], 1)
    return _outputs(self.transformer(x, mask), mask)


class ImageEncoder(nn.Module):
  """ViT: `nn.Conv2d` patches (NHWC input permuted to NCHW), learned positions, transformer."""

  def __init__(self, p):
    super().__init__()
    k = tensor(p["patch_embed"]["kernel"])  # [p, p, C, D]
    self.patch = nn.Conv2d(k.shape[2], k.shape[3], k.shape[0], stride=k.shape[0])
    _copy(self.patch.weight, k.permute(3, 2, 0, 1))
    _copy(self.patch.bias, tensor(p["patch_embed"]["bias"]))
    self.pos = param(p["pos_embedding"])
    self.transformer = Transformer(p["transformer"])

  def forward(self, image_BxHxWxC):
    x = self.patch(image_BxHxWxC.permute(0, 3, 1, 2)).flatten(2).transpose(1, 2) + self.pos
    mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return _outputs(self.transformer(x, None), mask)


class AudioEncoder(nn.Module):
  """Log-mel (`torch.fft.rfft` of Hann-windowed frames), two `nn.Conv1d`s, positions, transformer.

  The mel filterbank is a constant, not a parameter: it is read from zoo.audio.mel_filterbank (the
  twin times the front end's arithmetic, not its construction).
  """

  def __init__(self, p, cfg):
    super().__init__()
    from zoo import audio as audio_lib

    self.n_fft, self.hop = cfg.n_fft, cfg.hop
    self.register_buffer("window", 0.5 - 0.5 * torch.cos(2 * math.pi * torch.arange(cfg.n_fft) / cfg.n_fft))
    self.register_buffer("mel_fb", tensor(audio_lib.mel_filterbank(cfg.n_mels, cfg.n_fft, cfg.sample_rate)))
    self.mel_norm = layer_norm(p["mel_norm"])
    self.conv1, self.conv2 = self._conv(p["conv1"], 1), self._conv(p["conv2"], 2)
    self.pos = param(p["pos_embedding"])
    self.transformer = Transformer(p["transformer"])

  @staticmethod
  def _conv(p, stride):
    k = tensor(p["kernel"])  # [width, in, out]
    m = nn.Conv1d(k.shape[1], k.shape[2], k.shape[0], stride=stride)
    _copy(m.weight, k.permute(2, 1, 0))
    _copy(m.bias, tensor(p["bias"]))
    return m

  @staticmethod
  def _same(conv, x):
    """Flax's 'SAME' padding for `conv` (low side gets the smaller half, as XLA pads)."""
    k, s, n = conv.kernel_size[0], conv.stride[0], x.shape[-1]
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return conv(F.pad(x, (total // 2, total - total // 2)))

  def forward(self, audio_BxS):
    frames = audio_BxS.unfold(-1, self.n_fft, self.hop) * self.window
    power = torch.fft.rfft(frames, dim=-1).abs().square()
    mel = torch.log(torch.clamp(power @ self.mel_fb, min=1e-10))
    mel = torch.maximum(mel, mel.amax(dim=(1, 2), keepdim=True) - 8 * math.log(10.0))
    x = self.mel_norm(mel).transpose(1, 2)
    x = gelu(self._same(self.conv2, gelu(self._same(self.conv1, x)))).transpose(1, 2) + self.pos
    mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    out = _outputs(self.transformer(x, None), mask)
    return out


def encoders(p, cfg):
  """The encoder of each modality in cfg.modalities, as an nn.ModuleDict (the zoo's order)."""
  make = {"text": lambda q: TextEncoder(q), "image": lambda q: ImageEncoder(q), "audio": lambda q: AudioEncoder(q, cfg)}
  return nn.ModuleDict({m: make[m](p[f"{m}_encoder"]) for m in cfg.modalities})


def audio_times(cfg):
  """Each audio token's centre in seconds (zoo.encoders.audio_token_times: a constant of the config)."""
  from zoo.encoders import audio_token_times

  return tensor(audio_token_times(cfg))


# ------------------------------------------------------------------------------------------------
# Pooled fusions of the parallel model.


class LateConcat(nn.Module):
  """Linear([z_0; …; z_M])."""

  def __init__(self, p):
    super().__init__()
    self.out = linear(p["out"])

  def forward(self, zs):
    return self.out(torch.cat(zs, -1))


class LMF(nn.Module):
  """MultiBench's LowRankTensorFusion: [1; z]·F_m by `torch.matmul`, product over m, rank weights."""

  def __init__(self, p):
    super().__init__()
    self.factors = nn.ParameterList(param(f) for f in p["factors"])
    self.fusion_weights, self.fusion_bias = param(p["fusion_weights"]), param(p["fusion_bias"])

  def forward(self, zs):
    fused = None
    for z, fac in zip(zs, self.factors):
      zy = torch.matmul(torch.cat([torch.ones_like(z[:, :1]), z], 1), fac)  # [r, B, o]
      fused = zy if fused is None else fused * zy
    return torch.matmul(self.fusion_weights, fused.permute(1, 0, 2)).squeeze(1) + self.fusion_bias


class GMU(nn.Module):
  """The gated multimodal unit (bimodal `gated_fusion`, or one sigmoid gate per modality for M > 2)."""

  def __init__(self, p):
    super().__init__()
    self.bimodal = "W_a" in p
    names = ("W_a", "W_b") if self.bimodal else tuple(sorted((k for k in p if k != "W_z"), key=lambda k: int(k[2:])))
    self.ws = nn.ParameterList(param(p[k]) for k in names)
    self.w_z = param(p["W_z"])

  def forward(self, zs):
    hs = [torch.tanh(z @ w) for z, w in zip(zs, self.ws)]
    cat = torch.cat(zs, -1)
    if self.bimodal:
      z = torch.sigmoid(cat @ self.w_z)
      return z * hs[0] + (1 - z) * hs[1]
    d, n, o = self.w_z.shape
    gates = torch.sigmoid(cat @ self.w_z.reshape(d, n * o)).view(-1, n, o)
    return (gates * torch.stack(hs, 1)).sum(1)


POOLED_FUSIONS = {"LateConcat": LateConcat, "LMF": LMF, "GMU": GMU}


# ------------------------------------------------------------------------------------------------
# The architectures (zoo.architectures).


class ParallelTwin(nn.Module):
  """Encoders side by side, a pooled fusion of their pooled vectors, a linear head."""

  def __init__(self, cfg, p):
    super().__init__()
    if cfg.fusion not in POOLED_FUSIONS:
      raise NotImplementedError(f"no PyTorch twin of fusion {cfg.fusion!r}; have {sorted(POOLED_FUSIONS)}")
    self.cfg = cfg
    self.encoders = encoders(p, cfg)
    self.fusion = POOLED_FUSIONS[cfg.fusion](p["fusion"])
    self.head = linear(p["head"])

  def forward(self, batch):
    enc = {m: e(batch[m]) for m, e in self.encoders.items()}
    return self.head(self.fusion([enc[m]["pooled"] for m in self.cfg.modalities])), None


class Projector(nn.Module):
  """LLaVA-1.5's Dense-GELU-Dense."""

  def __init__(self, p):
    super().__init__()
    self.fc1, self.fc2 = linear(p["fc1"]), linear(p["fc2"])

  def forward(self, x):
    return self.fc2(gelu(self.fc1(x)))


class SerialTwin(nn.Module):
  """Image and audio encoders -> projectors (+ type embeddings) -> the text transformer's prefix."""

  def __init__(self, cfg, p):
    super().__init__()
    self.cfg = cfg
    self.prefixes = [m for m in ("image", "audio") if m in cfg.modalities]
    make = {"image": lambda q: ImageEncoder(q), "audio": lambda q: AudioEncoder(q, cfg)}
    self.encoders = nn.ModuleDict({m: make[m](p[f"{m}_encoder"]) for m in self.prefixes})
    self.projectors = nn.ModuleDict({m: Projector(p[f"{m}_projector"]) for m in self.prefixes})
    self.types = nn.ParameterDict({m: param(p[f"{m}_type_embedding"]) for m in self.prefixes})
    self.text = TextEncoder(p["text_encoder"])
    self.head = linear(p["head"])

  def forward(self, batch):
    prefix, masks = [], []
    for m in self.prefixes:
      e = self.encoders[m](batch[m])
      prefix.append(self.projectors[m](e["tokens"]) + self.types[m])
      masks.append(e["mask"])
    if prefix:
      t = self.text(batch["text"], torch.cat(prefix, 1), torch.cat(masks, 1))
    else:
      t = self.text(batch["text"])
    return self.head(t["pooled"]), None


def interp(x_BxL, xp_N, fp_BxNxD):
  """`jnp.interp` per batch row and feature: edge values held outside xp's range."""
  n = xp_N.shape[0]
  i = torch.searchsorted(xp_N, x_BxL.contiguous(), right=True).clamp(1, n - 1)
  lo, hi = xp_N[i - 1], xp_N[i]
  idx = lambda j: j.unsqueeze(-1).expand(-1, -1, fp_BxNxD.shape[-1])
  f_lo, f_hi = fp_BxNxD.gather(1, idx(i - 1)), fp_BxNxD.gather(1, idx(i))
  f = f_lo + ((x_BxL - lo) / (hi - lo)).unsqueeze(-1) * (f_hi - f_lo)
  f = torch.where((x_BxL < xp_N[0]).unsqueeze(-1), fp_BxNxD[:, :1], f)
  return torch.where((x_BxL > xp_N[-1]).unsqueeze(-1), fp_BxNxD[:, -1:], f)


def clip_loss(a, b, temperature):
  """Symmetric InfoNCE against the diagonal (zoo.align.features.clip_loss)."""
  logits = F.normalize(a, dim=-1, eps=0) @ F.normalize(b, dim=-1, eps=0).T / temperature
  labels = torch.arange(logits.shape[0], device=logits.device)
  return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


class AlignmentTwin(nn.Module):
  """CLIP projections and loss, audio interpolated onto the text clock, EarlyConcat, transformer, head.

  Only the zoo's default aligner ("interp") and early fusion ("EarlyConcat") with text as the clock.
  """

  def __init__(self, cfg, p):
    super().__init__()
    if cfg.align != "interp" or cfg.align_fusion != "EarlyConcat" or "text" not in cfg.modalities:
      raise NotImplementedError("the alignment twin covers align='interp', align_fusion='EarlyConcat', with text")
    self.cfg = cfg
    self.encoders = encoders(p, cfg)
    self.proj = nn.ModuleDict({m: linear(p[f"{m}_proj"], bias=False) for m in cfg.modalities})
    self.log_t = param(p["log_temperature"]) if cfg.contrastive and len(cfg.modalities) > 1 else None
    self.register_buffer("times", audio_times(cfg) if "audio" in cfg.modalities else torch.zeros(1))
    self.fusion = linear(p["fusion"]["out"])
    self.fused_in = linear(p["fused_in"])
    self.transformer = Transformer(p["fusion_transformer"])
    self.head = linear(p["head"])

  def forward(self, batch):
    cfg = self.cfg
    enc = {m: e(batch[m]) for m, e in self.encoders.items()}
    ref = enc["text"]
    others = [m for m in enc if m != "text"]
    aux = None
    if self.log_t is not None:
      t = self.proj["text"](ref["pooled"])
      aux = torch.stack([clip_loss(self.proj[m](enc[m]["pooled"]), t, self.log_t.exp()) for m in others]).mean()
    mask = ref["mask"]
    b, l, _ = ref["tokens"].shape
    streams = [ref["tokens"]]
    for m in others:
      if m == "image":
        streams.append(enc[m]["pooled"].unsqueeze(1).expand(b, l, -1))
      else:
        n = mask.sum(1).clamp(min=1).to(torch.float32)
        t_dst = (
          (torch.arange(l, dtype=torch.float32, device=mask.device) + 0.5)
          * (cfg.audio_len / cfg.sample_rate)
          / n[:, None]
        )
        streams.append(interp(t_dst, self.times, enc[m]["tokens"]))
    fused = self.fusion(torch.cat([x * mask.unsqueeze(-1) for x in streams], -1))
    x = self.transformer(self.fused_in(fused), mask)
    return self.head(masked_mean(x, mask)), aux


# ------------------------------------------------------------------------------------------------
# The encoder-decoder (zoo.encdec), with its own cache for generation.


class DecoderBlock(nn.Module):
  """Pre-LN: causal self-attention, cross-attention to the memory, MLP."""

  def __init__(self, p):
    super().__init__()
    self.ln1, self.self_attn = layer_norm(p["ln1"]), mha(p["self_attn"])
    self.ln2, self.cross_attn = layer_norm(p["ln2"]), mha(p["cross_attn"])
    self.ln3, self.fc1, self.fc2 = layer_norm(p["ln3"]), linear(p["mlp"]["fc1"]), linear(p["mlp"]["fc2"])

  def forward(self, y, memory, memory_pad, causal):
    h = self.ln1(y)
    y = y + self.self_attn(h, h, h, attn_mask=causal, need_weights=False)[0]
    h = self.ln2(y)
    y = y + self.cross_attn(h, memory, memory, key_padding_mask=memory_pad, need_weights=False)[0]
    return y + self.fc2(gelu(self.fc1(self.ln3(y))))

  # Cached decoding: the same weights, called one token at a time.
  def _heads(self, x):  # [B, T, H·d] -> [B, H, T, d]
    h = self.self_attn.num_heads
    return x.view(x.shape[0], x.shape[1], h, -1).transpose(1, 2)

  def memory_kv(self, memory):
    """The cross-attention keys and values of the memory, [B, H, M, d] each: computed once per sequence."""
    _, w_k, w_v = self.cross_attn.in_proj_weight.chunk(3)
    _, b_k, b_v = self.cross_attn.in_proj_bias.chunk(3)
    return self._heads(F.linear(memory, w_k, b_k)), self._heads(F.linear(memory, w_v, b_v))

  def _cross_and_mlp(self, y_Bx1xD, memory_kv, memory_keep):
    """The step's cross-attention over the memory's cached keys and values, then the MLP (both residual)."""
    ca = self.cross_attn
    w_q, b_q = ca.in_proj_weight.chunk(3)[0], ca.in_proj_bias.chunk(3)[0]
    q = self._heads(F.linear(self.ln2(y_Bx1xD), w_q, b_q))
    a = F.scaled_dot_product_attention(q, memory_kv[0], memory_kv[1], attn_mask=memory_keep)
    y = y_Bx1xD + ca.out_proj(a.transpose(1, 2).flatten(2))
    return y + self.fc2(gelu(self.fc1(self.ln3(y))))

  def step(self, y_Bx1xD, i, cache, memory_kv, memory_keep):
    """One token through the block: writes its key and value at position i of `cache` ([B, H, T, d] ×2)."""
    sa = self.self_attn
    q, k, v = F.linear(self.ln1(y_Bx1xD), sa.in_proj_weight, sa.in_proj_bias).chunk(3, -1)
    cache[0][:, :, i : i + 1], cache[1][:, :, i : i + 1] = self._heads(k), self._heads(v)
    a = F.scaled_dot_product_attention(self._heads(q), cache[0][:, :, : i + 1], cache[1][:, :, : i + 1])
    y = y_Bx1xD + sa.out_proj(a.transpose(1, 2).flatten(2))
    return self._cross_and_mlp(y, memory_kv, memory_keep)

  def step_static(self, y_Bx1xD, i_1, keep_1x1x1xT, cache, memory_kv, memory_keep):
    """`step` with static shapes, for torch.compile: position i_1 (a [1] tensor, not an int, so that one
    graph serves every step) written into the full-length cache by `index_copy_`, attention over all T
    positions with the later ones masked (keep_1x1x1xT: position <= i)."""
    sa = self.self_attn
    q, k, v = F.linear(self.ln1(y_Bx1xD), sa.in_proj_weight, sa.in_proj_bias).chunk(3, -1)
    cache[0].index_copy_(2, i_1, self._heads(k))
    cache[1].index_copy_(2, i_1, self._heads(v))
    a = F.scaled_dot_product_attention(self._heads(q), cache[0], cache[1], attn_mask=keep_1x1x1xT)
    y = y_Bx1xD + sa.out_proj(a.transpose(1, 2).flatten(2))
    return self._cross_and_mlp(y, memory_kv, memory_keep)


class EncDecTwin(nn.Module):
  """Encoders, memory by concatenation (+ type embeddings), causal decoder with tied output embedding."""

  def __init__(self, cfg, p):
    super().__init__()
    if cfg.memory != "concat":
      raise NotImplementedError("the encoder-decoder twin covers memory='concat'")
    self.cfg = cfg
    self.encoders = encoders(p, cfg)
    self.types = nn.ParameterDict({m: param(p[f"{m}_type_embedding"]) for m in cfg.modalities})
    d = p["decoder"]
    self.embed = nn.Embedding.from_pretrained(tensor(d["embed"]["embedding"]), freeze=False)
    self.pos = param(d["pos_embedding"])
    self.blocks = nn.ModuleList(DecoderBlock(d[f"block{i}"]) for i in range(cfg.decoder_depth))
    self.norm = layer_norm(d["norm"])
    self.compiled_step = None  # compile_step() sets it

  def encode(self, batch):
    enc = {m: e(batch[m]) for m, e in self.encoders.items()}
    memory = torch.cat([enc[m]["tokens"] + self.types[m] for m in enc], 1)
    return memory, torch.cat([enc[m]["mask"] for m in enc], 1)

  def decode(self, tokens_BxT, memory, memory_mask):
    t = tokens_BxT.shape[1]
    y = self.embed(tokens_BxT) + self.pos[:t]
    causal = torch.ones(t, t, dtype=torch.bool, device=y.device).triu(1)
    for blk in self.blocks:
      y = blk(y, memory, ~memory_mask, causal)
    return self.norm(y) @ self.embed.weight.T

  def forward(self, batch):
    target = batch["target"]
    inp = torch.cat([torch.full_like(target[:, :1], BOS), target[:, :-1]], 1)
    return self.decode(inp, *self.encode(batch)), None

  # Generation: a fixed number of steps (no early stop), dropout off.
  def _start(self, batch, repeat=1):
    memory, mask = self.encode(batch)
    if repeat > 1:  # flat index b·K + beam, as zoo.encdec.beam_search
      memory, mask = memory.repeat_interleave(repeat, 0), mask.repeat_interleave(repeat, 0)
    kv = [blk.memory_kv(memory) for blk in self.blocks]
    keep = mask[:, None, None, :]
    return kv, keep, memory.shape[0]

  def _new_cache(self, n, max_len, like):
    h = self.blocks[0].self_attn.num_heads
    d = self.cfg.width // h
    return [[like.new_zeros(n, h, max_len, d), like.new_zeros(n, h, max_len, d)] for _ in self.blocks]

  def _step(self, tok_B, i, caches, kv, keep):
    if self.compiled_step is not None:
      i_1 = torch.full((1,), i, dtype=torch.long, device=tok_B.device)
      return self.compiled_step(tok_B, i_1, caches, kv, keep)
    y = self.embed(tok_B[:, None]) + self.pos[i]
    for blk, cache, mkv in zip(self.blocks, caches, kv):
      y = blk.step(y, i, cache, mkv, keep)
    return (self.norm(y) @ self.embed.weight.T)[:, 0]

  def _step_static(self, tok_B, i_1, caches, kv, keep):
    """One decoder step on full-length caches (DecoderBlock.step_static): the function torch.compile sees."""
    y = self.embed(tok_B[:, None]) + self.pos[i_1]
    keep_self = (torch.arange(caches[0][0].shape[2], device=tok_B.device) <= i_1)[None, None, None, :]
    for blk, cache, mkv in zip(self.blocks, caches, kv):
      y = blk.step_static(y, i_1, keep_self, cache, mkv, keep)
    return (self.norm(y) @ self.embed.weight.T)[:, 0]

  def compile_step(self, **options):
    """Decode with `torch.compile(_step_static, fullgraph=True, **options)` from now on (greedy and beam).

    The eager loop reads a cache that grows a position a step; the compiled one keeps every shape
    static (a full-length cache and a position mask), so one graph serves all steps of a batch size."""
    self.compiled_step = torch.compile(self._step_static, fullgraph=True, **options)
    return self

  def greedy(self, batch, max_len):
    """Argmax tokens [B, max_len] (PAD after an end, as zoo.encdec.greedy_decode), all max_len steps run."""
    kv, keep, b = self._start(batch)
    caches = self._new_cache(b, max_len, kv[0][0])
    tok = torch.full((b,), BOS, dtype=torch.long, device=keep.device)
    done = torch.zeros(b, dtype=torch.bool, device=keep.device)
    out = []
    for i in range(max_len):
      nxt = torch.where(done, PAD, self._step(tok, i, caches, kv, keep).argmax(-1))
      done = done | (nxt == EOS) | (nxt == PAD)
      out.append(nxt)
      tok = nxt
    return torch.stack(out, 1)

  def beam(self, batch, beam_size, max_len):
    """Beam search as zoo.encdec.beam_search (alpha 0): (tokens [B, K, max_len], scores [B, K]), best first."""
    k = beam_size
    kv, keep, bk = self._start(batch, k)
    b, v = bk // k, self.embed.num_embeddings
    caches = self._new_cache(bk, max_len, kv[0][0])
    dev = keep.device
    pad_only = torch.where(torch.arange(v, device=dev) == PAD, 0.0, NEG_INF)
    tok = torch.full((b, k), BOS, dtype=torch.long, device=dev)
    seqs = torch.zeros(b, k, max_len, dtype=torch.long, device=dev)
    logp = torch.where(torch.arange(k, device=dev) == 0, 0.0, NEG_INF).repeat(b, 1)
    done = torch.zeros(b, k, dtype=torch.bool, device=dev)
    for i in range(max_len):
      lp = torch.log_softmax(self._step(tok.reshape(-1), i, caches, kv, keep).view(b, k, v), -1)
      lp = torch.where(done[..., None], pad_only, lp)
      logp, flat = torch.topk((logp[..., None] + lp).view(b, k * v), k)
      src, tok = flat // v, flat % v
      seqs = seqs.gather(1, src[..., None].expand(-1, -1, max_len))
      seqs[:, :, i] = tok
      done = done.gather(1, src) | (tok == EOS) | (tok == PAD)
      rows = (torch.arange(b, device=dev)[:, None] * k + src).reshape(-1)
      for cache in caches:
        cache[0], cache[1] = cache[0][rows], cache[1][rows]
    order = torch.argsort(-logp, 1)
    return seqs.gather(1, order[..., None].expand(-1, -1, max_len)), logp.gather(1, order)


TWINS = {"parallel": ParallelTwin, "serial": SerialTwin, "alignment": AlignmentTwin, "encdec": EncDecTwin}


def build(name, cfg, params):
  """The PyTorch twin of zoo model `name` at `cfg`, holding a copy of the zoo's `params` (float32, train mode)."""
  if cfg.dropout:
    raise NotImplementedError("the twins have no dropout (the benchmarks run with dropout off)")
  np_params = _to_numpy(params)
  return TWINS[name](cfg, np_params)


def _to_numpy(tree):
  if isinstance(tree, dict):
    return {k: _to_numpy(v) for k, v in tree.items()}
  if isinstance(tree, (list, tuple)):
    return [_to_numpy(v) for v in tree]
  return np.asarray(tree)


def loss(name, twin, batch, contrastive_weight=0.0):
  """The zoo's training loss for `name` on the twin: mean cross-entropy (+ weighted aux), or the masked
  sequence cross-entropy of the encoder-decoder (zoo.train._loss, zoo.encdec.sequence_loss)."""
  logits, aux = twin(batch)
  if name == "encdec":
    target = batch["target"]
    ce = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none")
    mask = (target != PAD).flatten().to(ce.dtype)
    return (ce * mask).sum() / mask.sum().clamp(min=1)
  out = F.cross_entropy(logits.float(), batch["label"])
  return out + contrastive_weight * aux if aux is not None else out

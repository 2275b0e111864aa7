"""A seeded synthetic text–image–audio task whose label needs all three modalities, aligned in time.

The generator, in two levels:

1. Symbols. Three independent fair bits, the latent attributes:
     t (text):  every syllable starts with the letter `Y` (t=1) or `N` (t=0);
     i (image): the square in the picture is blue (i=1) or red (i=0);
     a (audio): the speaker says every tone as written (a=0) or every tone inverted (a=1).
   label = 2·(t XOR i) + a, four balanced classes.
   The sentence: n syllables (n even, uniform over [min_syllables, max_syllables]), each the
   letter Y or N, a vowel (uniform over the first `vowels` of "aeiou") and a tone mark, `+` (high)
   or `-` (low), half of each mark in a uniformly random order. In text: "Na+Ne-No-Ni+" (3n tokens).
   The audio's symbols: one sound per token, in order: Y and N both sound as the same noise burst
   (an unvoiced consonant), a vowel as a tone at its vowel's pitch, a tone mark as a short whistle,
   high or low as the mark says (inverted when a=1).
2. Rendering, with randomness independent of the label: text = the sentence's bytes (zoo.tokenizer
   ids), 0-padded; image = a red or blue square of random size, place and brightness on grey noise,
   in [0, 1]; audio = 16 kHz, one windowed burst per token plus Gaussian noise, in [-1, 1]. On the
   text's clock (`misalign=False`) the reading fills the clip at a constant rate: token w of n sounds
   in [w, w+1)·S/n, which is where `zoo.architectures.uniform_clock` puts text token w. Misaligned
   (the default), each example's reading is squeezed into a random fraction `stretch` of the clip
   and starts at a random `shift`: token w sounds in shift + [w, w+1)·stretch·S/n. The stretch
   changes the timing, not the pitch (a faster speaker, not a faster tape).

Why each modality alone is at chance (exactly: every modality's class-conditional distribution is
the same for all four classes; `bayes_accuracy` computes it by enumerating the symbols):
  - text shows t only (and syllables that say nothing of the label); the label also needs i
    (through the XOR) and a, each a fair coin;
  - the image shows i only, likewise;
  - the audio shows vowels and whistles; the whistles are half high, half low in a uniformly random
    order whatever a is (inverting a balanced order gives another, equally likely one), so the audio
    says nothing of a, and nothing of t or i.
The text attribute is one two-valued letter repeated in every syllable, not a single keyword nor
a property spread over many letters (capitals): the alignment model fuses per position, and only a
two-valued token at many positions let it learn t XOR i in a few hundred steps (a single keyword,
or capitalised vowels, stayed at chance in our trials).
Text and image together give t XOR i (50%). a needs each tone mark compared with the whistle the
speaker said for it; which stretch of audio is which token moves with each example's shift and
stretch: that pairing is time alignment. Pooled (time-averaged) summaries cannot tell a: text and
audio hold the same bag of marks, half high, either way. The vowels sound the same whatever a is, so
a content-based aligner (DTW on learned features) can find the pairing where a fixed clock cannot.
With everything aligned the Bayes accuracy is 100%.

Batches are a pure function of (config, seed, split, index), so a resumed run sees the same data.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from zoo import tokenizer

# The task's configuration lives with every other configuration, at the bottom of the stack.
from zoo.config import NUM_CLASSES, VOWELS, DataConfig

# Token codes: a vowel is its index in VOWELS; the consonant (Y/N), tone marks and padding are fixed codes.
LOW, HIGH, CONSONANT, PAD = 10, 11, -2, -1
MARKS = {LOW: "-", HIGH: "+"}
CONSONANTS = "NY"  # the syllables' first letter, by t
CONSONANT_GAIN = 0.7  # its noise burst, relative to a tone's peak
SPLITS = {"train": 0, "eval": 1}


def label_of(t, i, a):
  """label = 2·(t XOR i) + a."""
  return 2 * (np.asarray(t) ^ np.asarray(i)) + np.asarray(a)


def tokens_of(vowels_N, marks_N):
  """Syllables from vowels and marks ([B, N] each, PAD-padded): consonant, vowel, mark, ..., [B, 3N]."""
  vowels_N, marks_N = np.atleast_2d(vowels_N), np.atleast_2d(marks_N)
  consonants = np.where(vowels_N == PAD, PAD, CONSONANT)
  return np.stack([consonants, vowels_N, marks_N], axis=2).reshape(vowels_N.shape[0], -1)


def symbols(vowels_N, marks_N, t, i, a) -> dict[str, np.ndarray]:
  """All symbols of a batch from its syllables and latent bits."""
  t, i, a = (np.asarray(x) for x in (t, i, a))
  marks_N = np.atleast_2d(marks_N)
  said = np.where(marks_N == PAD, PAD, marks_N ^ a.reshape(-1, 1))  # LOW ^ 1 == HIGH
  return dict(
    t=t, i=i, a=a, label=label_of(t, i, a), tokens=tokens_of(vowels_N, marks_N), sounds=tokens_of(vowels_N, said)
  )


def sample_symbols(cfg: DataConfig, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
  """Latent bits, label, text tokens and the audio's sounds for `n` examples."""
  t, i, a = rng.integers(0, 2, size=(3, n))
  half = rng.integers(cfg.min_syllables // 2, cfg.max_syllables // 2 + 1, size=(n, 1))
  col = np.arange(cfg.max_syllables)[None, :]
  vowels = np.where(col < 2 * half, rng.integers(0, cfg.vowels, size=(n, cfg.max_syllables)), PAD)
  base = np.where(col < half, LOW, np.where(col < 2 * half, HIGH, PAD))
  # A uniformly random order of each row's marks: sort random keys, padding keys last.
  keys = np.where(base == PAD, 2.0, rng.random((n, cfg.max_syllables)))
  marks = np.take_along_axis(base, np.argsort(keys, axis=1), axis=1)
  return symbols(vowels, marks, t, i, a)


def render_text(cfg: DataConfig, tokens_W, t) -> np.ndarray:
  """The sentence's byte ids (zoo.tokenizer), consonant Y where t=1 and N where t=0, [B, text_len] int32, 0 = padding."""
  tokens_W = np.atleast_2d(tokens_W)
  byte = lambda c: tokenizer.OFFSET + ord(c)
  consonant = np.array([byte(c) for c in CONSONANTS])[np.asarray(t)].reshape(-1, 1)
  vowel_ids = np.array([byte(c) for c in VOWELS])
  ids = np.select(
    [(tokens_W >= 0) & (tokens_W < len(VOWELS)), tokens_W == LOW, tokens_W == HIGH, tokens_W == CONSONANT],
    [vowel_ids[np.clip(tokens_W, 0, len(VOWELS) - 1)], byte(MARKS[LOW]), byte(MARKS[HIGH]), consonant],
    tokenizer.PAD,
  )
  out = np.zeros((tokens_W.shape[0], cfg.text_len), np.int32)
  out[:, : ids.shape[1]] = ids
  return out


def render_image(cfg: DataConfig, i, rng: np.random.Generator) -> np.ndarray:
  """A red (i=0) or blue (i=1) square of random size, place and brightness on grey noise, [B, H, W, 3] in [0, 1]."""
  i = np.asarray(i)
  b, hw = i.shape[0], cfg.image_size
  # Large (half to three quarters of the side): a small square barely moves a ViT's pooled vector.
  size = rng.integers(hw // 2, 3 * hw // 4 + 1, size=b)
  y0 = rng.integers(0, hw - size + 1)
  x0 = rng.integers(0, hw - size + 1)
  brightness = rng.uniform(0.6, 1.0, size=b)
  r = np.arange(hw)
  inside_BxHxW = ((r[None, :] >= y0[:, None]) & (r[None, :] < (y0 + size)[:, None]))[:, :, None] & (
    (r[None, :] >= x0[:, None]) & (r[None, :] < (x0 + size)[:, None])
  )[:, None, :]
  colour_Bx3 = np.where(i[:, None] == 1, [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]) * brightness[:, None]
  img = np.where(inside_BxHxW[..., None], colour_Bx3[:, None, None, :], 0.4)
  img = img + rng.normal(0.0, cfg.image_noise, size=(b, hw, hw, 3))
  return np.clip(img, 0.0, 1.0).astype(np.float32)


def sample_timing(cfg: DataConfig, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
  """Each example's (shift in samples, stretch fraction): the misalignment of its audio, [B] each."""
  if not cfg.misalign:
    return np.zeros(n), np.ones(n)
  stretch = rng.uniform(*cfg.stretch, size=n)
  return rng.uniform(0.0, 1.0, size=n) * (1.0 - stretch) * cfg.audio_len, stretch


def render_audio(cfg: DataConfig, sounds_W, shift, stretch, rng: np.random.Generator) -> np.ndarray:
  """One burst per token (a tone, noise for a consonant), token w of n from sample shift + w·stretch·S/n, sounding for a `voiced` part, [B, S]."""
  sounds_W = np.atleast_2d(sounds_W)
  b, n_slots = sounds_W.shape
  f32 = np.float32
  n_tok = (sounds_W != PAD).sum(1, keepdims=True)
  slot_len = (np.asarray(stretch) * cfg.audio_len).reshape(b, 1).astype(f32) / n_tok.astype(f32)
  pos = (np.arange(cfg.audio_len, dtype=f32)[None, :] - np.asarray(shift, f32).reshape(b, 1)) / slot_len
  u = pos - np.floor(pos)  # phase within its slot, [0, 1)
  w = np.floor(pos).astype(np.int32)  # the token sounding at each sample
  code = np.take_along_axis(sounds_W, np.clip(w, 0, n_slots - 1), axis=1)
  sounding = (w >= 0) & (w < n_tok) & (u < cfg.voiced)
  env = np.where(sounding, np.sin(f32(np.pi / cfg.voiced) * u) ** 2, f32(0))  # Hann over the voiced part
  # Indexed by sound code: vowels 0..vowels-1, unused codes, then the LOW and HIGH whistles.
  hz_table = np.concatenate([cfg.pitches, np.zeros(LOW - cfg.vowels), cfg.whistles]).astype(f32)
  hz = hz_table[np.clip(code, 0, HIGH)]
  secs = u * slot_len / f32(cfg.sample_rate)  # time since the token's onset
  tone = np.sin(f32(2 * np.pi) * hz * secs + rng.uniform(0, 2 * np.pi, (b, 1)).astype(f32))
  # One Gaussian draw serves as the background noise and, louder, as the consonants' unvoiced bursts.
  noise = rng.standard_normal((b, cfg.audio_len), dtype=f32)
  voice = np.where(code == CONSONANT, f32(CONSONANT_GAIN) * noise, f32(0.8) * tone)
  return np.clip(env * voice + f32(cfg.audio_noise) * noise, -1.0, 1.0)


def render(cfg: DataConfig, sym: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
  """Turn symbols into a model batch: text [B, Lt] int32, image [B, H, W, 3], audio [B, S], label [B]."""
  shift, stretch = sample_timing(cfg, rng, sym["sounds"].shape[0])
  return {
    "text": render_text(cfg, sym["tokens"], sym["t"]),
    "image": render_image(cfg, sym["i"], rng),
    "audio": render_audio(cfg, sym["sounds"], shift, stretch, rng),
    "label": sym["label"].astype(np.int32),
  }


def batch(cfg: DataConfig, seed: int, index: int, batch_size: int, split: str = "train") -> dict[str, np.ndarray]:
  """Batch number `index` of the stream (seed, split): a pure function of its arguments."""
  rng = np.random.default_rng([seed, SPLITS[split], index])
  return render(cfg, sample_symbols(cfg, rng, batch_size), rng)


# --- exact enumeration of the symbols ------------------------------------------------------------


def enumerate_symbols(cfg: DataConfig) -> tuple[np.ndarray, dict[str, np.ndarray]]:
  """Every symbol combination the sampler can draw and its probability: (prob [K], symbols with K rows)."""
  vowels, marks, probs = [], [], []
  lengths = range(cfg.min_syllables, cfg.max_syllables + 1, 2)
  width = cfg.max_syllables
  for n in lengths:
    mark_rows = sorted(set(itertools.permutations([LOW] * (n // 2) + [HIGH] * (n // 2))))
    vowel_rows = list(itertools.product(range(cfg.vowels), repeat=n))
    p = 1 / (len(lengths) * len(mark_rows) * len(vowel_rows))
    for v, m in itertools.product(vowel_rows, mark_rows):
      vowels.append(v + (PAD,) * (width - n))
      marks.append(m + (PAD,) * (width - n))
      probs.append(p)
  rep = lambda x: np.repeat(np.asarray(x), 8, axis=0)
  t, i, a = np.tile(np.array(list(itertools.product((0, 1), repeat=3))), (len(probs), 1)).T
  return rep(probs) / 8, symbols(rep(vowels), rep(marks), t, i, a)


def observations(sym: dict[str, np.ndarray], cfg: DataConfig, modality: str) -> list[tuple]:
  """Per example, what a modality's rendering is a (noisy) function of: text its tokens, image i, audio its sounds."""
  if modality == "text":
    obs = render_text(cfg, sym["tokens"], sym["t"])
  elif modality == "image":
    obs = np.asarray(sym["i"]).reshape(-1, 1)
  elif modality == "audio":
    obs = sym["sounds"]
  else:
    raise ValueError(f"unknown modality {modality!r}")
  return [tuple(r) for r in obs.tolist()]


def class_conditionals(cfg: DataConfig, modalities: tuple[str, ...]) -> dict[int, dict[tuple, float]]:
  """P(observation of `modalities` | label) for every label, by exact enumeration."""
  prob, sym = enumerate_symbols(cfg)
  cond: dict[int, dict[tuple, float]] = {y: defaultdict(float) for y in range(NUM_CLASSES)}
  for p, y, *obs in zip(prob, sym["label"], *(observations(sym, cfg, m) for m in modalities)):
    cond[int(y)][tuple(obs)] += p * NUM_CLASSES  # the prior of each label is 1/4
  return cond


def bayes_accuracy(cfg: DataConfig, modalities: tuple[str, ...]) -> float:
  """The best accuracy any classifier of these modalities' symbols can reach: Σ_obs max_y P(obs, y)."""
  cond = class_conditionals(cfg, modalities)
  obs_all = set().union(*cond.values())
  return sum(max(cond[y].get(o, 0.0) for y in cond) for o in obs_all) / NUM_CLASSES

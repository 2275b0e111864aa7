"""The synthetic task (zoo.data): determinism, balance, unimodal chance by enumeration, shift and stretch."""

import dataclasses
import math

import numpy as np
import pytest

from zoo import data, tokenizer

CFG = data.DataConfig()
MODALITIES = ("text", "image", "audio")


def test_batches_are_a_pure_function_of_seed_split_and_index():
  a = data.batch(CFG, 3, 7, 16)
  b = data.batch(CFG, 3, 7, 16)
  for k in a:
    np.testing.assert_array_equal(a[k], b[k])
  for other in (data.batch(CFG, 4, 7, 16), data.batch(CFG, 3, 8, 16), data.batch(CFG, 3, 7, 16, "eval")):
    assert not np.array_equal(a["audio"], other["audio"])
    assert not np.array_equal(a["image"], other["image"])


def test_shapes_dtypes_and_ranges_follow_the_model_interface():
  b = data.batch(CFG, 0, 0, 64)
  assert b["text"].shape == (64, CFG.text_len) and b["text"].dtype == np.int32
  assert b["image"].shape == (64, CFG.image_size, CFG.image_size, 3) and b["image"].dtype == np.float32
  assert b["audio"].shape == (64, CFG.audio_len) and b["audio"].dtype == np.float32
  assert b["label"].shape == (64,) and b["label"].dtype == np.int32
  assert b["image"].min() >= 0 and b["image"].max() <= 1
  assert b["audio"].min() >= -1 and b["audio"].max() <= 1
  # Text: n syllables of 3 tokens, then 0-padding.
  lengths = (b["text"] != 0).sum(1)
  assert set(lengths.tolist()) == {3 * n for n in range(CFG.min_syllables, CFG.max_syllables + 1, 2)}
  np.testing.assert_array_equal(b["text"] != 0, np.arange(CFG.text_len) < lengths[:, None])


def test_labels_are_balanced_and_follow_the_rule():
  n = 8000
  sym = data.sample_symbols(CFG, np.random.default_rng(0), n)
  np.testing.assert_array_equal(sym["label"], 2 * (sym["t"] ^ sym["i"]) + sym["a"])
  counts = np.bincount(sym["label"], minlength=4)
  sigma = np.sqrt(n * 0.25 * 0.75)
  assert np.all(np.abs(counts - n / 4) < 4 * sigma), counts
  # Half the marks are high, in the text and in the audio alike.
  for codes in (sym["tokens"], sym["sounds"]):
    np.testing.assert_array_equal((codes == data.LOW).sum(1), (codes == data.HIGH).sum(1))


def test_text_spells_syllables_starting_with_y_exactly_when_t_is_1():
  sym = data.sample_symbols(CFG, np.random.default_rng(5), 300)
  text = data.render_text(CFG, sym["tokens"], sym["t"])
  for row, t in zip(text, sym["t"]):
    s = "".join(chr(c - tokenizer.OFFSET) for c in row if c)
    assert set(s[0::3]) == {"NY"[t]}
    assert set(s[1::3]) <= set(data.VOWELS[: CFG.vowels]) and set(s[2::3]) <= {"+", "-"}


@pytest.mark.parametrize("modality", MODALITIES)
def test_each_modality_alone_is_at_chance_on_every_class(modality):
  # Exact enumeration of the symbols: the modality's class-conditional distributions are identical
  # for all four labels, so no classifier of it alone can beat 1/4 on any class.
  cond = data.class_conditionals(CFG, (modality,))
  for y in range(1, 4):
    assert cond[y].keys() == cond[0].keys()
    for obs, p in cond[0].items():
      assert cond[y][obs] == pytest.approx(p, abs=1e-12)
  assert data.bayes_accuracy(CFG, (modality,)) == pytest.approx(0.25)


def test_bayes_accuracy_needs_all_three_modalities():
  assert data.bayes_accuracy(CFG, ("text", "image")) == pytest.approx(0.5)
  assert data.bayes_accuracy(CFG, ("text", "audio")) == pytest.approx(0.5)
  assert data.bayes_accuracy(CFG, ("image", "audio")) == pytest.approx(0.25)
  assert data.bayes_accuracy(CFG, MODALITIES) == pytest.approx(1.0)


def test_enumeration_covers_every_combination_once_with_total_probability_one():
  prob, sym = data.enumerate_symbols(CFG)
  seen = {(tuple(w), t, i, a) for w, t, i, a in zip(sym["tokens"].tolist(), sym["t"], sym["i"], sym["a"])}
  assert len(seen) == len(prob)
  assert prob.sum() == pytest.approx(1.0)
  # n syllables: vowels^n vowel rows × C(n, n/2) mark orders × 8 latent triples.
  v = CFG.vowels
  want = sum(v**n * math.comb(n, n // 2) for n in range(CFG.min_syllables, CFG.max_syllables + 1, 2))
  assert len(seen) == want * 8
  # The sampler draws only enumerated sentences.
  drawn = data.sample_symbols(CFG, np.random.default_rng(4), 3000)["tokens"]
  assert {tuple(w) for w in drawn.tolist()} <= {k[0] for k in seen}


def _render_with(sym, seed):
  return data.render(CFG, sym, np.random.default_rng(seed))


OTHER_BITS = {"text": ("i", "a"), "image": ("t", "a"), "audio": ("t", "i")}


@pytest.mark.parametrize("modality", MODALITIES)
def test_a_rendering_reads_only_its_modalitys_symbols(modality):
  # Flipping another modality's bit changes every label but not what `observations` says this
  # modality shows, and the rendered array stays the same under the same noise: so the enumeration
  # above covers everything the rendered modality can reveal.
  base = data.sample_symbols(CFG, np.random.default_rng(1), 64)
  vowels, marks = base["tokens"][:, 1::3], base["tokens"][:, 2::3]
  rebuilt = data.symbols(vowels, marks, base["t"], base["i"], base["a"])
  for k in base:
    np.testing.assert_array_equal(rebuilt[k], base[k])
  for bit in OTHER_BITS[modality]:
    flipped = {k: base[k] for k in "tia"} | {bit: 1 - base[bit]}
    changed = data.symbols(vowels, marks, **flipped)
    assert np.all(base["label"] != changed["label"])
    assert data.observations(base, CFG, modality) == data.observations(changed, CFG, modality)
    np.testing.assert_array_equal(_render_with(base, 5)[modality], _render_with(changed, 5)[modality])


def test_the_audio_says_each_mark_as_written_or_inverted_by_a():
  sym = data.sample_symbols(CFG, np.random.default_rng(3), 200)
  tok, snd, a = sym["tokens"], sym["sounds"], sym["a"][:, None]
  marks = (tok == data.LOW) | (tok == data.HIGH)
  np.testing.assert_array_equal(np.where(marks, 0, snd), np.where(marks, 0, tok))  # consonants, vowels, PAD
  np.testing.assert_array_equal(marks & (snd != tok), marks & (a == 1))  # every mark, by a


@pytest.mark.parametrize("misalign", [True, False])
def test_audio_tokens_sit_where_shift_and_stretch_put_them(misalign):
  cfg = dataclasses.replace(CFG, audio_noise=0.0, misalign=misalign)
  rng = np.random.default_rng(2)
  n = 32
  sounds = data.sample_symbols(cfg, rng, n)["sounds"]
  shift, stretch = data.sample_timing(cfg, rng, n)
  wave = data.render_audio(cfg, sounds, shift, stretch, rng)
  if misalign:  # random per example, inside the configured range, and the reading stays in the clip
    assert np.std(shift) > 0 and np.std(stretch) > 0
    assert np.all((stretch >= cfg.stretch[0]) & (stretch <= cfg.stretch[1]))
    assert np.all(shift + stretch * cfg.audio_len <= cfg.audio_len)
  else:  # on the text's clock: the reading fills the clip
    np.testing.assert_array_equal(shift, 0)
    np.testing.assert_array_equal(stretch, 1)
  spec_hz = np.fft.rfftfreq(4096, 1 / cfg.sample_rate)
  want_hz = {**{v: cfg.pitches[v] for v in range(cfg.vowels)}, data.LOW: cfg.whistles[0], data.HIGH: cfg.whistles[1]}
  for b in range(n):
    n_tok = int((sounds[b] != data.PAD).sum())
    slot = stretch[b] * cfg.audio_len / n_tok
    start, end = int(np.ceil(shift[b])), int(shift[b] + stretch[b] * cfg.audio_len)
    assert np.all(wave[b, : max(start - 1, 0)] == 0) and np.all(wave[b, end + 2 :] == 0)
    for w in range(n_tok):
      burst = wave[b, int(np.ceil(shift[b] + w * slot)) + 1 : int(shift[b] + (w + cfg.voiced) * slot) - 1]
      assert np.abs(burst).max() > 0.1  # the token sounds
      gap = wave[b, int(shift[b] + (w + cfg.voiced) * slot) + 2 : int(shift[b] + (w + 1) * slot) - 1]
      assert np.all(gap == 0)  # then silence
      if sounds[b, w] != data.CONSONANT:  # a tone at its pitch
        spec = np.abs(np.fft.rfft(burst * np.hanning(len(burst)), n=4096))
        f0 = want_hz[sounds[b, w]]
        assert abs(spec_hz[np.argmax(spec)] - f0) < 0.05 * f0

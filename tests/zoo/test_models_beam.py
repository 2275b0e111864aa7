"""Beam search's GNMT length penalty (alpha != 0), checked against teacher-forced log-probabilities, and the
CLI's beams checked value by value against the library (an inverted penalty must fail here)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import encdec, models, tokenizer
from zoo.__main__ import main
from zoo.encdec import EncoderDecoder

CFG = models.TINY
T = CFG.target_len


@pytest.fixture(scope="module")
def setup():
  model = models.build("encdec", CFG)
  batch = models.example_batch(CFG, jax.random.key(4), 2)
  params = models.init_params(model, CFG, jax.random.key(5))
  # A random model almost never emits EOS, so every hypothesis would run to max_len and no ranking could
  # tell a length penalty from its inverse. The tied output embedding's EOS row times -3 makes EOS likely:
  # the beams then hold hypotheses of lengths 1 to 6 (asserted below).
  emb = params["decoder"]["embed"]["embedding"]
  params = {**params, "decoder": {**params["decoder"], "embed": {"embedding": emb.at[tokenizer.EOS].multiply(-3.0)}}}
  return model, params, batch


def _logprob_and_length(model, params, batch, row, seq_T):
  """(Σ log p of the sequence's non-PAD tokens by teacher forcing, their number)."""
  memory, memory_mask = model.apply({"params": params}, batch, method=EncoderDecoder.encode)
  tgt = jnp.asarray(seq_T)[None]
  logits = model.apply(
    {"params": params},
    encdec.shift_right(tgt),
    memory[row : row + 1],
    memory_mask[row : row + 1],
    method=EncoderDecoder.decode_logits,
  )
  lp = jnp.take_along_axis(jax.nn.log_softmax(logits, -1), tgt[..., None], -1)[0, :, 0]
  real = np.asarray(tgt[0]) != tokenizer.PAD
  return float(jnp.sum(jnp.where(real, lp, 0.0))), int(real.sum())


@pytest.mark.parametrize("alpha", [0.6, 1.5])
def test_length_penalty_divides_by_the_gnmt_factor(setup, alpha):
  model, params, batch = setup
  seqs, scores = encdec.beam_search(model, params, batch, 4, T, alpha)
  seqs, scores = np.asarray(seqs), np.asarray(scores)
  lengths = set()
  for row in range(2):
    assert np.all(np.diff(scores[row]) <= 1e-6)  # best first, by the penalised score
    for k in range(4):
      logp, n = _logprob_and_length(model, params, batch, row, seqs[row, k])
      lengths.add(n)
      # Wu et al. 2016: lp(Y) = (5 + |Y|)^alpha / 6^alpha; score = log P(Y) / lp(Y).
      np.testing.assert_allclose(scores[row, k], logp / ((5 + n) / 6) ** alpha, rtol=1e-4, atol=1e-5)
  assert len(lengths) > 1, "hypotheses of one length cannot tell a penalty from its inverse"


def test_a_larger_alpha_never_prefers_a_shorter_best_hypothesis_among_the_same_beams(setup):
  # Log-probabilities are negative, so dividing by a factor growing with length favours long hypotheses.
  model, params, batch = setup
  seqs0, scores0 = encdec.beam_search(model, params, batch, 4, T, 0.0)
  seqs2, scores2 = encdec.beam_search(model, params, batch, 4, T, 2.0)
  for row in range(2):
    # The same beam (the penalty is applied at the end), ranked differently.
    assert {tuple(s) for s in np.asarray(seqs0[row]).tolist()} == {tuple(s) for s in np.asarray(seqs2[row]).tolist()}
    n0 = int((np.asarray(seqs0[row, 0]) != tokenizer.PAD).sum())
    n2 = int((np.asarray(seqs2[row, 0]) != tokenizer.PAD).sum())
    assert n2 >= n0
    assert np.all(np.asarray(scores2[row]) >= np.asarray(scores0[row]).min())


def test_cli_beams_are_the_librarys_value_by_value(capsys):
  argv = [
    "infer",
    "encdec",
    "--preset",
    "tiny",
    "--random",
    "--beam",
    "3",
    "--alpha",
    "0.8",
    "--seed",
    "3",
    "--no-compile-cache",
  ]
  assert main(argv) == 0
  out = capsys.readouterr().out
  printed = re.findall(r"beam (\d): score (-?\d+\.\d+)  (.*)", out)
  assert [int(i) for i, _, _ in printed] == [0, 1, 2]
  k_init, k_batch = jax.random.split(jax.random.key(3))
  model = models.build("encdec", CFG)
  params = models.init_params(model, CFG, k_init)
  batch = models.example_batch(CFG, k_batch, 1, with_label=False)
  seqs, scores = encdec.beam_search(model, params, batch, 3, T, 0.8)
  for (_, score, text), seq, want in zip(printed, np.asarray(seqs[0]), np.asarray(scores[0])):
    assert float(score) == pytest.approx(float(want), abs=1.5e-3)
    assert eval(text) == tokenizer.decode(seq)  # noqa: S307 - our own repr() of a string
    logp, n = _logprob_and_length(model, params, batch, 0, seq)
    assert float(score) == pytest.approx(logp / ((5 + n) / 6) ** 0.8, abs=1.5e-3)

"""Encoder-decoder: cached decoding equals recomputation, beam 1 equals greedy, beam scores, causality, loss."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo import encdec, models, tokenizer
from zoo.encdec import EncoderDecoder

CFG = models.TINY
T = CFG.target_len


@pytest.fixture(scope="module")
def setup():
  model = models.build("encdec", CFG)
  batch = models.example_batch(CFG, jax.random.key(4), 2)
  params = models.init_params(model, CFG, jax.random.key(5))
  memory, memory_mask = model.apply({"params": params}, batch, method=EncoderDecoder.encode)
  return model, params, batch, memory, memory_mask


def _full_logits(model, params, tokens_BxT, memory, memory_mask):
  """No cache: the whole decoder over the whole (fixed-length) input."""
  return model.apply({"params": params}, tokens_BxT, memory, memory_mask, method=EncoderDecoder.decode_logits)


def test_cached_steps_equal_full_recomputation(setup):
  model, params, _, memory, memory_mask = setup
  tokens = jax.random.randint(jax.random.key(6), (2, T), tokenizer.OFFSET, CFG.vocab_size)
  tokens = tokens.at[:, 0].set(tokenizer.BOS)
  full = _full_logits(model, params, tokens, memory, memory_mask)
  cache = encdec.init_cache(model, params, memory, memory_mask, T)
  for t in range(T):
    step, cache = encdec._step(model, params, cache, tokens[:, t], memory, memory_mask)
    np.testing.assert_allclose(step, full[:, t], atol=1e-5, rtol=1e-5)


def _greedy_by_recomputation(model, params, memory, memory_mask, max_len):
  """Greedy decoding that reruns the decoder on the whole prefix at every step (no cache)."""
  b = memory.shape[0]
  buf = np.zeros((b, max_len), np.int32)  # decoder inputs: BOS then the tokens so far; PAD beyond
  buf[:, 0] = tokenizer.BOS
  out = np.zeros((b, max_len), np.int32)
  done = np.zeros(b, bool)
  for t in range(max_len):
    logits = _full_logits(model, params, jnp.asarray(buf), memory, memory_mask)[:, t]
    nxt = np.where(done, tokenizer.PAD, np.asarray(jnp.argmax(logits, -1)))
    out[:, t] = nxt
    done |= (nxt == tokenizer.EOS) | (nxt == tokenizer.PAD)
    if t + 1 < max_len:
      buf[:, t + 1] = nxt
  return out


def test_greedy_with_cache_equals_greedy_recomputing_the_prefix(setup):
  model, params, batch, memory, memory_mask = setup
  got = np.asarray(encdec.greedy_decode(model, params, batch, T))
  want = _greedy_by_recomputation(model, params, memory, memory_mask, T)
  np.testing.assert_array_equal(got, want)
  assert got.shape == (2, T) and got.dtype == np.int32


def _sequence_logprob(model, params, memory, memory_mask, seq_T):
  """Σ log p(token) of a decoded sequence up to and including its EOS, by teacher forcing."""
  tgt = jnp.asarray(seq_T)[None]
  logits = _full_logits(model, params, encdec.shift_right(tgt), memory[:1], memory_mask[:1])
  lp = jnp.take_along_axis(jax.nn.log_softmax(logits, -1), tgt[..., None], -1)[0, :, 0]
  return float(jnp.sum(jnp.where(tgt[0] != tokenizer.PAD, lp, 0.0)))


def test_beam_one_is_greedy_and_beam_scores_are_sequence_logprobs(setup):
  model, params, batch, memory, memory_mask = setup
  greedy = np.asarray(encdec.greedy_decode(model, params, batch, T))
  seqs1, _ = encdec.beam_search(model, params, batch, 1, T)
  np.testing.assert_array_equal(np.asarray(seqs1[:, 0]), greedy)
  # K = 3: distinct hypotheses, sorted, each scored by its own log-probability (checks cache reordering).
  seqs, scores = encdec.beam_search(model, params, batch, 3, T)
  chex.assert_shape(seqs, (2, 3, T))
  assert np.all(np.diff(np.asarray(scores), axis=1) <= 1e-6)
  assert len({tuple(s) for s in np.asarray(seqs[0]).tolist()}) == 3
  for k in range(3):
    want = _sequence_logprob(model, params, memory, memory_mask, seqs[0, k])
    np.testing.assert_allclose(float(scores[0, k]), want, atol=1e-4, rtol=1e-4)


def test_decoder_is_causal(setup):
  """∂ logits[t] / ∂ embedding[s] is zero for every later s > t, and not for s ≤ t."""
  model, params, batch, memory, memory_mask = setup
  tokens = encdec.shift_right(batch["target"])
  variables = model.init(
    {"params": jax.random.key(0)}, tokens, memory, memory_mask, method=EncoderDecoder.decode_logits
  )
  perturb = variables["perturbations"]

  def out_at(pert, t):
    logits = model.apply(
      {"params": params, "perturbations": pert}, tokens, memory, memory_mask, method=EncoderDecoder.decode_logits
    )
    return logits[:, t].sum()

  t = 2
  g = jax.grad(out_at)(perturb, t)
  (g_BxTxD,) = jax.tree.leaves(g)
  norms = np.asarray(jnp.abs(g_BxTxD).sum(axis=(0, 2)))
  assert np.all(norms[t + 1 :] == 0.0)
  assert np.all(norms[: t + 1] > 0)


def test_teacher_forcing_and_sequence_loss(setup):
  model, params, batch, _, _ = setup
  logits, aux = model.apply({"params": params}, batch, train=False)
  chex.assert_shape(logits, (2, T, CFG.vocab_size))
  tgt = batch["target"]
  mask = np.asarray(tgt) != tokenizer.PAD
  ce = np.asarray(optax.softmax_cross_entropy_with_integer_labels(logits, tgt))
  np.testing.assert_allclose(float(encdec.sequence_loss(logits, tgt)), ce[mask].mean(), rtol=1e-6)


def test_decode_length_is_checked(setup):
  model, params, batch, _, _ = setup
  with pytest.raises(ValueError, match="max_len"):
    encdec.greedy_decode(model, params, batch, T + 1)

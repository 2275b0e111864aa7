"""Log-mel against a float64 numpy implementation; tokenizer, PNG/PPM/WAV readers against their writers."""
import os
import struct
import zlib

import jax.numpy as jnp
import numpy as np
import pytest

from zoo import audio, imageio, tokenizer


# ------------------------------------------------------------------------------------------------ log-mel

def _log_mel_f64(x, sr, n_fft, hop, n_mels, eps=1e-10):
  """Independent float64 reference: loops for frames and filters, numpy's periodic Hann, numpy's rfft."""
  window = np.hanning(n_fft + 1)[:-1]  # the periodic Hann window
  frames = [x[s: s + n_fft] * window for s in range(0, len(x) - n_fft + 1, hop)]
  power = np.abs(np.fft.rfft(np.array(frames), axis=-1)) ** 2
  mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
  imel = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
  pts = imel(np.linspace(mel(0.0), mel(sr / 2), n_mels + 2))
  freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
  fb = np.zeros((len(freqs), n_mels))
  for k in range(n_mels):
    lo, mid, hi = pts[k], pts[k + 1], pts[k + 2]
    for i, f in enumerate(freqs):
      if lo <= f <= mid:
        fb[i, k] = (f - lo) / (mid - lo)
      elif mid < f <= hi:
        fb[i, k] = (hi - f) / (hi - mid)
  return np.log(np.maximum(power @ fb, eps))


@pytest.mark.parametrize("n_fft,hop,n_mels", [(400, 160, 40), (256, 100, 24)])
def test_log_mel_matches_float64_numpy(n_fft, hop, n_mels):
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, 3000)
  want = _log_mel_f64(x, 16000, n_fft, hop, n_mels)
  got = np.asarray(audio.log_mel_spectrogram(jnp.asarray(x, jnp.float32), sample_rate=16000, n_fft=n_fft,
                                             hop=hop, n_mels=n_mels))
  assert got.shape == want.shape == (audio.num_frames(3000, n_fft, hop), n_mels)
  # float32 FFT of unit-level noise: log-power agrees to ~1e-4 absolute.
  np.testing.assert_allclose(got, want, atol=2e-3, rtol=1e-4)


def test_log_mel_pure_tone_lands_in_its_band():
  sr, f0 = 16000, 1000.0
  x = np.sin(2 * np.pi * f0 * np.arange(4000) / sr)
  lm = np.asarray(audio.log_mel_spectrogram(jnp.asarray(x, jnp.float32), sample_rate=sr, n_mels=40))
  centres = np.asarray(audio.mel_to_hz(jnp.linspace(audio.hz_to_mel(0.0), audio.hz_to_mel(sr / 2), 42)))[1:-1]
  assert np.all(np.abs(centres[lm.argmax(axis=1)] - f0) < 100)  # the band whose centre is nearest 1 kHz


def test_log_mel_batched_equals_per_example():
  x = np.random.default_rng(1).normal(size=(3, 1000)).astype(np.float32)
  both = np.asarray(audio.log_mel_spectrogram(x))
  for i in range(3):
    np.testing.assert_allclose(both[i], np.asarray(audio.log_mel_spectrogram(x[i])), atol=1e-5)


# ------------------------------------------------------------------------------------------------ tokenizer

def test_tokenizer_roundtrip_and_padding():
  s = "héllo, 世界"
  ids = tokenizer.encode(s, 32)
  assert ids.dtype == np.int32 and ids.shape == (32,)
  n = len(s.encode("utf-8"))
  assert np.all(ids[:n] >= tokenizer.OFFSET) and np.all(ids[n:] == tokenizer.PAD)
  assert tokenizer.decode(ids) == s
  t = tokenizer.encode("abcdef", 4, add_eos=True)
  assert t.tolist() == [ord("a") + 3, ord("b") + 3, ord("c") + 3, tokenizer.EOS]
  assert tokenizer.decode(t) == "abc"
  assert tokenizer.encode_batch(["a", "bc"], 3).tolist() == [[100, 0, 0], [101, 102, 0]]


# ------------------------------------------------------------------------------------------------ images

@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_roundtrip_every_filter(tmp_path, channels):
  img = np.random.default_rng(channels).integers(0, 256, (11, 7, channels), dtype=np.uint8)
  path = str(tmp_path / "x.png")
  imageio.write_png(path, img)  # rows cycle through filter types 0..4
  np.testing.assert_array_equal(imageio.read_png(path), img)
  np.testing.assert_allclose(imageio.read_image(path), img / 255.0, atol=1e-7)


def _png(path, w, h, depth, ctype, rows, extra=()):
  """A minimal PNG with filter 0 rows, written by hand."""
  def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
  raw = b"".join(b"\x00" + r for r in rows)
  with open(path, "wb") as f:
    f.write(imageio.PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
            + b"".join(chunk(k, b) for k, b in extra) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_palette_16bit_and_low_depth(tmp_path):
  p = str(tmp_path / "pal.png")
  palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
  # 2-bit indices, 5 pixels per row: 0 1 2 3 0 -> 0b00011011, 0b00000000
  _png(p, 5, 1, 2, 3, [bytes([0b00011011, 0b00000000])], [(b"PLTE", palette)])
  np.testing.assert_array_equal(imageio.read_png(p)[0], np.frombuffer(palette, np.uint8).reshape(4, 3)[[0, 1, 2, 3, 0]])
  q = str(tmp_path / "g16.png")
  _png(q, 2, 1, 16, 0, [struct.pack(">HH", 1000, 65535)])
  np.testing.assert_array_equal(imageio.read_png(q)[0, :, 0], [1000, 65535])
  np.testing.assert_allclose(imageio.read_image(q)[0, :, 0], [1000 / 65535, 1.0])
  r = str(tmp_path / "g1.png")
  _png(r, 3, 1, 1, 0, [bytes([0b10100000])])
  np.testing.assert_array_equal(imageio.read_png(r)[0, :, 0], [255, 0, 255])


def test_png_bad_crc_is_refused(tmp_path):
  p = str(tmp_path / "x.png")
  imageio.write_png(p, np.zeros((2, 2, 3), np.uint8))
  data = bytearray(open(p, "rb").read())
  data[-20] ^= 0xFF  # inside the IDAT chunk
  open(p, "wb").write(bytes(data))
  with pytest.raises(ValueError, match="CRC"):
    imageio.read_png(p)


def test_pnm_binary_and_ascii(tmp_path):
  img = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
  p6 = tmp_path / "x.ppm"
  p6.write_bytes(b"P6\n# a comment\n4 3\n255\n" + img.tobytes())
  np.testing.assert_array_equal(imageio.read_pnm(str(p6)), img)
  p2 = tmp_path / "x.pgm"
  p2.write_text("P2\n2 2 # size\n15\n0 5\n10 15\n")
  np.testing.assert_array_equal(imageio.read_pnm(str(p2))[..., 0], [[0, 85], [170, 255]])
  npy = str(tmp_path / "x.npy")
  np.save(npy, img)
  np.testing.assert_allclose(imageio.read_image(npy), img / 255.0)
  out = imageio.to_model_image(imageio.read_image(str(p2)), 8, 3)
  assert out.shape == (8, 8, 3) and np.all((out >= 0) & (out <= 1))


# ------------------------------------------------------------------------------------------------ audio files

def test_wav_roundtrip_and_resample(tmp_path):
  x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(800) / 8000)
  p = str(tmp_path / "x.wav")
  imageio.write_wav(p, x, 8000)
  y, rate = imageio.read_wav(p)
  assert rate == 8000
  np.testing.assert_allclose(y, x, atol=1 / 32767)
  z = imageio.to_model_audio(y, rate, 16000, 2000)
  assert z.shape == (2000,) and np.all(z[1600:] == 0)
  np.testing.assert_allclose(z[::2][:800], y, atol=1e-6)  # every other new sample is an old one

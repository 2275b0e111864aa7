"""Log-mel against librosa (the mel convention pinned), the tokenizer, and zoo.media's image and WAV readers.

Images are written by Pillow and numpy (PNG, JPEG, palette, LA, 16-bit grey, EXIF-rotated) and read back
through zoo.media; WAV files by the standard library's `wave`.
"""

import io
import wave

import jax.numpy as jnp
import librosa
import numpy as np
import pytest
from PIL import Image

from zoo import audio, media, tokenizer

# ------------------------------------------------------------------------------------------------ log-mel


def _librosa_log_mel(x, sr, n_fft, hop, n_mels, eps=1e-10):
  """librosa with zoo.audio's convention pinned: no centring, periodic Hann, power 2, HTK mel scale,
  unnormalised (peak-1) filters from 0 Hz to Nyquist, natural log floored at eps. Returns [T, n_mels]."""
  s = librosa.feature.melspectrogram(
    y=np.asarray(x, np.float64),
    sr=sr,
    n_fft=n_fft,
    hop_length=hop,
    center=False,
    window="hann",
    power=2.0,
    n_mels=n_mels,
    fmin=0.0,
    fmax=sr / 2,
    htk=True,
    norm=None,
  )
  return np.log(np.maximum(s, eps)).T


@pytest.mark.parametrize("n_fft,hop,n_mels,sr", [(400, 160, 40, 16000), (256, 100, 24, 16000), (200, 80, 16, 8000)])
def test_log_mel_matches_librosa(n_fft, hop, n_mels, sr):
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, 3000)
  want = _librosa_log_mel(x, sr, n_fft, hop, n_mels)
  got = np.asarray(
    audio.log_mel_spectrogram(jnp.asarray(x, jnp.float32), sample_rate=sr, n_fft=n_fft, hop=hop, n_mels=n_mels)
  )
  assert got.shape == want.shape == (audio.num_frames(3000, n_fft, hop), n_mels)
  # float32 FFT of unit-level noise: log-power agrees to ~1e-5 absolute.
  np.testing.assert_allclose(got, want, atol=2e-3, rtol=1e-4)
  # The convention is pinned: Slaney's mel scale and area-normalised filters give something else.
  slaney = librosa.feature.melspectrogram(y=x, sr=sr, n_fft=n_fft, hop_length=hop, center=False, n_mels=n_mels)
  assert np.abs(np.log(np.maximum(slaney, 1e-10)).T - got).max() > 0.5


def test_log_mel_floor_of_silence_is_log_eps():
  got = np.asarray(audio.log_mel_spectrogram(jnp.zeros(800), n_fft=400, hop=160, n_mels=8))
  np.testing.assert_allclose(got, np.log(1e-10), rtol=1e-6)
  np.testing.assert_allclose(got, _librosa_log_mel(np.zeros(800), 16000, 400, 160, 8), rtol=1e-6)


def test_log_mel_pure_tone_lands_in_its_band():
  sr, f0 = 16000, 1000.0
  x = np.sin(2 * np.pi * f0 * np.arange(4000) / sr)
  lm = np.asarray(audio.log_mel_spectrogram(jnp.asarray(x, jnp.float32), sample_rate=sr, n_mels=40))
  centres = librosa.mel_frequencies(42, fmin=0.0, fmax=sr / 2, htk=True)[1:-1]
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


@pytest.mark.parametrize("mode,channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_png_every_8bit_mode(tmp_path, mode, channels):
  img = np.random.default_rng(channels).integers(0, 256, (11, 7, channels), dtype=np.uint8)
  path = str(tmp_path / "x.png")
  Image.fromarray(img[..., 0] if channels == 1 else img, mode).save(path)
  np.testing.assert_allclose(media.read_image(path), img / 255.0, atol=1e-7)


def test_png_palette_with_and_without_transparency_and_16bit_grey(tmp_path):
  idx = np.array([[0, 1, 2, 3, 0]], np.uint8)
  palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]
  p = Image.fromarray(idx, "P")
  p.putpalette(palette)
  p.save(tmp_path / "pal.png")
  want = np.array(palette, np.uint8).reshape(4, 3)[idx[0]] / 255.0
  np.testing.assert_allclose(media.read_image(str(tmp_path / "pal.png"))[0], want, atol=1e-7)
  p.save(tmp_path / "palt.png", transparency=1)  # entry 1 transparent: RGBA comes back
  got = media.read_image(str(tmp_path / "palt.png"))
  assert got.shape == (1, 5, 4)
  np.testing.assert_allclose(got[0, :, 3], [1, 0, 1, 1, 1])
  g16 = np.array([[1000, 65535, 0]], np.uint16)
  Image.fromarray(g16).save(tmp_path / "g16.png")
  np.testing.assert_allclose(media.read_image(str(tmp_path / "g16.png"))[0, :, 0], g16[0] / 65535, rtol=1e-6)
  Image.fromarray(np.array([[True, False, True]])).save(tmp_path / "bw.png")  # mode "1"
  np.testing.assert_allclose(media.read_image(str(tmp_path / "bw.png"))[0, :, 0], [1, 0, 1])


def test_jpeg_and_exif_orientation(tmp_path):
  # A 16x32 (H x W) image whose left half is white, saved as a JPEG with EXIF orientation 6 (rotate 90
  # clockwise to display): the reader returns it upright, 32x16, with the white half on top.
  img = np.zeros((16, 32, 3), np.uint8)
  img[:, :16] = 255
  exif = Image.Exif()
  exif[0x0112] = 6
  Image.fromarray(img).save(tmp_path / "r.jpg", quality=95, exif=exif)
  got = media.read_image(str(tmp_path / "r.jpg"))
  assert got.shape == (32, 16, 3)
  assert got[:12].mean() > 0.95 and got[20:].mean() < 0.05
  Image.fromarray(img).save(tmp_path / "plain.jpg", quality=95)
  plain = media.read_image(str(tmp_path / "plain.jpg"))
  assert plain.shape == (16, 32, 3) and plain[:, :12].mean() > 0.95


def test_npy_ppm_and_model_image(tmp_path):
  img = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
  (tmp_path / "x.ppm").write_bytes(b"P6\n# a comment\n4 3\n255\n" + img.tobytes())
  np.testing.assert_allclose(media.read_image(str(tmp_path / "x.ppm")), img / 255.0, atol=1e-7)
  np.save(tmp_path / "x.npy", img)
  np.testing.assert_allclose(media.read_image(str(tmp_path / "x.npy")), img / 255.0)
  grey = np.full((6, 6, 1), 0.25, np.float32)
  out = media.to_model_image(grey, 8, 3)
  assert out.shape == (8, 8, 3)
  np.testing.assert_allclose(out, 0.25, atol=1e-6)  # bilinear resize of a constant is the constant
  rgba = np.concatenate([np.full((4, 4, 3), 0.5, np.float32), np.zeros((4, 4, 1), np.float32)], -1)
  np.testing.assert_allclose(media.to_model_image(rgba, 2, 1), 0.5, atol=1e-6)  # alpha dropped, mean


@pytest.mark.parametrize(
  "content,match",
  [
    (None, "does not exist"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "corrupt or truncated|not an image"),
    (b"hello, not an image", "not an image file"),
  ],
)
def test_bad_image_files_raise_one_line_media_errors(tmp_path, content, match):
  path = tmp_path / "bad.png"
  if content is not None:
    path.write_bytes(content)
  with pytest.raises(media.MediaError, match=match) as e:
    media.read_image(str(path))
  assert "\n" not in str(e.value) and "PNG, JPEG" in str(e.value)


def test_truncated_png_is_an_error(tmp_path):
  buf = io.BytesIO()
  Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
  (tmp_path / "t.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
  with pytest.raises(media.MediaError, match="corrupt or truncated"):
    media.read_image(str(tmp_path / "t.png"))


def test_zoo_media_does_not_import_jax_and_no_module_shadows_imageio():
  import pathlib
  import subprocess
  import sys

  code = "import sys, zoo.media; print('jax' in sys.modules)"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
  assert out.strip() == "False"
  assert not (pathlib.Path(media.__file__).parent / "imageio.py").exists()


# ------------------------------------------------------------------------------------------------ audio files


def test_wav_roundtrip_and_resample(tmp_path):
  x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(800) / 8000)
  p = str(tmp_path / "x.wav")
  media.write_wav(p, x, 8000)
  y, rate = media.read_wav(p)
  assert rate == 8000
  np.testing.assert_allclose(y, x, atol=1 / 32767)
  z = media.to_model_audio(y, rate, 16000, 2000)
  assert z.shape == (2000,) and np.all(z[1600:] == 0)
  np.testing.assert_allclose(z[::2][:800], y, atol=1e-6)  # every other new sample is an old one
  assert "resampled from 8000 Hz to 16000 Hz" in media.describe_audio(p, 8000, 1, 800, 16000, 2000)


def test_wav_widths_and_stereo(tmp_path):
  rng = np.random.default_rng(0)
  left, right = rng.integers(-(2**15), 2**15, 50), rng.integers(-(2**15), 2**15, 50)
  with wave.open(str(tmp_path / "s.wav"), "wb") as f:
    f.setnchannels(2)
    f.setsampwidth(2)
    f.setframerate(44100)
    f.writeframes(np.stack([left, right], 1).astype("<i2").tobytes())
  y, rate, ch = media.read_wav_info(str(tmp_path / "s.wav"))
  assert (rate, ch) == (44100, 2)
  np.testing.assert_allclose(y, (left + right) / 2 / 32768, atol=1e-7)
  line = media.describe_audio("s.wav", 44100, 2, 50, 16000, 16000)
  assert "2 channels averaged to mono" in line and "resampled from 44100 Hz to 16000 Hz" in line
  for width, dtype, scale in ((1, np.uint8, None), (3, None, 2**23), (4, "<i4", 2**31)):
    v = rng.integers(-(2 ** (8 * width - 1)), 2 ** (8 * width - 1), 20)
    if width == 1:
      raw = (v + 128).astype(np.uint8).tobytes()
      want = v / 128
    elif width == 3:
      raw = b"".join(int(a).to_bytes(3, "little", signed=True) for a in v)
      want = v / scale
    else:
      raw = v.astype(dtype).tobytes()
      want = v / scale
    with wave.open(str(tmp_path / f"w{width}.wav"), "wb") as f:
      f.setnchannels(1)
      f.setsampwidth(width)
      f.setframerate(8000)
      f.writeframes(raw)
    np.testing.assert_allclose(media.read_wav(str(tmp_path / f"w{width}.wav"))[0], want, atol=1e-7)


@pytest.mark.parametrize("content", [None, b"this is not a wav file at all", b"RIFF\x04\x00\x00\x00WAVE"])
def test_bad_wav_files_raise_one_line_media_errors(tmp_path, content):
  path = tmp_path / "bad.wav"
  if content is not None:
    path.write_bytes(content)
  with pytest.raises(media.MediaError, match="does not exist|not a readable WAV") as e:
    media.read_wav(str(path))
  assert "\n" not in str(e.value) and "PCM WAV" in str(e.value)

"""Reading the inputs of `python -m zoo infer`: images with Pillow, WAV with the standard library.

No JAX at import time (the CLI checks its input files before loading it). Images: any format Pillow
reads (PNG, JPEG, BMP, PPM/PGM, TIFF, WebP, ...) in any mode, turned upright by their EXIF orientation,
and .npy arrays. Audio: PCM WAV (8/16/24/32-bit integer samples, any channel count). Both readers raise
`MediaError` with one line saying what is wrong and what is accepted.
"""

from __future__ import annotations

import os
import wave

import numpy as np

IMAGE_FORMATS = "an image Pillow reads (PNG, JPEG, BMP, PPM/PGM, TIFF, WebP, ...) or a .npy array [H, W] / [H, W, C]"
AUDIO_FORMATS = "a PCM WAV file (8, 16, 24 or 32-bit integer samples, mono or multi-channel)"


class MediaError(ValueError):
  """An input file that is missing or cannot be read; the message is one line for the user."""


def _check_file(path: str, what: str, accepted: str) -> None:
  if not os.path.exists(path):
    raise MediaError(f"{what} file {path!r} does not exist (expected {accepted})")
  if not os.path.isfile(path):
    raise MediaError(f"{what} {path!r} is not a file (expected {accepted})")


# ------------------------------------------------------------------------------------------------ images


def _pixels(img) -> np.ndarray:
  """A PIL image in any mode -> uint8, uint16 or float32 array [H, W, C] with C in 1..4."""
  mode = img.mode
  if mode == "P" or mode == "PA":  # palette: expand to RGB, or RGBA when it has transparency
    img = img.convert("RGBA" if mode == "PA" or "transparency" in img.info else "RGB")
  elif mode == "1":
    img = img.convert("L")
  elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
    img = img.convert("RGB")
  elif mode == "La":  # premultiplied alpha
    img = img.convert("LA")
  elif mode == "RGBa":
    img = img.convert("RGBA")
  elif mode == "I":
    # 32-bit integers: Pillow's mode for 16-bit PNGs in some versions; values beyond 16 bits are refused.
    a = np.asarray(img)
    if a.min() < 0 or a.max() > 65535:
      raise MediaError(f"32-bit integer pixels outside 0..65535 (range {a.min()}..{a.max()}) are not supported")
    return a.astype(np.uint16)[..., None]
  a = np.asarray(img)
  if a.dtype.byteorder == ">":  # I;16B
    a = a.astype(a.dtype.newbyteorder("="))
  return a[..., None] if a.ndim == 2 else a


def read_image(path: str) -> np.ndarray:
  """An image file -> float32 [H, W, C] in [0, 1] (integer pixels divided by their dtype's maximum), upright.

  EXIF orientation is applied (a phone's portrait JPEG comes back portrait). 16-bit grey PNGs keep
  their 16 bits; Pillow reads 16-bit colour PNGs as 8-bit RGB. Float .npy arrays are taken as they are.
  """
  _check_file(path, "image", IMAGE_FORMATS)
  if path.lower().endswith(".npy"):
    try:
      img = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
      raise MediaError(f"{path}: not a readable .npy array ({e}); expected {IMAGE_FORMATS}") from None
  else:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
      with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        img = _pixels(im)
    except UnidentifiedImageError:
      raise MediaError(f"{path}: not an image file Pillow can identify; expected {IMAGE_FORMATS}") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data (Pillow's own errors)
      if isinstance(e, MediaError):
        raise MediaError(f"{path}: {e}") from None
      raise MediaError(f"{path}: corrupt or truncated image ({e}); expected {IMAGE_FORMATS}") from None
  if img.ndim == 2:
    img = img[..., None]
  if img.ndim != 3 or not 1 <= img.shape[-1] <= 4 or not img.size:
    raise MediaError(f"{path}: expected an image [H, W] or [H, W, C] with C in 1..4, got shape {img.shape}")
  if np.issubdtype(img.dtype, np.integer):
    return img.astype(np.float32) / np.iinfo(img.dtype).max
  if not np.issubdtype(img.dtype, np.floating):
    raise MediaError(f"{path}: pixels of dtype {img.dtype} are neither integers nor floats")
  return img.astype(np.float32)


def to_model_image(img_HxWxC: np.ndarray, size: int, channels: int) -> np.ndarray:
  """Match channels (grey -> repeated, alpha dropped, colour -> mean for 1 channel), resize to [size, size, channels] bilinearly in JAX."""
  import jax

  c = img_HxWxC.shape[-1]
  if c in (2, 4):  # drop alpha
    img_HxWxC, c = img_HxWxC[..., : c - 1], c - 1
  if c != channels:
    if c == 1:
      img_HxWxC = np.repeat(img_HxWxC, channels, axis=-1)
    elif channels == 1:
      img_HxWxC = img_HxWxC.mean(axis=-1, keepdims=True)
    else:
      raise ValueError(f"cannot turn a {c}-channel image into {channels} channels")
  return np.asarray(jax.image.resize(img_HxWxC, (size, size, channels), "bilinear"))


# ------------------------------------------------------------------------------------------------ WAV


def read_wav_info(path: str) -> tuple[np.ndarray, int, int]:
  """PCM WAV -> (float32 mono waveform in [-1, 1], sample rate, channels in the file); channels are averaged."""
  _check_file(path, "audio", AUDIO_FORMATS)
  try:
    with wave.open(path, "rb") as f:
      n_ch, width, rate, n = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
      raw = f.readframes(n)
  except (wave.Error, EOFError) as e:
    raise MediaError(f"{path}: not a readable WAV file ({e or 'truncated header'}); expected {AUDIO_FORMATS}") from None
  if rate <= 0 or n_ch <= 0:
    raise MediaError(f"{path}: WAV header with {n_ch} channels at {rate} Hz; expected {AUDIO_FORMATS}")
  raw = raw[: len(raw) - len(raw) % (width * n_ch)]  # a truncated last frame is dropped
  if width == 1:  # 8-bit WAV is unsigned
    x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
  elif width == 2:
    x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
  elif width == 3:
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
  elif width == 4:
    x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2**31).astype(np.float32)
  else:
    raise MediaError(f"{path}: {8 * width}-bit samples; expected {AUDIO_FORMATS}")
  return x.reshape(-1, n_ch).mean(axis=1), rate, n_ch


def read_wav(path: str) -> tuple[np.ndarray, int]:
  """PCM WAV -> (float32 mono waveform in [-1, 1], sample rate); channels are averaged."""
  x, rate, _ = read_wav_info(path)
  return x, rate


def write_wav(path: str, x: np.ndarray, rate: int, channels: int = 1) -> None:
  """float waveform [S] in [-1, 1] -> 16-bit PCM WAV (the same samples in every channel)."""
  pcm = np.clip(np.round(np.asarray(x, np.float64) * 32767), -32768, 32767).astype("<i2")
  with wave.open(path, "wb") as f:
    f.setnchannels(channels)
    f.setsampwidth(2)
    f.setframerate(rate)
    f.writeframes(np.repeat(pcm, channels).tobytes())


def to_model_audio(x: np.ndarray, rate: int, target_rate: int, length: int) -> np.ndarray:
  """Resample linearly to `target_rate` (np.interp; enough for a demo, no anti-aliasing), then crop or zero-pad."""
  if rate != target_rate and len(x):
    t_new = np.arange(int(round(len(x) * target_rate / rate))) / target_rate
    x = np.interp(t_new, np.arange(len(x)) / rate, x).astype(np.float32)
  out = np.zeros(length, np.float32)
  out[: min(length, len(x))] = x[:length]
  return out


def describe_audio(path: str, rate: int, channels: int, num_samples: int, target_rate: int, length: int) -> str:
  """One line saying what `to_model_audio` does to this file (resampling, downmixing, cropping, padding)."""
  steps = []
  if channels > 1:
    steps.append(f"{channels} channels averaged to mono")
  if rate != target_rate:
    steps.append(f"resampled from {rate} Hz to {target_rate} Hz (linear interpolation)")
  resampled = int(round(num_samples * target_rate / rate)) if rate != target_rate else num_samples
  if resampled > length:
    steps.append(f"cropped to the first {length} samples ({length / target_rate:.2f} s)")
  elif resampled < length:
    steps.append(f"zero-padded from {resampled} to {length} samples")
  return f"audio {path}: " + ("; ".join(steps) if steps else f"used as it is ({target_rate} Hz mono)")

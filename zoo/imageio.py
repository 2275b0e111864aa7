"""Reading inputs for `python -m zoo infer` with the standard library and numpy only.

Images: PNG (a small decoder over `zlib`: 8/16-bit grey, grey+alpha, RGB, RGBA, and 1/2/4/8-bit grey or
palette; every filter type; not interlaced), binary and ASCII PPM/PGM (P2, P3, P5, P6), and .npy.
Audio: PCM WAV through the `wave` module. Writers for PNG and WAV make test inputs.
"""
from __future__ import annotations

import struct
import wave
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


# ------------------------------------------------------------------------------------------------ PNG

def _chunks(data: bytes):
  pos = len(PNG_SIGNATURE)
  while pos + 8 <= len(data):
    length, kind = struct.unpack(">I4s", data[pos: pos + 8])
    body = data[pos + 8: pos + 8 + length]
    crc, = struct.unpack(">I", data[pos + 8 + length: pos + 12 + length])
    if zlib.crc32(kind + body) != crc:
      raise ValueError(f"PNG chunk {kind!r} fails its CRC")
    yield kind, body
    pos += 12 + length


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
  """Undo the per-row filters (PNG spec §9: None, Sub, Up, Average, Paeth) -> [height, stride] uint8."""
  rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
  out = np.zeros((height, stride), np.uint8)
  prev = np.zeros(stride, np.int32)
  for y in range(height):
    ftype, f = rows[y, 0], rows[y, 1:].astype(np.int32)
    if ftype == 0:
      cur = f
    elif ftype == 1:    # Sub: running sum along the row, one lane per byte of a pixel
      pad = (-stride) % bpp
      cur = np.cumsum(np.pad(f, (0, pad)).reshape(-1, bpp), axis=0).reshape(-1)[:stride] % 256
    elif ftype == 2:    # Up
      cur = (f + prev) % 256
    elif ftype in (3, 4):  # Average, Paeth: each pixel needs the one just decoded to its left
      cur = np.zeros(stride, np.int32)
      for x in range(0, stride, bpp):
        s = slice(x, min(x + bpp, stride))
        a = cur[x - bpp: x - bpp + (s.stop - s.start)] if x >= bpp else 0
        b = prev[s]
        if ftype == 3:
          cur[s] = (f[s] + (a + b) // 2) % 256
        else:
          c = prev[x - bpp: x - bpp + (s.stop - s.start)] if x >= bpp else 0
          p = a + b - c
          pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
          pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
          cur[s] = (f[s] + pred) % 256
    else:
      raise ValueError(f"PNG row {y}: unknown filter type {ftype}")
    out[y] = cur
    prev = cur
  return out


def read_png(path: str) -> np.ndarray:
  """A PNG file -> uint8 or uint16 array [H, W, C] (palette images come back RGB or RGBA)."""
  data = open(path, "rb").read()
  if not data.startswith(PNG_SIGNATURE):
    raise ValueError(f"{path}: not a PNG file")
  header, palette, trns, idat = None, None, None, []
  for kind, body in _chunks(data):
    if kind == b"IHDR":
      header = struct.unpack(">IIBBBBB", body)
    elif kind == b"PLTE":
      palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
    elif kind == b"tRNS":
      trns = np.frombuffer(body, np.uint8)
    elif kind == b"IDAT":
      idat.append(body)
    elif kind == b"IEND":
      break
  if header is None:
    raise ValueError(f"{path}: PNG without IHDR")
  w, h, depth, ctype, _, _, interlace = header
  if interlace:
    raise ValueError(f"{path}: interlaced PNGs are not supported; re-save without interlacing")
  if ctype not in _CHANNELS or (depth < 8 and ctype not in (0, 3)) or depth not in (1, 2, 4, 8, 16):
    raise ValueError(f"{path}: unsupported PNG colour type {ctype} at bit depth {depth}")
  ch = _CHANNELS[ctype]
  bits = w * ch * depth
  stride = (bits + 7) // 8
  bpp = max(1, ch * depth // 8)
  px = _unfilter(zlib.decompress(b"".join(idat)), h, stride, bpp)
  if depth == 16:
    img = px.reshape(h, w * ch, 2).astype(np.uint16)
    img = ((img[..., 0] << 8) | img[..., 1]).reshape(h, w, ch)
  elif depth == 8:
    img = px.reshape(h, w, ch)
  else:  # 1, 2 or 4 bits per sample, most significant first
    per = 8 // depth
    shifts = (8 - depth * (np.arange(per) + 1)).astype(np.uint8)
    img = ((px[:, :, None] >> shifts) & ((1 << depth) - 1)).reshape(h, -1)[:, :w][..., None]
    if ctype == 0:  # scale grey levels to 0..255
      img = (img.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
  if ctype == 3:
    if palette is None:
      raise ValueError(f"{path}: palette PNG without PLTE")
    rgb = palette[img[..., 0]]
    if trns is not None:
      alpha = np.full(len(palette), 255, np.uint8)
      alpha[: len(trns)] = trns
      rgb = np.concatenate([rgb, alpha[img[..., 0]][..., None]], axis=-1)
    img = rgb
  return img


def write_png(path: str, img: np.ndarray) -> None:
  """uint8 [H, W] or [H, W, C] (C in 1..4) -> an 8-bit PNG; rows cycle through all five filter types."""
  img = np.asarray(img)
  if img.dtype != np.uint8:
    raise ValueError("write_png takes uint8 pixels")
  if img.ndim == 2:
    img = img[..., None]
  h, w, ch = img.shape
  ctype = {1: 0, 2: 4, 3: 2, 4: 6}[ch]
  rows = img.reshape(h, w * ch).astype(np.int32)
  prev = np.zeros(w * ch, np.int32)
  raw = bytearray()
  for y in range(h):
    ftype, cur = y % 5, rows[y]
    left = np.concatenate([np.zeros(ch, np.int32), cur[:-ch]])
    upleft = np.concatenate([np.zeros(ch, np.int32), prev[:-ch]])
    if ftype == 0:
      pred = 0
    elif ftype == 1:
      pred = left
    elif ftype == 2:
      pred = prev
    elif ftype == 3:
      pred = (left + prev) // 2
    else:
      p = left + prev - upleft
      pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
      pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
    raw.append(ftype)
    raw += ((cur - pred) % 256).astype(np.uint8).tobytes()
    prev = cur

  def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

  with open(path, "wb") as f:
    f.write(PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------------------------ PPM/PGM

def read_pnm(path: str) -> np.ndarray:
  """A PPM/PGM file (P2, P3, P5, P6) -> uint8 or uint16 [H, W, C]."""
  data = open(path, "rb").read()
  magic = data[:2]
  if magic not in (b"P2", b"P3", b"P5", b"P6"):
    raise ValueError(f"{path}: not a PGM/PPM file")
  ch = 3 if magic in (b"P3", b"P6") else 1
  # Header: magic, width, height, maxval, separated by whitespace; '#' starts a comment to the line's end.
  fields, pos = [], 2
  while len(fields) < 3:
    while data[pos: pos + 1].isspace():
      pos += 1
    if data[pos: pos + 1] == b"#":
      pos = data.index(b"\n", pos)
      continue
    start = pos
    while not data[pos: pos + 1].isspace():
      pos += 1
    fields.append(int(data[start:pos]))
  w, h, maxval = fields
  dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
  if magic in (b"P2", b"P3"):
    body = b" ".join(line.split(b"#")[0] for line in data[pos:].splitlines())  # drop comments
    vals = np.array(body.split()[: w * h * ch], np.int64).astype(np.uint16 if maxval > 255 else np.uint8)
  else:
    start = pos + 1  # exactly one whitespace byte ends the header
    vals = np.frombuffer(data, dtype, w * h * ch, start).astype(np.uint16 if maxval > 255 else np.uint8)
  img = vals.reshape(h, w, ch)
  if maxval not in (255, 65535):  # rescale odd ranges to the full range of the dtype
    top = 65535 if maxval > 255 else 255
    img = (img.astype(np.float64) * top / maxval).round().astype(img.dtype)
  return img


def read_image(path: str) -> np.ndarray:
  """PNG, PPM/PGM or .npy -> float32 [H, W, C] in [0, 1] (integer pixels scaled by their dtype's maximum)."""
  low = path.lower()
  if low.endswith(".npy"):
    img = np.load(path, allow_pickle=False)
  else:
    head = open(path, "rb").read(8)
    img = read_png(path) if head.startswith(PNG_SIGNATURE) else read_pnm(path)
  if img.ndim == 2:
    img = img[..., None]
  if img.ndim != 3:
    raise ValueError(f"{path}: expected an image [H, W] or [H, W, C], got shape {img.shape}")
  if np.issubdtype(img.dtype, np.integer):
    return img.astype(np.float32) / np.iinfo(img.dtype).max
  return img.astype(np.float32)


def to_model_image(img_HxWxC: np.ndarray, size: int, channels: int) -> np.ndarray:
  """Match channels (grey -> repeated, alpha dropped) and resize to [size, size, channels] bilinearly."""
  import jax
  c = img_HxWxC.shape[-1]
  if c in (2, 4):       # drop alpha
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

def read_wav(path: str) -> tuple[np.ndarray, int]:
  """PCM WAV -> (float32 mono waveform in [-1, 1], sample rate); channels are averaged."""
  with wave.open(path, "rb") as f:
    n_ch, width, rate, n = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
    raw = f.readframes(n)
  if width == 1:      # 8-bit WAV is unsigned
    x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
  elif width == 2:
    x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
  elif width == 3:
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
  elif width == 4:
    x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2 ** 31).astype(np.float32)
  else:
    raise ValueError(f"{path}: unsupported sample width {width} bytes")
  return x.reshape(-1, n_ch).mean(axis=1), rate


def write_wav(path: str, x: np.ndarray, rate: int) -> None:
  """float waveform in [-1, 1] -> 16-bit mono PCM WAV."""
  pcm = np.clip(np.round(np.asarray(x, np.float64) * 32767), -32768, 32767).astype("<i2")
  with wave.open(path, "wb") as f:
    f.setnchannels(1)
    f.setsampwidth(2)
    f.setframerate(rate)
    f.writeframes(pcm.tobytes())


def to_model_audio(x: np.ndarray, rate: int, target_rate: int, length: int) -> np.ndarray:
  """Resample linearly to `target_rate` (np.interp; enough for a demo, no anti-aliasing), then crop or zero-pad."""
  if rate != target_rate and len(x):
    t_new = np.arange(int(round(len(x) * target_rate / rate))) / target_rate
    x = np.interp(t_new, np.arange(len(x)) / rate, x).astype(np.float32)
  out = np.zeros(length, np.float32)
  out[: min(length, len(x))] = x[:length]
  return out

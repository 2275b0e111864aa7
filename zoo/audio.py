"""Log-mel spectrogram in JAX (Davis & Mermelstein 1980; the Whisper front end, Radford et al. 2022).

Decisions where papers differ:
- framing: no centre padding; frame t covers samples [t·hop, t·hop + n_fft), so a clip of S samples gives
  T = 1 + (S − n_fft) // hop frames, frame t centred at (t·hop + n_fft/2) / sample_rate seconds;
- window: the periodic Hann window (what `scipy.signal.get_window('hann', n)` and torch.stft use);
- power spectrum |rfft|², mel scale of HTK (2595·log10(1 + f/700)), triangular filters evaluated on the
  FFT bin frequencies with peak 1 (no area normalisation), natural log floored at `eps`.
"""

from __future__ import annotations

import jax.numpy as jnp

from zoo.registry import register


def num_frames(num_samples: int, n_fft: int, hop: int) -> int:
  """Frames in a clip of `num_samples` (no centre padding)."""
  if num_samples < n_fft:
    raise ValueError(f"a clip of {num_samples} samples is shorter than one frame ({n_fft})")
  return 1 + (num_samples - n_fft) // hop


def frame_times(num_samples: int, n_fft: int, hop: int, sample_rate: int) -> jnp.ndarray:
  """Centre of every frame in seconds, [T]."""
  t = jnp.arange(num_frames(num_samples, n_fft, hop))
  return (t * hop + n_fft / 2) / sample_rate


def hz_to_mel(f):
  """HTK mel scale."""
  return 2595.0 * jnp.log10(1.0 + f / 700.0)


def mel_to_hz(m):
  """Inverse of the HTK mel scale."""
  return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
  n_mels: int, n_fft: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None
) -> jnp.ndarray:
  """Triangular filters, [n_fft//2 + 1, n_mels]; filter k rises from mel point k to k+1, falls to k+2."""
  f_max = sample_rate / 2 if f_max is None else f_max
  bins_F = jnp.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
  edges_M2 = mel_to_hz(jnp.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
  lo, mid, hi = edges_M2[:-2], edges_M2[1:-1], edges_M2[2:]
  up_FxM = (bins_F[:, None] - lo) / (mid - lo)
  down_FxM = (hi - bins_F[:, None]) / (hi - mid)
  return jnp.maximum(0.0, jnp.minimum(up_FxM, down_FxM))


@register(
  "log_mel_spectrogram",
  family="encoder",
  paper="Davis & Mermelstein 1980, Comparison of parametric representations for monosyllabic word "
  "recognition; front end as in Radford et al. 2022 (Whisper)",
  shapes="wave [..., S] -> [..., T, n_mels], T = 1 + (S − n_fft)//hop",
)
def log_mel_spectrogram(
  wave,
  *,
  sample_rate: int = 16000,
  n_fft: int = 400,
  hop: int = 160,
  n_mels: int = 40,
  f_min: float = 0.0,
  f_max: float | None = None,
  eps: float = 1e-10,
):
  """log(mel filterbank · |rfft(Hann · frame)|²), computed in float32 or wider."""
  wave = jnp.asarray(wave)
  if not jnp.issubdtype(wave.dtype, jnp.floating) or jnp.finfo(wave.dtype).bits < 32:
    wave = wave.astype(jnp.float32)  # bf16 FFTs lose the quiet bands; the front end stays in f32
  t = num_frames(wave.shape[-1], n_fft, hop)
  idx_TxN = jnp.arange(t)[:, None] * hop + jnp.arange(n_fft)[None, :]
  window_N = 0.5 - 0.5 * jnp.cos(2 * jnp.pi * jnp.arange(n_fft) / n_fft)  # periodic Hann
  frames = wave[..., idx_TxN] * window_N.astype(wave.dtype)
  power = jnp.abs(jnp.fft.rfft(frames, axis=-1)) ** 2
  mel = power @ mel_filterbank(n_mels, n_fft, sample_rate, f_min, f_max).astype(power.dtype)
  return jnp.log(jnp.maximum(mel, eps))

"""Audio decoding and PNG encoding through libavpgan (``avpgan_decode_*``, ``avpgan_png_encode``)."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Mapping, Union  # noqa: F401

import numpy as np
import numpy.typing as npt

from . import _lib
from ._params_init import _defaults

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


@dataclass(frozen=True)
class Audio:
    """A decoded recording: mono ``samples`` (float32 in [-1, 1]) at ``sample_rate`` Hz,
    from a file that had ``original_rate`` Hz, ``channels`` channels and ``format``."""

    samples: npt.NDArray[np.float32]
    sample_rate: int
    original_rate: int
    channels: int
    format: str

    @property
    def seconds(self) -> float:
        """The duration in seconds (``len(samples) / sample_rate``)."""
        return len(self.samples) / self.sample_rate


def decode(source: Source, target_rate: int = 16000) -> Audio:
    """Decodes a recording with libsndfile, mixes it to mono and resamples it with libsoxr.

    Args:
        source: a path, or the bytes of an encoded file (WAV, FLAC, Ogg, MP3, ...).
        target_rate: rate of the result in Hz; 0 keeps the file's rate.

    Raises:
        AvpganIOError: the path cannot be opened (missing, a directory).
        AudioFormatError: empty, not audio, damaged, or non-finite samples.
    """
    from . import _check  # the package's error mapping

    lib = _lib.get()
    info = _lib.AudioInfo()
    info.struct_size = ctypes.sizeof(info)
    needed = ctypes.c_size_t(0)

    def call(out: "np.ndarray | None") -> int:
        ptr = out.ctypes.data_as(_lib._c_float_p) if out is not None else None
        cap = out.size if out is not None else 0
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            return int(lib.avpgan_decode_buffer(data, len(data), target_rate, ptr, cap,
                                                ctypes.byref(needed), ctypes.byref(info)))
        return int(lib.avpgan_decode_file(os.fsencode(source), target_rate, ptr, cap,
                                          ctypes.byref(needed), ctypes.byref(info)))

    name = "avpgan_decode_buffer" if isinstance(source, (bytes, bytearray, memoryview)) else "avpgan_decode_file"
    # One decode for recordings up to a minute: a first buffer of 60 s, retried at the size
    # the library reports when the recording is longer.
    guess = np.empty(60 * (target_rate or 48000), dtype=np.float32)
    status = call(guess)
    if status == int(_lib.BUFFER_TOO_SMALL):
        samples = np.empty(needed.value, dtype=np.float32)
        _check(call(samples), name)
    else:
        _check(status, name)
        samples = guess[:needed.value].copy()
    return Audio(samples, int(info.sample_rate), int(info.original_rate), int(info.channels),
                 info.format.decode("utf-8", "replace"))


def encode_png(pixels: npt.ArrayLike, text: "Mapping[str, str] | None" = None) -> bytes:
    """PNG bytes of an 8-bit RGB image ``[H, W, 3]`` (deterministic: same pixels, same bytes).

    ``text``: entries to store in the PNG (iTXt chunks, as the library's own provenance), e.g.
    ``{"Description": "Synthetic image ...", "case": "2026-017"}``; keys are 1-79 printable
    ASCII characters."""
    from . import _check

    img = np.ascontiguousarray(pixels, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"encode_png: pixels must be [H, W, 3] uint8, got shape {img.shape}")
    entries = list((text or {}).items())
    keys = (ctypes.c_char_p * max(len(entries), 1))(*[str(k).encode("utf-8") for k, _ in entries])
    values = (ctypes.c_char_p * max(len(entries), 1))(*[str(v).encode("utf-8") for _, v in entries])
    lib = _lib.get()
    needed = ctypes.c_size_t(0)
    src = img.ctypes.data_as(_lib._c_uint8_p)
    _check(lib.avpgan_png_encode_text(src, img.shape[1], img.shape[0], keys, values, len(entries), None, 0,
                                      ctypes.byref(needed)), "avpgan_png_encode_text")
    out = (ctypes.c_uint8 * needed.value)()
    _check(lib.avpgan_png_encode_text(src, img.shape[1], img.shape[0], keys, values, len(entries), out, needed.value,
                                      ctypes.byref(needed)), "avpgan_png_encode_text")
    return bytes(out)


def save_png(path: Union[str, "os.PathLike[str]"], pixels: npt.ArrayLike,
             text: "Mapping[str, str] | None" = None) -> None:
    """Writes an 8-bit RGB image ``[H, W, 3]`` as a PNG file, with ``text`` entries as
    :func:`encode_png` (via a temporary file, so a failure leaves no partial file)."""
    data = encode_png(pixels, text)
    tmp = os.fspath(path) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def pcm_16k(source: "Source | npt.ArrayLike", sample_rate: "int | None") -> npt.NDArray[np.float32]:
    """Mono float32 samples in [-1, 1] at 16 kHz from a path, encoded bytes, or an array.

    An array needs ``sample_rate``; int16 arrays are scaled by 1/32768, float arrays are taken
    as [-1, 1]; ``[n, channels]`` arrays are mixed to mono by the mean. Arrays at another rate
    are resampled by the library (libsoxr) when the features are computed.
    """
    if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        if sample_rate is not None:
            raise ValueError("sample_rate is only for arrays of samples; files carry their own rate")
        return decode(source, 16000).samples
    if sample_rate is None:
        raise ValueError("an array of samples needs sample_rate")
    a = np.asarray(source)
    if a.dtype == np.int16:
        a = a.astype(np.float32) / 32768.0
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"samples must be [n] or [n, channels], got shape {a.shape}")
    return np.ascontiguousarray(a)


def features(source: "Source | npt.ArrayLike", sample_rate: "int | None" = None, seconds: "float | None" = None,
             vad: bool = True, vad_mode: int = 2) -> npt.NDArray[np.float32]:
    """Log-mel features ``[n_frames, 64]`` float32 of a recording, exactly as the reference
    front end computes them: WebRTC VAD (unless ``vad=False``), the first ``seconds`` of voiced
    audio (all when None), 64-band Sphinx log-mel, per-band normalisation, repeated to at
    least 1000 frames.

    Args:
        source: a path, bytes of an encoded file, or a numpy array of samples.
        sample_rate: required for (and only for) an array.

    Raises:
        NoSpeechError: no samples, or the VAD keeps none.
    """
    from . import _check

    lib = _lib.get()
    rate = 16000 if sample_rate is None else int(sample_rate)
    x = pcm_16k(source, sample_rate)
    p = _defaults(_lib.FrontendParams, "avpgan_frontend_params_init")
    p.seconds = float(seconds or 0.0)
    p.vad = 1 if vad else 0
    p.vad_mode = int(vad_mode)
    info = _lib.FeaturesInfo()
    info.struct_size = ctypes.sizeof(info)
    needed = ctypes.c_size_t(0)
    src = x.ctypes.data_as(_lib._c_float_p)
    # An upper bound on the frames (all samples voiced, at 16 kHz, at least 1000) avoids a
    # size-query pass through the front end.
    n16k = x.size * 16000 // max(rate, 1) + 64
    out = np.empty((max(n16k // 160 + 1, 1000), 64), dtype=np.float32)
    _check(lib.avpgan_features_from_pcm(src, x.size, rate, ctypes.byref(p), out.ctypes.data_as(_lib._c_float_p),
                                        out.size, ctypes.byref(needed), ctypes.byref(info)), "avpgan_features_from_pcm")
    return out[:needed.value // 64].copy()

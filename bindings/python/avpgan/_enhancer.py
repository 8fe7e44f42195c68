"""Face enhancement: :class:`Enhancer` (``avpgan_enhancer``), GFPGAN-style face restoration.

An enhancer file holds upstream gfpgan's GFPGANv1Clean network (the architecture of the
GFPGAN v1.2-v1.4 checkpoints); ``tools/converters/convert_gfpgan.py`` converts a release checkpoint
(docs/enhancer-format.md). Example::

    import avpgan
    with avpgan.Enhancer("gfpgan.safetensors") as enh:
        big = enh.enhance(face)                  # uint8 [H, W, 3] -> uint8 [S, S, 3]
        raw = enh.enhance_raw(x)                 # float32 [N, 3, S, S] in [-1, 1] -> float32
    with avpgan.Model("model.safetensors") as m, avpgan.Enhancer("gfpgan.safetensors") as enh:
        portrait = m.portrait("voice.wav", enhancer=enh)   # [S, S, 3]

Threads: an enhancer is immutable; any number of threads may call it at once (the GIL is
released inside the library). :meth:`Enhancer.close` waits for calls in flight.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from . import PathLike, _check, _decode, _load_into, _model_params, default_enhancer
from ._images import ImageLike, rgb8
from ._params_init import _defaults

__all__ = ["EnhancerInfo", "Enhancer", "EnhancerClosedError"]

#: ``progress(done, total)``; a return value of False stops the call (AbortedError).
Progress = Callable[[int, int], Optional[bool]]


class EnhancerClosedError(ValueError):
    """An :class:`Enhancer` was used after :meth:`Enhancer.close`."""


@dataclass(frozen=True)
class EnhancerInfo:
    """What an enhancer is (``avpgan_enhancer_info``): upstream GFPGANv1Clean's arguments.

    Attributes:
        arch: ``"gfpgan-v1-clean"``.
        size: output side S in pixels (also the network's input side), 32..1024.
        num_style_feat, channel_multiplier, narrow, num_mlp, different_w, sft_half,
            input_is_latent: the constructor arguments (docs/enhancer-format.md).
        n_parameters: scalar weights and noise values in the file.
        file_bytes, sha256: size and SHA-256 (hex) of the file it was loaded from.
    """

    arch: str
    size: int
    num_style_feat: int
    channel_multiplier: float
    narrow: float
    num_mlp: int
    different_w: bool
    sft_half: bool
    input_is_latent: bool
    n_parameters: int
    file_bytes: int
    sha256: str


class Enhancer(_lib.HandleOwner):
    """A loaded face enhancer.

    ``Enhancer(path)`` loads an enhancer file, ``Enhancer()`` the default one
    (:func:`default_enhancer`); :meth:`from_bytes` loads one from memory. A
    context manager; :meth:`close` (also called by ``with`` and on garbage collection) frees
    it once, and any later use raises :class:`EnhancerClosedError`.

    Raises:
        AvpganIOError: the file cannot be read. ModelFormatError: it is malformed (truncated,
        NaN or infinite weights, shapes that disagree with its config) or is another kind of
        model file. LibraryNotFound: no libavpgan.
    """

    _FREE = "avpgan_enhancer_free"
    _CLOSED = EnhancerClosedError
    _NAME = "avpgan.Enhancer"
    _PICKLE_HINT = "load the enhancer file in the other process"

    def __init__(self, path: Optional[PathLike] = None, *, max_header_bytes: int = 0) -> None:
        self._path: Optional[str] = None
        _load_into(self, "enhancer", _lib.EnhancerHandle, _model_params(True, max_header_bytes),
                   path=default_enhancer() if path is None else path)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], *, max_header_bytes: int = 0) -> "Enhancer":
        """Loads an enhancer from the bytes of an enhancer file (copied by the library)."""
        self = cls.__new__(cls)
        _load_into(self, "enhancer", _lib.EnhancerHandle, _model_params(True, max_header_bytes), data=data)
        return self

    def _adopt(self, handle: Any) -> None:
        self._handle = handle
        raw = _lib.EnhancerInfo()
        raw.struct_size = ctypes.sizeof(raw)
        try:
            _check(_lib.get().avpgan_enhancer_get_info(handle, ctypes.byref(raw)), "avpgan_enhancer_get_info")
        except BaseException:
            self.close()
            raise
        self._info = EnhancerInfo(
            arch=_decode(bytes(raw.arch_name)), size=int(raw.size), num_style_feat=int(raw.num_style_feat),
            channel_multiplier=float(raw.channel_multiplier), narrow=float(raw.narrow), num_mlp=int(raw.num_mlp),
            different_w=bool(raw.different_w), sft_half=bool(raw.sft_half), input_is_latent=bool(raw.input_is_latent),
            n_parameters=int(raw.n_parameters), file_bytes=int(raw.file_bytes), sha256=_decode(bytes(raw.sha256)),
        )

    @property
    def info(self) -> EnhancerInfo:
        """What the network is (read at load time; still available after :meth:`close`)."""
        return self._info

    @staticmethod
    def _params(progress: Optional[Progress]) -> tuple:
        """The params struct for a call, and the ctypes callbacks it holds (kept alive by the caller)."""
        p = _defaults(_lib.EnhanceParams, "avpgan_enhance_params_init")
        if progress is None:
            return p, ()
        stop = [False]

        def on_progress(done: int, total: int, _user: Any) -> None:
            if progress(int(done), int(total)) is False:
                stop[0] = True

        def on_abort(_user: Any) -> int:
            return 1 if stop[0] else 0

        callbacks = (_lib.ProgressFn(on_progress), _lib.AbortFn(on_abort))
        p.progress, p.abort_fn = callbacks
        return p, callbacks

    def enhance(self, image: ImageLike, *, progress: Optional[Progress] = None) -> npt.NDArray[np.uint8]:
        """Restores one face picture.

        Args:
            image: ``[H, W, 3]`` uint8 RGB, any size (1..16384 a side; strided views are fine),
                or a ``PIL.Image`` (converted to RGB): an aligned face crop. It is resized to S x S per axis by bilinear interpolation
                that averages when shrinking (torch's ``interpolate(mode="bilinear",
                align_corners=False, antialias=True)``), mapped to [-1, 1] by ``p / 127.5 - 1``.
            progress: None, or called as ``progress(done, total)`` after each stage; returning
                False stops the call with :class:`AbortedError`.

        Returns:
            ``[S, S, 3]`` uint8: the output clamped to [-1, 1], ``floor((x + 1) / 2 * 255 + 0.5)``;
            ``avpgan.to_pil(result)`` makes a ``PIL.Image`` of it.

        Raises:
            TypeError: image is not uint8. ValueError: not ``[H, W, 3]``.
            EnhancerClosedError: the enhancer is closed.
        """
        arr = rgb8(image, "enhance")
        height, width = arr.shape[:2]
        s = self._info.size
        out = np.empty((s, s, 3), dtype=np.uint8)
        needed = ctypes.c_size_t(0)
        params, _keep = self._params(progress)
        with self._use() as handle:
            status = _lib.get().avpgan_enhance(handle, arr.ctypes.data_as(_lib._c_uint8_p), width, height,
                                               arr.strides[0], ctypes.byref(params), out.ctypes.data_as(_lib._c_uint8_p),
                                               out.size, ctypes.byref(needed))
            _check(status, "avpgan_enhance")
        return out

    def enhance_raw(self, x: npt.ArrayLike, *, progress: Optional[Progress] = None) -> npt.NDArray[np.float32]:
        """The network itself: ``[N, 3, S, S]`` (or ``[3, S, S]``) float32 in [-1, 1] to the
        network's output of the same shape, before clamping. Values must be finite."""
        arr = np.ascontiguousarray(x, dtype=np.float32)
        s = self._info.size
        single = arr.ndim == 3
        if single:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[1:] != (3, s, s) or arr.shape[0] < 1:
            raise ValueError(f"enhance_raw: x must be [N, 3, {s}, {s}] or [3, {s}, {s}], got shape {np.shape(x)}")
        out = np.empty(arr.shape, dtype=np.float32)
        needed = ctypes.c_size_t(0)
        params, _keep = self._params(progress)
        with self._use() as handle:
            status = _lib.get().avpgan_enhance_raw(handle, arr.ctypes.data_as(_lib._c_float_p), arr.shape[0],
                                                   ctypes.byref(params), out.ctypes.data_as(_lib._c_float_p), out.size,
                                                   ctypes.byref(needed))
            _check(status, "avpgan_enhance_raw")
        return out[0] if single else out

    def __repr__(self) -> str:
        size = self._info.size if hasattr(self, "_info") else "?"
        where = f" {self._path!r}" if getattr(self, "_path", None) else ""
        return f"<avpgan.Enhancer {size}px{where} ({'closed' if self.closed else 'open'})>"

"""Face recognition for evaluation: :class:`FaceModel` (``avpgan_face_model``) and :func:`cosine`.

The paper judges a voice portrait by the cosine similarity between the face-recognition
embeddings of the generated face and of the speaker's real faces. A face model file holds
such a network (MobileFaceNet or an ArcFace IResNet); ``tools/converters/convert_face.py`` writes one
from ONNX or PyTorch weights (docs/face-model-format.md). Example::

    import avpgan, numpy as np
    with avpgan.FaceModel("face.safetensors") as fm:
        a = fm.embed(real_face)          # uint8 [H, W, 3] RGB, any size -> float32 [D]
        b = fm.embed(model.portrait("voice.wav"))
        print(avpgan.cosine(a, b))

Threads: a face model is immutable; any number of threads may call :meth:`FaceModel.embed`
at once (the GIL is released inside the library). :meth:`FaceModel.close` waits for calls
in flight.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from . import PathLike, _check, _decode, _load_into, _model_params
from ._images import ImageLike, rgb8

__all__ = ["FaceModelInfo", "FaceModel", "FaceModelClosedError", "cosine"]


class FaceModelClosedError(ValueError):
    """A :class:`FaceModel` was used after :meth:`FaceModel.close`."""


@dataclass(frozen=True)
class FaceModelInfo:
    """What a face model is (``avpgan_face_model_info``).

    Attributes:
        arch: ``"mobilefacenet"``, ``"iresnet18"``, ... ``"iresnet200"``.
        input_size: the network's input is ``input_size x input_size`` (112).
        embed_dim: embedding size D (128 MobileFaceNet, 512 IResNet).
        input_mean, input_std: a pixel p enters the network as ``(p - input_mean) / input_std``.
        bgr: the network's first input plane is blue.
        n_parameters: scalar weights in the file.
    """

    arch: str
    input_size: int
    embed_dim: int
    input_mean: float
    input_std: float
    bgr: bool
    n_parameters: int


class FaceModel(_lib.HandleOwner):
    """A loaded face-recognition network.

    ``FaceModel(path)`` loads a face model file; :meth:`from_bytes` loads one from memory.
    A context manager; :meth:`close` (also called by ``with`` and on garbage collection)
    frees it once, and any later use raises :class:`FaceModelClosedError`.

    Raises:
        AvpganIOError: the file cannot be read. ModelFormatError: it is malformed, or is a
        voice-portrait model (load that with :class:`Model`). LibraryNotFound: no libavpgan.
    """

    _FREE = "avpgan_face_model_free"
    _CLOSED = FaceModelClosedError
    _NAME = "avpgan.FaceModel"
    _PICKLE_HINT = "load the face model file in the other process"

    def __init__(self, path: PathLike, *, max_header_bytes: int = 0) -> None:
        self._path: Optional[str] = None
        _load_into(self, "face_model", _lib.FaceModelHandle, _model_params(True, max_header_bytes), path=path)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], *, max_header_bytes: int = 0) -> "FaceModel":
        """Loads a face model from the bytes of a face model file (copied by the library)."""
        self = cls.__new__(cls)
        _load_into(self, "face_model", _lib.FaceModelHandle, _model_params(True, max_header_bytes), data=data)
        return self

    def _adopt(self, handle: Any) -> None:
        self._handle = handle
        raw = _lib.FaceModelInfo()
        raw.struct_size = ctypes.sizeof(raw)
        try:
            _check(_lib.get().avpgan_face_model_get_info(handle, ctypes.byref(raw)), "avpgan_face_model_get_info")
        except BaseException:
            self.close()
            raise
        self._info = FaceModelInfo(
            arch=_decode(bytes(raw.arch_name)),
            input_size=int(raw.input_size),
            embed_dim=int(raw.embed_dim),
            input_mean=float(raw.input_mean),
            input_std=float(raw.input_std),
            bgr=bool(raw.bgr),
            n_parameters=int(raw.n_parameters),
        )

    @property
    def info(self) -> FaceModelInfo:
        """What the network is (read at load time; still available after :meth:`close`)."""
        return self._info

    def embed(self, image: ImageLike) -> npt.NDArray[np.float32]:
        """The embedding of one face.

        Args:
            image: ``[H, W, 3]`` uint8 RGB, any size (1..16384 a side; strided views are
                fine), or a ``PIL.Image`` (converted to RGB). It is resized to ``input_size`` per axis (no cropping: pass an aligned
                face crop) with antialiased bilinear interpolation, as torch's
                ``interpolate(mode="bilinear", align_corners=False, antialias=True)``.

        Returns:
            ``[embed_dim]`` float32: the network's raw output, not normalised.

        Raises:
            TypeError: image is not uint8. ValueError: not ``[H, W, 3]``.
            FaceModelClosedError: the model is closed.
        """
        arr = rgb8(image, "embed")
        height, width = arr.shape[:2]
        out = np.empty(self._info.embed_dim, dtype=np.float32)
        needed = ctypes.c_size_t(0)
        with self._use() as handle:
            status = _lib.get().avpgan_face_model_embed_rgb8(
                handle, arr.ctypes.data_as(_lib._c_uint8_p), width, height, arr.strides[0],
                out.ctypes.data_as(_lib._c_float_p), out.size, ctypes.byref(needed),
            )
            _check(status, "avpgan_face_model_embed_rgb8")
        return out

    def __repr__(self) -> str:
        arch = self._info.arch if hasattr(self, "_info") else "?"
        where = f" {self._path!r}" if getattr(self, "_path", None) else ""
        return f"<avpgan.FaceModel {arch}{where} ({'closed' if self.closed else 'open'})>"


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity ``a.b / (|a| |b|)`` of two vectors of the same length (computed by
    the library in double precision; 0 when either is zero).

    Raises:
        ValueError: shapes differ or are empty. InvalidArgumentError: a value is not finite.
    """
    x = np.ascontiguousarray(a, dtype=np.float32).ravel()
    y = np.ascontiguousarray(b, dtype=np.float32).ravel()
    if x.size != y.size or x.size == 0:
        raise ValueError(f"cosine: the vectors must have the same, non-zero length, got {x.size} and {y.size}")
    out = ctypes.c_float(0)
    _check(
        _lib.get().avpgan_cosine(x.ctypes.data_as(_lib._c_float_p), y.ctypes.data_as(_lib._c_float_p), x.size,
                                 ctypes.byref(out)),
        "avpgan_cosine",
    )
    return float(out.value)

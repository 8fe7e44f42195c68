"""Python bindings of libavpgan: faces from voices (AVP-GAN, Voice2Face).

ctypes + numpy; no compiler is needed. The shared library is loaded on first use
(``$AVPGAN_LIBRARY``; the wheel's own; a checkout's ``build/lib``; the system's
``libavpgan.so.0``: see :mod:`avpgan._lib`), so ``import avpgan`` always succeeds and a
missing library surfaces as :class:`LibraryNotFound` (an :class:`OSError`) on the first call.

Example::

    import avpgan

    model = avpgan.Model()                         # the default model (or Model("file"))
    face = model.portrait("voice.flac")            # [S, S, 3] uint8
    model.save_portrait("voice.flac", "face.png")  # a PNG with provenance, as the command writes
    rows = avpgan.portraits(["recordings/"], "faces/")   # a batch, one result per file

The main entry points: :class:`Model` (portraits, embeddings, faces), :class:`Enhancer`
(GFPGAN restoration), :class:`FaceModel` (evaluation), :class:`Trainer` (Algorithm 1),
:func:`portraits` (batches; :mod:`avpgan.distributed` on Dask), :func:`features`,
:func:`decode`, :func:`save_png`; what the command's train-voice, synth-data, pixel-retrieval and
eval do: :func:`train_voice_encoder`, :func:`synth_data`, :func:`pixel_retrieval`,
:func:`evaluate_faces`. Errors are :class:`AvpganError` subclasses, one per status:
InvalidArgumentError, BufferTooSmallError, OutOfMemoryError, AvpganIOError (also an OSError),
ModelFormatError, UnsupportedError, MissingNetworkError, AudioFormatError, NoSpeechError,
AbortedError, InternalError; a closed object raises ModelClosedError, FaceModelClosedError,
EnhancerClosedError or TrainerClosedError. The result types (ModelInfo, PortraitInfo,
PortraitResult, EnhancerInfo, FaceModelInfo, TrainerInfo, Losses, Audio) and enums (Arch,
Pixels, Status) are importable from here too; ``help()`` on each tells more.

Threads: a :class:`Model` is immutable; any number of Python threads may call it at once (the
GIL is released inside the library) and get the results of sequential calls.
:meth:`Model.close` waits for calls in flight.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Type, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._lib import LibraryNotFound

__all__ = [
    "Model",
    "Enhancer",
    "FaceModel",
    "Trainer",
    "portraits",
    "default_model",
    "train_voice_encoder",
    "synth_data",
    "pixel_retrieval",
    "to_pil",
    "evaluate_faces",
    "features",
    "decode",
    "encode_png",
    "save_png",
    "cosine",
    "version",
    "version_number",
    "status_string",
    "set_num_threads",
    "get_num_threads",
    "AvpganError",
    "LibraryNotFound",
    "__version__",
]

#: The rest of the public API: importable from here and documented on each, but left out of
#: ``__all__`` so that ``help(avpgan)`` shows the main entry points, not every exception and enum.
_PUBLIC_TOO = [
    "InvalidArgumentError",
    "BufferTooSmallError",
    "OutOfMemoryError",
    "AvpganIOError",
    "ModelFormatError",
    "UnsupportedError",
    "MissingNetworkError",
    "AudioFormatError",
    "NoSpeechError",
    "AbortedError",
    "InternalError",
    "ModelClosedError",
    "Status",
    "Arch",
    "Pixels",
    "ModelInfo",
    "PortraitInfo",
    "PortraitResult",
    "FaceModelInfo",
    "FaceModelClosedError",
    "EnhancerInfo",
    "EnhancerClosedError",
    "Audio",
    "TrainerInfo",
    "Losses",
    "TrainerClosedError",
    "VoiceTrainingResult",
    "PixelRetrievalResult",
    "RetrievalScores",
    "FaceEvaluation",
    "FaceSimilarityRow",
    "ImageLike",
]

#: Version of these bindings (the C interface version they are written for).
__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes]
#: A recording: a path, the bytes of an encoded file, or samples (a numpy array, int16 or
#: float in [-1, 1], ``[n]`` or ``[n, channels]``, with ``sample_rate``).
AudioSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "npt.NDArray[Any]"]


# --------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------


class Status(enum.IntEnum):
    """``avpgan_status`` values."""

    OK = 0
    E_INVALID_ARGUMENT = -1
    E_BUFFER_TOO_SMALL = -2
    E_OUT_OF_MEMORY = -3
    E_IO = -4
    E_MODEL_FORMAT = -5
    E_UNSUPPORTED = -6
    E_MISSING_NETWORK = -7
    E_AUDIO_FORMAT = -8
    E_NO_SPEECH = -9
    E_ABORTED = -10
    E_INTERNAL = -100


class Arch(enum.IntEnum):
    """``avpgan_arch`` values."""

    VOICE2FACE = 0
    AVPGAN = 1
    AVPGAN_NOCBAM = 2


class Pixels(enum.IntEnum):
    """``avpgan_pixels`` values: how generator output in [-1, 1] becomes bytes."""

    MODEL_DEFAULT = 0
    CLAMP = 1
    MINMAX = 2


_PIXELS_BY_NAME: Dict[str, Pixels] = {
    "default": Pixels.MODEL_DEFAULT,
    "clamp": Pixels.CLAMP,
    "minmax": Pixels.MINMAX,
}
_PIXELS_NAMES: Dict[int, str] = {int(Pixels.CLAMP): "clamp", int(Pixels.MINMAX): "minmax"}


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class AvpganError(Exception):
    """A libavpgan call failed.

    Attributes:
        status: the ``avpgan_status`` code (a negative int).
        status_name: its C name, e.g. ``"AVPGAN_E_MODEL_FORMAT"``.
        message: ``avpgan_last_error()``, read right after the failing call on
            the same thread (names the argument, tensor or field at fault).
        function: the name of the C function that failed.
    """

    def __init__(self, status: int, message: str = "", function: str = "") -> None:
        self.status: int = int(status)
        self.status_name: str = _status_name(self.status)
        self.message: str = message
        self.function: str = function
        text = f"{self.status_name} ({self.status})"
        if function:
            text = f"{function}: {text}"
        if message:
            text = f"{text}: {message}"
        super().__init__(text)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_error_for_status, (self.status, self.message, self.function))


class InvalidArgumentError(AvpganError):
    """AVPGAN_E_INVALID_ARGUMENT: a bad pointer, count, size or value (e.g. NaN input)."""


class BufferTooSmallError(AvpganError):
    """AVPGAN_E_BUFFER_TOO_SMALL: an output buffer was too small (a bug in these bindings)."""


class OutOfMemoryError(AvpganError):
    """AVPGAN_E_OUT_OF_MEMORY: memory for the computation could not be had."""


class AvpganIOError(AvpganError, OSError):
    """AVPGAN_E_IO: a file could not be opened, read or written.

    Also an :class:`OSError`, so ``except OSError`` catches it as it catches
    Python's own file errors (``errno`` is None: the message names the cause)."""


class ModelFormatError(AvpganError):
    """AVPGAN_E_MODEL_FORMAT: a malformed model file."""


class UnsupportedError(AvpganError):
    """AVPGAN_E_UNSUPPORTED: well-formed but not supported (e.g. a newer format version)."""


class MissingNetworkError(AvpganError):
    """AVPGAN_E_MISSING_NETWORK: the model lacks a network the call needs."""


class AudioFormatError(AvpganError):
    """AVPGAN_E_AUDIO_FORMAT: the audio cannot be decoded (format, damage, non-finite samples, length)."""


class NoSpeechError(AvpganError):
    """AVPGAN_E_NO_SPEECH: the recording holds no speech."""


class AbortedError(AvpganError):
    """AVPGAN_E_ABORTED: long work stopped early because the caller asked (abort callback)."""


class InternalError(AvpganError):
    """AVPGAN_E_INTERNAL: a bug in libavpgan."""


class ModelClosedError(ValueError):
    """A :class:`Model` was used after :meth:`Model.close` (like I/O on a closed file)."""


_ERROR_CLASSES: Dict[int, Type[AvpganError]] = {
    int(Status.E_INVALID_ARGUMENT): InvalidArgumentError,
    int(Status.E_BUFFER_TOO_SMALL): BufferTooSmallError,
    int(Status.E_OUT_OF_MEMORY): OutOfMemoryError,
    int(Status.E_IO): AvpganIOError,
    int(Status.E_MODEL_FORMAT): ModelFormatError,
    int(Status.E_UNSUPPORTED): UnsupportedError,
    int(Status.E_MISSING_NETWORK): MissingNetworkError,
    int(Status.E_AUDIO_FORMAT): AudioFormatError,
    int(Status.E_NO_SPEECH): NoSpeechError,
    int(Status.E_ABORTED): AbortedError,
    int(Status.E_INTERNAL): InternalError,
}


def _status_name(status: int) -> str:
    try:
        return "AVPGAN_" + Status(status).name
    except ValueError:
        return f"AVPGAN_STATUS_{status}"


def _error_for_status(status: int, message: str = "", function: str = "") -> AvpganError:
    cls = _ERROR_CLASSES.get(int(status), AvpganError)
    return cls(status, message, function)


def _decode(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", errors="replace") if raw else ""


def _check(status: int, function: str) -> None:
    """Raises the AvpganError for a failed status. Must be called right after
    the C call on the same thread, before any other avpgan_ call, since the
    message lives in thread-local storage that the next call overwrites."""
    if status != 0:
        message = _decode(_lib.get().avpgan_last_error())
        raise _error_for_status(status, message, function)


# --------------------------------------------------------------------------
# Library-wide functions
# --------------------------------------------------------------------------


def version() -> str:
    """The version of the loaded libavpgan, e.g. ``"0.1.0"``."""
    return _decode(_lib.get().avpgan_version())


def version_number() -> int:
    """The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(_lib.get().avpgan_version_number())


def status_string(status: int) -> str:
    """The library's short English description of a status code."""
    return _decode(_lib.get().avpgan_status_string(int(status)))


def set_num_threads(n: int) -> None:
    """Sets how many threads computations use; 0 = all online CPUs.

    Process-wide (the OpenBLAS pool is shared). Must not be called while
    another thread is inside a libavpgan call."""
    n = _as_int(n, "n")
    if not 0 <= n <= 2**31 - 1:
        raise ValueError(f"set_num_threads: n must be in [0, 2**31 - 1], got {n}")
    lib = _lib.get()
    _check(lib.avpgan_set_num_threads(n), "avpgan_set_num_threads")


def get_num_threads() -> int:
    """The number of threads computations use."""
    return int(_lib.get().avpgan_get_num_threads())


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """What a model is (``avpgan_model_info``).

    Attributes:
        arch: ``"voice2face"``, ``"avpgan"`` or ``"avpgan-nocbam"``.
        format_version: ``avpgan.format`` of the file.
        n_mels: feature bands the voice encoder takes (64).
        embed_dim: voice embedding size E (64 full, 16 tiny).
        image_size: generated faces are S x S with S = image_size (64).
        image_channels: 3 (RGB).
        voice_widths: voice-encoder conv widths, in order.
        generator_widths: generator widths, in order.
        face_widths: face-encoder widths; ``()`` when it is not loaded.
        n_identities: classifier outputs; 0 when not loaded.
        default_pixels: the model's default pixel mapping, ``"clamp"`` or ``"minmax"``.
        n_parameters: number of scalar weights loaded.
    """

    arch: str
    format_version: int
    n_mels: int
    embed_dim: int
    image_size: int
    image_channels: int
    voice_widths: Tuple[int, ...]
    generator_widths: Tuple[int, ...]
    face_widths: Tuple[int, ...]
    n_identities: int
    default_pixels: str
    n_parameters: int


def _widths(array: Any, count: int, name: str) -> Tuple[int, ...]:
    if count > _lib.MAX_LAYERS:
        raise InternalError(
            int(Status.E_INTERNAL),
            f"avpgan_model_get_info reported {count} {name} (more than AVPGAN_MAX_LAYERS = {_lib.MAX_LAYERS})",
            "avpgan_model_get_info",
        )
    return tuple(int(array[i]) for i in range(count))


def _model_params(inference_only: bool, max_header_bytes: int) -> _lib.ModelParams:
    max_header_bytes = _as_int(max_header_bytes, "max_header_bytes")
    if not 0 <= max_header_bytes < 2**64:
        raise ValueError(f"max_header_bytes must be in [0, 2**64), got {max_header_bytes}")
    lib = _lib.get()
    params = _lib.ModelParams()
    _check(
        lib.avpgan_model_params_init(ctypes.byref(params), ctypes.sizeof(params)),
        "avpgan_model_params_init",
    )
    params.max_header_bytes = max_header_bytes
    params.inference_only = 1 if inference_only else 0
    return params


def _load_into(owner: Any, kind: str, handle_type: Any, params: Any, path: Any = None, data: Any = None) -> None:
    """Loads a file (``path``) or its bytes (``data``, any contiguous buffer, copied by the
    library) with ``avpgan_<kind>_load_file`` / ``_load_buffer`` into a new ``handle_type`` and
    hands it to ``owner._adopt``: the one loading path of Model, FaceModel and Enhancer."""
    owner._init_handle()
    handle = handle_type()
    lib = _lib.get()
    if data is None:
        encoded = os.fsencode(path)
        if b"\0" in encoded:
            raise ValueError("path contains a NUL byte")
        owner._path = os.fsdecode(encoded)
        function = f"avpgan_{kind}_load_file"
        _check(getattr(lib, function)(encoded, ctypes.byref(params), ctypes.byref(handle)), function)
    else:
        buf = np.frombuffer(data, dtype=np.uint8)  # no copy; keeps `data` alive for the call
        owner._path = None
        function = f"avpgan_{kind}_load_buffer"
        _check(getattr(lib, function)(ctypes.c_void_p(buf.ctypes.data), buf.size, ctypes.byref(params),
                                      ctypes.byref(handle)), function)
    owner._adopt(handle)


def default_model() -> str:
    """The default model file's path, for callers that name none (as the avpgan command does):
    ``$AVPGAN_MODEL`` when set (and then only that); beside the library,
    ``<prefix>/share/avpgan/default.safetensors`` (``make install``, the Debian package) or a
    checkout's ``models/default.safetensors``; ``/usr/share/avpgan/default.safetensors``.

    Raises:
        AvpganIOError: none was found; the message names every place looked at.
    """
    lib = _lib.get()
    needed = ctypes.c_size_t(0)
    _check(lib.avpgan_default_model_path(None, 0, ctypes.byref(needed)), "avpgan_default_model_path")
    buf = ctypes.create_string_buffer(needed.value)
    _check(lib.avpgan_default_model_path(buf, needed.value, ctypes.byref(needed)), "avpgan_default_model_path")
    return os.fsdecode(buf.value)


@dataclass(frozen=True)
class PortraitInfo:
    """What a portrait was made from (``avpgan_portrait_info``).

    Attributes:
        input_seconds: the recording's length.
        voiced_seconds: the audio the features were computed from.
        n_frames: feature frames (after the repeat rule).
        embedding: the unit voice embedding used, float32 ``[E]``.
    """

    input_seconds: float
    voiced_seconds: float
    n_frames: int
    embedding: npt.NDArray[np.float32]


def _portrait_params(seconds: Optional[float], vad: bool, vad_mode: int, pixels: Optional[Union[str, Pixels]],
                     noise: float, seed: int) -> _lib.PortraitParams:
    """``avpgan_portrait_params`` from the keyword options of :meth:`Model.portrait`."""
    lib = _lib.get()
    p = _lib.PortraitParams()
    _check(lib.avpgan_portrait_params_init(ctypes.byref(p), ctypes.sizeof(p)), "avpgan_portrait_params_init")
    p.seconds = float(seconds or 0.0)
    p.vad = 1 if vad else 0
    p.vad_mode = int(vad_mode)
    if pixels is not None:
        if isinstance(pixels, str) and pixels not in _PIXELS_BY_NAME:
            raise ValueError(f"portrait: pixels must be None, 'clamp' or 'minmax', got {pixels!r}")
        p.pixels = int(_PIXELS_BY_NAME[pixels] if isinstance(pixels, str) else pixels)
    p.noise = float(noise)
    p.seed = int(seed)
    return p


class Model(_lib.HandleOwner):
    """A loaded libavpgan model (voice encoder and generator, and with
    ``inference_only=False`` also the face encoder and heads when the file has
    them).

    ``Model(path)`` loads a model file (safetensors with ``avpgan.*``
    metadata), ``Model()`` the default model (:func:`default_model`);
    :meth:`from_bytes` loads one from memory. A model is a context
    manager; :meth:`close` (also called by ``with`` and on garbage collection)
    frees it once, and any later use raises :class:`ModelClosedError`.

    Args:
        path: the model file (``str``, ``bytes`` or ``os.PathLike``); None (the default): the
            default model, as :func:`default_model` finds it.
        inference_only: True (default) loads only what inference needs.
        max_header_bytes: the largest safetensors JSON header accepted; 0 = the
            library's default (100 MiB).

    Raises:
        AvpganIOError: the file cannot be opened or read.
        ModelFormatError: the file is malformed.
        UnsupportedError: the file's format is newer than the library.
        LibraryNotFound: libavpgan could not be loaded.
    """

    _handle: Optional[Any]
    _info: ModelInfo
    _FREE = "avpgan_model_free"
    _CLOSED = ModelClosedError
    _NAME = "avpgan.Model"
    _PICKLE_HINT = "load the model file in the other process"

    def __init__(
        self,
        path: Optional[PathLike] = None,
        *,
        inference_only: bool = True,
        max_header_bytes: int = 0,
    ) -> None:
        self._init_handle()
        self._path: Optional[str] = None
        params = _model_params(inference_only, max_header_bytes)
        _load_into(self, "model", _lib.ModelHandle, params, path=default_model() if path is None else path)

    @classmethod
    def from_bytes(
        cls,
        data: Union[bytes, bytearray, memoryview],
        *,
        inference_only: bool = True,
        max_header_bytes: int = 0,
    ) -> "Model":
        """Loads a model from the bytes of a model file (any contiguous
        buffer). The library copies what it needs; ``data`` may be released
        afterwards. Arguments and errors as for ``Model(path)``."""
        self = cls.__new__(cls)
        _load_into(self, "model", _lib.ModelHandle, _model_params(inference_only, max_header_bytes), data=data)
        return self

    def _adopt(self, handle: Any) -> None:
        """Takes ownership of a fresh handle and reads its info."""
        lib = _lib.get()
        if not handle:
            raise InternalError(int(Status.E_INTERNAL), "load returned OK but a NULL model", "avpgan_model_load")
        self._handle = handle
        raw = _lib.ModelInfo()
        raw.struct_size = ctypes.sizeof(raw)
        try:
            _check(lib.avpgan_model_get_info(handle, ctypes.byref(raw)), "avpgan_model_get_info")
            pixels = _PIXELS_NAMES.get(int(raw.default_pixels))
            if pixels is None:
                raise InternalError(
                    int(Status.E_INTERNAL),
                    f"unknown default_pixels {raw.default_pixels}",
                    "avpgan_model_get_info",
                )
            self._info = ModelInfo(
                arch=_decode(bytes(raw.arch_name)),
                format_version=int(raw.format_version),
                n_mels=int(raw.n_mels),
                embed_dim=int(raw.embed_dim),
                image_size=int(raw.image_size),
                image_channels=int(raw.image_channels),
                voice_widths=_widths(raw.voice_widths, int(raw.n_voice_widths), "voice widths"),
                generator_widths=_widths(raw.generator_widths, int(raw.n_generator_widths), "generator widths"),
                face_widths=_widths(raw.face_widths, int(raw.n_face_widths), "face widths"),
                n_identities=int(raw.n_identities),
                default_pixels=pixels,
                n_parameters=int(raw.n_parameters),
            )
        except BaseException:
            self.close()
            raise

    # -- lifetime ---------------------------------------------------------

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        arch = self._info.arch if hasattr(self, "_info") else "?"
        where = f" {self._path!r}" if getattr(self, "_path", None) else ""
        return f"<avpgan.Model {arch}{where} ({state})>"

    # -- queries ----------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        """What the model is (a :class:`ModelInfo`, read once at load time;
        still available after :meth:`close`)."""
        return self._info

    def _embeddings(self, embeddings: npt.ArrayLike, function: str) -> Tuple[np.ndarray, bool]:
        """Validates embeddings; returns a C-contiguous float32 [N, E] array and
        whether the input was a single 1-D embedding."""
        self._check_open()
        e = self._info.embed_dim
        arr = np.ascontiguousarray(embeddings, dtype=np.float32)
        single = arr.ndim == 1
        if single:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise ValueError(f"{function}: embeddings must be [E] or [N, E], got shape {arr.shape}")
        if arr.shape[1] != e:
            raise ValueError(f"{function}: embeddings must have E = embed_dim = {e} columns, got shape {arr.shape}")
        if arr.shape[0] < 1:
            raise ValueError(f"{function}: need at least one embedding, got shape {arr.shape}")
        return arr, single

    def embed(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The voice embedding of a recording.

        Args:
            features: log-mel features ``[n_frames, n_mels]``, frame-major,
                normalised as the front end does; converted to C-contiguous
                float32. ``n_mels`` must equal ``info.n_mels``; every value must
                be finite (NaN/inf give :class:`InvalidArgumentError`).

        Returns:
            ``[embed_dim]`` float32, an L2-unit vector.

        Raises:
            ValueError: features is not 2-D, has the wrong number of bands or
                no frames.
            InvalidArgumentError: the library rejected the input (e.g. non-finite values).
            ModelClosedError: the model is closed.
        """
        self._check_open()
        feats = np.ascontiguousarray(features, dtype=np.float32)
        m = self._info.n_mels
        if feats.ndim != 2:
            raise ValueError(f"embed: features must be 2-D [n_frames, n_mels={m}], got shape {feats.shape}")
        if feats.shape[1] != m:
            raise ValueError(f"embed: features must have n_mels = {m} columns, got shape {feats.shape}")
        if feats.shape[0] < 1:
            raise ValueError(f"embed: features need at least one frame, got shape {feats.shape}")
        e = self._info.embed_dim
        out = np.empty(e, dtype=np.float32)
        needed = ctypes.c_size_t(0)
        lib = _lib.get()
        with self._use() as handle:
            status = lib.avpgan_model_embed(
                handle,
                feats.ctypes.data_as(_lib._c_float_p),
                feats.shape[0],
                feats.shape[1],
                out.ctypes.data_as(_lib._c_float_p),
                out.size,
                ctypes.byref(needed),
            )
            _check(status, "avpgan_model_embed")
        return out

    def portrait(
        self,
        source: AudioSource,
        sample_rate: Optional[int] = None,
        seconds: Optional[float] = None,
        vad: bool = True,
        *,
        vad_mode: int = 2,
        pixels: Optional[Union[str, Pixels]] = None,
        noise: float = 0.0,
        seed: int = 0,
        enhancer: Optional["Enhancer"] = None,
    ) -> npt.NDArray[np.uint8]:
        """A face ``[S, S, 3]`` uint8 from a recording: front end (as :func:`avpgan.features`),
        voice encoder, generator, pixel mapping, and with ``enhancer`` restoration.
        ``avpgan.to_pil(face)`` makes a ``PIL.Image`` of it.

        Args:
            source: a path, bytes of an encoded file, or a numpy array of samples (int16, or
                float in [-1, 1]; ``[n]`` or ``[n, channels]``), which needs ``sample_rate``.
            seconds: use only the first ``seconds`` of voiced audio (all when None).
            vad: keep only voiced audio (WebRTC VAD, mode ``vad_mode``).
            pixels: None (model default), ``"clamp"`` or ``"minmax"``.
            noise, seed: Gaussian noise of this standard deviation on the unit embedding
                (re-normalised), repeatable by seed; 0 = none.
            enhancer: an :class:`Enhancer`: the face is restored and enlarged to its size
                (as ``enhancer.enhance(face)`` does), so S is ``enhancer.info.size``.

        Raises:
            NoSpeechError: no speech in the recording. AudioFormatError: undecodable audio.
        """
        if enhancer is not None:
            if not isinstance(enhancer, Enhancer):
                raise TypeError(f"portrait: enhancer must be an avpgan.Enhancer, got {type(enhancer).__name__}")
            with enhancer._use() as enhancer_handle:
                return self._portrait(source, sample_rate, seconds, vad, vad_mode, pixels, noise, seed,
                                      enhancer_handle, enhancer.info.size)
        return self._portrait(source, sample_rate, seconds, vad, vad_mode, pixels, noise, seed, None,
                              self._info.image_size)

    def _portrait(self, source: AudioSource, sample_rate: Optional[int], seconds: Optional[float], vad: bool, vad_mode: int,
                  pixels: Optional[Union[str, Pixels]], noise: float, seed: int, enhancer_handle: Any,
                  s: int) -> npt.NDArray[np.uint8]:
        from ._media import pcm_16k

        rate = 16000 if sample_rate is None else int(sample_rate)
        x = pcm_16k(source, sample_rate)
        lib = _lib.get()
        p = _portrait_params(seconds, vad, vad_mode, pixels, noise, seed)
        if enhancer_handle is not None:
            p.enhancer = ctypes.cast(enhancer_handle, ctypes.c_void_p)
        out = np.empty((s, s, 3), dtype=np.uint8)
        needed = ctypes.c_size_t(0)
        with self._use() as handle:
            status = lib.avpgan_portrait_pcm(handle, x.ctypes.data_as(_lib._c_float_p), x.size, rate, ctypes.byref(p),
                                             out.ctypes.data_as(_lib._c_uint8_p), out.size, ctypes.byref(needed), None)
            _check(status, "avpgan_portrait_pcm")
        return out

    def save_portrait(
        self,
        source: PathLike,
        png_path: PathLike,
        *,
        seconds: Optional[float] = None,
        vad: bool = True,
        vad_mode: int = 2,
        pixels: Optional[Union[str, Pixels]] = None,
        noise: float = 0.0,
        seed: int = 0,
        provenance: bool = True,
        timestamp: bool = False,
        enhancer: Optional["Enhancer"] = None,
    ) -> PortraitInfo:
        """Writes the portrait of the recording file ``source`` to ``png_path`` as a PNG with
        provenance text chunks (software, model and audio SHA-256, parameters, voiced duration,
        the notice), byte for byte what ``avpgan portrait`` writes for the same options. The
        file is written to a temporary file and renamed into place: complete or untouched.

        Args:
            source, png_path: paths (``str``, ``bytes`` or ``os.PathLike``).
            seconds, vad, vad_mode, pixels, noise, seed: as :meth:`portrait`.
            provenance: False writes no text chunks.
            timestamp: True adds a "Creation Time" chunk (the file then differs run to run).
            enhancer: an :class:`Enhancer`: the face is restored and enlarged to its size, and
                the provenance names the enhancer's SHA-256 (as ``avpgan portrait --enhance``).

        Raises:
            AvpganIOError: ``source`` cannot be read or ``png_path`` cannot be written.
            NoSpeechError, AudioFormatError: as :meth:`portrait`.
        """
        voice, out = os.fsencode(source), os.fsencode(png_path)
        if b"\0" in voice or b"\0" in out:
            raise ValueError("save_portrait: a path contains a NUL byte")
        lib = _lib.get()
        p = _portrait_params(seconds, vad, vad_mode, pixels, noise, seed)
        p.provenance = 1 if provenance else 0
        p.timestamp = 1 if timestamp else 0
        info = _lib.PortraitInfo()
        info.struct_size = ctypes.sizeof(info)
        if enhancer is not None and not isinstance(enhancer, Enhancer):
            raise TypeError(f"save_portrait: enhancer must be an avpgan.Enhancer, got {type(enhancer).__name__}")
        with self._use() as handle, (enhancer._use() if enhancer is not None else contextlib.nullcontext()) as eh:
            if eh is not None:
                p.enhancer = ctypes.cast(eh, ctypes.c_void_p)
            _check(lib.avpgan_portrait_file(handle, voice, out, ctypes.byref(p), ctypes.byref(info)), "avpgan_portrait_file")
        return PortraitInfo(
            input_seconds=float(info.input_seconds),
            voiced_seconds=float(info.voiced_seconds),
            n_frames=int(info.n_frames),
            embedding=np.array(info.embedding[: min(int(info.embed_dim), _lib.MAX_EMBED)], dtype=np.float32),
        )

    def generate_raw(self, embeddings: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw generator output.

        Args:
            embeddings: ``[E]`` (one) or ``[N, E]`` (a batch) with
                E = ``info.embed_dim``; converted to C-contiguous float32;
                finite; used as given (not re-normalised).

        Returns:
            float32, planar RGB, unbounded (clamp to [-1, 1] for display):
            ``[N, 3, S, S]`` for a batch, ``[3, S, S]`` for a single 1-D
            embedding (S = ``info.image_size``).
        """
        emb, single = self._embeddings(embeddings, "generate_raw")
        n, s = emb.shape[0], self._info.image_size
        out = np.empty((n, 3, s, s), dtype=np.float32)
        needed = ctypes.c_size_t(0)
        lib = _lib.get()
        with self._use() as handle:
            status = lib.avpgan_model_generate(
                handle,
                emb.ctypes.data_as(_lib._c_float_p),
                n,
                emb.shape[1],
                out.ctypes.data_as(_lib._c_float_p),
                out.size,
                ctypes.byref(needed),
            )
            _check(status, "avpgan_model_generate")
        return out[0] if single else out

    def generate(
        self,
        embeddings: npt.ArrayLike,
        pixels: Optional[Union[str, Pixels]] = None,
    ) -> npt.NDArray[np.uint8]:
        """Faces as 8-bit RGB.

        Args:
            embeddings: ``[E]`` (one) or ``[N, E]`` (a batch), as for
                :meth:`generate_raw`.
            pixels: the mapping of generator output to bytes: ``None`` (the
                model's default, ``info.default_pixels``), ``"clamp"`` or
                ``"minmax"`` (or a :class:`Pixels` value).

        Returns:
            uint8, interleaved RGB, rows top to bottom: ``[N, S, S, 3]`` for a
            batch, ``[S, S, 3]`` for a single 1-D embedding.
        """
        emb, single = self._embeddings(embeddings, "generate")
        if pixels is None:
            mode = Pixels.MODEL_DEFAULT
        elif isinstance(pixels, Pixels):
            mode = pixels
        elif isinstance(pixels, str) and pixels in _PIXELS_BY_NAME:
            mode = _PIXELS_BY_NAME[pixels]
        else:
            raise ValueError(f"generate: pixels must be None, 'clamp' or 'minmax', got {pixels!r}")
        lib = _lib.get()
        params = _lib.GenerateParams()
        _check(
            lib.avpgan_generate_params_init(ctypes.byref(params), ctypes.sizeof(params)),
            "avpgan_generate_params_init",
        )
        params.pixels = int(mode)
        n, s = emb.shape[0], self._info.image_size
        out = np.empty((n, s, s, 3), dtype=np.uint8)
        needed = ctypes.c_size_t(0)
        with self._use() as handle:
            status = lib.avpgan_model_generate_rgb8(
                handle,
                emb.ctypes.data_as(_lib._c_float_p),
                n,
                emb.shape[1],
                ctypes.byref(params),
                out.ctypes.data_as(_lib._c_uint8_p),
                out.size,
                ctypes.byref(needed),
            )
            _check(status, "avpgan_model_generate_rgb8")
        return out[0] if single else out


from ._media import Audio, decode, encode_png, features, pcm_16k, save_png  # noqa: E402  (needs _check above)
from ._trainer import Losses, Trainer, TrainerClosedError, TrainerInfo  # noqa: E402
from ._face import FaceModel, FaceModelClosedError, FaceModelInfo, cosine  # noqa: E402
from ._enhancer import Enhancer, EnhancerClosedError, EnhancerInfo  # noqa: E402
from ._batch import PortraitResult, portraits  # noqa: E402
from ._evaluation import (FaceEvaluation, FaceSimilarityRow, PixelRetrievalResult, RetrievalScores,  # noqa: E402
                          evaluate_faces, pixel_retrieval)
from ._voice_training import VoiceTrainingResult, train_voice_encoder  # noqa: E402
from ._synthetic import synth_data  # noqa: E402
from ._images import ImageLike, to_pil  # noqa: E402

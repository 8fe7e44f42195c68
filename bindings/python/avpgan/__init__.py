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
:class:`EnhancerTrainer` (training an enhancer), :class:`PriorTrainer` (its StyleGAN2 face prior),
:func:`portraits` (batches; :mod:`avpgan.distributed` on Dask), :func:`features`,
:func:`decode`, :func:`save_png`; what the command's train-voice, synth-data, pixel-retrieval and
eval do: :func:`train_voice_encoder`, :func:`synth_data`, :func:`pixel_retrieval`,
:func:`evaluate_faces`. Errors are :class:`AvpganError` subclasses, one per status:
InvalidArgumentError, BufferTooSmallError, OutOfMemoryError, AvpganIOError (also an OSError),
ModelFormatError, UnsupportedError, MissingNetworkError, AudioFormatError, NoSpeechError,
AbortedError, InternalError; a closed object raises ModelClosedError, FaceModelClosedError,
EnhancerClosedError, TrainerClosedError, EnhancerTrainerClosedError or PriorTrainerClosedError. The result types (ModelInfo, PortraitInfo,
PortraitResult, EnhancerInfo, FaceModelInfo, TrainerInfo, Losses, EnhancerTrainerInfo,
EnhancerValidation, PriorTrainerInfo, Audio) and enums (Arch,
Pixels, Status) are importable from here too; ``help()`` on each tells more.

Threads: a :class:`Model` is immutable; any number of Python threads may call it at once (the
GIL is released inside the library) and get the results of sequential calls.
:meth:`Model.close` waits for calls in flight.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from ._lib import LibraryNotFound

__all__ = [
    "Model",
    "Enhancer",
    "FaceModel",
    "Trainer",
    "EnhancerTrainer",
    "portraits",
    "default_model",
    "default_enhancer",
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
    "EnhancerTrainerInfo",
    "EnhancerValidation",
    "EnhancerTrainerClosedError",
    "PriorTrainer",
    "PriorTrainerInfo",
    "PriorTrainerClosedError",
    "VoiceTrainingResult",
    "PixelRetrievalResult",
    "RetrievalScores",
    "FaceEvaluation",
    "FaceSimilarityRow",
    "face_similarity_recordings",
    "face_similarity_portraits",
    "face_similarity_score",
    "pixel_retrieval_recordings",
    "pixel_retrieval_embeddings",
    "pixel_retrieval_score",
    "ImageLike",
]

#: Version of these bindings (the C interface version they are written for).
__version__ = "0.1.0"

from ._arguments import PathLike  # noqa: E402  (str, os.PathLike or bytes)
#: A recording: a path, the bytes of an encoded file, or samples (a numpy array, int16 or
#: float in [-1, 1], ``[n]`` or ``[n, channels]``, with ``sample_rate``).
AudioSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, "npt.NDArray[Any]"]

from ._errors import (  # noqa: E402
    AbortedError, AudioFormatError, AvpganError, AvpganIOError, BufferTooSmallError, InternalError,
    InvalidArgumentError, MissingNetworkError, ModelClosedError, ModelFormatError, NoSpeechError,
    OutOfMemoryError, Status, UnsupportedError, _check, _decode, _error_for_status, _status_name,
)

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


def _default_path(function: str) -> str:
    """The path the library's lookup `function` (avpgan_default_*_path) finds."""
    lib = _lib.get()
    needed = ctypes.c_size_t(0)
    _check(getattr(lib, function)(None, 0, ctypes.byref(needed)), function)
    buf = ctypes.create_string_buffer(needed.value)
    _check(getattr(lib, function)(buf, needed.value, ctypes.byref(needed)), function)
    return os.fsdecode(buf.value)


def default_model() -> str:
    """The default model file's path, for callers that name none (as the avpgan command does):
    ``$AVPGAN_MODEL`` when set (and then only that); beside the library,
    ``<prefix>/share/avpgan/default.safetensors`` (``make install``, the Debian package) or a
    checkout's ``models/default.safetensors``; ``/usr/share/avpgan/default.safetensors``.

    Raises:
        AvpganIOError: none was found; the message names every place looked at.
    """
    return _default_path("avpgan_default_model_path")


def default_enhancer() -> str:
    """The default enhancer file's path (for :class:`Enhancer`), looked up as
    :func:`default_model` looks up the model, under the name ``default-enhancer.safetensors``
    and with ``$AVPGAN_ENHANCER``. The shipped one is trained on synthetic faces only
    (models/README.md).

    Raises:
        AvpganIOError: none was found; the message names every place looked at.
    """
    return _default_path("avpgan_default_enhancer_path")


from ._model_info import _PIXELS_BY_NAME, Arch, ModelInfo, Pixels, PortraitInfo, _widths  # noqa: E402
from ._loading import _load_into, _model_params  # noqa: E402
from ._model import Model  # noqa: E402
from ._portrait_params import _portrait_params  # noqa: E402
from ._media import Audio, decode, encode_png, features, pcm_16k, save_png  # noqa: E402  (needs _check above)
from ._trainer import Losses, Trainer, TrainerClosedError, TrainerInfo  # noqa: E402
from ._face import FaceModel, FaceModelClosedError, FaceModelInfo, cosine  # noqa: E402
from ._enhancer import Enhancer, EnhancerClosedError, EnhancerInfo  # noqa: E402
from ._enhancer_trainer import EnhancerTrainer  # noqa: E402
from ._enhancer_trainer_info import EnhancerTrainerClosedError, EnhancerTrainerInfo, EnhancerValidation  # noqa: E402
from ._prior_trainer import PriorTrainer, PriorTrainerClosedError, PriorTrainerInfo  # noqa: E402
from ._batch import PortraitResult, portraits  # noqa: E402
from ._evaluation import (FaceEvaluation, FaceSimilarityRow, PixelRetrievalResult, RetrievalScores,  # noqa: E402
                          evaluate_faces, pixel_retrieval)
from ._face_similarity_steps import (face_similarity_portraits, face_similarity_recordings,  # noqa: E402
                                     face_similarity_score)
from ._pixel_retrieval_steps import (pixel_retrieval_embeddings, pixel_retrieval_recordings,  # noqa: E402
                                     pixel_retrieval_score)
from ._voice_training import VoiceTrainingResult, train_voice_encoder  # noqa: E402
from ._synthetic import synth_data  # noqa: E402
from ._images import ImageLike, to_pil  # noqa: E402

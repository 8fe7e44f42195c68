""":func:`avpgan.evaluate_faces` in three steps, for callers that share the work out (as
:func:`avpgan.distributed.evaluate_faces` does on Dask): :func:`face_similarity_recordings`
lists the recordings, :func:`face_similarity_portraits` makes the portraits of any share of
them (the expensive part: front end, voice embedding and generation per recording) as bytes
that may cross processes, and :func:`face_similarity_score` scores the joined bytes once. The
rows are bit for bit those of :func:`avpgan.evaluate_faces` with the same arguments."""

from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple, Union

from . import _lib
from . import PathLike, _decode
from ._evaluation import (FaceEvaluation, _models_and_lengths, _opened, _similarity_call,
                          _similarity_params)
from ._long_call import LongCall, Progress
from ._params_init import _defaults

if TYPE_CHECKING:
    from ._face import FaceModel
    from ._model import Model

__all__ = ["face_similarity_recordings", "face_similarity_portraits", "face_similarity_score"]


def face_similarity_recordings(
    voices: PathLike,
    faces: PathLike,
    *,
    split: str = "test",
    identities: Optional[Sequence[str]] = None,
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
) -> List[str]:
    """The recordings :func:`avpgan.evaluate_faces` evaluates with these arguments, in its
    order (``avpgan_face_similarity_recordings``)."""
    p, keep = _similarity_params(["model"], voices, faces, "face model", [2.0], split=split, identities=identities,
                                 test_list=test_list, split_rule=split_rule, out_dir=None, rows=8)
    return _paths_from(_lib.get().avpgan_face_similarity_recordings, p, "avpgan_face_similarity_recordings")


def _paths_from(function: Any, params: Any, name: str) -> List[str]:
    """The paths a recordings function writes for ``params`` (a size query, then the call)."""
    needed, count = ctypes.c_size_t(0), ctypes.c_size_t(0)
    _check(function(ctypes.byref(params), None, 0, ctypes.byref(needed), ctypes.byref(count)), name)
    buf = ctypes.create_string_buffer(max(needed.value, 1))
    _check(function(ctypes.byref(params), buf, needed.value, ctypes.byref(needed), ctypes.byref(count)), name)
    paths = buf.raw[:needed.value].split(b"\0")[:-1]
    if len(paths) != count.value:
        raise RuntimeError(f"{name} wrote {len(paths)} paths but counted {count.value}")
    return [os.fsdecode(p) for p in paths]


def _records_of(model: Any, recordings: Sequence[PathLike], name: str, params: Callable[[Any], Tuple[Any, Any]],
                progress_labels: Tuple[str, str], progress: Progress, stop: Optional[Any]) -> bytes:
    """The records a records step (``avpgan_face_similarity_portraits``,
    ``avpgan_pixel_retrieval_embeddings``: the library function ``name``, called as
    ``name(model, paths, n_paths, &params, buf, size, &needed)``) writes for ``recordings``
    with ``model`` (an :class:`avpgan.Model` or a model file, opened here and closed again if
    a path): a size query, then the call that fills a buffer of that size, under a
    :class:`LongCall` with ``progress`` and ``stop`` (``progress_labels``: its task and unit).
    ``params(lib)`` makes the step's parameters once the model is open, as (params, what must
    stay alive with them). A stop raises :class:`avpgan.AbortedError`, a failure the step's
    error; ``recordings`` given as one path is a ``TypeError``."""
    from . import AbortedError, Model, Status
    if isinstance(recordings, (str, bytes, os.PathLike)):
        raise TypeError("recordings must be a sequence of paths, not one path")
    paths = [os.fsencode(r) for r in recordings]
    m, opened = _opened(model, Model, "model")
    try:
        lib = _lib.get()
        function = getattr(lib, name)
        p, keep = params(lib)
        array = (ctypes.c_char_p * max(len(paths), 1))(*paths)
        needed = ctypes.c_size_t(0)
        with m._use() as handle:
            _check(function(handle, array, len(paths), ctypes.byref(p), None, 0, ctypes.byref(needed)), name)
        buf = ctypes.create_string_buffer(max(needed.value, 1))
        with LongCall(progress, progress_labels[0], progress_labels[1], stop) as call:
            p.progress, p.abort_fn = call.progress, call.abort
            with m._use() as handle:
                status = function(handle, array, len(paths), ctypes.byref(p), buf, needed.value, ctypes.byref(needed))
                message = _decode(lib.avpgan_last_error()) if status else ""
        del keep
        if call.raise_for(status, message, name):
            raise AbortedError(int(Status.E_ABORTED), "stopped by request", name)
    finally:
        if opened:
            m.close()
    return buf.raw[:needed.value]


def _check(status: int, function: str) -> None:
    from . import _check as check
    check(status, function)


def _lengths(seconds: Any) -> List[float]:
    return _models_and_lengths(["model"], seconds)[1]


def face_similarity_portraits(
    model: Union["Model", PathLike],
    recordings: Sequence[PathLike],
    *,
    seconds: Sequence[Optional[float]] = (2, 4, 6, 8),
    progress: Progress = False,
    stop: Optional[Any] = None,
) -> bytes:
    """The portraits of ``recordings`` (a share of :func:`face_similarity_recordings`, in its
    order) at each of ``seconds``, as records for :func:`face_similarity_score`
    (``avpgan_face_similarity_portraits``): one record per recording, all of the same size, so
    the bytes of consecutive shares join by concatenation. A recording without speech is a
    record saying so; any other failure raises the first failing recording's error.

    Args:
        model: an :class:`avpgan.Model` or a model file.
        recordings: the recordings' paths, as :func:`face_similarity_recordings` gives them
            (the scoring checks each record against its path).
        seconds: as :func:`avpgan.evaluate_faces`'s (the same values the scoring is given).
        progress, stop: as :func:`avpgan.evaluate_faces`'s (progress counts portraits; off by
            default).
    """
    lengths = _lengths(seconds)

    def params(lib: Any) -> Tuple[Any, Any]:
        p = _defaults(_lib.FaceSimilarityPortraitsParams, "avpgan_face_similarity_portraits_params_init")
        seconds_array = (ctypes.c_double * len(lengths))(*lengths)
        p.seconds, p.n_seconds = seconds_array, len(lengths)
        return p, seconds_array

    return _records_of(model, recordings, "avpgan_face_similarity_portraits", params,
                       ("face similarity", "portrait"), progress, stop)


def face_similarity_score(
    models: Union["Model", PathLike, Sequence[Union["Model", PathLike]]],
    voices: PathLike,
    faces: PathLike,
    face_model: Union["FaceModel", PathLike],
    portraits: Sequence[bytes],
    *,
    seconds: Sequence[Optional[float]] = (2, 4, 6, 8),
    split: str = "test",
    identities: Optional[Sequence[str]] = None,
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    out_dir: Optional[PathLike] = None,
    rows: int = 8,
    stop: Optional[Any] = None,
) -> FaceEvaluation:
    """The report of :func:`avpgan.evaluate_faces` with the same arguments, from the portraits
    already made (``avpgan_face_similarity_score``): ``portraits[m]`` holds the records of
    ``models[m]`` for every recording of :func:`face_similarity_recordings`, in its order (the
    shares' bytes joined). A record that does not match its recording, the model or the
    lengths raises :class:`avpgan.InvalidArgumentError` naming it."""
    models, lengths = _models_and_lengths(models, seconds)
    if isinstance(portraits, (bytes, bytearray)) or len(portraits) != len(models):
        raise TypeError(f"portraits must be a sequence of one bytes object per model ({len(models)})")
    parts = [bytes(b) for b in portraits]
    starts = (ctypes.c_char_p * len(parts))(*parts)
    sizes = (ctypes.c_size_t * len(parts))(*[len(b) for b in parts])
    options = dict(split=split, identities=identities, test_list=test_list, split_rule=split_rule, out_dir=out_dir,
                   rows=rows)
    return _similarity_call(models, lengths, face_model, voices, faces, options, "avpgan_face_similarity_score",
                            LongCall(False, "face similarity", "model", stop), progress_too=False, inputs=(starts, sizes))

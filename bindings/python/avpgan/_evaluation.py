"""The two evaluations as functions: :func:`pixel_retrieval` (the learning check by pixel
distance, ``avpgan pixel-retrieval``) and :func:`evaluate_faces` (the paper's face-similarity
protocol, Table 4, ``avpgan eval``)."""

from __future__ import annotations

import contextlib
import ctypes
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _lib
from . import PathLike, _decode
from ._arguments import _choice, _path
from ._long_call import LongCall, Progress
from ._params_init import _defaults

if TYPE_CHECKING:
    from ._face import FaceModel
    from ._model import Model

__all__ = ["RetrievalScores", "PixelRetrievalResult", "pixel_retrieval", "FaceSimilarityRow", "FaceEvaluation",
           "evaluate_faces"]

#: Which identities an evaluation takes (``avpgan_eval_split``).
EVAL_SPLITS = {"test": 0, "validation": 1, "train": 2, "all": 3}
#: How the data set's identities are split (``avpgan_split``), as ``Trainer.create``'s.
SPLIT_RULES = {"test-list": 0, "initial-letter": 1}


def _opened(model: Any, cls: type, name: str) -> Tuple[Any, bool]:
    """(an open object, whether this call opened it): a path opens a new one."""
    if isinstance(model, cls):
        return model, False
    if isinstance(model, (str, bytes, os.PathLike)):
        return cls(model), True
    raise TypeError(f"{name} must be an avpgan.{cls.__name__} or a path, got {type(model).__name__}")


@contextlib.contextmanager
def _opened_models(models: Sequence[Any], face_model: Any) -> Iterator[Tuple[List[Any], Any]]:
    """The models and the face model of a face-similarity call, open for the ``with`` block:
    yields (an :class:`avpgan.Model` for each of ``models``, the :class:`avpgan.FaceModel`),
    each given as an object or a path (a wrong type is a ``TypeError`` naming ``models[i]`` or
    ``face_model``). What is opened here from a path is closed when the block ends, however it
    ends (also when opening a later one fails); objects passed in stay open."""
    from . import FaceModel, Model
    opened: List[Any] = []
    try:
        loaded = []
        for i, m in enumerate(models):
            obj, new = _opened(m, Model, f"models[{i}]")
            loaded.append(obj)
            if new:
                opened.append(obj)
        fm, new = _opened(face_model, FaceModel, "face_model")
        if new:
            opened.append(fm)
        yield loaded, fm
    finally:
        for obj in opened:
            obj.close()


def _dataset(p: Any, voices: PathLike, faces: PathLike, split: str, test_list: Optional[PathLike], split_rule: str,
             cache: Optional[PathLike]) -> List[bytes]:
    """Fills the data-set fields shared by both params structs; returns the encoded strings
    (kept alive by the caller for the duration of the call)."""
    keep = [_path(voices, "voices"), _path(faces, "faces")]
    p.voices_dir, p.faces_dir = keep
    p.eval_split = _choice(split, EVAL_SPLITS, "split")
    p.split = _choice(split_rule, SPLIT_RULES, "split_rule")
    if test_list is not None:
        keep.append(_path(test_list, "test_list"))
        p.test_list = keep[-1]
    if cache is not None and hasattr(p, "cache_dir"):
        keep.append(_path(cache, "cache"))
        p.cache_dir = keep[-1]
    return keep


@dataclass(frozen=True)
class RetrievalScores:
    """Retrieval accuracy: the fraction of probes whose own identity ranks first (``top1``) or
    in the first five (``top5``), and the mean rank of the own identity (1 = nearest)."""

    top1: float
    top5: float
    mean_rank: float


@dataclass(frozen=True)
class PixelRetrievalResult:
    """What :func:`pixel_retrieval` measured (``avpgan_pixel_retrieval_result``).

    Attributes:
        identities: identities in the gallery (one mean picture each).
        recordings: recordings with speech, one generated face each.
        generated: the generated faces' scores.
        chance: guessing's scores.
        real: the real pictures' scores, the ceiling of this metric on the data set.
    """

    identities: int
    recordings: int
    generated: RetrievalScores
    chance: RetrievalScores
    real: RetrievalScores


def pixel_retrieval(
    model: Union["Model", PathLike],
    voices: PathLike,
    faces: PathLike,
    *,
    split: str = "test",
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    cache: Optional[PathLike] = None,
    grid: Optional[PathLike] = None,
    progress: Progress = None,
    stop: Optional[Any] = None,
) -> PixelRetrievalResult:
    """Does a model's face of a recording resemble its speaker, by pixels? (``avpgan
    pixel-retrieval``.) Every recording with speech of the chosen identities gets a face (whole
    utterance, no noise), ranked by mean squared pixel difference against one mean picture per
    identity; the real pictures are ranked the same way.

    Args:
        model: an :class:`avpgan.Model` or a model file.
        voices, faces: the data set, ``voices/<identity>/<recording>`` and
            ``faces/<identity>/<picture>``.
        split: ``"test"`` (the held-out identities, default), ``"validation"``, ``"train"`` or
            ``"all"``; at least 2 identities.
        test_list: the held-out identities' list file (default ``voices/../test.txt`` when it
            exists); split_rule: ``"test-list"`` or ``"initial-letter"`` (VoxCeleb's).
        cache: the feature cache folder (default: the user's, as the command's).
        grid: a PNG file to write, per identity its mean picture then its generated faces.
        progress: None (a tqdm bar when tqdm is installed and this is a terminal or notebook),
            True/False, or ``f(done, total)`` per recording (returning False stops).
        stop: a :class:`threading.Event` (anything with ``is_set()``): stops the call.

    Stopped by ``progress``, ``stop`` or Ctrl-C (KeyboardInterrupt), it raises
    :class:`AbortedError` (or re-raises KeyboardInterrupt).
    """
    from . import Model
    m, opened = _opened(model, Model, "model")
    try:
        lib = _lib.get()
        p, keep = _retrieval_params(voices, faces, split, test_list, split_rule, cache, grid)
        r = _lib.PixelRetrievalResult()
        r.struct_size = ctypes.sizeof(r)
        with LongCall(progress, "pixel retrieval", "recording", stop) as call:
            p.progress, p.abort_fn = call.progress, call.abort
            with m._use() as handle:
                status = lib.avpgan_pixel_retrieval_evaluate(handle, ctypes.byref(p), ctypes.byref(r))
                message = _decode(lib.avpgan_last_error()) if status else ""
        if call.raise_for(status, message, "avpgan_pixel_retrieval_evaluate"):
            from . import AbortedError, Status
            raise AbortedError(int(Status.E_ABORTED), "stopped by request", "avpgan_pixel_retrieval_evaluate")
    finally:
        if opened:
            m.close()
    return _retrieval_result(r)


def _retrieval_params(voices: PathLike, faces: PathLike, split: str, test_list: Optional[PathLike], split_rule: str,
                      cache: Optional[PathLike], grid: Optional[PathLike]) -> Tuple[Any, List[Any]]:
    """An ``avpgan_pixel_retrieval_params`` for these arguments, and the objects it points into."""
    p = _defaults(_lib.PixelRetrievalParams, "avpgan_pixel_retrieval_params_init")
    keep: List[Any] = _dataset(p, voices, faces, split, test_list, split_rule, cache)
    if grid is not None:
        keep.append(_path(grid, "grid"))
        p.grid_png = keep[-1]
    return p, keep


def _retrieval_result(r: Any) -> PixelRetrievalResult:
    """The result a pixel-retrieval call filled."""
    return PixelRetrievalResult(
        identities=int(r.n_identities), recordings=int(r.n_recordings),
        generated=RetrievalScores(r.top1, r.top5, r.mean_rank),
        chance=RetrievalScores(r.chance_top1, r.chance_top5, r.chance_mean_rank),
        real=RetrievalScores(r.real_top1, r.real_top5, r.real_mean_rank))


#: Bits of ``avpgan_face_similarity.unavailable``, by the attribute they blank.
_UNAVAILABLE = {"own": 1, "impostor": 2, "difference": 4, "difference_low": 8, "difference_high": 8, "voiced_seconds": 16}


@dataclass(frozen=True)
class FaceSimilarityRow:
    """One row of the paper's Table 4 (``avpgan_face_similarity``).

    Attributes:
        model: the model's index in the list given, or None for the real faces' reference row.
        seconds: the voice length asked; None: the whole voiced recording (and the reference row).
        recordings: recordings with speech (the reference row: real faces); identities: identities.
        own: mean cosine similarity of the face with its speaker's real faces.
        impostor: mean cosine with the other identities' faces (the baseline).
        difference, difference_low, difference_high: own - impostor over speakers, with its
            95 % t interval.
        top1, top5: the speaker's faces rank first / in the first five.
        voiced_seconds: mean seconds of speech the portraits were made from.
    A measure with nothing to average (one speaker's interval; the reference row's voiced
    seconds) is NaN here.
    """

    model: Optional[int]
    seconds: Optional[float]
    recordings: int
    identities: int
    own: float
    impostor: float
    difference: float
    difference_low: float
    difference_high: float
    top1: float
    top5: float
    voiced_seconds: float


@dataclass(frozen=True)
class FaceEvaluation:
    """What :func:`evaluate_faces` measured: ``rows`` model by model, lengths in the order
    given; ``reference`` the real faces' row; ``out_dir`` the report folder, when written."""

    rows: Tuple[FaceSimilarityRow, ...]
    reference: FaceSimilarityRow
    out_dir: Optional[str] = None

    def for_model(self, index: int) -> Tuple[FaceSimilarityRow, ...]:
        """The rows of the model at ``index``."""
        return tuple(r for r in self.rows if r.model == index)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (pandas is imported on demand)."""
        import dataclasses

        import pandas as pd
        return pd.DataFrame([dataclasses.asdict(r) for r in self.rows + (self.reference,)])


def _row(raw: Any, n_models: int) -> FaceSimilarityRow:
    values = {name: float(getattr(raw, name)) for name in _UNAVAILABLE}
    for name, bit in _UNAVAILABLE.items():
        if raw.unavailable & bit:
            values[name] = float("nan")
    reference = int(raw.model_index) == n_models
    return FaceSimilarityRow(
        model=None if reference else int(raw.model_index),
        seconds=None if reference or raw.seconds == 0 else float(raw.seconds),
        recordings=int(raw.n_recordings), identities=int(raw.n_identities),
        top1=float(raw.top1), top5=float(raw.top5), **values)


def _models_and_lengths(models: Any, seconds: Any) -> Tuple[List[Any], List[float]]:
    """The models as a list (1 to 64) and the lengths as C values (0: the whole recording)."""
    from . import Model
    if isinstance(models, (Model, str, bytes, os.PathLike)):
        models = [models]
    models = list(models)
    if not 1 <= len(models) <= 64:
        raise ValueError(f"evaluate_faces takes 1 to 64 models, got {len(models)}")
    if isinstance(seconds, (int, float)) or seconds is None:
        seconds = [seconds]
    lengths = []
    for s in seconds:
        if s is not None and not (isinstance(s, (int, float)) and 0 < s <= 3600):
            raise ValueError(f"seconds must hold lengths in (0, 3600] or None, got {s!r}")
        lengths.append(0.0 if s is None else float(s))
    return models, lengths


def _similarity_params(models: Sequence[Any], voices: PathLike, faces: PathLike, face_model: Any, lengths: Sequence[float], *,
                       split: str, identities: Optional[Sequence[str]], test_list: Optional[PathLike], split_rule: str,
                       out_dir: Optional[PathLike], rows: int) -> Tuple[Any, List[Any]]:
    """An ``avpgan_face_similarity_params`` for these arguments, and the objects it points
    into (kept alive by the caller for the duration of the call)."""
    from . import FaceModel, Model
    p = _defaults(_lib.FaceSimilarityParams, "avpgan_face_similarity_params_init")
    keep: List[Any] = _dataset(p, voices, faces, split, test_list, split_rule, None)
    if identities is not None:
        if isinstance(identities, str):
            raise TypeError("identities must be a sequence of names, not one string")
        names = [str(n) for n in identities]
        if any("," in n or not n for n in names):
            raise ValueError("identity names must be non-empty and hold no commas")
        keep.append(",".join(names).encode())
        p.identities = keep[-1]
    seconds_array = (ctypes.c_double * len(lengths))(*lengths)
    p.seconds, p.n_seconds = seconds_array, len(lengths)
    labels = [os.fsencode(m) if not isinstance(m, Model) else
              os.fsencode(getattr(m, "_path", None) or f"model {i + 1}") for i, m in enumerate(models)]
    label_array = (ctypes.c_char_p * len(labels))(*labels)
    p.model_labels = label_array
    face_label = os.fsencode(face_model) if not isinstance(face_model, FaceModel) else b"face model"
    p.face_model_label = face_label
    if out_dir is not None:
        keep.append(_path(out_dir, "out_dir"))
        p.out_dir = keep[-1]
    if not isinstance(rows, int) or not 1 <= rows <= 10000:
        raise ValueError(f"rows must be an integer in 1...10000, got {rows!r}")
    p.rows = rows
    keep += [seconds_array, labels, label_array, face_label]
    return p, keep


def _rows(out: Any, n_models: int, out_dir: Optional[PathLike]) -> "FaceEvaluation":
    """The report of the rows a face-similarity call filled."""
    parsed = [_row(out[i], n_models) for i in range(len(out))]
    return FaceEvaluation(rows=tuple(parsed[:-1]), reference=parsed[-1],
                          out_dir=os.fsdecode(out_dir) if out_dir is not None else None)


def evaluate_faces(
    models: Union["Model", PathLike, Sequence[Union["Model", PathLike]]],
    voices: PathLike,
    faces: PathLike,
    face_model: Union["FaceModel", PathLike],
    *,
    seconds: Sequence[Optional[float]] = (2, 4, 6, 8),
    split: str = "test",
    identities: Optional[Sequence[str]] = None,
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    out_dir: Optional[PathLike] = None,
    rows: int = 8,
    progress: Progress = None,
    stop: Optional[Any] = None,
) -> FaceEvaluation:
    """The paper's evaluation (``avpgan eval``): each model's faces of every recording of the
    chosen identities at each voice length, embedded by ``face_model`` and compared by cosine
    similarity with the real faces of the speaker (own) and of the others (impostor).

    Args:
        models: one or more :class:`avpgan.Model` objects or model files.
        voices, faces: the data set (as :func:`pixel_retrieval`'s).
        face_model: an :class:`avpgan.FaceModel` or a face-recognition model file.
        seconds: voice lengths in seconds; None: the whole voiced recording.
        split: ``"test"`` (default), ``"validation"``, ``"train"`` or ``"all"``; or
            identities: names of the identities to take instead (at least 2).
        test_list, split_rule: how the data set is split (as :func:`pixel_retrieval`'s).
        out_dir: a folder for the report files of ``avpgan eval -o`` (eval.md, eval.csv,
            eval-recordings.csv, eval.json, grid.png, sweep-N.png), labelled by the file names
            of models given as paths.
        rows: identities shown in the figures.
        progress, stop: as :func:`pixel_retrieval`'s (progress counts portraits).
    """
    models, lengths = _models_and_lengths(models, seconds)
    options = dict(split=split, identities=identities, test_list=test_list, split_rule=split_rule, out_dir=out_dir,
                   rows=rows)
    return _similarity_call(models, lengths, face_model, voices, faces, options, "avpgan_face_similarity_evaluate",
                            LongCall(progress, "face similarity", "portrait", stop), progress_too=True)


def _similarity_call(models: Sequence[Any], lengths: Sequence[float], face_model: Any, voices: PathLike, faces: PathLike,
                     options: Dict[str, Any], name: str, long_call: LongCall, *, progress_too: bool,
                     inputs: Tuple[Any, ...] = ()) -> "FaceEvaluation":
    """The report of a face-similarity library call (``name``: ``avpgan_face_similarity_evaluate``
    or ``_score``, called as ``name(models, n_models, face_model, &params, *inputs, rows, n_rows,
    &needed)``) with every model and the face model open (those given as paths opened here and
    closed again), the params made by :func:`_similarity_params` from ``options``, under
    ``long_call`` (its progress callback passed only when ``progress_too``). A stop raises
    :class:`avpgan.AbortedError`, a failure the call's error."""
    from . import AbortedError, Status
    with _opened_models(models, face_model) as (loaded, fm):
        lib = _lib.get()
        p, keep = _similarity_params(models, voices, faces, face_model, lengths, **options)
        n = len(loaded) * len(lengths) + 1
        out = (_lib.FaceSimilarity * n)()
        needed = ctypes.c_size_t(0)
        with long_call as call:
            if progress_too:
                p.progress = call.progress
            p.abort_fn = call.abort
            with contextlib.ExitStack() as held:  # every handle stays open for the call
                handles = [held.enter_context(m._use()) for m in loaded]
                face_handle = held.enter_context(fm._use())
                array = (_lib.ModelHandle * len(handles))(*handles)
                status = getattr(lib, name)(array, len(handles), face_handle, ctypes.byref(p), *inputs,
                                            out, n, ctypes.byref(needed))
                message = _decode(lib.avpgan_last_error()) if status else ""
        del keep
        if call.raise_for(status, message, name):
            raise AbortedError(int(Status.E_ABORTED), "stopped by request", name)
    return _rows(out, len(loaded), out_dir=options["out_dir"])

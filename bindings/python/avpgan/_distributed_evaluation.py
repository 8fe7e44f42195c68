"""The evaluations on a Dask cluster: :func:`evaluate_faces` (:func:`avpgan.evaluate_faces`,
``avpgan eval``) and :func:`pixel_retrieval` (:func:`avpgan.pixel_retrieval`) map the
per-recording work over the workers and score once on the client, with the library's steps
(:mod:`avpgan._face_similarity_steps`, :mod:`avpgan._pixel_retrieval_steps`).

The results are the one-process results bit for bit: each worker does its recordings' part
(portraits; or features and voice embeddings) as the library does in one process and returns
it as exact bytes; the client joins them in recording order and scores them in the same batches
as one process."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import PathLike
from ._batch import progress_bar as _progress_bar
from ._evaluation import FaceEvaluation, PixelRetrievalResult
from ._face_similarity_steps import face_similarity_portraits, face_similarity_recordings, face_similarity_score
from ._pixel_retrieval_steps import pixel_retrieval_embeddings, pixel_retrieval_recordings, pixel_retrieval_score

__all__ = ["evaluate_faces", "pixel_retrieval"]


def _task(kind: str, model_path: str, recordings: List[str], options: Dict[str, Any], threads: int) -> Tuple[str, Any]:
    """On a worker: ("ok", the records of ``recordings``: "portraits" or "embeddings") with the
    worker's loaded model, or ("error", the exception) for a failure that is the data's or the
    set-up's, not the worker's (those are returned, not raised, so Dask does not retry them)."""
    from .distributed import _load

    if not os.path.isfile(model_path):
        from dask.distributed import get_worker
        return "error", FileNotFoundError(f"the model file {model_path} is missing on the Dask worker "
                                          f"{get_worker().address} (the workers must reach it under the same path)")
    try:
        model = _load("model", model_path, threads)
        make = face_similarity_portraits if kind == "portraits" else pixel_retrieval_embeddings
        return "ok", make(model, recordings, progress=False, **options)
    except Exception as e:  # noqa: B902 - an avpgan error (a bad recording) goes back to the client as it is
        return "error", e


def _records(client: Any, kind: str, paths: List[str], recordings: List[str], options: Dict[str, Any], *,
             progress: Optional[bool], chunk: int, retries: int, threads: int) -> List[bytes]:
    """Each model's records of every recording, made by the cluster in tasks of ``chunk``
    recordings and joined in order; the first error (model by model, in recording order) is
    raised after every task is done."""
    from dask.distributed import as_completed

    from .distributed import _client

    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    shares = [recordings[i:i + chunk] for i in range(0, len(recordings), chunk)]
    with _client(client) as client:
        futures = [client.submit(_task, kind, path, share, options, threads, pure=False, retries=retries)
                   for path in paths for share in shares]
        index = {f.key: i for i, f in enumerate(futures)}
        results: List[Any] = [None] * len(futures)
        bar = _progress_bar(len(paths) * len(recordings), progress, unit="recording", desc=kind)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                results[i] = future.result()  # a task whose workers all died raises here
                if bar is not None:
                    bar.update(len(shares[i % len(shares)]))
        finally:
            if bar is not None:
                bar.close()
    for status, value in results:
        if status == "error":
            raise value
    return [b"".join(value for _, value in results[m * len(shares):(m + 1) * len(shares)]) for m in range(len(paths))]


def _existing(paths: List[PathLike]) -> List[str]:
    """Absolute paths of model files, each checked on the client."""
    out = [os.path.abspath(os.fsdecode(p)) for p in paths]
    for p in out:
        if not os.path.isfile(p):
            raise FileNotFoundError(f"model file {p} does not exist")
    return out


def evaluate_faces(
    model_path: Union[PathLike, Sequence[PathLike]],
    face_model_path: PathLike,
    voices: PathLike,
    faces: PathLike,
    *,
    client: Any = None,
    seconds: Sequence[Optional[float]] = (2, 4, 6, 8),
    split: str = "test",
    identities: Optional[Sequence[str]] = None,
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    out_dir: Optional[PathLike] = None,
    rows: int = 8,
    progress: Optional[bool] = None,
    chunk: int = 1,
    retries: int = 2,
    threads: int = 1,
) -> FaceEvaluation:
    """:func:`avpgan.evaluate_faces` with the portraits made on a Dask cluster: the same
    :class:`avpgan.FaceEvaluation`, with the same values bit for bit.

    Each task makes the portraits of ``chunk`` recordings with its worker's model (loaded once
    per worker process); the client lists the recordings, gathers the portraits, and embeds
    and scores them once (it loads the models and the face model too). The model files, the
    recordings and the data set must be reachable under the same paths from every worker and
    the client (a shared file system); a model file a worker cannot see is a clear
    :class:`FileNotFoundError`.

    Args:
        model_path: a model file, or several (as ``evaluate_faces``'s ``models``).
        face_model_path: the face-recognition model file (read on the client only).
        voices, faces, seconds, split, identities, test_list, split_rule, out_dir, rows: as
            :func:`avpgan.evaluate_faces`'s.
        client: a ``dask.distributed.Client``; None takes the current one, or starts a
            ``LocalCluster`` for this call.
        progress: a tqdm bar over the tasks (None: when tqdm is installed and this is a
            terminal or notebook).
        chunk: recordings per task.
        retries: how often a task that raised is run again (failures of the data or of the
            set-up come back as values and are not retried; a task whose worker died is
            run elsewhere by Dask's scheduler, up to its ``allowed-failures``).
        threads: library threads per task (``avpgan.set_num_threads`` on each worker).

    A recording that fails (other than for having no speech, which leaves it out as in one
    process) raises the error :func:`avpgan.evaluate_faces` raises for it: the first failing
    recording's, model by model, in recording order.
    """
    single = isinstance(model_path, (str, bytes, os.PathLike))
    paths = _existing([model_path] if single else list(model_path))
    _existing([face_model_path])
    lengths = [seconds] if isinstance(seconds, (int, float)) or seconds is None else list(seconds)
    recordings = face_similarity_recordings(voices, faces, split=split, identities=identities, test_list=test_list,
                                            split_rule=split_rule)
    portraits = _records(client, "portraits", paths, recordings, {"seconds": lengths}, progress=progress, chunk=chunk,
                         retries=retries, threads=threads)
    # Labelled as given, as the one-process function labels them in out_dir's files.
    return face_similarity_score(model_path if single else list(model_path), voices, faces, face_model_path, portraits,
                                 seconds=lengths, split=split, identities=identities, test_list=test_list,
                                 split_rule=split_rule, out_dir=out_dir, rows=rows)


def pixel_retrieval(
    model_path: PathLike,
    voices: PathLike,
    faces: PathLike,
    *,
    client: Any = None,
    split: str = "test",
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    cache: Optional[PathLike] = None,
    grid: Optional[PathLike] = None,
    progress: Optional[bool] = None,
    chunk: int = 1,
    retries: int = 2,
    threads: int = 1,
) -> PixelRetrievalResult:
    """:func:`avpgan.pixel_retrieval` with the voice embeddings computed on a Dask cluster: the
    same :class:`avpgan.PixelRetrievalResult`, with the same values bit for bit.

    Each task computes the features (through ``cache``) and voice embeddings of ``chunk``
    recordings with its worker's model; the client generates and ranks the faces once. The model
    file, the data set and the cache folder must be reachable under the same paths from every
    worker and the client. Arguments as :func:`avpgan.pixel_retrieval`'s and
    :func:`evaluate_faces`'s (``cache`` None: each worker's user cache).
    """
    model = _existing([model_path])[0]
    recordings = pixel_retrieval_recordings(voices, faces, split=split, test_list=test_list, split_rule=split_rule)
    options = {"cache": os.path.abspath(os.fsdecode(cache)) if cache is not None else None}
    embeddings = _records(client, "embeddings", [model], recordings, options, progress=progress, chunk=chunk,
                          retries=retries, threads=threads)[0]
    return pixel_retrieval_score(model_path, voices, faces, embeddings, split=split, test_list=test_list,
                                 split_rule=split_rule, grid=grid)

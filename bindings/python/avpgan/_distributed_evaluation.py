"""The paper's face evaluation (:func:`avpgan.evaluate_faces`, ``avpgan eval``) on a Dask
cluster: :func:`evaluate_faces` maps the per-recording work over the workers and scores once on
the client, with the library's steps (:mod:`avpgan._face_similarity_steps`).

The report is the one-process report bit for bit: each worker makes the portraits of its
recordings (front end, voice embedding, generation) as the library does in one process, and
returns them as exact bytes; the client joins them in recording order and embeds and scores
them in the same batches as one process."""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import PathLike
from ._batch import progress_bar as _progress_bar
from ._evaluation import FaceEvaluation
from ._face_similarity_steps import face_similarity_portraits, face_similarity_recordings, face_similarity_score

__all__ = ["evaluate_faces"]


def _portraits_task(model_path: str, recordings: List[str], seconds: List[Optional[float]],
                    threads: int) -> Tuple[str, Any]:
    """On a worker: ("ok", the records of ``recordings``) with the worker's loaded model, or
    ("error", the exception) for a failure that is the data's or the set-up's, not the
    worker's (those are returned, not raised, so Dask does not retry them)."""
    from .distributed import _load

    if not os.path.isfile(model_path):
        from dask.distributed import get_worker
        return "error", FileNotFoundError(f"evaluate_faces: the model file {model_path} is missing on the Dask worker "
                                          f"{get_worker().address} (the workers must reach it under the same path)")
    try:
        model = _load("model", model_path, threads)
        return "ok", face_similarity_portraits(model, recordings, seconds=seconds, progress=False)
    except Exception as e:  # noqa: B902 - an avpgan error (a bad recording) goes back to the client as it is
        return "error", e


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
    from dask.distributed import as_completed

    from .distributed import _client

    single = isinstance(model_path, (str, bytes, os.PathLike))
    paths = [os.path.abspath(os.fsdecode(p)) for p in ([model_path] if single else list(model_path))]
    for p in paths + [os.path.abspath(os.fsdecode(face_model_path))]:
        if not os.path.isfile(p):
            raise FileNotFoundError(f"evaluate_faces: model file {p} does not exist")
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    lengths = [seconds] if isinstance(seconds, (int, float)) or seconds is None else list(seconds)
    recordings = face_similarity_recordings(voices, faces, split=split, identities=identities, test_list=test_list,
                                            split_rule=split_rule)
    shares = [recordings[i:i + chunk] for i in range(0, len(recordings), chunk)]
    with _client(client) as client:
        futures = [client.submit(_portraits_task, path, share, lengths, threads, pure=False, retries=retries)
                   for path in paths for share in shares]
        index = {f.key: i for i, f in enumerate(futures)}
        results: List[Any] = [None] * len(futures)
        bar = _progress_bar(len(paths) * len(recordings), progress, unit="recording", desc="face similarity")
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
    portraits = [b"".join(value for _, value in results[m * len(shares):(m + 1) * len(shares)]) for m in range(len(paths))]
    # Labelled as given, as the one-process function labels them in out_dir's files.
    return face_similarity_score(model_path if single else list(model_path), voices, faces, face_model_path, portraits, seconds=lengths, split=split, identities=identities, test_list=test_list,
                                 split_rule=split_rule, out_dir=out_dir, rows=rows)

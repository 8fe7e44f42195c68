"""Portraits of many recordings, and the paper's face evaluation, on a Dask cluster
(``dask.distributed``).

:func:`evaluate_faces` is :func:`avpgan.evaluate_faces` with the portraits made by the workers
and the scoring done once on the client: the same report, bit for bit (see its docstring);
:func:`pixel_retrieval` likewise for :func:`avpgan.pixel_retrieval`.

``portraits(sources, model_path, out_dir)`` maps the recordings over the cluster's workers.
Each worker process loads the model once and writes each PNG itself, with
:meth:`avpgan.Model.save_portrait`, so every file is byte for byte what ``avpgan portrait
--out-dir`` writes for the same recording and options, named the same way (``<stem>.png``,
``<stem>-2.png`` for a second recording of the same name). ``out_dir`` and the recordings must be
reachable under the same paths from every worker (a shared file system).

One result per recording, in the order of the sources: a bad recording is a failed row, not a
failed job; the tasks of a worker that dies are run again elsewhere by Dask's scheduler (up to
its ``allowed-failures``). A rerun skips outputs that are complete and were made from the same
model and recording (their provenance chunks name both SHA-256s); an existing output that is
not is reported, never replaced, unless ``overwrite=True``. Options that are not in the
provenance check (seconds, noise, ...) are the caller's to keep the same across reruns, or to
pass with ``overwrite=True``.

Needs ``dask[distributed]`` (``pip install "dask[distributed]"``); the rest of avpgan does not.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from ._batch import (AUDIO_EXTENSIONS, Path, PortraitResult, inputs as _inputs, outputs as _outputs,
                     portray_one, progress_bar as _progress_bar, provenance, sha256_file as _sha256)

__all__ = ["PortraitResult", "portraits", "evaluate_faces", "pixel_retrieval", "AUDIO_EXTENSIONS", "provenance"]


# One loaded model (and enhancer) per worker process and path.
_loaded: Dict[Tuple[str, str, int], Any] = {}
_loaded_lock = threading.Lock()


def _load(kind: str, path: str, threads: int) -> Any:
    import avpgan

    with _loaded_lock:
        key = (kind, path, threads)
        if key not in _loaded:
            avpgan.set_num_threads(threads)
            _loaded[key] = avpgan.Model(path) if kind == "model" else avpgan.Enhancer(path)
        return _loaded[key]


@contextlib.contextmanager
def _client(client: Any) -> Iterator[Any]:
    """``client``; or None: the current client, or a ``LocalCluster`` started (and closed) here."""
    from dask.distributed import Client, get_client

    if client is not None:
        yield client
        return
    try:
        yield get_client()
        return
    except ValueError:
        pass
    own = Client(processes=True, dashboard_address=None)
    try:
        yield own
    finally:
        own.close()
        cluster = getattr(own, "cluster", None)
        if cluster is not None:
            cluster.close()


def _portray(source: str, output: str, model_path: str, model_sha256: str, enhancer_path: Optional[str],
             enhancer_sha256: Optional[str], options: Dict[str, Any], overwrite: bool, threads: int) -> PortraitResult:
    """One recording, on a worker, with the worker's loaded model (and enhancer)."""
    enhancer = _load("enhancer", enhancer_path, threads) if enhancer_path else None
    return portray_one(_load("model", model_path, threads), enhancer, source, output, model_sha256, enhancer_sha256,
                       options, overwrite)


def portraits(
    sources: Iterable[Path],
    model_path: Path,
    out_dir: Path,
    *,
    client: Any = None,
    enhancer_path: Optional[Path] = None,
    overwrite: bool = False,
    progress: Optional[bool] = None,
    retries: int = 2,
    threads: int = 1,
    **portrait_options: Any,
) -> List[PortraitResult]:
    """Portraits of every recording in ``sources`` (files, or folders of audio files), written
    to ``out_dir`` by the workers of a Dask cluster.

    Args:
        sources: recordings and folders of recordings.
        model_path: the model file, readable from every worker.
        out_dir: where the PNGs go (made when missing), writable from every worker.
        client: a ``dask.distributed.Client``; None takes the current one, or starts a
            ``LocalCluster`` for this call.
        enhancer_path: an enhancer file, readable from every worker: each face is restored and
            enlarged (as ``avpgan portrait --enhance``), and the resume check includes its SHA-256.
        overwrite: replace existing outputs (otherwise matching ones are skipped and others
            reported as failed).
        progress: a tqdm bar (None: when tqdm is installed and this is a terminal or notebook).
        retries: how often a task that raised is run again (a bad recording is a row, not an
            exception; a task whose worker died is run elsewhere by Dask's scheduler).
        threads: library threads per task (``avpgan.set_num_threads`` on each worker).
        portrait_options: ``seconds``, ``vad``, ``vad_mode``, ``pixels``, ``noise``, ``seed``,
            ``provenance``, ``timestamp``, as :meth:`avpgan.Model.save_portrait`.

    Returns:
        One :class:`PortraitResult` per recording, in the order of the sources.
    """
    from dask.distributed import as_completed

    model = os.path.abspath(os.fspath(model_path))
    if not os.path.isfile(model):
        raise FileNotFoundError(f"portraits: model file {model} does not exist")
    enhancer = os.path.abspath(os.fspath(enhancer_path)) if enhancer_path is not None else None
    if enhancer is not None and not os.path.isfile(enhancer):
        raise FileNotFoundError(f"portraits: enhancer file {enhancer} does not exist")
    enhancer_sha256 = _sha256(enhancer) if enhancer is not None else None
    out = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out, exist_ok=True)
    inputs = [os.path.abspath(p) for p in _inputs(sources)]
    outputs = _outputs(inputs, out)
    model_sha256 = _sha256(model)
    with _client(client) as client:
        futures = [client.submit(_portray, source, output, model, model_sha256, enhancer, enhancer_sha256,
                                 dict(portrait_options), overwrite, threads, pure=False, retries=retries)
                   for source, output in zip(inputs, outputs)]
        index = {f.key: i for i, f in enumerate(futures)}
        results: List[Optional[PortraitResult]] = [None] * len(futures)
        bar = _progress_bar(len(futures), progress)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    results[i] = future.result()
                except Exception as e:  # a task that failed on every try (its workers died)
                    results[i] = PortraitResult(inputs[i], outputs[i], "failed", f"task failed: {e}", 0.0, 0.0)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return [r for r in results if r is not None]


from ._distributed_evaluation import evaluate_faces, pixel_retrieval  # noqa: E402

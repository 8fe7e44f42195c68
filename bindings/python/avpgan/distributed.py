"""Portraits of many recordings on a Dask cluster (``dask.distributed``).

``portraits(sources, model_path, out_dir)`` maps the recordings over the cluster's workers.
Each worker process loads the model once and writes each PNG itself, with
:meth:`avpgan.Model.save_portrait`, so every file is byte for byte what ``avpgan portrait
--out-dir`` writes for the same recording and options, named the same way (``<stem>.png``,
``<stem>-2.png`` for a second recording of the same name). ``out_dir`` and the recordings must be
reachable under the same paths from every worker (a shared file system).

One result per recording, in the order of the sources: a bad recording is a failed row, not a
failed job; the tasks of a worker that dies are run again elsewhere (``retries``). A rerun skips
outputs that are complete and were made from the same model and recording (their provenance
chunks name both SHA-256s); an existing output that is not is reported, never replaced, unless
``overwrite=True``. Options that are not in the provenance check (seconds, noise, ...) are the
caller's to keep the same across reruns, or to pass with ``overwrite=True``.

Needs ``dask[distributed]`` (``pip install "dask[distributed]"``); the rest of avpgan does not.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ["PortraitResult", "portraits", "AUDIO_EXTENSIONS", "provenance"]

#: The extensions ``avpgan portrait`` takes from a folder (Sources/avpgan-cli/BatchRunner.swift).
AUDIO_EXTENSIONS = frozenset(["wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "au", "caf", "w64", "rf64"])

Path = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class PortraitResult:
    """The outcome for one recording.

    Attributes:
        source: the recording's path.
        output: the PNG's path (written, kept, or where it would have gone).
        status: ``"ok"`` (written), ``"skipped"`` (a complete, matching PNG was there) or
            ``"failed"``.
        error: why it failed (the library's message), else ``""``.
        voiced_seconds: seconds of voice the portrait was made from (0 when failed; read from
            the existing PNG when skipped).
        seconds: wall-clock seconds the task took on its worker.
    """

    source: str
    output: str
    status: str
    error: str
    voiced_seconds: float
    seconds: float


def provenance(png_path: Path) -> Optional[Dict[str, str]]:
    """The text entries (tEXt and uncompressed iTXt chunks: libavpgan writes its provenance as
    iTXt) of a complete PNG file (every chunk's CRC checked, IEND present), or None when the
    file is not one."""
    try:
        with open(png_path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    text: Dict[str, str] = {}
    at = 8
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + length]
        if len(body) != length or at + 12 + length > len(data):
            return None
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return None
        if kind == b"tEXt" and b"\0" in body:
            key, value = body.split(b"\0", 1)
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt" and b"\0" in body:
            # keyword \0 compression-flag method language \0 translated-keyword \0 text
            key, rest = body.split(b"\0", 1)
            if len(rest) >= 2 and rest[0] == 0:
                parts = rest[2:].split(b"\0", 2)
                if len(parts) == 3:
                    text[key.decode("latin-1")] = parts[2].decode("utf-8", "replace")
        if kind == b"IEND":
            return text
        at += 12 + length
    return None


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _inputs(sources: Iterable[Path]) -> List[str]:
    """Files as given; folders walked (sorted) for audio files, as ``avpgan portrait`` does."""
    out: List[str] = []
    for source in sources:
        path = os.fspath(source)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name.rsplit(".", 1)[-1].lower() in AUDIO_EXTENSIONS and "." in name:
                        out.append(os.path.join(root, name))
        else:
            out.append(path)
    return out


def _outputs(inputs: Sequence[str], out_dir: str) -> List[str]:
    """``<stem>.png``, then ``<stem>-2.png``, ... for recordings of the same name."""
    used: Dict[str, int] = {}
    outputs = []
    for path in inputs:
        base = os.path.basename(path)
        stem = base[:base.rindex(".")] if "." in base[1:] else base
        used[stem] = used.get(stem, 0) + 1
        outputs.append(os.path.join(out_dir, f"{stem}.png" if used[stem] == 1 else f"{stem}-{used[stem]}.png"))
    return outputs


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


def _portray(source: str, output: str, model_path: str, model_sha256: str, enhancer_path: Optional[str],
             enhancer_sha256: Optional[str], options: Dict[str, Any], overwrite: bool, threads: int) -> PortraitResult:
    """One recording, on a worker. Never raises for a bad recording: the row says why."""
    import avpgan

    start = time.monotonic()

    def row(status: str, error: str = "", voiced: float = 0.0) -> PortraitResult:
        return PortraitResult(source, output, status, error, voiced, time.monotonic() - start)

    try:
        if os.path.lexists(output) and not overwrite:
            chunks = provenance(output)
            if chunks is None:
                return row("failed", f"{output} exists and is not a complete PNG (overwrite=True replaces it)")
            if (chunks.get("avpgan:model-sha256") != model_sha256 or chunks.get("avpgan:audio-sha256") != _sha256(source)
                    or chunks.get("avpgan:enhancer-sha256") != enhancer_sha256):
                return row("failed", f"{output} exists and was made from another model, enhancer or recording "
                                     "(overwrite=True replaces it)")
            return row("skipped", voiced=float(chunks.get("avpgan:voiced-seconds", "0") or 0))
        enhancer = _load("enhancer", enhancer_path, threads) if enhancer_path else None
        info = _load("model", model_path, threads).save_portrait(source, output, enhancer=enhancer, **options)
        return row("ok", voiced=info.voiced_seconds)
    except (avpgan.AvpganError, OSError, ValueError) as e:
        return row("failed", str(e))


def _progress_bar(total: int, progress: Optional[bool]) -> Any:
    """A tqdm bar when asked, or when tqdm is installed and stderr is a terminal or a notebook."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if progress is None:
        progress = sys.stderr.isatty() or "ipykernel" in sys.modules
    return tqdm(total=total, unit="file", desc="portraits") if progress else None


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
        retries: how often a task whose worker died is run again.
        threads: library threads per task (``avpgan.set_num_threads`` on each worker).
        portrait_options: ``seconds``, ``vad``, ``vad_mode``, ``pixels``, ``noise``, ``seed``,
            ``provenance``, ``timestamp``, as :meth:`avpgan.Model.save_portrait`.

    Returns:
        One :class:`PortraitResult` per recording, in the order of the sources.
    """
    from dask.distributed import Client, as_completed, get_client

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
    own_client = None
    if client is None:
        try:
            client = get_client()
        except ValueError:
            own_client = client = Client(processes=True, dashboard_address=None)
    try:
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
    finally:
        if own_client is not None:
            own_client.close()
            cluster = getattr(own_client, "cluster", None)
            if cluster is not None:
                cluster.close()

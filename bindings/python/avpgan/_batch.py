"""Portraits of many recordings, written as PNG files the way ``avpgan portrait --out-dir`` writes
them: the pieces shared by :func:`avpgan.portraits` (one process) and
:func:`avpgan.distributed.portraits` (a Dask cluster), and the provenance reader their reruns use."""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

Path = Union[str, "os.PathLike[str]"]

#: The extensions ``avpgan portrait`` takes from a folder (Sources/avpgan-cli/BatchRunner.swift).
AUDIO_EXTENSIONS = frozenset(["wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif", "au", "caf", "w64", "rf64"])

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


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inputs(sources: Iterable[Path]) -> List[str]:
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


def outputs(inputs: Sequence[str], out_dir: str) -> List[str]:
    """``<stem>.png``, then ``<stem>-2.png``, ... for recordings of the same name."""
    used: Dict[str, int] = {}
    outputs = []
    for path in inputs:
        base = os.path.basename(path)
        stem = base[:base.rindex(".")] if "." in base[1:] else base
        used[stem] = used.get(stem, 0) + 1
        outputs.append(os.path.join(out_dir, f"{stem}.png" if used[stem] == 1 else f"{stem}-{used[stem]}.png"))
    return outputs


def progress_bar(total: int, progress: Optional[bool], unit: str = "file", desc: str = "portraits") -> Any:
    """A tqdm bar when asked, or when tqdm is installed and stderr is a terminal or a notebook."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if progress is None:
        progress = sys.stderr.isatty() or "ipykernel" in sys.modules
    return tqdm(total=total, unit=unit, desc=desc) if progress else None



def portray_one(model: Any, enhancer: Any, source: str, output: str, model_sha256: str,
                enhancer_sha256: Optional[str], options: Dict[str, Any], overwrite: bool) -> PortraitResult:
    """One recording with a loaded ``model`` (and ``enhancer``, or None). Never raises for a bad
    recording or an output in the way: the row says why. An existing output is skipped when it
    is a complete PNG made from the same model, enhancer and recording, else reported."""
    from . import AvpganError

    start = time.monotonic()

    def row(status: str, error: str = "", voiced: float = 0.0) -> PortraitResult:
        return PortraitResult(source, output, status, error, voiced, time.monotonic() - start)

    try:
        if os.path.lexists(output) and not overwrite:
            chunks = provenance(output)
            if chunks is None:
                return row("failed", f"{output} exists and is not a complete PNG (overwrite=True replaces it)")
            if (chunks.get("avpgan:model-sha256") != model_sha256 or chunks.get("avpgan:audio-sha256") != sha256_file(source)
                    or chunks.get("avpgan:enhancer-sha256") != enhancer_sha256):
                return row("failed", f"{output} exists and was made from another model, enhancer or recording "
                                     "(overwrite=True replaces it)")
            return row("skipped", voiced=float(chunks.get("avpgan:voiced-seconds", "0") or 0))
        info = model.save_portrait(source, output, enhancer=enhancer, **options)
        return row("ok", voiced=info.voiced_seconds)
    except (AvpganError, OSError, ValueError) as e:
        return row("failed", str(e))


def portraits(
    sources: Iterable[Path],
    out_dir: Path,
    *,
    model: Any = None,
    enhancer: Any = None,
    overwrite: bool = False,
    progress: Optional[bool] = None,
    **portrait_options: Any,
) -> List[PortraitResult]:
    """Portraits of every recording in ``sources`` (files, or folders of audio files) written to
    ``out_dir`` in this process, as ``avpgan portrait --out-dir`` writes them (the same names and
    bytes).

    Args:
        sources: recordings and folders of recordings.
        out_dir: where the PNGs go (made when missing).
        model: an :class:`avpgan.Model` or a model file's path; None: the default model.
        enhancer: an :class:`avpgan.Enhancer`, an enhancer file's path, or None.
        overwrite: replace existing outputs (otherwise complete ones from the same model,
            enhancer and recording are skipped, and others reported as failed).
        progress: a tqdm bar (None: when tqdm is installed and this is a terminal or notebook).
        portrait_options: ``seconds``, ``vad``, ``vad_mode``, ``pixels``, ``noise``, ``seed``,
            ``provenance``, ``timestamp``, as :meth:`avpgan.Model.save_portrait`.

    Returns:
        One :class:`PortraitResult` per recording, in order; a bad recording is a failed row.
    """
    from . import Enhancer, Model, default_model

    own = []
    if not isinstance(model, Model):
        model = Model(default_model() if model is None else model)
        own.append(model)
    if enhancer is not None and not isinstance(enhancer, Enhancer):
        enhancer = Enhancer(enhancer)
        own.append(enhancer)
    try:
        out = os.fspath(out_dir)
        os.makedirs(out, exist_ok=True)
        files = inputs(sources)
        targets = outputs(files, out)
        # Provenance checks need the files; a model or enhancer loaded from bytes has none, and
        # then existing outputs are reported rather than taken as done.
        model_path, enhancer_path = getattr(model, "_path", None), getattr(enhancer, "_path", None)
        model_sha = sha256_file(model_path) if model_path else ""
        enhancer_sha = sha256_file(enhancer_path) if enhancer_path else (None if enhancer is None else "")
        bar = progress_bar(len(files), progress)
        results = []
        try:
            for source, output in zip(files, targets):
                results.append(portray_one(model, enhancer, source, output, model_sha, enhancer_sha,
                                           dict(portrait_options), overwrite))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return results
    finally:
        for thing in own:
            thing.close()

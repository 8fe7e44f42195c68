"""A synthetic voice-face data set as a function: :func:`synth_data` (``avpgan synth-data``)."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Optional

from . import _lib
from . import PathLike, _decode
from ._arguments import _path
from ._long_call import LongCall, Progress
from ._params_init import _defaults

__all__ = ["synth_data"]


def synth_data(
    out_dir: PathLike,
    *,
    speakers: int = 20,
    utterances: int = 4,
    faces: int = 4,
    seed: int = 1,
    progress: Progress = None,
    stop: Optional[Any] = None,
) -> str:
    """Writes a voice-face data set whose faces depend on the voices (``avpgan synth-data``),
    to see the pipeline learn: ``voices/<id>/<k>.wav`` spoken by espeak-ng (which must be
    installed), ``faces/<id>/<k>.png`` procedural 64x64 faces, ``identities.csv`` and
    ``test.txt`` (every fifth speaker held out). Deterministic for a seed.

    Args:
        speakers: 2-10000; utterances, faces: per speaker, 1-100.
        progress: None (a tqdm bar when installed and on a terminal or notebook), True/False,
            or ``f(done, total)`` per speaker (returning False stops: :class:`AbortedError`).
        stop: a :class:`threading.Event`; stops before the next speaker.

    Returns:
        ``out_dir`` as a string, e.g. for ``os.path.join(out, "voices")``.
    """
    from . import AbortedError, Status
    for value, name, low, high in ((speakers, "speakers", 2, 10000), (utterances, "utterances", 1, 100),
                                   (faces, "faces", 1, 100), (seed, "seed", 0, 2**64 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in {low}...{high}, got {value!r}")
    directory = _path(out_dir, "out_dir")
    lib = _lib.get()
    p = _defaults(_lib.SyntheticParams, "avpgan_synthetic_params_init")
    p.speakers, p.utterances, p.faces, p.seed = speakers, utterances, faces, seed
    with LongCall(progress, "speakers", "speaker", stop) as call:
        p.progress, p.abort_fn = call.progress, call.abort
        status = lib.avpgan_synthetic_dataset_write(directory, ctypes.byref(p))
        message = _decode(lib.avpgan_last_error()) if status else ""
    if call.raise_for(status, message, "avpgan_synthetic_dataset_write"):
        raise AbortedError(int(Status.E_ABORTED), "stopped by request", "avpgan_synthetic_dataset_write")
    return os.fsdecode(directory)

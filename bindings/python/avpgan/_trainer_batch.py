"""The checks of an explicit training batch (:meth:`Trainer.gan_step`): numpy arrays or torch
tensors in, contiguous float32 / int32 arrays out, with messages naming the argument."""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(x: Any) -> np.ndarray:
    """A numpy array of x; torch tensors (any device, with or without grad) are detached first."""
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _floats(x: Any, name: str) -> np.ndarray:
    arr = _array(x)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"gan_step: {name} must be a float array, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _labels(x: Any, name: str, n: int, identities: int) -> np.ndarray:
    arr = _array(x)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"gan_step: {name} must hold integers (class indices), got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"gan_step: {name} must have shape [N] = ({n},), got {arr.shape}")
    bad = np.flatnonzero((arr < 0) | (arr >= identities))
    if bad.size:
        raise ValueError(f"gan_step: {name}[{bad[0]}] is {arr[bad[0]]}; labels must be in 0...{identities - 1} "
                         f"(the trainer has {identities} identities)")
    return np.ascontiguousarray(arr, dtype=np.int32)

"""The one loading path of Model, FaceModel and Enhancer: load params and
``avpgan_<kind>_load_file`` / ``_load_buffer`` into a handle."""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

from . import _lib
from . import _as_int
from ._errors import _check
from ._params_init import _defaults

def _model_params(inference_only: bool, max_header_bytes: int) -> _lib.ModelParams:
    max_header_bytes = _as_int(max_header_bytes, "max_header_bytes")
    if not 0 <= max_header_bytes < 2**64:
        raise ValueError(f"max_header_bytes must be in [0, 2**64), got {max_header_bytes}")
    params = _defaults(_lib.ModelParams, "avpgan_model_params_init")
    params.max_header_bytes = max_header_bytes
    params.inference_only = 1 if inference_only else 0
    return params


def _load_into(owner: Any, kind: str, handle_type: Any, params: Any, path: Any = None, data: Any = None) -> None:
    """Loads a file (``path``) or its bytes (``data``, any contiguous buffer, copied by the
    library) with ``avpgan_<kind>_load_file`` / ``_load_buffer`` into a new ``handle_type`` and
    hands it to ``owner._adopt``: the one loading path of Model, FaceModel and Enhancer."""
    owner._init_handle()
    handle = handle_type()
    lib = _lib.get()
    if data is None:
        encoded = os.fsencode(path)
        if b"\0" in encoded:
            raise ValueError("path contains a NUL byte")
        owner._path = os.fsdecode(encoded)
        function = f"avpgan_{kind}_load_file"
        _check(getattr(lib, function)(encoded, ctypes.byref(params), ctypes.byref(handle)), function)
    else:
        buf = np.frombuffer(data, dtype=np.uint8)  # no copy; keeps `data` alive for the call
        owner._path = None
        function = f"avpgan_{kind}_load_buffer"
        _check(getattr(lib, function)(ctypes.c_void_p(buf.ctypes.data), buf.size, ctypes.byref(params),
                                      ctypes.byref(handle)), function)
    owner._adopt(handle)

"""A params struct as the library's ``avpgan_*_params_init`` fills it: its defaults, at the
size of the struct this binding mirrors (``_structs.py``)."""

from __future__ import annotations

import ctypes
from typing import Type, TypeVar

from . import _lib
from ._errors import _check

S = TypeVar("S", bound=ctypes.Structure)


def _defaults(struct_type: Type[S], init_function: str) -> S:
    """A new ``struct_type`` filled by the library's ``init_function`` (its ``*_params_init``);
    a failure raises the error of that function."""
    p = struct_type()
    _check(getattr(_lib.get(), init_function)(ctypes.byref(p), ctypes.sizeof(p)), init_function)
    return p

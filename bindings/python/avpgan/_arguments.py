"""Argument checks shared by the functions that hand paths and named choices to the library."""

from __future__ import annotations

import os
from typing import Dict, Union

PathLike = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes]


def _path(path: PathLike, name: str) -> bytes:
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError(f"{name} contains a NUL byte")
    if not encoded:
        raise ValueError(f"{name} is empty")
    return encoded


def _choice(value: str, table: Dict[str, int], name: str) -> int:
    """The C value of the option ``value`` of ``table``; ValueError listing the options."""
    if value not in table:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, table))}, got {value!r}")
    return table[value]

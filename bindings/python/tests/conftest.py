"""Fixtures for the avpgan binding tests.

The tests run against the built library (``build/lib/libavpgan.so.0`` of this
checkout, or ``$AVPGAN_LIBRARY``) and the committed golden fixtures
``Tests/Fixtures/golden/<arch>/{model.safetensors,golden.safetensors}`` made
by ``tools/make_golden.py``. A missing fixture is a test error, not a skip.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bindings" / "python"))

GOLDEN = REPO / "Tests" / "Fixtures" / "golden"

#: (arch directory, model file) pairs; each is checked against the arch's golden.safetensors.
MODELS = [
    ("voice2face", "model.safetensors"),
    ("avpgan", "model.safetensors"),
    ("avpgan", "model-sn-stored.safetensors"),
    ("avpgan-nocbam", "model.safetensors"),
]

_DTYPES = {"F32": np.dtype("<f4"), "U8": np.dtype("u1")}


def read_safetensors(path: Path) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """A minimal safetensors reader: u64 LE header length, JSON header, data.

    Returns (tensors, metadata). Supports F32 and U8, which is what the golden
    files hold; a model file's F32 tensors are read the same way.
    """
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n :]
    meta = header.pop("__metadata__", {}) or {}
    tensors: Dict[str, np.ndarray] = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {entry['dtype']}")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        arr = np.frombuffer(data[begin:end], dtype=dtype)
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name}: {arr.size} elements for shape {shape}")
        tensors[name] = arr.reshape(shape).astype(dtype.newbyteorder("="), copy=True)
    return tensors, meta


def read_header(path: Path) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The tensor entries and metadata of a safetensors file, without the data."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    return header, meta


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"missing fixture {path} (make it with tools/make_golden.py)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def avpgan_module():
    """The avpgan package, with the library loaded (a test error if it cannot be)."""
    import avpgan
    from avpgan import _lib

    try:
        _lib.get()
    except avpgan.LibraryNotFound as exc:
        pytest.fail(f"libavpgan not loadable (run `make build`):\n{exc}", pytrace=False)
    return avpgan


@pytest.fixture(scope="session")
def golden_cache() -> Dict[str, Dict[str, np.ndarray]]:
    return {}


def golden_for(cache: Dict[str, Dict[str, np.ndarray]], arch: str) -> Dict[str, np.ndarray]:
    if arch not in cache:
        cache[arch] = read_safetensors(_require(GOLDEN / arch / "golden.safetensors"))[0]
    return cache[arch]


@pytest.fixture(params=MODELS, ids=[f"{a}/{m}" for a, m in MODELS])
def case(request, avpgan_module, golden_cache):
    """(arch, model path, golden tensors) for each fixture model."""
    arch, name = request.param
    path = _require(GOLDEN / arch / name)
    return arch, path, golden_for(golden_cache, arch)


@pytest.fixture(scope="session")
def avpgan_model_path() -> Path:
    """The full avpgan fixture model (CBAM + folded spectral norm)."""
    return _require(GOLDEN / "avpgan" / "model.safetensors")


@pytest.fixture(scope="session")
def avpgan_golden(golden_cache) -> Dict[str, np.ndarray]:
    return golden_for(golden_cache, "avpgan")

"""Fixtures for the avpgan binding tests.

The tests run against the built library (``build/lib/libavpgan.so.0`` of this
checkout, or ``$AVPGAN_LIBRARY``) and the committed golden fixtures
``Tests/Fixtures/golden/<arch>/{model.safetensors,golden.safetensors}`` made
by ``tools/fixtures/make_golden.py``. A missing fixture is a test error, not a skip.

Which ``avpgan`` package is tested:

* by default, the checkout's ``bindings/python/avpgan`` (put first on
  ``sys.path`` here, so ``PYTHONPATH=bindings/python`` is optional);
* with ``AVPGAN_TEST_INSTALLED=1``, the package installed in the running
  interpreter (``pip install bindings/python``): nothing is added to
  ``sys.path``, and the session stops at once if ``import avpgan`` resolves to
  the checkout's copy or to no installed copy at all. The fixtures are still
  read from this checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Dict, Tuple

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
SOURCE_PACKAGE = REPO / "bindings" / "python" / "avpgan"

#: True when the tests are to run against the pip-installed package (AVPGAN_TEST_INSTALLED=1).
INSTALLED = os.environ.get("AVPGAN_TEST_INSTALLED", "") not in ("", "0")

if not INSTALLED:
    sys.path.insert(0, str(REPO / "bindings" / "python"))


def installed_package_problem() -> str:
    """Why ``import avpgan`` does not give an installed copy of the package ("" when it does)."""
    try:
        import avpgan
    except ImportError as exc:
        return f"avpgan is not installed in {sys.prefix} ({exc}); pip install bindings/python"
    where = Path(avpgan.__file__).resolve().parent
    if where == SOURCE_PACKAGE.resolve():
        return f"import avpgan resolves to the checkout's copy {where}, not an installed one (PYTHONPATH? cwd?)"
    # A venv's or the user's site-packages, or Debian's /usr/lib/python3/dist-packages
    # (python3-avpgan), which is not sysconfig's purelib of Debian's python3.
    site_dirs = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    site_dirs.update(Path(d).resolve() for d in site.getsitepackages() + [site.getusersitepackages()])
    if where.parent not in site_dirs and where.parent.name not in ("site-packages", "dist-packages"):
        return f"import avpgan resolves to {where}, which is not in a site-packages directory"
    return ""


def pytest_configure(config) -> None:
    if INSTALLED:
        problem = installed_package_problem()
        if problem:
            raise pytest.UsageError(f"AVPGAN_TEST_INSTALLED is set, but {problem}")


def pytest_report_header(config) -> str:
    import avpgan

    mode = "installed" if INSTALLED else "checkout"
    return f"avpgan package ({mode}): {Path(avpgan.__file__).parent}"

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


#: The command built from this checkout (``make build``).
CLI = REPO / "build" / "bin" / "avpgan"


def synth_dataset(folder: Path, *, speakers: int, utterances: int, faces: int, seed: int) -> Path:
    """``folder``, with a synthetic data set written into ``folder / "data"`` by ``avpgan
    synth-data`` (its ``voices/`` and ``faces/``); skips the test without espeak-ng or the
    built command."""
    if shutil.which("espeak-ng") is None or not CLI.exists():
        pytest.skip("espeak-ng and build/bin/avpgan are needed for avpgan synth-data")
    r = subprocess.run([str(CLI), "synth-data", "-o", str(folder / "data"), "--speakers", str(speakers),
                        "--utterances", str(utterances), "--faces", str(faces), "--seed", str(seed)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return folder


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"missing fixture {path} (make it with tools/fixtures/make_golden.py)", pytrace=False)
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


@pytest.fixture(scope="session")
def random_face_model_path(tmp_path_factory) -> Path:
    """A face-recognition model file with deterministic random weights (MobileFaceNet, seed 2;
    tools/converters/face_model_file.py): no face-recognition weights ship with libavpgan."""
    path = tmp_path_factory.mktemp("face") / "face.safetensors"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "converters" / "face_model_file.py"), "--random", "mobilefacenet",
                        "--seed", "2", "-o", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return path


def n_recordings(golden: Dict[str, np.ndarray]) -> int:
    """How many recordings a golden.safetensors holds (features_0, features_1, ...)."""
    k = 0
    while f"features_{k}" in golden:
        k += 1
    assert k > 0, "golden.safetensors holds no features_0"
    return k

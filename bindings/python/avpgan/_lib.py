"""Loading of libavpgan and ctypes declarations of its C interface.

Everything here mirrors ``include/avpgan.h`` one to one: the structs have the
same fields in the same order with the same C types, and every function has
its ``argtypes``/``restype`` declared so that ctypes checks and converts the
arguments instead of guessing.

The library is loaded lazily, on the first call of :func:`get`, so that
``import avpgan`` works (and :class:`LibraryNotFound` can be caught) even when
the shared library is missing.

Lookup order:

1. ``$AVPGAN_LIBRARY``: the path of the shared library. When this variable is
   set, it is the only candidate: an explicitly requested library that fails to
   load is an error, never silently replaced by another build.
2. The library inside the package, ``avpgan/_libs/libavpgan.so.0``: a wheel
   built by ``make wheel`` carries it, with the libraries it needs.
3. The checkout's build, ``<repo>/build/lib/libavpgan.so.0``, when this package
   is the one in a source checkout (``<repo>/bindings/python/avpgan`` next to
   ``<repo>/include/avpgan.h``; see :func:`checkout_root`), or when it was
   pip-installed from that checkout (``pip install ./bindings/python`` records
   where it came from), so ``make build`` after the install is enough.
4. The system: ``libavpgan.so.0`` (the SONAME) through the dynamic loader's
   search path, which includes ``/usr/lib/<multiarch>`` where the Debian package
   libavpgan0 installs it; then ``ctypes.util.find_library("avpgan")`` when it
   names something else.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

# The struct, callback and handle types (``_structs``, ``_structs_datasets``, ``_structs_prior``) and the prototypes
# (``_prototypes``) are re-exported here: the rest of the package and the layout test know them
# as ``_lib.X``.
from ._structs import *  # noqa: F401,F403
from ._structs_datasets import *  # noqa: F401,F403
from ._structs_prior import *  # noqa: F401,F403
from ._structs import MAX_LAYERS, _c_float_p, _c_int32_p, _c_size_t_p, _c_uint8_p, c_status  # noqa: F401
from ._prototypes import _PROTOTYPES

__all__ = [
    "LibraryNotFound",
    "ModelParams",
    "ModelInfo",
    "GenerateParams",
    "AudioInfo",
    "FrontendParams",
    "FeaturesInfo",
    "PortraitParams",
    "PortraitInfo",
    "MAX_EMBED",
    "ModelHandle",
    "TrainerParams",
    "TrainerInfo",
    "TrainerHandle",
    "TrainerProgressFn",
    "AbortFn",
    "EnhancerInfo",
    "ProgressFn",
    "EnhanceParams",
    "EnhancerHandle",
    "EnhancerTrainerParams",
    "EnhancerTrainerInfo",
    "EnhancerTrainerHandle",
    "EnhancerProgressFn",
    "EnhancerValidation",
    "ENHANCER_N_LOSSES",
    "PriorTrainerParams",
    "PriorTrainerInfo",
    "PriorTrainerHandle",
    "PriorProgressFn",
    "PRIOR_N_LOSSES",
    "AllreduceFn",
    "N_LOSSES",
    "MAX_LAYERS",
    "EXPECTED_MAJOR",
    "SONAME",
    "candidates",
    "checkout_root",
    "get",
    "load",
]

#: The major version of the C interface these bindings are written against
#: (AVPGAN_VERSION_MAJOR). A library with another major version is refused.
EXPECTED_MAJOR = 0

#: AVPGAN_E_BUFFER_TOO_SMALL, for callers that retry with the size the library reports.
BUFFER_TOO_SMALL = -2


class LibraryNotFound(OSError):
    """libavpgan could not be loaded.

    ``tried`` lists ``(candidate, reason)`` pairs for every location that was
    tried, in order.
    """

    def __init__(self, message: str, tried: Optional[List[Tuple[str, str]]] = None) -> None:
        super().__init__(message)
        self.tried: List[Tuple[str, str]] = list(tried or [])


#: The directory of this package: ``<repo>/bindings/python/avpgan`` in a checkout,
#: ``.../site-packages/avpgan`` once installed. (A module attribute so that the tests can
#: point it elsewhere.)
_PACKAGE_DIR = Path(__file__).resolve().parent

#: The library's file name and SONAME (what the dynamic loader and the Debian package
#: libavpgan0 know it by).
SONAME = "libavpgan.so.0"


def checkout_root(package_dir: Optional[Path] = None) -> Optional[Path]:
    """The source checkout this package lives in, or None when it is installed.

    The package counts as living in a checkout only when its directory is
    ``<root>/bindings/python/avpgan`` and ``<root>/include/avpgan.h`` exists: an
    installed copy (``site-packages/avpgan``) never matches, not even when its
    virtualenv happens to sit inside a checkout. An editable install
    (``pip install -e``) runs the checkout's files and so does match.
    """
    pkg = _PACKAGE_DIR if package_dir is None else Path(package_dir)
    if pkg.name != "avpgan" or pkg.parent.name != "python" or pkg.parent.parent.name != "bindings":
        return None
    root = pkg.parent.parent.parent
    if not (root / "include" / "avpgan.h").is_file():
        return None
    return root


def _installed_from() -> Optional[Path]:
    """The checkout this package was pip-installed from, or None.

    ``pip install ./bindings/python`` records the checkout's root in
    ``avpgan/_checkout_root.txt`` of the installed copy (``setup.py``), so that an
    installed copy finds the library that ``make build`` writes there later. Wheels
    for others (``make wheel``) and the Debian package carry no such file.
    """
    try:
        text = (_PACKAGE_DIR / "_checkout_root.txt").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


def _find_library(name: str) -> Optional[str]:
    return ctypes.util.find_library(name)


def _iter_candidates() -> Iterator[str]:
    """The candidates of :func:`candidates`, lazily: ``find_library`` (which may run
    ``ldconfig``) is consulted only when every earlier candidate has failed."""
    env = os.environ.get("AVPGAN_LIBRARY")
    if env:
        yield env
        return
    seen = set()
    bundled = _PACKAGE_DIR / "_libs" / SONAME
    if bundled.exists():
        seen.add(str(bundled))
        yield str(bundled)
    for root in (checkout_root(), _installed_from()):
        if root is not None:
            build = str(root / "build" / "lib" / SONAME)
            if build not in seen:
                seen.add(build)
                yield build
    seen.add(SONAME)
    yield SONAME
    found = _find_library("avpgan")
    if found and found not in seen:
        yield found


def candidates() -> List[str]:
    """The library locations that :func:`load` would try, in order:

    1. ``$AVPGAN_LIBRARY`` when it is set, and then nothing else;
    2. ``avpgan/_libs/libavpgan.so.0``, the library a wheel built by ``make wheel``
       carries (with the libraries it needs in ``avpgan.libs/``);
    3. ``<checkout>/build/lib/libavpgan.so.0`` when this package lives in a source
       checkout (:func:`checkout_root`), or was pip-installed from one (the checkout
       it was installed from: :func:`_installed_from`);
    4. ``libavpgan.so.0`` through the dynamic loader (``LD_LIBRARY_PATH``, the
       ``ld.so`` cache, the system library directories, e.g.
       ``/usr/lib/x86_64-linux-gnu`` where the Debian package libavpgan0 puts it);
    5. what ``ctypes.util.find_library("avpgan")`` reports, when that is something else.
    """
    return list(_iter_candidates())


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)  # AttributeError when the symbol is missing
        fn.restype = restype
        fn.argtypes = argtypes


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Loads libavpgan (from ``path``, or by the lookup order), declares its
    functions and checks its major version. Raises :class:`LibraryNotFound`."""
    tried: List[Tuple[str, str]] = []
    for cand in [path] if path is not None else _iter_candidates():
        if os.sep in cand and not os.path.exists(cand):
            tried.append((cand, "no such file"))
            continue
        try:
            lib = ctypes.CDLL(cand)
        except OSError as exc:
            tried.append((cand, str(exc)))
            continue
        try:
            _declare(lib)
        except AttributeError as exc:
            tried.append((cand, f"not a usable libavpgan: {exc}"))
            continue
        number = int(lib.avpgan_version_number())
        if number // 10000 != EXPECTED_MAJOR:
            tried.append(
                (
                    cand,
                    f"incompatible version {lib.avpgan_version().decode()} "
                    f"(these bindings need major version {EXPECTED_MAJOR})",
                )
            )
            continue
        return lib
    lines = "\n".join(f"  {c}: {why}" for c, why in tried)
    hint = (
        "set AVPGAN_LIBRARY to the path of libavpgan.so.0, or build the checkout "
        "(make build), or install the library (Debian package libavpgan0)"
    )
    raise LibraryNotFound(f"libavpgan could not be loaded; tried:\n{lines}\n({hint})", tried)


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def get() -> ctypes.CDLL:
    """The loaded library (loaded on the first call; thread-safe)."""
    global _lib
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is None:
            _lib = load()
        return _lib


# The handle-owner base classes live in their own module; re-exported for the package.
from ._handles import HandleOwner, HandleUse  # noqa: E402,F401

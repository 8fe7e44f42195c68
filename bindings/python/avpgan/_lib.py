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
from typing import Any, Iterator, List, Optional, Tuple

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
    "N_LOSSES",
    "MAX_LAYERS",
    "EXPECTED_MAJOR",
    "SONAME",
    "candidates",
    "checkout_root",
    "get",
    "load",
]

#: AVPGAN_MAX_LAYERS: capacity of the width arrays in avpgan_model_info.
MAX_LAYERS = 16

#: The major version of the C interface these bindings are written against
#: (AVPGAN_VERSION_MAJOR). A library with another major version is refused.
EXPECTED_MAJOR = 0

#: The C type of ``avpgan_status`` (an enum, i.e. an int).
c_status = ctypes.c_int

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


# --------------------------------------------------------------------------
# Structs (field order and types exactly as in avpgan.h)
# --------------------------------------------------------------------------


class ModelParams(ctypes.Structure):
    """``struct avpgan_model_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("max_header_bytes", ctypes.c_uint64),
        ("inference_only", ctypes.c_int32),
    ]


class ModelInfo(ctypes.Structure):
    """``struct avpgan_model_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("arch", ctypes.c_int32),
        ("arch_name", ctypes.c_char * 32),
        ("format_version", ctypes.c_uint32),
        ("n_mels", ctypes.c_uint32),
        ("embed_dim", ctypes.c_uint32),
        ("image_size", ctypes.c_uint32),
        ("image_channels", ctypes.c_uint32),
        ("n_voice_widths", ctypes.c_uint32),
        ("voice_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_generator_widths", ctypes.c_uint32),
        ("generator_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_face_widths", ctypes.c_uint32),
        ("face_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_identities", ctypes.c_uint32),
        ("default_pixels", ctypes.c_int32),
        ("n_parameters", ctypes.c_uint64),
    ]


class GenerateParams(ctypes.Structure):
    """``struct avpgan_generate_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("pixels", ctypes.c_int32),
    ]


class AudioInfo(ctypes.Structure):
    """``struct avpgan_audio_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("sample_rate", ctypes.c_uint32),
        ("original_rate", ctypes.c_uint32),
        ("channels", ctypes.c_uint32),
        ("n_samples", ctypes.c_uint64),
        ("seconds", ctypes.c_double),
        ("format", ctypes.c_char * 64),
    ]


class FrontendParams(ctypes.Structure):
    """``struct avpgan_frontend_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("seconds", ctypes.c_double),
        ("vad", ctypes.c_int32),
        ("vad_mode", ctypes.c_int32),
    ]


class FeaturesInfo(ctypes.Structure):
    """``struct avpgan_features_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("n_frames", ctypes.c_uint32),
        ("n_computed", ctypes.c_uint32),
        ("input_seconds", ctypes.c_double),
        ("voiced_seconds", ctypes.c_double),
    ]


class PortraitParams(ctypes.Structure):
    """``struct avpgan_portrait_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("seconds", ctypes.c_double),
        ("vad", ctypes.c_int32),
        ("vad_mode", ctypes.c_int32),
        ("pixels", ctypes.c_int32),
        ("noise", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("provenance", ctypes.c_int32),
        ("timestamp", ctypes.c_int32),
        ("enhancer", ctypes.c_void_p),  # const avpgan_enhancer *
    ]


#: AVPGAN_MAX_EMBED.
MAX_EMBED = 256


class PortraitInfo(ctypes.Structure):
    """``struct avpgan_portrait_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("input_seconds", ctypes.c_double),
        ("voiced_seconds", ctypes.c_double),
        ("n_frames", ctypes.c_uint32),
        ("embed_dim", ctypes.c_uint32),
        ("embedding", ctypes.c_float * MAX_EMBED),
    ]


class TrainerParams(ctypes.Structure):
    """``struct avpgan_trainer_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("arch", ctypes.c_int32),
        ("widths", ctypes.c_int32),
        ("batch_size", ctypes.c_uint32),
        ("seed", ctypes.c_uint64),
        ("voices_dir", ctypes.c_char_p),
        ("faces_dir", ctypes.c_char_p),
        ("test_list", ctypes.c_char_p),
        ("voice_encoder", ctypes.c_char_p),
        ("cache_dir", ctypes.c_char_p),
        ("split", ctypes.c_int32),
        ("generator_spectral_norm", ctypes.c_int32),
        ("stop_on_collapse", ctypes.c_int32),
        ("health_warm_up", ctypes.c_uint32),
        ("generator_cbam", ctypes.c_int32),
        ("cbam_reduction", ctypes.c_uint32),
    ]


class TrainerInfo(ctypes.Structure):
    """``struct avpgan_trainer_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("step", ctypes.c_uint64),
        ("arch", ctypes.c_int32),
        ("arch_name", ctypes.c_char * 32),
        ("n_mels", ctypes.c_uint32),
        ("embed_dim", ctypes.c_uint32),
        ("image_size", ctypes.c_uint32),
        ("n_identities", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
        ("has_dataset", ctypes.c_int32),
        ("n_voice_widths", ctypes.c_uint32),
        ("voice_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_generator_widths", ctypes.c_uint32),
        ("generator_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_face_widths", ctypes.c_uint32),
        ("face_widths", ctypes.c_uint32 * MAX_LAYERS),
        ("n_trained_parameters", ctypes.c_uint64),
        ("health", ctypes.c_uint32),
        ("generator_spectral_norm", ctypes.c_int32),
        ("health_step", ctypes.c_uint64),
        ("batch_spread", ctypes.c_float),
        ("generator_cbam", ctypes.c_int32),
        ("cbam_reduction", ctypes.c_uint32),
    ]


#: AVPGAN_N_LOSSES: losses of a training step.
N_LOSSES = 5

#: ``avpgan_trainer_progress_fn``: (done, total, losses, user_data) -> void.
TrainerProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_float),
                                     ctypes.c_void_p)
#: ``avpgan_abort_fn``: (user_data) -> int, non-zero stops.
AbortFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _OpaqueTrainer(ctypes.Structure):
    """``struct avpgan_trainer`` (opaque)."""


#: ``avpgan_trainer *``.
TrainerHandle = ctypes.POINTER(_OpaqueTrainer)


class FaceModelInfo(ctypes.Structure):
    """``struct avpgan_face_model_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("arch", ctypes.c_int32),
        ("arch_name", ctypes.c_char * 32),
        ("input_size", ctypes.c_uint32),
        ("embed_dim", ctypes.c_uint32),
        ("input_mean", ctypes.c_float),
        ("input_std", ctypes.c_float),
        ("bgr", ctypes.c_int32),
        ("n_parameters", ctypes.c_uint64),
    ]


class _OpaqueFaceModel(ctypes.Structure):
    """``struct avpgan_face_model`` (opaque)."""


#: ``avpgan_face_model *``.
FaceModelHandle = ctypes.POINTER(_OpaqueFaceModel)


class EnhancerInfo(ctypes.Structure):
    """``struct avpgan_enhancer_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("arch_name", ctypes.c_char * 32),
        ("size", ctypes.c_uint32),
        ("num_style_feat", ctypes.c_uint32),
        ("channel_multiplier", ctypes.c_double),
        ("narrow", ctypes.c_double),
        ("num_mlp", ctypes.c_uint32),
        ("different_w", ctypes.c_int32),
        ("sft_half", ctypes.c_int32),
        ("input_is_latent", ctypes.c_int32),
        ("n_parameters", ctypes.c_uint64),
        ("file_bytes", ctypes.c_uint64),
        ("sha256", ctypes.c_char * 65),
    ]


#: ``avpgan_progress_fn``: (done, total, user_data).
ProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p)


class EnhanceParams(ctypes.Structure):
    """``struct avpgan_enhance_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]


class _OpaqueEnhancer(ctypes.Structure):
    """``struct avpgan_enhancer`` (opaque)."""


#: ``avpgan_enhancer *``.
EnhancerHandle = ctypes.POINTER(_OpaqueEnhancer)


class _OpaqueModel(ctypes.Structure):
    """``struct avpgan_model`` (opaque; only ever used through a pointer)."""


#: ``avpgan_model *``. A NULL handle is a false-valued pointer.
ModelHandle = ctypes.POINTER(_OpaqueModel)

_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
_c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
_c_int32_p = ctypes.POINTER(ctypes.c_int32)

# name: (restype, argtypes) for every function in avpgan.h.
_PROTOTYPES = {
    "avpgan_version": (ctypes.c_char_p, []),
    "avpgan_version_number": (ctypes.c_uint32, []),
    "avpgan_status_string": (ctypes.c_char_p, [c_status]),
    "avpgan_last_error": (ctypes.c_char_p, []),
    "avpgan_set_num_threads": (c_status, [ctypes.c_int32]),
    "avpgan_get_num_threads": (ctypes.c_int32, []),
    "avpgan_model_params_init": (c_status, [ctypes.POINTER(ModelParams), ctypes.c_size_t]),
    "avpgan_model_load_file": (
        c_status,
        [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(ModelHandle)],
    ),
    "avpgan_model_load_buffer": (
        c_status,
        [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ModelParams), ctypes.POINTER(ModelHandle)],
    ),
    "avpgan_model_free": (None, [ModelHandle]),
    "avpgan_model_get_info": (c_status, [ModelHandle, ctypes.POINTER(ModelInfo)]),
    "avpgan_model_embed": (
        c_status,
        [ModelHandle, _c_float_p, ctypes.c_size_t, ctypes.c_size_t, _c_float_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_model_generate": (
        c_status,
        [ModelHandle, _c_float_p, ctypes.c_size_t, ctypes.c_size_t, _c_float_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_generate_params_init": (c_status, [ctypes.POINTER(GenerateParams), ctypes.c_size_t]),
    "avpgan_model_generate_rgb8": (
        c_status,
        [
            ModelHandle,
            _c_float_p,
            ctypes.c_size_t,
            ctypes.c_size_t,
            ctypes.POINTER(GenerateParams),
            _c_uint8_p,
            ctypes.c_size_t,
            _c_size_t_p,
        ],
    ),
    "avpgan_decode_file": (
        c_status,
        [ctypes.c_char_p, ctypes.c_uint32, _c_float_p, ctypes.c_size_t, _c_size_t_p, ctypes.POINTER(AudioInfo)],
    ),
    "avpgan_decode_buffer": (
        c_status,
        [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, _c_float_p, ctypes.c_size_t, _c_size_t_p,
         ctypes.POINTER(AudioInfo)],
    ),
    "avpgan_frontend_params_init": (c_status, [ctypes.POINTER(FrontendParams), ctypes.c_size_t]),
    "avpgan_features_from_pcm": (
        c_status,
        [_c_float_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.POINTER(FrontendParams), _c_float_p, ctypes.c_size_t,
         _c_size_t_p, ctypes.POINTER(FeaturesInfo)],
    ),
    "avpgan_portrait_params_init": (c_status, [ctypes.POINTER(PortraitParams), ctypes.c_size_t]),
    "avpgan_portrait_pcm": (
        c_status,
        [ModelHandle, _c_float_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.POINTER(PortraitParams), _c_uint8_p,
         ctypes.c_size_t, _c_size_t_p, ctypes.POINTER(PortraitInfo)],
    ),
    "avpgan_portrait_file": (
        c_status,
        [ModelHandle, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(PortraitParams), ctypes.POINTER(PortraitInfo)],
    ),
    "avpgan_png_encode": (
        c_status,
        [_c_uint8_p, ctypes.c_uint32, ctypes.c_uint32, _c_uint8_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_png_encode_text": (
        c_status,
        [_c_uint8_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p),
         ctypes.c_size_t, _c_uint8_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_trainer_params_init": (c_status, [ctypes.POINTER(TrainerParams), ctypes.c_size_t]),
    "avpgan_trainer_create": (c_status, [ctypes.POINTER(TrainerParams), ctypes.POINTER(TrainerHandle)]),
    "avpgan_trainer_load_checkpoint": (
        c_status,
        [ctypes.c_char_p, ctypes.POINTER(TrainerParams), ctypes.POINTER(TrainerHandle)],
    ),
    "avpgan_trainer_free": (None, [TrainerHandle]),
    "avpgan_trainer_get_info": (c_status, [TrainerHandle, ctypes.POINTER(TrainerInfo)]),
    "avpgan_trainer_gan_step": (
        c_status,
        [TrainerHandle, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t, _c_float_p, _c_int32_p, _c_float_p,
         _c_int32_p, _c_float_p, _c_float_p],
    ),
    "avpgan_trainer_step": (c_status, [TrainerHandle, _c_float_p]),
    "avpgan_trainer_run": (
        c_status,
        [TrainerHandle, ctypes.c_uint64, TrainerProgressFn, ctypes.c_void_p, AbortFn, ctypes.c_void_p,
         ctypes.POINTER(ctypes.c_uint64)],
    ),
    "avpgan_trainer_save": (c_status, [TrainerHandle, ctypes.c_char_p]),
    "avpgan_trainer_export": (c_status, [TrainerHandle, ctypes.c_char_p]),
    "avpgan_face_model_load_file": (
        c_status,
        [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(FaceModelHandle)],
    ),
    "avpgan_face_model_load_buffer": (
        c_status,
        [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ModelParams), ctypes.POINTER(FaceModelHandle)],
    ),
    "avpgan_face_model_free": (None, [FaceModelHandle]),
    "avpgan_face_model_get_info": (c_status, [FaceModelHandle, ctypes.POINTER(FaceModelInfo)]),
    "avpgan_face_model_embed_rgb8": (
        c_status,
        [FaceModelHandle, _c_uint8_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t, _c_float_p,
         ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_cosine": (c_status, [_c_float_p, _c_float_p, ctypes.c_size_t, _c_float_p]),
    "avpgan_default_model_path": (c_status, [ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p]),
    "avpgan_enhancer_load_file": (
        c_status,
        [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(EnhancerHandle)],
    ),
    "avpgan_enhancer_load_buffer": (
        c_status,
        [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ModelParams), ctypes.POINTER(EnhancerHandle)],
    ),
    "avpgan_enhancer_free": (None, [EnhancerHandle]),
    "avpgan_enhancer_get_info": (c_status, [EnhancerHandle, ctypes.POINTER(EnhancerInfo)]),
    "avpgan_enhance_params_init": (c_status, [ctypes.POINTER(EnhanceParams), ctypes.c_size_t]),
    "avpgan_enhance": (
        c_status,
        [EnhancerHandle, _c_uint8_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
         ctypes.POINTER(EnhanceParams), _c_uint8_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_enhance_raw": (
        c_status,
        [EnhancerHandle, _c_float_p, ctypes.c_size_t, ctypes.POINTER(EnhanceParams), _c_float_p,
         ctypes.c_size_t, _c_size_t_p],
    ),
}


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


class HandleUse:
    """Holds an owner's C handle open for the duration of one C call. The owner (a Model or a
    Trainer) has ``_cond`` (a Condition), ``_handle`` (None once closed) and ``_active`` (calls in
    progress); its close() waits on ``_cond`` until ``_active`` is 0."""

    __slots__ = ("owner", "closed", "message", "handle")

    def __init__(self, owner: Any, closed: type, message: str) -> None:
        self.owner = owner
        self.closed = closed
        self.message = message

    def __enter__(self) -> Any:
        o = self.owner
        with o._cond:
            if o._handle is None:
                raise self.closed(self.message)
            o._active += 1
            self.handle = o._handle
        return self.handle

    def __exit__(self, *exc: Any) -> None:
        o = self.owner
        with o._cond:
            o._active -= 1
            if o._active == 0:
                o._cond.notify_all()


class HandleOwner:
    """The lifetime of an object that owns one C handle (Model, Trainer, FaceModel): ``close()``
    frees it once and waits for calls in flight on other threads; later use raises the class's
    closed error; a context manager; closed on garbage collection; never pickled. A subclass
    sets ``_FREE`` (the name of its ``avpgan_*_free`` function), ``_CLOSED`` (its closed-error
    class), ``_NAME`` (e.g. ``"avpgan.Model"``) and ``_PICKLE_HINT``, and calls
    :meth:`_init_handle` before anything can fail."""

    _FREE: str
    _CLOSED: type
    _NAME: str
    _PICKLE_HINT: str
    _handle: Any

    def _init_handle(self) -> None:
        self._handle = None  # so that close()/__del__ work if loading fails
        self._cond = threading.Condition()
        self._active = 0

    def close(self) -> None:
        """Frees the handle. Idempotent. Waits for calls in flight on other threads to finish;
        calls that start afterwards raise the class's closed error."""
        cond = getattr(self, "_cond", None)
        if cond is None:
            return
        with cond:
            handle = self._handle
            if handle is None:
                return
            self._handle = None
            while self._active:
                cond.wait()
        if handle:
            getattr(get(), self._FREE)(handle)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle is None

    def _check_open(self) -> None:
        if self._handle is None:
            raise self._CLOSED(f"operation on a closed {self._NAME}")

    def _use(self) -> HandleUse:
        """The handle, held open for one C call."""
        return HandleUse(self, self._CLOSED, f"operation on a closed {self._NAME}")

    def __enter__(self) -> Any:
        self._check_open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    def __reduce__(self) -> Any:
        raise TypeError(f"{self._NAME} cannot be pickled; {self._PICKLE_HINT}")

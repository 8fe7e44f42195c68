"""ctypes mirrors of the face-prior trainer's structs, callback and handle in ``include/avpgan.h``
(re-exported by ``_lib``), and the type of the data-parallel hook ``avpgan_allreduce_fn``."""

from __future__ import annotations

import ctypes

__all__ = ["PriorTrainerParams", "PriorTrainerInfo", "PriorProgressFn", "PriorTrainerHandle", "PRIOR_N_LOSSES", "AllreduceFn"]

#: ``avpgan_allreduce_fn``: (values, count, user_data) -> int, 0 on success.
AllreduceFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t, ctypes.c_void_p)

#: AVPGAN_PRIOR_N_LOSSES: losses a prior training step reports.
PRIOR_N_LOSSES = 7


class PriorTrainerParams(ctypes.Structure):
    """``struct avpgan_prior_trainer_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("faces_dir", ctypes.c_char_p),
        ("checkpoint_dir", ctypes.c_char_p),
        ("size", ctypes.c_uint32),
        ("widths", ctypes.c_int32),
        ("lr", ctypes.c_double),
        ("seed", ctypes.c_uint64),
        ("batch_size", ctypes.c_uint32),
        ("checkpoint_every", ctypes.c_uint32),
        ("sheet_samples", ctypes.c_uint32),
        ("truncation", ctypes.c_float),
        ("allreduce", ctypes.c_void_p),
        ("allreduce_user_data", ctypes.c_void_p),
        ("rank", ctypes.c_uint32),
        ("n_ranks", ctypes.c_uint32),
    ]


class PriorTrainerInfo(ctypes.Structure):
    """``struct avpgan_prior_trainer_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("step", ctypes.c_uint64),
        ("size", ctypes.c_uint32),
        ("num_style_feat", ctypes.c_uint32),
        ("num_mlp", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
        ("channel_multiplier", ctypes.c_double),
        ("narrow", ctypes.c_double),
        ("n_faces", ctypes.c_uint32),
        ("n_training_faces", ctypes.c_uint32),
        ("losses", ctypes.c_float * PRIOR_N_LOSSES),
        ("losses_present", ctypes.c_uint32),
    ]


#: ``avpgan_prior_progress_fn``: (done, total, losses, present, user_data) -> void.
PriorProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_float),
                                   ctypes.c_uint32, ctypes.c_void_p)


class _OpaquePriorTrainer(ctypes.Structure):
    """``struct avpgan_prior_trainer`` (opaque)."""


#: ``avpgan_prior_trainer *``.
PriorTrainerHandle = ctypes.POINTER(_OpaquePriorTrainer)

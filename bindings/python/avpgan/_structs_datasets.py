"""ctypes mirrors of the structs and callbacks of ``include/avpgan.h`` for the calls that work on
a whole data set: the evaluations, voice-encoder training and synthetic data (the others are in
``_structs``, which this module extends; ``_lib`` re-exports both).

As in ``_structs``: the same fields in the same order with the same C types as the header
(``Tests/python/test_ctypes_layout.py`` compares them with a C compiler's layout).
"""

from __future__ import annotations

import ctypes

from ._structs import AbortFn, ProgressFn, _c_int32_p


class PixelRetrievalParams(ctypes.Structure):
    """``struct avpgan_pixel_retrieval_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("voices_dir", ctypes.c_char_p),
        ("faces_dir", ctypes.c_char_p),
        ("test_list", ctypes.c_char_p),
        ("split", ctypes.c_int32),
        ("eval_split", ctypes.c_int32),
        ("cache_dir", ctypes.c_char_p),
        ("grid_png", ctypes.c_char_p),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]


class PixelRetrievalResult(ctypes.Structure):
    """``struct avpgan_pixel_retrieval_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("n_identities", ctypes.c_uint32),
        ("n_recordings", ctypes.c_uint32),
        ("top1", ctypes.c_double),
        ("top5", ctypes.c_double),
        ("mean_rank", ctypes.c_double),
        ("chance_top1", ctypes.c_double),
        ("chance_top5", ctypes.c_double),
        ("chance_mean_rank", ctypes.c_double),
        ("real_top1", ctypes.c_double),
        ("real_top5", ctypes.c_double),
        ("real_mean_rank", ctypes.c_double),
    ]


class FaceSimilarityParams(ctypes.Structure):
    """``struct avpgan_face_similarity_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("voices_dir", ctypes.c_char_p),
        ("faces_dir", ctypes.c_char_p),
        ("test_list", ctypes.c_char_p),
        ("split", ctypes.c_int32),
        ("eval_split", ctypes.c_int32),
        ("identities", ctypes.c_char_p),
        ("seconds", ctypes.POINTER(ctypes.c_double)),
        ("n_seconds", ctypes.c_size_t),
        ("model_labels", ctypes.POINTER(ctypes.c_char_p)),
        ("face_model_label", ctypes.c_char_p),
        ("out_dir", ctypes.c_char_p),
        ("rows", ctypes.c_uint32),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]


class PixelRetrievalEmbeddingsParams(ctypes.Structure):
    """``struct avpgan_pixel_retrieval_embeddings_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("cache_dir", ctypes.c_char_p),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]


class FaceSimilarityPortraitsParams(ctypes.Structure):
    """``struct avpgan_face_similarity_portraits_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("seconds", ctypes.POINTER(ctypes.c_double)),
        ("n_seconds", ctypes.c_size_t),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]


class FaceSimilarity(ctypes.Structure):
    """``struct avpgan_face_similarity``: one row of the table (fixed layout)."""

    _fields_ = [
        ("model_index", ctypes.c_uint32),
        ("n_recordings", ctypes.c_uint32),
        ("n_identities", ctypes.c_uint32),
        ("unavailable", ctypes.c_uint32),
        ("seconds", ctypes.c_double),
        ("voiced_seconds", ctypes.c_double),
        ("own", ctypes.c_double),
        ("impostor", ctypes.c_double),
        ("difference", ctypes.c_double),
        ("difference_low", ctypes.c_double),
        ("difference_high", ctypes.c_double),
        ("top1", ctypes.c_double),
        ("top5", ctypes.c_double),
    ]


#: ``avpgan_voice_training_progress_fn``: (step, steps, loss, accuracy, user_data).
VoiceTrainingProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_float, ctypes.c_double,
                                           ctypes.c_void_p)


class VoiceTrainingParams(ctypes.Structure):
    """``struct avpgan_voice_training_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("voices_dir", ctypes.c_char_p),
        ("test_list", ctypes.c_char_p),
        ("split", ctypes.c_int32),
        ("widths", ctypes.c_int32),
        ("cache_dir", ctypes.c_char_p),
        ("output", ctypes.c_char_p),
        ("checkpoint_dir", ctypes.c_char_p),
        ("log_path", ctypes.c_char_p),
        ("resume", ctypes.c_int32),
        ("steps", ctypes.c_uint64),
        ("batch_size", ctypes.c_uint32),
        ("checkpoint_every", ctypes.c_uint32),
        ("lr", ctypes.c_double),
        ("seed", ctypes.c_uint64),
        ("progress", VoiceTrainingProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
        ("allreduce", ctypes.c_void_p),
        ("allreduce_user_data", ctypes.c_void_p),
        ("rank", ctypes.c_uint32),
        ("n_ranks", ctypes.c_uint32),
    ]


class VoiceTrainingResult(ctypes.Structure):
    """``struct avpgan_voice_training_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("first_step", ctypes.c_uint64),
        ("step", ctypes.c_uint64),
        ("n_speakers", ctypes.c_uint32),
        ("n_held_out", ctypes.c_uint32),
        ("held_out_correct", ctypes.c_uint32),
        ("embed_dim", ctypes.c_uint32),
        ("steps_per_second", ctypes.c_double),
    ]


class SyntheticParams(ctypes.Structure):
    """``struct avpgan_synthetic_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("speakers", ctypes.c_uint32),
        ("utterances", ctypes.c_uint32),
        ("faces", ctypes.c_uint32),
        ("seed", ctypes.c_uint64),
        ("progress", ProgressFn),
        ("progress_user_data", ctypes.c_void_p),
        ("abort_fn", AbortFn),
        ("abort_user_data", ctypes.c_void_p),
    ]

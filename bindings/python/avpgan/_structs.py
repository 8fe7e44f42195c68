"""ctypes mirrors of the structs, callbacks and handles of ``include/avpgan.h`` (those of the
calls that work on a whole data set are in ``_structs_datasets``).

Every struct has the same fields in the same order with the same C types as the header
(``Tests/python/test_ctypes_layout.py`` compares them with a C compiler's layout); fields are
only ever appended, as in the header.
"""

from __future__ import annotations

import ctypes

#: AVPGAN_MAX_LAYERS: capacity of the width arrays in avpgan_model_info.
MAX_LAYERS = 16

#: The C type of ``avpgan_status`` (an enum, i.e. an int).
c_status = ctypes.c_int

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
        ("meta_file", ctypes.c_char_p),
        ("allreduce", ctypes.c_void_p),
        ("allreduce_user_data", ctypes.c_void_p),
        ("rank", ctypes.c_uint32),
        ("n_ranks", ctypes.c_uint32),
        ("generator_cbam", ctypes.c_int32),
        ("cbam_reduction", ctypes.c_uint32),
        ("cbam_gate", ctypes.c_int32),
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
        ("cbam_gate", ctypes.c_int32),
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


class EnhancerTrainerParams(ctypes.Structure):
    """``struct avpgan_enhancer_trainer_params``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("faces_dir", ctypes.c_char_p),
        ("checkpoint_dir", ctypes.c_char_p),
        ("size", ctypes.c_uint32),
        ("widths", ctypes.c_int32),
        ("channel_multiplier", ctypes.c_double),
        ("narrow", ctypes.c_double),
        ("init_enhancer", ctypes.c_char_p),
        ("perceptual", ctypes.c_char_p),
        ("face_model", ctypes.c_char_p),
        ("loss_l1", ctypes.c_float),
        ("loss_perceptual", ctypes.c_float),
        ("loss_perceptual_style", ctypes.c_float),
        ("loss_adversarial", ctypes.c_float),
        ("loss_facial_components", ctypes.c_float),
        ("loss_component_style", ctypes.c_float),
        ("loss_identity", ctypes.c_float),
        ("lr", ctypes.c_double),
        ("batch_size", ctypes.c_uint32),
        ("seed", ctypes.c_uint64),
        ("validation_fraction", ctypes.c_double),
        ("checkpoint_every", ctypes.c_uint32),
        ("sheet_rows", ctypes.c_uint32),
        ("validation_low_size", ctypes.c_uint32),
        ("allreduce", ctypes.c_void_p),
        ("allreduce_user_data", ctypes.c_void_p),
        ("rank", ctypes.c_uint32),
        ("n_ranks", ctypes.c_uint32),
    ]


#: AVPGAN_ENHANCER_N_LOSSES: losses an enhancer training step reports.
ENHANCER_N_LOSSES = 16


class EnhancerTrainerInfo(ctypes.Structure):
    """``struct avpgan_enhancer_trainer_info``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("step", ctypes.c_uint64),
        ("size", ctypes.c_uint32),
        ("num_style_feat", ctypes.c_uint32),
        ("channel_multiplier", ctypes.c_double),
        ("narrow", ctypes.c_double),
        ("batch_size", ctypes.c_uint32),
        ("n_faces", ctypes.c_uint32),
        ("n_training_faces", ctypes.c_uint32),
        ("n_validation_faces", ctypes.c_uint32),
        ("loss_weights", ctypes.c_float * 7),
        ("losses", ctypes.c_float * ENHANCER_N_LOSSES),
        ("losses_present", ctypes.c_uint32),
    ]


#: ``avpgan_enhancer_progress_fn``: (done, total, losses, present, user_data) -> void.
EnhancerProgressFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_float),
                                      ctypes.c_uint32, ctypes.c_void_p)


class EnhancerValidation(ctypes.Structure):
    """``struct avpgan_enhancer_validation``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("step", ctypes.c_uint64),
        ("n_faces", ctypes.c_uint32),
        ("low_size", ctypes.c_uint32),
        ("psnr", ctypes.c_double),
        ("ssim", ctypes.c_double),
        ("bicubic_psnr", ctypes.c_double),
        ("bicubic_ssim", ctypes.c_double),
    ]


class _OpaqueEnhancerTrainer(ctypes.Structure):
    """``struct avpgan_enhancer_trainer`` (opaque)."""


#: ``avpgan_enhancer_trainer *``.
EnhancerTrainerHandle = ctypes.POINTER(_OpaqueEnhancerTrainer)


class _OpaqueModel(ctypes.Structure):
    """``struct avpgan_model`` (opaque; only ever used through a pointer)."""


#: ``avpgan_model *``. A NULL handle is a false-valued pointer.
ModelHandle = ctypes.POINTER(_OpaqueModel)

#: Pointer types of the prototypes and of the calls that pass numpy buffers.
_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
_c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
_c_int32_p = ctypes.POINTER(ctypes.c_int32)

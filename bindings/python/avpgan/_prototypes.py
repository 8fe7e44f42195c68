"""The C prototypes of libavpgan: ``restype`` and ``argtypes`` of every function in
``include/avpgan.h``, so that ctypes checks and converts arguments instead of guessing."""

from __future__ import annotations

import ctypes

from ._structs import *  # noqa: F401,F403 - the struct, callback and handle types the prototypes name
from ._structs_datasets import *  # noqa: F401,F403
from ._structs_prior import *  # noqa: F401,F403
from ._structs import _c_float_p, _c_int32_p, _c_size_t_p, _c_uint8_p, c_status


def _face_trainer(kind, params, handle, info, progress):
    """The prototypes both face-folder trainer handles have, ``avpgan_<kind>_loss_name`` and
    ``avpgan_<kind>_trainer_*``, over their own params, handle, info and progress types."""
    t = f"avpgan_{kind}_trainer"
    return {
        f"avpgan_{kind}_loss_name": (ctypes.c_char_p, [ctypes.c_int32]),
        f"{t}_params_init": (c_status, [ctypes.POINTER(params), ctypes.c_size_t]),
        f"{t}_create": (c_status, [ctypes.POINTER(params), ctypes.POINTER(handle)]),
        f"{t}_load_checkpoint": (c_status, [ctypes.c_char_p, ctypes.POINTER(params), ctypes.POINTER(handle)]),
        f"{t}_free": (None, [handle]),
        f"{t}_get_info": (c_status, [handle, ctypes.POINTER(info)]),
        f"{t}_step": (c_status, [handle, _c_float_p, ctypes.POINTER(ctypes.c_uint32)]),
        f"{t}_run": (
            c_status,
            [handle, ctypes.c_uint64, progress, ctypes.c_void_p, AbortFn, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)],
        ),
        f"{t}_save": (c_status, [handle, ctypes.c_char_p]),
        f"{t}_export": (c_status, [handle, ctypes.c_char_p]),
    }


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
    "avpgan_default_enhancer_path": (c_status, [ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p]),
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
    "avpgan_pixel_retrieval_params_init": (c_status, [ctypes.POINTER(PixelRetrievalParams), ctypes.c_size_t]),
    "avpgan_pixel_retrieval_evaluate": (
        c_status, [ModelHandle, ctypes.POINTER(PixelRetrievalParams), ctypes.POINTER(PixelRetrievalResult)],
    ),
    "avpgan_pixel_retrieval_recordings": (
        c_status, [ctypes.POINTER(PixelRetrievalParams), ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p, _c_size_t_p],
    ),
    "avpgan_pixel_retrieval_embeddings_params_init": (
        c_status, [ctypes.POINTER(PixelRetrievalEmbeddingsParams), ctypes.c_size_t],
    ),
    "avpgan_pixel_retrieval_embeddings": (
        c_status,
        [ModelHandle, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.POINTER(PixelRetrievalEmbeddingsParams),
         ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_pixel_retrieval_score": (
        c_status, [ModelHandle, ctypes.POINTER(PixelRetrievalParams), ctypes.c_char_p, ctypes.c_size_t,
                   ctypes.POINTER(PixelRetrievalResult)],
    ),
    "avpgan_face_similarity_params_init": (c_status, [ctypes.POINTER(FaceSimilarityParams), ctypes.c_size_t]),
    "avpgan_face_similarity_evaluate": (
        c_status,
        [ctypes.POINTER(ModelHandle), ctypes.c_size_t, FaceModelHandle, ctypes.POINTER(FaceSimilarityParams),
         ctypes.POINTER(FaceSimilarity), ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_face_similarity_recordings": (
        c_status, [ctypes.POINTER(FaceSimilarityParams), ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p, _c_size_t_p],
    ),
    "avpgan_face_similarity_portraits_params_init": (
        c_status, [ctypes.POINTER(FaceSimilarityPortraitsParams), ctypes.c_size_t],
    ),
    "avpgan_face_similarity_portraits": (
        c_status,
        [ModelHandle, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.POINTER(FaceSimilarityPortraitsParams),
         ctypes.c_char_p, ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_face_similarity_score": (
        c_status,
        [ctypes.POINTER(ModelHandle), ctypes.c_size_t, FaceModelHandle, ctypes.POINTER(FaceSimilarityParams),
         ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(FaceSimilarity),
         ctypes.c_size_t, _c_size_t_p],
    ),
    "avpgan_voice_training_params_init": (c_status, [ctypes.POINTER(VoiceTrainingParams), ctypes.c_size_t]),
    "avpgan_voice_encoder_train": (c_status, [ctypes.POINTER(VoiceTrainingParams), ctypes.POINTER(VoiceTrainingResult)]),
    **_face_trainer("enhancer", EnhancerTrainerParams, EnhancerTrainerHandle, EnhancerTrainerInfo, EnhancerProgressFn),
    "avpgan_enhancer_trainer_validate": (c_status, [EnhancerTrainerHandle, ctypes.POINTER(EnhancerValidation)]),
    **_face_trainer("prior", PriorTrainerParams, PriorTrainerHandle, PriorTrainerInfo, PriorProgressFn),
    "avpgan_synthetic_params_init": (c_status, [ctypes.POINTER(SyntheticParams), ctypes.c_size_t]),
    "avpgan_synthetic_dataset_write": (c_status, [ctypes.c_char_p, ctypes.POINTER(SyntheticParams)]),
}

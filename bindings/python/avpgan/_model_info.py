"""What a model is and what a portrait was made from: :class:`ModelInfo`, :class:`PortraitInfo`,
and the enums of their fields (:class:`Arch`, :class:`Pixels`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np
import numpy.typing as npt

from . import _lib
from ._errors import InternalError, Status

class Arch(enum.IntEnum):
    """``avpgan_arch`` values."""

    VOICE2FACE = 0
    AVPGAN = 1
    AVPGAN_NOCBAM = 2


class Pixels(enum.IntEnum):
    """``avpgan_pixels`` values: how generator output in [-1, 1] becomes bytes."""

    MODEL_DEFAULT = 0
    CLAMP = 1
    MINMAX = 2


_PIXELS_BY_NAME: Dict[str, Pixels] = {
    "default": Pixels.MODEL_DEFAULT,
    "clamp": Pixels.CLAMP,
    "minmax": Pixels.MINMAX,
}
_PIXELS_NAMES: Dict[int, str] = {int(Pixels.CLAMP): "clamp", int(Pixels.MINMAX): "minmax"}


@dataclass(frozen=True)
class ModelInfo:
    """What a model is (``avpgan_model_info``).

    Attributes:
        arch: ``"voice2face"``, ``"avpgan"`` or ``"avpgan-nocbam"``.
        format_version: ``avpgan.format`` of the file.
        n_mels: feature bands the voice encoder takes (64).
        embed_dim: voice embedding size E (64 full, 16 tiny).
        image_size: generated faces are S x S with S = image_size (64).
        image_channels: 3 (RGB).
        voice_widths: voice-encoder conv widths, in order.
        generator_widths: generator widths, in order.
        face_widths: face-encoder widths; ``()`` when it is not loaded.
        n_identities: classifier outputs; 0 when not loaded.
        default_pixels: the model's default pixel mapping, ``"clamp"`` or ``"minmax"``.
        n_parameters: number of scalar weights loaded.
    """

    arch: str
    format_version: int
    n_mels: int
    embed_dim: int
    image_size: int
    image_channels: int
    voice_widths: Tuple[int, ...]
    generator_widths: Tuple[int, ...]
    face_widths: Tuple[int, ...]
    n_identities: int
    default_pixels: str
    n_parameters: int


def _widths(array: Any, count: int, name: str) -> Tuple[int, ...]:
    if count > _lib.MAX_LAYERS:
        raise InternalError(
            int(Status.E_INTERNAL),
            f"avpgan_model_get_info reported {count} {name} (more than AVPGAN_MAX_LAYERS = {_lib.MAX_LAYERS})",
            "avpgan_model_get_info",
        )
    return tuple(int(array[i]) for i in range(count))


@dataclass(frozen=True)
class PortraitInfo:
    """What a portrait was made from (``avpgan_portrait_info``).

    Attributes:
        input_seconds: the recording's length.
        voiced_seconds: the audio the features were computed from.
        n_frames: feature frames (after the repeat rule).
        embedding: the unit voice embedding used, float32 ``[E]``.
    """

    input_seconds: float
    voiced_seconds: float
    n_frames: int
    embedding: npt.NDArray[np.float32]

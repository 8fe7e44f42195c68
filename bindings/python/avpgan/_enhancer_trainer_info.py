"""What an enhancer trainer reports: :class:`EnhancerTrainerInfo`, :class:`EnhancerValidation`,
the losses of a step as a dict under upstream's log names, and its closed error."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Dict

from . import _face_trainer, _lib

__all__ = ["EnhancerTrainerInfo", "EnhancerValidation", "EnhancerTrainerClosedError", "LOSS_WEIGHTS"]

#: The loss weights of :meth:`EnhancerTrainer.create` (``losses=``), in the params' order, with
#: the C field each sets.
LOSS_WEIGHTS = {
    "l1": "loss_l1",
    "perceptual": "loss_perceptual",
    "perceptual_style": "loss_perceptual_style",
    "adversarial": "loss_adversarial",
    "facial_components": "loss_facial_components",
    "component_style": "loss_component_style",
    "identity": "loss_identity",
}

def losses_dict(values: Any, present: int) -> Dict[str, float]:
    """The computed losses of an enhancer step (bit i of ``present`` set) under upstream's log names."""
    return _face_trainer.losses_dict("avpgan_enhancer_trainer", _lib.ENHANCER_N_LOSSES, values, present)


class EnhancerTrainerClosedError(ValueError):
    """An :class:`EnhancerTrainer` was used after :meth:`EnhancerTrainer.close`."""


@dataclass(frozen=True)
class EnhancerTrainerInfo:
    """What an enhancer trainer is (``avpgan_enhancer_trainer_info``).

    Attributes:
        step: training steps taken (kept in checkpoints).
        size: the faces' and the enhancer's side in pixels.
        num_style_feat, channel_multiplier, narrow: the generator's widths (as :class:`EnhancerInfo`'s).
        batch_size: faces per step.
        n_faces, n_training_faces, n_validation_faces: the folder's faces, trained on and held out.
        loss_weights: the weights in effect by name (``LOSS_WEIGHTS``' keys); 0 is off (a loss
            whose network file was not given is turned off).
        losses: the last step's computed losses under upstream's log names (empty before the first).
    """

    step: int
    size: int
    num_style_feat: int
    channel_multiplier: float
    narrow: float
    batch_size: int
    n_faces: int
    n_training_faces: int
    n_validation_faces: int
    loss_weights: Dict[str, float]
    losses: Dict[str, float]

    @classmethod
    def _from(cls, raw: _lib.EnhancerTrainerInfo) -> "EnhancerTrainerInfo":
        return cls(step=int(raw.step), size=int(raw.size), num_style_feat=int(raw.num_style_feat),
                   channel_multiplier=float(raw.channel_multiplier), narrow=float(raw.narrow),
                   batch_size=int(raw.batch_size), n_faces=int(raw.n_faces), n_training_faces=int(raw.n_training_faces),
                   n_validation_faces=int(raw.n_validation_faces),
                   loss_weights={k: float(raw.loss_weights[i]) for i, k in enumerate(LOSS_WEIGHTS)},
                   losses=losses_dict(raw.losses, int(raw.losses_present)))


@dataclass(frozen=True)
class EnhancerValidation:
    """What :meth:`EnhancerTrainer.validate` measured on the held-out faces
    (``avpgan_enhancer_validation``): each face shrunk to ``low_size`` px, then enhanced by the
    EMA generator, beside bicubic upscaling of the same input.

    Attributes:
        step: the step validated. n_faces: held-out faces measured. low_size: their input side.
        psnr, ssim: mean PSNR (dB) and SSIM of the enhancer's outputs against the truths.
        bicubic_psnr, bicubic_ssim: the same of bicubic upscaling.
    """

    step: int
    n_faces: int
    low_size: int
    psnr: float
    ssim: float
    bicubic_psnr: float
    bicubic_ssim: float

    @property
    def gain(self) -> float:
        """The enhancer's PSNR gain over bicubic, in dB."""
        return self.psnr - self.bicubic_psnr

    @classmethod
    def _from(cls, raw: _lib.EnhancerValidation) -> "EnhancerValidation":
        return cls(step=int(raw.step), n_faces=int(raw.n_faces), low_size=int(raw.low_size), psnr=float(raw.psnr),
                   ssim=float(raw.ssim), bicubic_psnr=float(raw.bicubic_psnr), bicubic_ssim=float(raw.bicubic_ssim))


def new_info() -> _lib.EnhancerTrainerInfo:
    raw = _lib.EnhancerTrainerInfo()
    raw.struct_size = ctypes.sizeof(raw)
    return raw

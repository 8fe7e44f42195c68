"""What a trainer reports: the losses of a step (:class:`Losses`), what the trainer is
(:class:`TrainerInfo`, with the health warnings' names) and its closed error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Tuple

__all__ = ["HEALTH_WARNINGS", "Losses", "TrainerInfo", "TrainerClosedError"]

#: avpgan_health bits, by the names TrainerInfo.health uses.
HEALTH_WARNINGS = {"collapse": 1, "discriminator_wins": 2, "classifier_at_chance": 4}


class Losses(NamedTuple):
    """The five losses of a training step, in the reference ``gan_step``'s order."""

    d_real: float
    d_fake: float
    c_real: float
    g_fake: float
    g_class: float


@dataclass(frozen=True)
class TrainerInfo:
    """What a trainer is (``avpgan_trainer_info``).

    Attributes:
        step: training steps taken (kept in checkpoints).
        arch: ``"voice2face"``, ``"avpgan"`` or ``"avpgan-nocbam"``.
        n_mels, embed_dim, image_size: voice bands (64), embedding size E, face size S.
        n_identities: classifier outputs; labels are ``0 ... n_identities - 1``.
        batch_size: batch of :meth:`Trainer.step`; 0 without a data set.
        has_dataset: whether :meth:`Trainer.step` and :meth:`Trainer.run` work.
        voice_widths, generator_widths, face_widths: the networks' widths.
        n_trained_parameters: scalars Adam updates.
        health: the health warnings raised so far, a tuple of ``"collapse"``,
            ``"discriminator_wins"``, ``"classifier_at_chance"`` (empty: healthy).
        health_step: the step at which the first warning was raised (0: none).
        generator_spectral_norm: whether the generator's stride-2 layers are spectrally normalised.
        batch_spread: the last step's generated faces, mean over pixels of the std across the batch.
        generator_cbam: whether the generator has CBAM (avpgan with CBAM in the generator too).
        cbam_reduction: CBAM's channel-MLP reduction (hidden units ``max(C // r, 1)``).
        cbam_gate: how CBAM's attention multiplies, ``"sigmoid"`` (the reference's ``x * M``)
            or ``"residual"`` (``x * (1 + M)``); ``"sigmoid"`` also without CBAM.
    """

    step: int
    arch: str
    n_mels: int
    embed_dim: int
    image_size: int
    n_identities: int
    batch_size: int
    has_dataset: bool
    voice_widths: Tuple[int, ...]
    generator_widths: Tuple[int, ...]
    face_widths: Tuple[int, ...]
    n_trained_parameters: int
    health: Tuple[str, ...] = ()
    health_step: int = 0
    generator_spectral_norm: bool = True
    batch_spread: float = 0.0
    generator_cbam: bool = False
    cbam_reduction: int = 16
    cbam_gate: str = "sigmoid"


class TrainerClosedError(ValueError):
    """A :class:`Trainer` was used after :meth:`Trainer.close`."""

"""Voice-encoder pre-training as a function: :func:`train_voice_encoder` (``avpgan
train-voice``), the step before :class:`avpgan.Trainer` (Algorithm 1)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Optional

from . import _lib
from . import PathLike, _decode
from ._arguments import _choice, _path
from ._evaluation import SPLIT_RULES
from ._long_call import LongCall, Progress
from ._params_init import _defaults

__all__ = ["VoiceTrainingResult", "train_voice_encoder"]

_WIDTHS = {"full": 0, "tiny": 1}


@dataclass(frozen=True)
class VoiceTrainingResult:
    """What :func:`train_voice_encoder` did (``avpgan_voice_training_result``).

    Attributes:
        output: the encoder-only model file written (None when the run was stopped).
        first_step, step: the steps the call started from and reached.
        speakers: trained speakers; embed_dim: the embedding size.
        held_out, held_out_correct: held-out utterances, and those the written model classifies
            as their speaker (0 when stopped).
        steps_per_second: the training speed measured.
        stopped: True when ``progress`` or ``stop`` ended the run early (the checkpoint is saved;
            call again with ``resume=True``).
    """

    output: Optional[str]
    first_step: int
    step: int
    speakers: int
    embed_dim: int
    held_out: int
    held_out_correct: int
    steps_per_second: float
    stopped: bool = False

    @property
    def held_out_accuracy(self) -> float:
        """held_out_correct / held_out (NaN when nothing was held out)."""
        return self.held_out_correct / self.held_out if self.held_out else float("nan")


def train_voice_encoder(
    voices: PathLike,
    output: PathLike,
    *,
    steps: int = 1000,
    batch_size: int = 64,
    widths: str = "full",
    lr: float = 2e-4,
    seed: int = 1,
    checkpoint_dir: Optional[PathLike] = None,
    checkpoint_every: int = 100,
    log: Optional[PathLike] = None,
    resume: bool = False,
    test_list: Optional[PathLike] = None,
    split_rule: str = "test-list",
    cache: Optional[PathLike] = None,
    progress: Progress = None,
    stop: Optional[Any] = None,
) -> VoiceTrainingResult:
    """Trains a voice encoder as a speaker classifier (``avpgan train-voice``) and writes the
    encoder-only model file ``output`` (for ``Trainer.create(voice_encoder=...)``).

    Args:
        voices: ``voices/<speaker>/<recording>``; held-out speakers (``test_list``, default
            ``voices/../test.txt`` when it exists) are not trained.
        steps: the step count to reach (a resumed run counts from its checkpoint).
        batch_size: utterance crops per batch (2-4096); widths: ``"full"`` or ``"tiny"``.
        lr, seed: a new run's learning rate and seed.
        checkpoint_dir: a folder for ``voice-checkpoint.safetensors`` (every
            ``checkpoint_every`` steps and at the end) and, unless ``log`` is given,
            ``train-voice.jsonl`` (one JSON line per step); ``resume=True`` continues from it.
        cache: the feature cache folder (default: the user's, as the command's).
        progress: None (a tqdm bar when installed and on a terminal or notebook), True/False,
            or ``f(step, steps)`` after each step (returning False stops).
        stop: a :class:`threading.Event`; stops before the next step.

    A run stopped by ``progress`` or ``stop`` saves its checkpoint and returns with
    ``stopped=True``; Ctrl-C does the same and re-raises KeyboardInterrupt.
    """
    lib = _lib.get()
    p = _defaults(_lib.VoiceTrainingParams, "avpgan_voice_training_params_init")
    keep = [_path(voices, "voices"), _path(output, "output")]
    p.voices_dir, p.output = keep
    for value, name in ((checkpoint_dir, "checkpoint_dir"), (log, "log"), (test_list, "test_list"), (cache, "cache")):
        if value is not None:
            keep.append(_path(value, name))
            setattr(p, {"log": "log_path", "cache": "cache_dir"}.get(name, name), keep[-1])
    p.split = _choice(split_rule, SPLIT_RULES, "split_rule")
    p.widths = _choice(widths, _WIDTHS, "widths")
    for value, name, low, high in ((steps, "steps", 0, 2**40), (batch_size, "batch_size", 2, 4096),
                                   (checkpoint_every, "checkpoint_every", 1, 2**32 - 1), (seed, "seed", 0, 2**64 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer in {low}...{high}, got {value!r}")
    if not (isinstance(lr, (int, float)) and 0 < lr < 1):
        raise ValueError(f"lr must be a number in (0, 1), got {lr!r}")
    p.steps, p.batch_size, p.checkpoint_every, p.seed, p.lr = steps, batch_size, checkpoint_every, seed, float(lr)
    p.resume = 1 if resume else 0
    r = _lib.VoiceTrainingResult()
    r.struct_size = ctypes.sizeof(r)
    with LongCall(progress, "voice encoder", "step", stop) as call:
        def on_step(step: int, total: int, loss: float, accuracy: float, _user: Any) -> None:
            call.report(int(step), int(total), {"loss": f"{loss:.4f}", "accuracy": f"{accuracy:.3f}"})

        p.progress = _lib.VoiceTrainingProgressFn(on_step)
        p.abort_fn = call.abort
        status = lib.avpgan_voice_encoder_train(ctypes.byref(p), ctypes.byref(r))
        message = _decode(lib.avpgan_last_error()) if status else ""
    stopped = call.raise_for(status, message, "avpgan_voice_encoder_train")
    return VoiceTrainingResult(
        output=None if stopped else keep[1].decode(errors="surrogateescape"), first_step=int(r.first_step), step=int(r.step),
        speakers=int(r.n_speakers), embed_dim=int(r.embed_dim), held_out=int(r.n_held_out),
        held_out_correct=int(r.held_out_correct), steps_per_second=float(r.steps_per_second), stopped=stopped)

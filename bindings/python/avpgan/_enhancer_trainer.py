"""Training an enhancer from Python: :class:`EnhancerTrainer`, a handle on ``avpgan_enhancer_trainer``
(``avpgan train-enhancer`` as an object; docs/enhancer-training.md).

Example::

    import avpgan
    with avpgan.EnhancerTrainer.create("faces/", widths="small", perceptual="vgg19.safetensors",
                                       checkpoint_dir="run/", batch_size=4) as t:
        t.run(1000, progress=lambda done, total, losses: print(done, losses["l_g_pix"]))
        print(t.validate().gain)            # dB over bicubic on the held-out faces
        t.export("enhancer.safetensors")    # for avpgan.Enhancer
    # later, or after Ctrl-C (the checkpoint in run/ is kept):
    t = avpgan.EnhancerTrainer.load("run/enhancer-checkpoint.safetensors", "faces/", checkpoint_dir="run/",
                                    perceptual="vgg19.safetensors")

Threads: a trainer is mutable; use it from one thread at a time. A call made while another
call on the same trainer is in progress raises :class:`InvalidArgumentError` ("busy"). The
GIL is released while the library computes.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional

import numpy as np

from . import _lib
from . import PathLike, _as_int, _check, _decode
from ._arguments import _path
from ._enhancer_trainer_info import (LOSS_WEIGHTS, EnhancerTrainerClosedError, EnhancerTrainerInfo, EnhancerValidation,
                                     losses_dict, new_info)
from ._long_call import LongCall
from ._params_init import _defaults

__all__ = ["EnhancerTrainer"]

_WIDTHS = {"small": 0, "full": 1, "tiny": 2}

#: ``progress(done, total, losses)``, losses a dict under upstream's log names; False stops the run.
Progress = Callable[[int, int, Dict[str, float]], Any]


def _count(value: Optional[int], name: str, low: int, high: int) -> int:
    """An optional integer in low...high (None: 0, the library's default)."""
    if value is None:
        return 0
    value = _as_int(value, name)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}...{high}, got {value}")
    return value


class EnhancerTrainer(_lib.HandleOwner):
    """An enhancer training run (``avpgan_enhancer_trainer``): GFPGAN's training loop on a face folder.

    Make one with :meth:`create` (a new enhancer, or one to fine-tune) or :meth:`load` (a
    checkpoint, on the same faces). A trainer is a context manager; :meth:`close` frees it, and
    later use raises :class:`EnhancerTrainerClosedError`.
    """

    _handle: Optional[Any]
    _FREE = "avpgan_enhancer_trainer_free"
    _CLOSED = EnhancerTrainerClosedError
    _NAME = "avpgan.EnhancerTrainer"
    _PICKLE_HINT = "save() a checkpoint and load() it"

    def __init__(self, handle: Any, *, _token: object = None) -> None:
        if _token is not _TOKEN:
            raise TypeError("use avpgan.EnhancerTrainer.create(...) or avpgan.EnhancerTrainer.load(...)")
        self._init_handle()
        self._handle = handle

    # -- construction -------------------------------------------------------

    @staticmethod
    def _params(faces: PathLike, checkpoint_dir: Optional[PathLike], perceptual: Optional[PathLike],
                face_model: Optional[PathLike], batch_size: Optional[int], checkpoint_every: int, sheet_rows: int,
                validation_low_size: Optional[int]) -> Any:
        """The params every trainer takes, and the encoded paths (which must outlive the call)."""
        p = _defaults(_lib.EnhancerTrainerParams, "avpgan_enhancer_trainer_params_init")
        keep: List[bytes] = [_path(faces, "faces")]
        p.faces_dir = keep[-1]
        for field, value in (("checkpoint_dir", checkpoint_dir), ("perceptual", perceptual), ("face_model", face_model)):
            if value is not None:
                keep.append(_path(value, field))
                setattr(p, field, keep[-1])
        p.batch_size = _count(batch_size, "batch_size", 1, 4096)
        p.checkpoint_every = _count(checkpoint_every, "checkpoint_every", 1, 2**32 - 1)
        p.sheet_rows = _count(sheet_rows, "sheet_rows", 0, 4096)
        p.validation_low_size = _count(validation_low_size, "validation_low_size", 4, 1024)
        return p, keep

    @classmethod
    def create(
        cls,
        faces: PathLike,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        size: Optional[int] = None,
        widths: str = "small",
        channel_multiplier: Optional[float] = None,
        narrow: Optional[float] = None,
        init: Optional[PathLike] = None,
        perceptual: Optional[PathLike] = None,
        face_model: Optional[PathLike] = None,
        losses: Optional[Mapping[str, float]] = None,
        lr: float = 2e-3,
        batch_size: Optional[int] = None,
        seed: int = 1,
        validation_fraction: float = 0.05,
        checkpoint_every: int = 100,
        sheet_rows: int = 8,
        validation_low_size: Optional[int] = None,
    ) -> "EnhancerTrainer":
        """A new run on the square, aligned faces under ``faces`` (PNG or JPEG, all of one size:
        32...1024 px, a power of two; an optional ``landmarks.json`` for the eye and mouth boxes).

        Args:
            checkpoint_dir: where checkpoints (every ``checkpoint_every`` steps, and when a run is
                stopped or interrupted), the JSONL log and sample sheets (``sheet_rows`` rows)
                go; None: nothing is written by itself.
            size: the training size (None: the faces'). widths: ``"small"``, ``"full"``
                (GFPGAN v1.3/v1.4's) or ``"tiny"`` (tests); ``channel_multiplier`` and
                ``narrow`` replace the preset's. init: an enhancer file to fine-tune instead
                (a converted GFPGAN): size and widths are then its own.
            perceptual, face_model: a VGG-19 file and a face-recognition model for the
                perceptual and identity losses; without them those losses are off.
            losses: weights by name (``l1``, ``perceptual``, ``perceptual_style``, ``adversarial``,
                ``facial_components``, ``component_style``, ``identity``) over the paper's
                defaults (0.1, 1, 0, 0.1, 1, 200, 10); 0 turns a term off.
            lr: learning rate of the generator and the discriminators. batch_size: faces per
                step (None: 4). seed: seeds networks, noise, degradations, batches and the split.
            validation_fraction: share of the faces held out. validation_low_size: the side
                validation shrinks them to (None: min(64, size // 2)).
        """
        if widths not in _WIDTHS:
            raise ValueError(f"widths must be one of {sorted(_WIDTHS)}, got {widths!r}")
        p, keep = cls._params(faces, checkpoint_dir, perceptual, face_model, batch_size, checkpoint_every, sheet_rows,
                              validation_low_size)
        p.widths = _WIDTHS[widths]
        p.size = _count(size, "size", 32, 1024)
        p.channel_multiplier = 0.0 if channel_multiplier is None else float(channel_multiplier)
        p.narrow = 0.0 if narrow is None else float(narrow)
        if init is not None:
            keep.append(_path(init, "init"))
            p.init_enhancer = keep[-1]
        for name, weight in (losses or {}).items():
            if name not in LOSS_WEIGHTS:
                raise ValueError(f"losses: unknown loss {name!r}; the losses are {', '.join(LOSS_WEIGHTS)}")
            setattr(p, LOSS_WEIGHTS[name], float(weight))
        p.lr = float(lr)
        seed = _as_int(seed, "seed")
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        p.seed = seed
        p.validation_fraction = float(validation_fraction)
        handle = _lib.EnhancerTrainerHandle()
        _check(_lib.get().avpgan_enhancer_trainer_create(ctypes.byref(p), ctypes.byref(handle)),
               "avpgan_enhancer_trainer_create")
        return cls(handle, _token=_TOKEN)

    @classmethod
    def load(
        cls,
        checkpoint: PathLike,
        faces: PathLike,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        perceptual: Optional[PathLike] = None,
        face_model: Optional[PathLike] = None,
        batch_size: Optional[int] = None,
        checkpoint_every: int = 100,
        sheet_rows: int = 8,
        validation_low_size: Optional[int] = None,
    ) -> "EnhancerTrainer":
        """A trainer continuing a checkpoint (:meth:`save`, or ``enhancer-checkpoint.safetensors``
        of a ``checkpoint_dir`` or of ``avpgan train-enhancer``) on the same ``faces``,
        bit-identically. The checkpoint decides networks, losses, seed, split and batch size
        (another ``batch_size`` is refused); the network files of the losses it has on must be
        given again."""
        p, keep = cls._params(faces, checkpoint_dir, perceptual, face_model, batch_size, checkpoint_every, sheet_rows,
                              validation_low_size)
        path = _path(checkpoint, "checkpoint")
        handle = _lib.EnhancerTrainerHandle()
        _check(_lib.get().avpgan_enhancer_trainer_load_checkpoint(path, ctypes.byref(p), ctypes.byref(handle)),
               "avpgan_enhancer_trainer_load_checkpoint")
        return cls(handle, _token=_TOKEN)

    def __repr__(self) -> str:
        if self._handle is None:
            return "<avpgan.EnhancerTrainer (closed)>"
        i = self.info
        return f"<avpgan.EnhancerTrainer {i.size} px step {i.step}, {i.n_training_faces} faces>"

    # -- queries --------------------------------------------------------------

    @property
    def info(self) -> EnhancerTrainerInfo:
        """What the trainer is, with the current step and the last step's losses."""
        raw = new_info()
        with self._use() as handle:
            _check(_lib.get().avpgan_enhancer_trainer_get_info(handle, ctypes.byref(raw)), "avpgan_enhancer_trainer_get_info")
        return EnhancerTrainerInfo._from(raw)

    @property
    def step_count(self) -> int:
        """Training steps taken so far (kept in checkpoints)."""
        return self.info.step

    # -- training -------------------------------------------------------------

    def step(self) -> Dict[str, float]:
        """One step; returns its computed losses under upstream's log names (``l_g_pix``, ``l_d``, ...).
        A loss that is not finite raises :class:`ModelFormatError`: continue from the last checkpoint."""
        out = np.zeros(_lib.ENHANCER_N_LOSSES, np.float32)
        present = ctypes.c_uint32(0)
        with self._use() as handle:
            _check(_lib.get().avpgan_enhancer_trainer_step(handle, out.ctypes.data_as(_lib._c_float_p), ctypes.byref(present)),
                   "avpgan_enhancer_trainer_step")
        return losses_dict(out, present.value)

    def run(self, n: int, progress: Optional[Progress] = None, *, stop: Optional[threading.Event] = None,
            bar: Optional[bool] = None) -> List[Dict[str, float]]:
        """``n`` steps; returns each step's losses (dicts, as :meth:`step`).

        Args:
            progress: called after each step as ``progress(done, total, losses)``; returning
                ``False`` stops the run after that step; raising stops it and the exception
                propagates. It must not call methods of this trainer.
            stop: a :class:`threading.Event` (or anything with ``is_set()``); the run stops
                before the next step once it is set.
            bar: a tqdm bar (None: when tqdm is installed, on a terminal, and no ``progress``).

        A stopped run writes its checkpoint into ``checkpoint_dir`` (when there is one). Ctrl-C
        (KeyboardInterrupt) stops the run the same way between two steps and is re-raised: the
        checkpoint is kept and the trainer stays usable.
        """
        n = _as_int(n, "n")
        if not 1 <= n <= 2**40:
            raise ValueError(f"run: n must be in 1...2**40, got {n}")
        history: List[Dict[str, float]] = []
        call = LongCall(False if progress is not None else bar, "train-enhancer", "step", stop)

        def on_progress(done: int, total: int, losses: Any, present: int, _user: Any) -> None:
            try:
                values = losses_dict(losses, int(present))
                history.append(values)
                call.report(int(done), int(total), {"l_g_pix": values.get("l_g_pix", 0.0)})
                if progress is not None and progress(int(done), int(total), values) is False:
                    call.state["stop"] = True
            except BaseException as e:  # noqa: B902 - re-raised after the run stops
                call.state["error"] = e

        progress_fn = _lib.EnhancerProgressFn(on_progress)
        done = ctypes.c_uint64(0)
        lib = _lib.get()
        with call, self._use() as handle:
            status = lib.avpgan_enhancer_trainer_run(handle, n, progress_fn, None, call.abort, None, ctypes.byref(done))
            message = _decode(lib.avpgan_last_error()) if status else ""
        call.raise_for(status, message, "avpgan_enhancer_trainer_run")
        return history

    def validate(self) -> EnhancerValidation:
        """PSNR and SSIM of the EMA generator on the held-out faces beside bicubic upscaling (logged,
        and with ``checkpoint_dir`` its sample sheet written)."""
        raw = _lib.EnhancerValidation()
        raw.struct_size = ctypes.sizeof(raw)
        with self._use() as handle:
            _check(_lib.get().avpgan_enhancer_trainer_validate(handle, ctypes.byref(raw)), "avpgan_enhancer_trainer_validate")
        return EnhancerValidation._from(raw)

    # -- files ----------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Writes a checkpoint file; :meth:`load` continues from it bit-identically."""
        encoded = _path(path, "path")
        with self._use() as handle:
            _check(_lib.get().avpgan_enhancer_trainer_save(handle, encoded), "avpgan_enhancer_trainer_save")

    def export(self, path: PathLike) -> None:
        """Writes the EMA generator as an enhancer file (for :class:`avpgan.Enhancer`)."""
        encoded = _path(path, "path")
        with self._use() as handle:
            _check(_lib.get().avpgan_enhancer_trainer_export(handle, encoded), "avpgan_enhancer_trainer_export")


_TOKEN = object()

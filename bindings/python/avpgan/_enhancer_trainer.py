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

Data-parallel: with ``allreduce``, ``rank`` and ``n_ranks`` (as :class:`Trainer`'s C params),
each of ``n_ranks`` processes (or threads) computes its share of every batch and the gradients
are summed through ``allreduce(values)`` (in place, over all ranks; with mpi4py
``lambda v: comm.Allreduce(MPI.IN_PLACE, v, op=MPI.SUM)``) before every optimizer step, so all
ranks keep the same networks. create, load, step and run are collective; rank 0 alone writes
into ``checkpoint_dir`` and exports.

Threads: a trainer is mutable; use it from one thread at a time. A call made while another
call on the same trainer is in progress raises :class:`InvalidArgumentError` ("busy"). The
GIL is released while the library computes.
"""

from __future__ import annotations

import ctypes
from typing import Any, Mapping, Optional

from . import _lib
from . import PathLike
from ._arguments import _path
from ._enhancer_trainer_info import LOSS_WEIGHTS, EnhancerTrainerClosedError, EnhancerTrainerInfo, EnhancerValidation, new_info
from ._face_trainer import Allreduce, AllreduceHook, FaceTrainer, count as _count, seed_value, widths_code

__all__ = ["EnhancerTrainer"]


class EnhancerTrainer(FaceTrainer):
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
    _PREFIX = "avpgan_enhancer_trainer"
    _HANDLE = _lib.EnhancerTrainerHandle
    _PROGRESS = _lib.EnhancerProgressFn
    _N_LOSSES = _lib.ENHANCER_N_LOSSES
    _COMMAND = "train-enhancer"
    _BAR_LOSS = "l_g_pix"

    # -- construction -------------------------------------------------------

    @classmethod
    def _params(cls, faces: PathLike, checkpoint_dir: Optional[PathLike], perceptual: Optional[PathLike],
                face_model: Optional[PathLike], batch_size: Optional[int], checkpoint_every: int, sheet_rows: int,
                validation_low_size: Optional[int], hook: AllreduceHook) -> Any:
        """The params every trainer takes, and the encoded paths (which must outlive the call)."""
        p, keep = cls._face_params(_lib.EnhancerTrainerParams, faces, (("checkpoint_dir", checkpoint_dir), ("perceptual", perceptual),
                                                                       ("face_model", face_model)), batch_size, checkpoint_every)
        p.sheet_rows = _count(sheet_rows, "sheet_rows", 0, 4096)
        p.validation_low_size = _count(validation_low_size, "validation_low_size", 4, 1024)
        hook.apply(p)
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
        allreduce: Optional[Allreduce] = None,
        rank: int = 0,
        n_ranks: int = 0,
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
            allreduce, rank, n_ranks: this trainer is rank ``rank`` of ``n_ranks`` (>= 2) of a
                data-parallel run (see the module's docstring); the batch must give each rank
                whole groups of 4 of the face discriminator.
        """
        hook = AllreduceHook(allreduce, rank, n_ranks)
        p, keep = cls._params(faces, checkpoint_dir, perceptual, face_model, batch_size, checkpoint_every, sheet_rows,
                              validation_low_size, hook)
        p.widths = widths_code(widths)
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
        p.seed = seed_value(seed)
        p.validation_fraction = float(validation_fraction)
        return cls._made("create", hook, ctypes.byref(p))

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
        allreduce: Optional[Allreduce] = None,
        rank: int = 0,
        n_ranks: int = 0,
    ) -> "EnhancerTrainer":
        """A trainer continuing a checkpoint (:meth:`save`, or ``enhancer-checkpoint.safetensors``
        of a ``checkpoint_dir`` or of ``avpgan train-enhancer``) on the same ``faces``,
        bit-identically. The checkpoint decides networks, losses, seed, split and batch size
        (another ``batch_size`` is refused); the network files of the losses it has on must be
        given again. With ``allreduce``, ``rank`` and ``n_ranks`` every rank loads the same checkpoint
        (collective, as :meth:`create`)."""
        hook = AllreduceHook(allreduce, rank, n_ranks)
        p, keep = cls._params(faces, checkpoint_dir, perceptual, face_model, batch_size, checkpoint_every, sheet_rows,
                              validation_low_size, hook)
        return cls._made("load_checkpoint", hook, _path(checkpoint, "checkpoint"), ctypes.byref(p))

    # -- queries --------------------------------------------------------------

    @property
    def info(self) -> EnhancerTrainerInfo:
        """What the trainer is, with the current step and the last step's losses."""
        raw = new_info()
        self._call("get_info", ctypes.byref(raw))
        return EnhancerTrainerInfo._from(raw)

    # -- training (step, run and save: FaceTrainer's) ---------------------------

    def validate(self) -> EnhancerValidation:
        """PSNR and SSIM of the EMA generator on the held-out faces beside bicubic upscaling (logged,
        and with ``checkpoint_dir`` its sample sheet written)."""
        raw = _lib.EnhancerValidation()
        raw.struct_size = ctypes.sizeof(raw)
        self._call("validate", ctypes.byref(raw))
        return EnhancerValidation._from(raw)

    # -- files ----------------------------------------------------------------

    def export(self, path: PathLike) -> None:
        """Writes the EMA generator as an enhancer file (for :class:`avpgan.Enhancer`); on rank 0
        only in a data-parallel run."""
        self._call("export", _path(path, "path"))

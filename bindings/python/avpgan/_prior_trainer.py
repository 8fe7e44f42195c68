"""Training a face prior from Python: :class:`PriorTrainer`, a handle on ``avpgan_prior_trainer``
(``avpgan train-prior`` as an object; docs/enhancer-training.md, "The face prior").

Example::

    import avpgan
    with avpgan.PriorTrainer.create("faces/", widths="small", checkpoint_dir="prior-run/") as t:
        t.run(10000, progress=lambda done, total, losses: print(done, losses["l_g"]))
        t.export("prior.safetensors")       # for avpgan train-enhancer --prior
    # later, or after Ctrl-C (the checkpoint in prior-run/ is kept):
    t = avpgan.PriorTrainer.load("prior-run/prior-checkpoint.safetensors", "faces/", checkpoint_dir="prior-run/")

Data-parallel: with ``allreduce``, ``rank`` and ``n_ranks``, as :class:`EnhancerTrainer`'s, each of
``n_ranks`` processes (or threads) computes its share of every batch (whole groups of 4 of the
discriminator, and its share of the path-length term's faces) and the gradients are summed
through ``allreduce(values)`` before every optimizer step, so all ranks keep the same networks.
create, load, step and run are collective; rank 0 alone writes into ``checkpoint_dir`` and exports.

Threads: a trainer is mutable; use it from one thread at a time. A call made while another
call on the same trainer is in progress raises :class:`InvalidArgumentError` ("busy"). The
GIL is released while the library computes.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Dict, Optional

from . import _lib
from . import PathLike
from ._arguments import _path
from ._face_trainer import Allreduce, AllreduceHook, FaceTrainer, count as _count, seed_value, widths_code

__all__ = ["PriorTrainer", "PriorTrainerInfo", "PriorTrainerClosedError"]


class PriorTrainerClosedError(ValueError):
    """A :class:`PriorTrainer` was used after :meth:`PriorTrainer.close`."""


@dataclass(frozen=True)
class PriorTrainerInfo:
    """What a prior trainer is (``avpgan_prior_trainer_info``).

    Attributes:
        step: training steps taken (kept in checkpoints).
        size: the faces' and the prior's side in pixels.
        num_style_feat, num_mlp, channel_multiplier, narrow: the StyleGAN2 generator's widths.
        batch_size: faces per step. n_faces, n_training_faces: the folder's faces, and those trained on.
        losses: the last step's computed losses under upstream's log names (empty before the first).
    """

    step: int
    size: int
    num_style_feat: int
    num_mlp: int
    channel_multiplier: float
    narrow: float
    batch_size: int
    n_faces: int
    n_training_faces: int
    losses: Dict[str, float]


class PriorTrainer(FaceTrainer):
    """A face-prior training run (``avpgan_prior_trainer``): basicsr's StyleGAN2 training on a face
    folder. Make one with :meth:`create` or :meth:`load` (a checkpoint, on the same faces). A
    trainer is a context manager; :meth:`close` frees it, and later use raises
    :class:`PriorTrainerClosedError`. :meth:`step`, :meth:`run` and :meth:`save` are as
    :class:`EnhancerTrainer`'s; the losses are ``l_d``, ``real_score``, ``fake_score``, ``l_g``, and
    ``l_d_r1`` every 16th step, ``l_g_path`` and ``path_length`` every 4th."""

    _handle: Optional[Any]
    _FREE = "avpgan_prior_trainer_free"
    _CLOSED = PriorTrainerClosedError
    _NAME = "avpgan.PriorTrainer"
    _PICKLE_HINT = "save() a checkpoint and load() it"
    _PREFIX = "avpgan_prior_trainer"
    _HANDLE = _lib.PriorTrainerHandle
    _PROGRESS = _lib.PriorProgressFn
    _N_LOSSES = _lib.PRIOR_N_LOSSES
    _COMMAND = "train-prior"
    _BAR_LOSS = "l_g"

    @classmethod
    def _params(cls, faces: PathLike, checkpoint_dir: Optional[PathLike], batch_size: Optional[int], checkpoint_every: int,
                samples: int, truncation: float, hook: AllreduceHook) -> Any:
        """The params every trainer takes, and the encoded paths (which must outlive the call)."""
        p, keep = cls._face_params(_lib.PriorTrainerParams, faces, (("checkpoint_dir", checkpoint_dir),), batch_size, checkpoint_every)
        p.sheet_samples = _count(samples, "samples", 0, 256)
        p.truncation = float(truncation)
        hook.apply(p)
        return p, keep

    @classmethod
    def create(cls, faces: PathLike, *, checkpoint_dir: Optional[PathLike] = None, size: Optional[int] = None,
               widths: str = "small", lr: float = 2e-3, batch_size: Optional[int] = None, seed: int = 1,
               checkpoint_every: int = 100, samples: int = 16, truncation: float = 1.0, allreduce: Optional[Allreduce] = None,
               rank: int = 0, n_ranks: int = 0) -> "PriorTrainer":
        """A new run on the square, aligned faces under ``faces`` (PNG or JPEG, all of one size:
        32...1024 px, a power of two; one is held out).

        Args:
            checkpoint_dir: where checkpoints (every ``checkpoint_every`` steps, and when a run is
                stopped or interrupted), the JSONL log and sample sheets (``samples`` faces of the
                EMA generator, truncated by ``truncation``) go; None: nothing is written by itself.
            size: the training size (None: the faces'). widths: ``"small"``, ``"full"`` or
                ``"tiny"``, those of the enhancer the prior is for.
            lr: learning rate of the generator and the discriminator. batch_size: faces per step
                (None: 4; below 4 or a multiple of 4). seed: seeds networks, noise, batches and sheets.
            allreduce, rank, n_ranks: this trainer is rank ``rank`` of ``n_ranks`` (>= 2) of a
                data-parallel run (see the module's docstring); the batch must give each rank
                whole groups of 4 of the discriminator (a multiple of 4 * n_ranks).
        """
        hook = AllreduceHook(allreduce, rank, n_ranks)
        p, keep = cls._params(faces, checkpoint_dir, batch_size, checkpoint_every, samples, truncation, hook)
        p.widths = widths_code(widths)
        p.size = _count(size, "size", 32, 1024)
        p.lr = float(lr)
        p.seed = seed_value(seed)
        return cls._made("create", hook, ctypes.byref(p))

    @classmethod
    def load(cls, checkpoint: PathLike, faces: PathLike, *, checkpoint_dir: Optional[PathLike] = None,
             batch_size: Optional[int] = None, checkpoint_every: int = 100, samples: int = 16,
             truncation: float = 1.0, allreduce: Optional[Allreduce] = None, rank: int = 0,
             n_ranks: int = 0) -> "PriorTrainer":
        """A trainer continuing a checkpoint (:meth:`save`, or ``prior-checkpoint.safetensors`` of a
        ``checkpoint_dir`` or of ``avpgan train-prior``) on the same ``faces``, bit-identically. The
        checkpoint decides networks, seed, split and batch size (another ``batch_size`` is refused).
        With ``allreduce``, ``rank`` and ``n_ranks`` every rank loads the same checkpoint
        (collective, as :meth:`create`)."""
        hook = AllreduceHook(allreduce, rank, n_ranks)
        p, keep = cls._params(faces, checkpoint_dir, batch_size, checkpoint_every, samples, truncation, hook)
        return cls._made("load_checkpoint", hook, _path(checkpoint, "checkpoint"), ctypes.byref(p))

    @property
    def info(self) -> PriorTrainerInfo:
        """What the trainer is, with the current step and the last step's losses."""
        raw = _lib.PriorTrainerInfo()
        raw.struct_size = ctypes.sizeof(raw)
        self._call("get_info", ctypes.byref(raw))
        return PriorTrainerInfo(step=int(raw.step), size=int(raw.size), num_style_feat=int(raw.num_style_feat),
                                num_mlp=int(raw.num_mlp), channel_multiplier=float(raw.channel_multiplier),
                                narrow=float(raw.narrow), batch_size=int(raw.batch_size), n_faces=int(raw.n_faces),
                                n_training_faces=int(raw.n_training_faces),
                                losses=self.losses_dict(raw.losses, int(raw.losses_present)))

    def export(self, path: PathLike) -> None:
        """Writes the EMA generator as a face-prior file (for ``avpgan train-enhancer --prior``); on
        rank 0 only in a data-parallel run."""
        self._call("export", _path(path, "path"))

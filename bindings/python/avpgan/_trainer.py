"""Training from Python: :class:`Trainer`, a handle on ``avpgan_trainer``.

Example (the parity check against the PyTorch reference's ``gan_step``)::

    import avpgan
    # ckpt.safetensors from: tools/converters/convert_torch.py --arch avpgan --training \\
    #     --voice-encoder e.pth --generator g.pth --face-encoder f.pth \\
    #     --discriminator d.pth --classifier c.pth -o ckpt.safetensors
    with avpgan.Trainer.load("ckpt.safetensors") as t:
        losses = t.gan_step(voice, voice_label, face, face_label, noise)   # torch layouts
        t.save("ckpt-1.safetensors"); t.export("model.safetensors")

    # on a data set (voices/<id>/*.wav, faces/<id>/*.png):
    t = avpgan.Trainer.create(voices="data/voices", faces="data/faces", cache="data/cache",
                              voice_encoder="model.safetensors", widths="tiny", batch_size=16)
    history = t.run(1000, progress=lambda done, total, losses: print(done, losses.g_class))

Threads: a trainer is mutable; use it from one thread at a time. A call made while
another call on the same trainer is in progress raises :class:`InvalidArgumentError`
("the trainer is busy"). The GIL is released while the library computes.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

from . import _lib
from . import PathLike, _as_int, _check, _decode, _widths
from ._arguments import _path
from ._trainer_dataset import fill_dataset
from ._trainer_batch import _floats, _labels
from ._trainer_info import HEALTH_WARNINGS, Losses, TrainerClosedError, TrainerInfo
from ._trainer_run import run_steps
from ._params_init import _defaults

__all__ = ["Losses", "TrainerInfo", "Trainer", "TrainerClosedError"]

_ARCHS = {"voice2face": 0, "avpgan": 1, "avpgan-nocbam": 2}
_WIDTHS = {"full": 0, "tiny": 1}
_CBAM_GATES = {"sigmoid": 0, "residual": 1}


class Trainer(_lib.HandleOwner):
    """A training run (``avpgan_trainer``): Algorithm 1 with the reference's ``gan_step``.

    Make one with :meth:`create` (new networks on a data set) or :meth:`load` (a
    checkpoint, with or without a data set). A trainer is a context manager;
    :meth:`close` frees it, and later use raises :class:`TrainerClosedError`.
    """

    _handle: Optional[Any]
    _FREE = "avpgan_trainer_free"
    _CLOSED = TrainerClosedError
    _NAME = "avpgan.Trainer"
    _PICKLE_HINT = "save() a checkpoint and load() it"

    def __init__(self, handle: Any, *, _token: object = None) -> None:
        if _token is not _TOKEN:
            raise TypeError("use avpgan.Trainer.create(...) or avpgan.Trainer.load(...)")
        self._init_handle()
        self._handle = handle
        try:
            self._static = self._read_info()
        except BaseException:
            self.close()
            raise

    # -- construction -------------------------------------------------------

    @staticmethod
    def _params(batch_size: int, seed: int = 1, stop_on_collapse: bool = False) -> _lib.TrainerParams:
        p = _defaults(_lib.TrainerParams, "avpgan_trainer_params_init")
        batch_size = _as_int(batch_size, "batch_size")
        if not 1 <= batch_size <= 4096:
            raise ValueError(f"batch_size must be in 1...4096, got {batch_size}")
        seed = _as_int(seed, "seed")
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        p.batch_size = batch_size
        p.seed = seed
        if not isinstance(stop_on_collapse, bool):
            raise TypeError(f"stop_on_collapse must be True or False, got {stop_on_collapse!r}")
        p.stop_on_collapse = int(stop_on_collapse)
        return p

    @classmethod
    def create(
        cls,
        *,
        voices: PathLike,
        faces: PathLike,
        voice_encoder: PathLike,
        cache: PathLike,
        arch: str = "avpgan",
        widths: str = "full",
        batch_size: int = 64,
        seed: int = 1,
        test_list: Optional[PathLike] = None,
        split: str = "test-list",
        meta: Optional[PathLike] = None,
        generator_spectral_norm: Optional[bool] = None,
        stop_on_collapse: bool = False,
        health_warm_up: int = 500,
        generator_cbam: Optional[bool] = None,
        cbam_reduction: Optional[int] = None,
        cbam_gate: Optional[str] = None,
    ) -> "Trainer":
        """A new trainer: the frozen voice encoder of the model file ``voice_encoder``, new
        generator, face encoder and heads for ``arch`` (``"voice2face"``, ``"avpgan"``,
        ``"avpgan-nocbam"``) at ``widths`` (``"full"`` or ``"tiny"``), seeded by ``seed``;
        batches of ``batch_size`` from ``voices/<identity>/*`` and ``faces/<identity>/*``
        (identities in ``test_list``, a file of names, held out, by default ``voices/../test.txt``
        when it exists, as the avpgan command does; or ``split="initial-letter"``:
        names starting A-B held out for validation, C-E for test, as the paper's split). Voice
        features are computed once into ``cache``. ``meta``: VoxCeleb's ``vox1_meta.csv``, for
        a corpus in its own layout (``voices/id10001/...`` beside ``faces/A.J._Buckley/...``);
        ``split="corpus-set"`` then holds out the table's ``Set == test`` speakers.

        ``generator_spectral_norm``: True puts spectral norm on the generator as well as the
        face encoder (the reference's avpgan and avpgan-nocbam), False on the face encoder
        only (an experiment of docs/training-design.md); None takes the library's default
        (True). ``stop_on_collapse``: :meth:`run` stops with
        :class:`AbortedError` after a step that raises the ``collapse`` or ``discriminator_wins``
        warning (:attr:`info` ``.health``; ``classifier_at_chance`` only warns);
        ``health_warm_up``: steps before the warnings are judged (a fresh generator's faces are
        all alike). avpgan only: ``generator_cbam`` False keeps CBAM out of the generator (the
        reference has it there too), ``cbam_reduction`` r gives CBAM's MLP max(C // r, 1)
        hidden units, ``cbam_gate`` ``"residual"`` makes every CBAM gate as ``x * (1 + M)``
        (residual attention, which passes the voice at initialisation; avpgan learns with it)
        and ``"sigmoid"`` as the reference's ``x * M``; None takes the library's defaults
        (True, 16, ``"residual"``). A checkpoint and the exported model keep the gate."""
        if arch not in _ARCHS:
            raise ValueError(f"arch must be one of {sorted(_ARCHS)}, got {arch!r}")
        if widths not in _WIDTHS:
            raise ValueError(f"widths must be 'full' or 'tiny', got {widths!r}")
        p = cls._params(batch_size, seed, stop_on_collapse)
        if generator_spectral_norm is not None:
            if not isinstance(generator_spectral_norm, bool):
                raise TypeError(f"generator_spectral_norm must be True, False or None, got {generator_spectral_norm!r}")
            p.generator_spectral_norm = int(generator_spectral_norm)
        if generator_cbam is not None:
            if not isinstance(generator_cbam, bool):
                raise TypeError(f"generator_cbam must be True, False or None, got {generator_cbam!r}")
            p.generator_cbam = int(generator_cbam)
        if cbam_reduction is not None:
            cbam_reduction = _as_int(cbam_reduction, "cbam_reduction")
            if not 1 <= cbam_reduction <= 65536:
                raise ValueError(f"cbam_reduction must be in 1...65536, got {cbam_reduction}")
            p.cbam_reduction = cbam_reduction
        if cbam_gate is not None:
            if cbam_gate not in _CBAM_GATES:
                raise ValueError(f"cbam_gate must be one of {sorted(_CBAM_GATES)} or None, got {cbam_gate!r}")
            p.cbam_gate = _CBAM_GATES[cbam_gate]
        health_warm_up = _as_int(health_warm_up, "health_warm_up")
        if not 1 <= health_warm_up < 2**32:
            raise ValueError(f"health_warm_up must be in 1...2**32 - 1, got {health_warm_up}")
        p.health_warm_up = health_warm_up
        p.arch = _ARCHS[arch]
        p.widths = _WIDTHS[widths]
        keep = fill_dataset(p, voices, faces, cache, test_list, split, meta)
        keep.append(_path(voice_encoder, "voice_encoder"))
        p.voice_encoder = keep[-1]
        lib = _lib.get()
        handle = _lib.TrainerHandle()
        _check(lib.avpgan_trainer_create(ctypes.byref(p), ctypes.byref(handle)), "avpgan_trainer_create")
        return cls(handle, _token=_TOKEN)

    @classmethod
    def load(
        cls,
        checkpoint: PathLike,
        voices: Optional[PathLike] = None,
        faces: Optional[PathLike] = None,
        *,
        cache: Optional[PathLike] = None,
        test_list: Optional[PathLike] = None,
        split: str = "test-list",
        meta: Optional[PathLike] = None,
        batch_size: int = 64,
        stop_on_collapse: bool = False,
    ) -> "Trainer":
        """A trainer in the state of a checkpoint file (:meth:`save`, ``avpgan train``'s
        ``checkpoint.safetensors``, or ``tools/converters/convert_torch.py --training``).

        Without ``voices`` and ``faces`` it has no data set: :meth:`gan_step` works,
        :meth:`step` and :meth:`run` raise :class:`InvalidArgumentError`. With them (and
        ``cache``), it continues the saved run on that data set bit-identically.
        ``stop_on_collapse`` as in :meth:`create`."""
        p = cls._params(batch_size, stop_on_collapse=stop_on_collapse)
        keep = [_path(checkpoint, "checkpoint")]
        if voices is not None or faces is not None:
            if voices is None or faces is None:
                raise ValueError("a data set needs both voices= and faces=")
            keep += fill_dataset(p, voices, faces, cache, test_list, split, meta)
        elif cache is not None or test_list is not None or meta is not None or split != "test-list":
            raise ValueError("cache=, test_list=, meta= and split= need a data set (voices= and faces=)")
        lib = _lib.get()
        handle = _lib.TrainerHandle()
        _check(lib.avpgan_trainer_load_checkpoint(keep[0], ctypes.byref(p), ctypes.byref(handle)),
               "avpgan_trainer_load_checkpoint")
        return cls(handle, _token=_TOKEN)

    # -- lifetime -------------------------------------------------------------

    def __repr__(self) -> str:
        if self._handle is None:
            return "<avpgan.Trainer (closed)>"
        s = self._static
        return f"<avpgan.Trainer {s.arch} step {self.step_count}, {s.n_identities} identities>"

    # -- queries --------------------------------------------------------------

    def _read_info(self) -> TrainerInfo:
        raw = _lib.TrainerInfo()
        raw.struct_size = ctypes.sizeof(raw)
        lib = _lib.get()
        with self._use() as handle:
            _check(lib.avpgan_trainer_get_info(handle, ctypes.byref(raw)), "avpgan_trainer_get_info")
        return TrainerInfo(
            step=int(raw.step),
            arch=_decode(bytes(raw.arch_name)),
            n_mels=int(raw.n_mels),
            embed_dim=int(raw.embed_dim),
            image_size=int(raw.image_size),
            n_identities=int(raw.n_identities),
            batch_size=int(raw.batch_size),
            has_dataset=bool(raw.has_dataset),
            voice_widths=_widths(raw.voice_widths, int(raw.n_voice_widths), "voice widths"),
            generator_widths=_widths(raw.generator_widths, int(raw.n_generator_widths), "generator widths"),
            face_widths=_widths(raw.face_widths, int(raw.n_face_widths), "face widths"),
            n_trained_parameters=int(raw.n_trained_parameters),
            health=tuple(name for name, bit in HEALTH_WARNINGS.items() if raw.health & bit),
            health_step=int(raw.health_step),
            generator_spectral_norm=bool(raw.generator_spectral_norm),
            batch_spread=float(raw.batch_spread),
            generator_cbam=bool(raw.generator_cbam),
            cbam_reduction=int(raw.cbam_reduction),
            cbam_gate=next((name for name, code in _CBAM_GATES.items() if code == raw.cbam_gate), str(raw.cbam_gate)),
        )

    @property
    def info(self) -> TrainerInfo:
        """What the trainer is, with the current step (read from the library)."""
        return self._read_info()

    @property
    def step_count(self) -> int:
        """Training steps taken so far (kept in checkpoints)."""
        return self._read_info().step

    # -- training -------------------------------------------------------------

    def gan_step(self, voice: Any, voice_label: Any, face: Any, face_label: Any, noise: Any = None) -> Losses:
        """One step on an explicit batch, as the reference's
        ``gan_step(nets, opts, voice, voice_label, face, face_label, noise)``, in its layouts
        (numpy arrays or torch tensors):

        Args:
            voice: ``[N, n_mels, T]`` float (torch's Conv1d layout: bands, then frames).
            voice_label: ``[N]`` integers, the voices' identities.
            face: ``[N, 3, S, S]`` float in [-1, 1] (NCHW).
            face_label: ``[N]`` integers, the faces' identities.
            noise: ``[N, E, 1, 1]`` (the reference's) or ``[N, E]``, added to the normalised
                embedding, which is then normalised again; None = zeros.

        Returns:
            :class:`Losses` ``(d_real, d_fake, c_real, g_fake, g_class)``, as ``gan_step`` returns.

        Raises:
            ValueError: a shape, dtype or label out of range. InvalidArgumentError: the library
                refused the batch (e.g. a non-finite value); the trainer is then unchanged.
        """
        s = self._static
        v = _floats(voice, "voice")
        if v.ndim != 3 or v.shape[1] != s.n_mels or v.shape[0] < 1 or v.shape[2] < 1:
            raise ValueError(f"gan_step: voice must be [N, n_mels={s.n_mels}, T] (torch layout), got shape {v.shape}")
        n, t = v.shape[0], v.shape[2]
        if n > 4096:
            raise ValueError(f"gan_step: the batch has {n} voices; at most 4096")
        v = np.ascontiguousarray(v.transpose(0, 2, 1))  # the library's frame-major [N, T, n_mels]
        f = np.ascontiguousarray(_floats(face, "face"))
        if f.shape != (n, 3, s.image_size, s.image_size):
            raise ValueError(f"gan_step: face must be [N={n}, 3, {s.image_size}, {s.image_size}], got shape {f.shape}")
        if noise is None:
            z = np.zeros((n, s.embed_dim), np.float32)
        else:
            z = _floats(noise, "noise")
            if z.shape not in ((n, s.embed_dim), (n, s.embed_dim, 1, 1)):
                raise ValueError(f"gan_step: noise must be [N={n}, E={s.embed_dim}, 1, 1] or [N, E], got shape {z.shape}")
            z = np.ascontiguousarray(z.reshape(n, s.embed_dim))
        vl = _labels(voice_label, "voice_label", n, s.n_identities)
        fl = _labels(face_label, "face_label", n, s.n_identities)
        out = np.zeros(_lib.N_LOSSES, np.float32)
        fp, ip = _lib._c_float_p, _lib._c_int32_p
        lib = _lib.get()
        with self._use() as handle:
            _check(lib.avpgan_trainer_gan_step(handle, n, t, s.n_mels, v.ctypes.data_as(fp), vl.ctypes.data_as(ip),
                                               f.ctypes.data_as(fp), fl.ctypes.data_as(ip), z.ctypes.data_as(fp),
                                               out.ctypes.data_as(fp)),
                   "avpgan_trainer_gan_step")
        return Losses(*(float(x) for x in out))

    def step(self) -> Losses:
        """One step on a batch drawn from the data set (needs one: see :meth:`load`)."""
        out = np.zeros(_lib.N_LOSSES, np.float32)
        lib = _lib.get()
        with self._use() as handle:
            _check(lib.avpgan_trainer_step(handle, out.ctypes.data_as(_lib._c_float_p)), "avpgan_trainer_step")
        return Losses(*(float(x) for x in out))

    def run(
        self,
        n: int,
        progress: Optional[Callable[[int, int, Losses], Any]] = None,
        *,
        stop: Optional[threading.Event] = None,
    ) -> npt.NDArray[np.float32]:
        """``n`` steps on the data set.

        Args:
            progress: called after each step as ``progress(done, total, losses)``; returning
                ``False`` stops the run (normally, after that step); raising stops it and the
                exception propagates. It must not call methods of this trainer.
            stop: a :class:`threading.Event` (or anything with ``is_set()``); the run stops
                before the next step once it is set.

        Ctrl-C (KeyboardInterrupt) stops the run between two steps and is re-raised: the
        trainer stays consistent and can be saved. A trainer made with ``stop_on_collapse``
        raises :class:`AbortedError` (naming the warning) after a step that raises the
        ``collapse`` or ``discriminator_wins`` warning; its state is then that step's, so keep the last checkpoint saved before it.

        Returns:
            float32 ``[steps taken, 5]``: each step's losses in :class:`Losses` order.
        """
        return run_steps(self._use, n, progress, stop)

    # -- files ----------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Writes a checkpoint file (networks, Adam state, step, sampler state); :meth:`load`
        continues from it bit-identically."""
        encoded = _path(path, "path")
        lib = _lib.get()
        with self._use() as handle:
            _check(lib.avpgan_trainer_save(handle, encoded), "avpgan_trainer_save")

    def export(self, path: PathLike) -> None:
        """Writes the inference model file of the current state (for :class:`avpgan.Model`)."""
        encoded = _path(path, "path")
        lib = _lib.get()
        with self._use() as handle:
            _check(lib.avpgan_trainer_export(handle, encoded), "avpgan_trainer_export")


_TOKEN = object()

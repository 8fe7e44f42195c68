"""What :class:`EnhancerTrainer` and :class:`PriorTrainer` share: a trainer handle on a face
folder (``avpgan_enhancer_trainer``, ``avpgan_prior_trainer``) with the same step, run, save and
export calls, the losses of a step as a dict under upstream's log names, and the data-parallel
hook (``avpgan_allreduce_fn``) made from a Python function."""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from . import PathLike, _as_int, _check, _decode
from ._arguments import _path
from ._long_call import LongCall
from ._params_init import _defaults

#: ``progress(done, total, losses)``, losses a dict under upstream's log names; False stops the run.
Progress = Callable[[int, int, Dict[str, float]], Any]

#: ``allreduce(values)``: replaces the float32 array ``values`` by its element-wise sum over all
#: ranks, in place (mpi4py: ``comm.Allreduce(MPI.IN_PLACE, values, op=MPI.SUM)``).
Allreduce = Callable[[np.ndarray], Any]

_WIDTHS = {"small": 0, "full": 1, "tiny": 2}


def count(value: Optional[int], name: str, low: int, high: int) -> int:
    """An optional integer in low...high (None: 0, the library's default)."""
    if value is None:
        return 0
    value = _as_int(value, name)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}...{high}, got {value}")
    return value


def widths_code(widths: str) -> int:
    """The avpgan_enhancer_widths value of ``"small"``, ``"full"`` or ``"tiny"``."""
    if widths not in _WIDTHS:
        raise ValueError(f"widths must be one of {sorted(_WIDTHS)}, got {widths!r}")
    return _WIDTHS[widths]


def seed_value(seed: int) -> int:
    """A seed checked to lie in [0, 2**64)."""
    seed = _as_int(seed, "seed")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed


_names: Dict[str, Tuple[str, ...]] = {}


def losses_dict(prefix: str, n: int, values: Any, present: int) -> Dict[str, float]:
    """The computed losses of a step of the ``prefix`` trainer (bit i of ``present`` set) under
    upstream's log names, which the library gives (``avpgan_<kind>_loss_name``)."""
    if prefix not in _names:
        name = getattr(_lib.get(), prefix.replace("_trainer", "_loss_name"))
        _names[prefix] = tuple(name(i).decode() for i in range(n))
    return {name: float(values[i]) for i, name in enumerate(_names[prefix]) if present & (1 << i)}


class AllreduceHook:
    """``allreduce`` as an ``avpgan_allreduce_fn`` for params of ``rank`` of ``n_ranks``; it lives as
    long as the trainer that uses it. An exception in ``allreduce`` fails the library call
    (``AvpganIOError``), and is kept in ``error``."""

    def __init__(self, allreduce: Optional[Allreduce], rank: int, n_ranks: int) -> None:
        self.rank, self.n_ranks = _as_int(rank, "rank"), _as_int(n_ranks, "n_ranks")
        if not 0 <= self.n_ranks < 2**32 or not 0 <= self.rank < 2**32:
            raise ValueError(f"rank and n_ranks must be in [0, 2**32), got {self.rank} and {self.n_ranks}")
        if self.n_ranks >= 2 and allreduce is None:
            raise ValueError(f"n_ranks is {self.n_ranks}: data-parallel training needs allreduce (a function summing over the ranks)")
        self.error: Optional[BaseException] = None
        self.fn = _lib.AllreduceFn(self._call) if allreduce is not None else None
        self._allreduce = allreduce

    def _call(self, values: Any, n: int, _user: Any) -> int:
        try:
            self._allreduce(np.ctypeslib.as_array(values, shape=(int(n),)))
            return 0
        except BaseException as e:  # noqa: B902 - reported through the library's status
            self.error = e
            return -1

    def apply(self, params: Any) -> None:
        """Sets the params' allreduce, rank and n_ranks."""
        params.rank, params.n_ranks = self.rank, self.n_ranks
        if self.fn is not None:
            params.allreduce = ctypes.cast(self.fn, ctypes.c_void_p)


class FaceTrainer(_lib.HandleOwner):
    """The calls both face-folder trainers have. A subclass names its C functions' prefix
    (``_PREFIX``), its handle's ctypes type, its progress callback type, its loss count and the
    command it is (for the progress bar), and its loss shown on the bar; it has an ``info``."""

    _PREFIX = ""
    _HANDLE: Any = None
    _PROGRESS: Any = None
    _N_LOSSES = 0
    _COMMAND = ""
    _BAR_LOSS = ""
    _hook: Optional[AllreduceHook] = None

    def __init__(self, handle: Any, *, _token: object = None, _hook: Optional[AllreduceHook] = None) -> None:
        if _token is not _TOKEN:
            raise TypeError(f"use {self._NAME}.create(...) or {self._NAME}.load(...)")
        self._init_handle()
        self._handle = handle
        self._hook = _hook  # the allreduce the library calls lives as long as the trainer

    @classmethod
    def _face_params(cls, struct: Any, faces: PathLike, paths: Sequence[Tuple[str, Optional[PathLike]]],
                     batch_size: Optional[int], checkpoint_every: int) -> Tuple[Any, List[bytes]]:
        """A ``struct`` params with the library's defaults (``<prefix>_params_init``), ``faces``,
        the optional ``paths`` (``(field, value)``; None leaves the field NULL), the batch size and
        the checkpoint interval; and the encoded paths, which must outlive the call."""
        p = _defaults(struct, f"{cls._PREFIX}_params_init")
        keep: List[bytes] = [_path(faces, "faces")]
        p.faces_dir = keep[-1]
        for field, value in paths:
            if value is not None:
                keep.append(_path(value, field))
                setattr(p, field, keep[-1])
        p.batch_size = count(batch_size, "batch_size", 1, 4096)
        p.checkpoint_every = count(checkpoint_every, "checkpoint_every", 1, 2**32 - 1)
        return p, keep

    @classmethod
    def _made(cls, function: str, hook: AllreduceHook, *args: Any) -> Any:
        """The trainer whose handle ``<prefix>_<function>(*args, &handle)`` (``create``,
        ``load_checkpoint``) makes, checked; ``hook`` lives as long as the trainer."""
        name = f"{cls._PREFIX}_{function}"
        handle = cls._HANDLE()
        _check(getattr(_lib.get(), name)(*args, ctypes.byref(handle)), name)
        return cls(handle, _token=_TOKEN, _hook=hook)

    def __repr__(self) -> str:
        if self._handle is None:
            return f"<{self._NAME} (closed)>"
        i = self.info  # type: ignore[attr-defined]
        return f"<{self._NAME} {i.size} px step {i.step}, {i.n_training_faces} faces>"

    @classmethod
    def losses_dict(cls, values: Any, present: int) -> Dict[str, float]:
        """The computed losses of a step (bit i of ``present`` set) under upstream's log names."""
        return losses_dict(cls._PREFIX, cls._N_LOSSES, values, present)

    def _call(self, function: str, *args: Any) -> None:
        """``<prefix>_<function>(handle, *args)``, checked."""
        name = f"{self._PREFIX}_{function}"
        with self._use() as handle:
            _check(getattr(_lib.get(), name)(handle, *args), name)

    @property
    def step_count(self) -> int:
        """Training steps taken so far (kept in checkpoints)."""
        return self.info.step

    def step(self) -> Dict[str, float]:
        """One step; returns its computed losses under upstream's log names. A loss that is not
        finite raises :class:`ModelFormatError`: continue from the last checkpoint."""
        out = np.zeros(self._N_LOSSES, np.float32)
        present = ctypes.c_uint32(0)
        self._call("step", out.ctypes.data_as(_lib._c_float_p), ctypes.byref(present))
        return self.losses_dict(out, present.value)

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
        call = LongCall(False if progress is not None else bar, self._COMMAND, "step", stop)

        def on_progress(done: int, total: int, losses: Any, present: int, _user: Any) -> None:
            try:
                values = self.losses_dict(losses, int(present))
                history.append(values)
                call.report(int(done), int(total), {self._BAR_LOSS: values.get(self._BAR_LOSS, 0.0)})
                if progress is not None and progress(int(done), int(total), values) is False:
                    call.state["stop"] = True
            except BaseException as e:  # noqa: B902 - re-raised after the run stops
                call.state["error"] = e

        progress_fn = self._PROGRESS(on_progress)
        done = ctypes.c_uint64(0)
        lib = _lib.get()
        name = f"{self._PREFIX}_run"
        if self._hook is not None:
            self._hook.error = None
        with call, self._use() as handle:
            status = getattr(lib, name)(handle, n, progress_fn, None, call.abort, None, ctypes.byref(done))
            message = _decode(lib.avpgan_last_error()) if status else ""
        if self._hook is not None and self._hook.error is not None and status:
            raise self._hook.error
        call.raise_for(status, message, name)
        return history

    def save(self, path: PathLike) -> None:
        """Writes a checkpoint file; ``load`` continues from it bit-identically."""
        self._call("save", _path(path, "path"))


_TOKEN = object()

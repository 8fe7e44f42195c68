"""The steps of :meth:`avpgan.Trainer.run`: ``avpgan_trainer_run`` with its progress and abort
callbacks, a stop event, Ctrl-C noted between steps, and the callbacks' exceptions carried out
of them."""

from __future__ import annotations

import ctypes
import signal
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

from . import _lib
from . import Status, _as_int, _decode, _error_for_status
from ._handles import HandleUse
from ._trainer_info import Losses


def run_steps(
    use: Callable[[], HandleUse],
    n: int,
    progress: Optional[Callable[[int, int, "Losses"], Any]],
    stop: Optional[threading.Event],
) -> npt.NDArray[np.float32]:
    """``n`` steps of the trainer whose handle ``use()`` lends (as :meth:`avpgan.Trainer.run`
    documents); returns float32 ``[steps taken, 5]``."""
    n = _as_int(n, "n")
    if not 1 <= n <= 2**40:
        raise ValueError(f"run: n must be in 1...2**40, got {n}")
    history: List[Tuple[float, ...]] = []
    state: Dict[str, Any] = {"error": None, "stop": False, "interrupted": False}

    def on_progress(done: int, total: int, losses: Any, _user: Any) -> None:
        try:
            values = Losses(*(float(losses[i]) for i in range(_lib.N_LOSSES)))
            history.append(tuple(values))
            if progress is not None and progress(int(done), int(total), values) is False:
                state["stop"] = True
        except BaseException as e:  # noqa: B902 - re-raised after the run stops
            state["error"] = e

    def on_abort(_user: Any) -> int:
        try:
            if stop is not None and stop.is_set():
                state["stop"] = True
            return 1 if (state["stop"] or state["error"] is not None or state["interrupted"]) else 0
        except BaseException as e:  # noqa: B902
            state["error"] = e
            return 1

    # Ctrl-C: a handler that only notes the signal, so that no KeyboardInterrupt is raised
    # inside (and lost in) a ctypes callback; the run stops before the next step.
    previous = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        def on_sigint(_signum: int, _frame: Any) -> None:
            state["interrupted"] = True
        previous = signal.signal(signal.SIGINT, on_sigint)
    progress_fn = _lib.TrainerProgressFn(on_progress)
    abort_fn = _lib.AbortFn(on_abort)
    done = ctypes.c_uint64(0)
    lib = _lib.get()
    try:
        with use() as handle:
            status = lib.avpgan_trainer_run(handle, n, progress_fn, None, abort_fn, None, ctypes.byref(done))
            message = _decode(lib.avpgan_last_error()) if status else ""
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if state["error"] is not None:
        raise state["error"]
    if state["interrupted"]:
        raise KeyboardInterrupt
    if status != 0 and not (status == int(Status.E_ABORTED) and state["stop"]):
        raise _error_for_status(status, message, "avpgan_trainer_run")
    return np.array(history, dtype=np.float32).reshape(-1, _lib.N_LOSSES)

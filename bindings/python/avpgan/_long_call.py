"""One long library call with progress, stop and Ctrl-C: what :func:`avpgan.pixel_retrieval`,
:func:`avpgan.evaluate_faces`, :func:`avpgan.train_voice_encoder` and :func:`avpgan.synth_data`
share."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable, Dict, Optional, Union

from . import _lib

#: A progress argument: None (a tqdm bar when tqdm is installed and this is a terminal or a
#: notebook), True / False (a bar / none), or a function ``f(done, total)``; returning False
#: from it stops the call.
Progress = Union[None, bool, Callable[[int, int], Any]]


def _bar(total: int, desc: str, unit: str, wanted: Optional[bool]) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if wanted is None:
        wanted = sys.stderr.isatty() or "ipykernel" in sys.modules
    return tqdm(total=total, desc=desc, unit=unit) if wanted else None


class LongCall:
    """Callbacks for one C call: ``progress`` and ``abort`` (ctypes callbacks to pass in the
    params struct), Ctrl-C noted by a signal handler (so that no KeyboardInterrupt is raised
    inside a ctypes callback) and turned into a stop, and exceptions of the caller's functions
    carried out of the callbacks. Use as a context manager around the call, then
    :meth:`raise_for` with its status."""

    def __init__(self, progress: Progress, desc: str, unit: str, stop: Optional[Any] = None) -> None:
        self._user = progress if callable(progress) and not isinstance(progress, bool) else None
        self._wanted = None if progress is None else bool(progress) if self._user is None else False
        self._desc, self._unit, self._stop_event = desc, unit, stop
        self._bar: Any = None
        self._lock = threading.Lock()
        self.state: Dict[str, Any] = {"error": None, "stop": False, "interrupted": False}
        self.progress = _lib.ProgressFn(lambda done, total, _user: self.report(int(done), int(total)))
        self.abort = _lib.AbortFn(lambda _user: self.should_stop())
        self._previous: Any = None

    def report(self, done: int, total: int, postfix: Optional[Dict[str, Any]] = None) -> None:
        """Progress: the bar moves to ``done`` of ``total``; the caller's function is called."""
        with self._lock:  # evaluate_faces reports from worker threads
            try:
                if self._bar is None and self._user is None:
                    self._bar = _bar(total, self._desc, self._unit, self._wanted)
                    self._wanted = self._bar is not None
                if self._bar is not None:
                    self._bar.total = total
                    self._bar.update(done - self._bar.n)
                    if postfix:
                        self._bar.set_postfix(postfix, refresh=False)
                if self._user is not None and self._user(done, total) is False:
                    self.state["stop"] = True
            except BaseException as e:  # noqa: B902 - re-raised after the call
                self.state["error"] = e

    def should_stop(self) -> int:
        try:
            if self._stop_event is not None and self._stop_event.is_set():
                self.state["stop"] = True
        except BaseException as e:  # noqa: B902
            self.state["error"] = e
        s = self.state
        return 1 if (s["stop"] or s["error"] is not None or s["interrupted"]) else 0

    def __enter__(self) -> "LongCall":
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            def on_sigint(_signum: int, _frame: Any) -> None:
                self.state["interrupted"] = True
            self._previous = signal.signal(signal.SIGINT, on_sigint)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self._bar is not None:
            self._bar.close()

    def raise_for(self, status: int, message: str, function: str) -> bool:
        """After the call: re-raises an exception of a callback, KeyboardInterrupt after Ctrl-C,
        or the call's error. Returns True when the call was stopped by request (``progress``
        returned False or ``stop`` was set: AVPGAN_E_ABORTED is then no error), else False."""
        from . import Status, _error_for_status
        if self.state["error"] is not None:
            raise self.state["error"]
        if self.state["interrupted"]:
            raise KeyboardInterrupt
        if status == int(Status.E_ABORTED) and self.state["stop"]:
            return True
        if status != 0:
            raise _error_for_status(status, message, function)
        return False

"""The lifetime of Python objects that own one C handle (Model, Trainer, FaceModel, Enhancer)."""

from __future__ import annotations

import threading
from typing import Any

from . import _lib

class HandleUse:
    """Holds an owner's C handle open for the duration of one C call. The owner (a Model or a
    Trainer) has ``_cond`` (a Condition), ``_handle`` (None once closed) and ``_active`` (calls in
    progress); its close() waits on ``_cond`` until ``_active`` is 0."""

    __slots__ = ("owner", "closed", "message", "handle")

    def __init__(self, owner: Any, closed: type, message: str) -> None:
        self.owner = owner
        self.closed = closed
        self.message = message

    def __enter__(self) -> Any:
        o = self.owner
        with o._cond:
            if o._handle is None:
                raise self.closed(self.message)
            o._active += 1
            self.handle = o._handle
        return self.handle

    def __exit__(self, *exc: Any) -> None:
        o = self.owner
        with o._cond:
            o._active -= 1
            if o._active == 0:
                o._cond.notify_all()


class HandleOwner:
    """The lifetime of an object that owns one C handle (Model, Trainer, FaceModel): ``close()``
    frees it once and waits for calls in flight on other threads; later use raises the class's
    closed error; a context manager; closed on garbage collection; never pickled. A subclass
    sets ``_FREE`` (the name of its ``avpgan_*_free`` function), ``_CLOSED`` (its closed-error
    class), ``_NAME`` (e.g. ``"avpgan.Model"``) and ``_PICKLE_HINT``, and calls
    :meth:`_init_handle` before anything can fail."""

    _FREE: str
    _CLOSED: type
    _NAME: str
    _PICKLE_HINT: str
    _handle: Any

    def _init_handle(self) -> None:
        self._handle = None  # so that close()/__del__ work if loading fails
        self._cond = threading.Condition()
        self._active = 0

    def close(self) -> None:
        """Frees the handle. Idempotent. Waits for calls in flight on other threads to finish;
        calls that start afterwards raise the class's closed error."""
        cond = getattr(self, "_cond", None)
        if cond is None:
            return
        with cond:
            handle = self._handle
            if handle is None:
                return
            self._handle = None
            while self._active:
                cond.wait()
        if handle:
            getattr(_lib.get(), self._FREE)(handle)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle is None

    def _check_open(self) -> None:
        if self._handle is None:
            raise self._CLOSED(f"operation on a closed {self._NAME}")

    def _use(self) -> HandleUse:
        """The handle, held open for one C call."""
        return HandleUse(self, self._CLOSED, f"operation on a closed {self._NAME}")

    def __enter__(self) -> Any:
        self._check_open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    def __reduce__(self) -> Any:
        raise TypeError(f"{self._NAME} cannot be pickled; {self._PICKLE_HINT}")

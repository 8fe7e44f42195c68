"""Status codes and the exceptions of failed calls: one :class:`AvpganError` subclass per
``avpgan_status``, raised by :func:`_check` with the library's message."""

from __future__ import annotations

import enum
from typing import Any, Dict, Optional, Tuple, Type

from . import _lib

class Status(enum.IntEnum):
    """``avpgan_status`` values."""

    OK = 0
    E_INVALID_ARGUMENT = -1
    E_BUFFER_TOO_SMALL = -2
    E_OUT_OF_MEMORY = -3
    E_IO = -4
    E_MODEL_FORMAT = -5
    E_UNSUPPORTED = -6
    E_MISSING_NETWORK = -7
    E_AUDIO_FORMAT = -8
    E_NO_SPEECH = -9
    E_ABORTED = -10
    E_INTERNAL = -100



# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class AvpganError(Exception):
    """A libavpgan call failed.

    Attributes:
        status: the ``avpgan_status`` code (a negative int).
        status_name: its C name, e.g. ``"AVPGAN_E_MODEL_FORMAT"``.
        message: ``avpgan_last_error()``, read right after the failing call on
            the same thread (names the argument, tensor or field at fault).
        function: the name of the C function that failed.
    """

    def __init__(self, status: int, message: str = "", function: str = "") -> None:
        self.status: int = int(status)
        self.status_name: str = _status_name(self.status)
        self.message: str = message
        self.function: str = function
        text = f"{self.status_name} ({self.status})"
        if function:
            text = f"{function}: {text}"
        if message:
            text = f"{text}: {message}"
        super().__init__(text)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_error_for_status, (self.status, self.message, self.function))


class InvalidArgumentError(AvpganError):
    """AVPGAN_E_INVALID_ARGUMENT: a bad pointer, count, size or value (e.g. NaN input)."""


class BufferTooSmallError(AvpganError):
    """AVPGAN_E_BUFFER_TOO_SMALL: an output buffer was too small (a bug in these bindings)."""


class OutOfMemoryError(AvpganError):
    """AVPGAN_E_OUT_OF_MEMORY: memory for the computation could not be had."""


class AvpganIOError(AvpganError, OSError):
    """AVPGAN_E_IO: a file could not be opened, read or written.

    Also an :class:`OSError`, so ``except OSError`` catches it as it catches
    Python's own file errors (``errno`` is None: the message names the cause)."""


class ModelFormatError(AvpganError):
    """AVPGAN_E_MODEL_FORMAT: a malformed model file."""


class UnsupportedError(AvpganError):
    """AVPGAN_E_UNSUPPORTED: well-formed but not supported (e.g. a newer format version)."""


class MissingNetworkError(AvpganError):
    """AVPGAN_E_MISSING_NETWORK: the model lacks a network the call needs."""


class AudioFormatError(AvpganError):
    """AVPGAN_E_AUDIO_FORMAT: the audio cannot be decoded (format, damage, non-finite samples, length)."""


class NoSpeechError(AvpganError):
    """AVPGAN_E_NO_SPEECH: the recording holds no speech."""


class AbortedError(AvpganError):
    """AVPGAN_E_ABORTED: long work stopped early because the caller asked (abort callback)."""


class InternalError(AvpganError):
    """AVPGAN_E_INTERNAL: a bug in libavpgan."""


class ModelClosedError(ValueError):
    """A :class:`Model` was used after :meth:`Model.close` (like I/O on a closed file)."""


_ERROR_CLASSES: Dict[int, Type[AvpganError]] = {
    int(Status.E_INVALID_ARGUMENT): InvalidArgumentError,
    int(Status.E_BUFFER_TOO_SMALL): BufferTooSmallError,
    int(Status.E_OUT_OF_MEMORY): OutOfMemoryError,
    int(Status.E_IO): AvpganIOError,
    int(Status.E_MODEL_FORMAT): ModelFormatError,
    int(Status.E_UNSUPPORTED): UnsupportedError,
    int(Status.E_MISSING_NETWORK): MissingNetworkError,
    int(Status.E_AUDIO_FORMAT): AudioFormatError,
    int(Status.E_NO_SPEECH): NoSpeechError,
    int(Status.E_ABORTED): AbortedError,
    int(Status.E_INTERNAL): InternalError,
}


def _status_name(status: int) -> str:
    try:
        return "AVPGAN_" + Status(status).name
    except ValueError:
        return f"AVPGAN_STATUS_{status}"


def _error_for_status(status: int, message: str = "", function: str = "") -> AvpganError:
    cls = _ERROR_CLASSES.get(int(status), AvpganError)
    return cls(status, message, function)


def _decode(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", errors="replace") if raw else ""


def _check(status: int, function: str) -> None:
    """Raises the AvpganError for a failed status. Must be called right after
    the C call on the same thread, before any other avpgan_ call, since the
    message lives in thread-local storage that the next call overwrites."""
    if status != 0:
        message = _decode(_lib.get().avpgan_last_error())
        raise _error_for_status(status, message, function)

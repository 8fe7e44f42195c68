"""The converters' error: `ConversionError` (raised by tools/converters/convert_face.py and the readers it
uses) and `report`, the one line every converter ends a failure with."""

import sys


class ConversionError(Exception):
    """An input that cannot be converted; the message is one line for the user."""


def report(prog, error, own=(ConversionError,)):
    """Prints ``PROG: error: MESSAGE`` on stderr, the message on one line; an exception not of
    the ``own`` types (the converter's expected failures) is prefixed with its type's name.
    Returns 2, the converters' exit status for a failed conversion."""
    msg = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, own):
        msg = f"{type(error).__name__}: {msg}"
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2

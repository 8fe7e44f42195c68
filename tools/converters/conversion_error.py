"""The error of the face-weight converters (tools/converters/convert_face.py and the readers it uses)."""


class ConversionError(Exception):
    """An input that cannot be converted; the message is one line for the user."""

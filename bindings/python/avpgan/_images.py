"""Pictures in and out: numpy ``[H, W, 3]`` uint8 RGB arrays, or Pillow images where a user
hands one. Pillow is optional: it is imported only when a PIL image is given or asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import PIL.Image

__all__ = ["ImageLike", "rgb8", "to_pil"]

#: A picture: ``[H, W, 3]`` uint8 RGB (any array-like), or a ``PIL.Image.Image`` (any mode;
#: converted to RGB).
ImageLike = Union[npt.ArrayLike, "PIL.Image.Image"]


def _is_pil(image: Any) -> bool:
    # No import of PIL for arrays: a PIL image's class lives in a PIL module.
    return type(image).__module__.startswith("PIL.") and hasattr(image, "convert")


def rgb8(image: ImageLike, function: str) -> npt.NDArray[np.uint8]:
    """``image`` as a ``[H, W, 3]`` uint8 array whose rows are contiguous RGB triples (a
    strided view is kept when it has that form). Raises TypeError (not uint8) or ValueError
    (not ``[H, W, 3]``), naming ``function``."""
    if _is_pil(image):
        arr = np.asarray(image.convert("RGB"), dtype=np.uint8)
    else:
        arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"{function}: image must be uint8 [H, W, 3] or a PIL image, got dtype {arr.dtype}")
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{function}: image must be [H, W, 3] with H, W >= 1, got shape {arr.shape}")
    if arr.strides[2] != 1 or arr.strides[1] != 3 or arr.strides[0] < 3 * arr.shape[1]:
        arr = np.ascontiguousarray(arr)
    return arr


def to_pil(pixels: npt.ArrayLike) -> "PIL.Image.Image":
    """A ``PIL.Image.Image`` (mode RGB) of ``[H, W, 3]`` uint8 pixels, e.g. of
    :meth:`Model.portrait`'s or :meth:`Enhancer.enhance`'s result. Needs Pillow
    (``pip install pillow``)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("to_pil needs Pillow: pip install pillow") from exc
    return Image.fromarray(np.ascontiguousarray(rgb8(pixels, "to_pil")))  # [H, W, 3] uint8 is RGB

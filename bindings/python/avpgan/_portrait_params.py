"""``avpgan_portrait_params`` from the keyword options that :meth:`avpgan.Model.portrait` and
:meth:`~avpgan.Model.save_portrait` take."""

from __future__ import annotations

from typing import Optional, Union

from . import _lib
from ._model_info import _PIXELS_BY_NAME, Pixels
from ._params_init import _defaults


def _portrait_params(seconds: Optional[float], vad: bool, vad_mode: int, pixels: Optional[Union[str, Pixels]],
                     noise: float, seed: int) -> _lib.PortraitParams:
    """``avpgan_portrait_params`` from the keyword options of :meth:`Model.portrait`."""
    p = _defaults(_lib.PortraitParams, "avpgan_portrait_params_init")
    p.seconds = float(seconds or 0.0)
    p.vad = 1 if vad else 0
    p.vad_mode = int(vad_mode)
    if pixels is not None:
        if isinstance(pixels, str) and pixels not in _PIXELS_BY_NAME:
            raise ValueError(f"portrait: pixels must be None, 'clamp' or 'minmax', got {pixels!r}")
        p.pixels = int(_PIXELS_BY_NAME[pixels] if isinstance(pixels, str) else pixels)
    p.noise = float(noise)
    p.seed = int(seed)
    return p

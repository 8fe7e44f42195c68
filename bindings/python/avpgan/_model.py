"""The model: :class:`Model`, portraits, embeddings and faces from a model file."""

from __future__ import annotations

import contextlib
import ctypes
import os
from typing import Any, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _lib
from . import AudioSource, PathLike, default_model
from ._enhancer import Enhancer
from ._errors import InternalError, ModelClosedError, Status, _check, _decode
from ._loading import _load_into, _model_params
from ._model_info import _PIXELS_BY_NAME, _PIXELS_NAMES, ModelInfo, Pixels, PortraitInfo, _widths
from ._portrait_params import _portrait_params
from ._params_init import _defaults


class Model(_lib.HandleOwner):
    """A loaded libavpgan model (voice encoder and generator, and with
    ``inference_only=False`` also the face encoder and heads when the file has
    them).

    ``Model(path)`` loads a model file (safetensors with ``avpgan.*``
    metadata), ``Model()`` the default model (:func:`default_model`);
    :meth:`from_bytes` loads one from memory. A model is a context
    manager; :meth:`close` (also called by ``with`` and on garbage collection)
    frees it once, and any later use raises :class:`ModelClosedError`.

    Args:
        path: the model file (``str``, ``bytes`` or ``os.PathLike``); None (the default): the
            default model, as :func:`default_model` finds it.
        inference_only: True (default) loads only what inference needs.
        max_header_bytes: the largest safetensors JSON header accepted; 0 = the
            library's default (100 MiB).

    Raises:
        AvpganIOError: the file cannot be opened or read.
        ModelFormatError: the file is malformed.
        UnsupportedError: the file's format is newer than the library.
        LibraryNotFound: libavpgan could not be loaded.
    """

    _handle: Optional[Any]
    _info: ModelInfo
    _FREE = "avpgan_model_free"
    _CLOSED = ModelClosedError
    _NAME = "avpgan.Model"
    _PICKLE_HINT = "load the model file in the other process"

    def __init__(
        self,
        path: Optional[PathLike] = None,
        *,
        inference_only: bool = True,
        max_header_bytes: int = 0,
    ) -> None:
        self._init_handle()
        self._path: Optional[str] = None
        params = _model_params(inference_only, max_header_bytes)
        _load_into(self, "model", _lib.ModelHandle, params, path=default_model() if path is None else path)

    @classmethod
    def from_bytes(
        cls,
        data: Union[bytes, bytearray, memoryview],
        *,
        inference_only: bool = True,
        max_header_bytes: int = 0,
    ) -> "Model":
        """Loads a model from the bytes of a model file (any contiguous
        buffer). The library copies what it needs; ``data`` may be released
        afterwards. Arguments and errors as for ``Model(path)``."""
        self = cls.__new__(cls)
        _load_into(self, "model", _lib.ModelHandle, _model_params(inference_only, max_header_bytes), data=data)
        return self

    def _adopt(self, handle: Any) -> None:
        """Takes ownership of a fresh handle and reads its info."""
        lib = _lib.get()
        if not handle:
            raise InternalError(int(Status.E_INTERNAL), "load returned OK but a NULL model", "avpgan_model_load")
        self._handle = handle
        raw = _lib.ModelInfo()
        raw.struct_size = ctypes.sizeof(raw)
        try:
            _check(lib.avpgan_model_get_info(handle, ctypes.byref(raw)), "avpgan_model_get_info")
            pixels = _PIXELS_NAMES.get(int(raw.default_pixels))
            if pixels is None:
                raise InternalError(
                    int(Status.E_INTERNAL),
                    f"unknown default_pixels {raw.default_pixels}",
                    "avpgan_model_get_info",
                )
            self._info = ModelInfo(
                arch=_decode(bytes(raw.arch_name)),
                format_version=int(raw.format_version),
                n_mels=int(raw.n_mels),
                embed_dim=int(raw.embed_dim),
                image_size=int(raw.image_size),
                image_channels=int(raw.image_channels),
                voice_widths=_widths(raw.voice_widths, int(raw.n_voice_widths), "voice widths"),
                generator_widths=_widths(raw.generator_widths, int(raw.n_generator_widths), "generator widths"),
                face_widths=_widths(raw.face_widths, int(raw.n_face_widths), "face widths"),
                n_identities=int(raw.n_identities),
                default_pixels=pixels,
                n_parameters=int(raw.n_parameters),
            )
        except BaseException:
            self.close()
            raise

    # -- lifetime ---------------------------------------------------------

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        arch = self._info.arch if hasattr(self, "_info") else "?"
        where = f" {self._path!r}" if getattr(self, "_path", None) else ""
        return f"<avpgan.Model {arch}{where} ({state})>"

    # -- queries ----------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        """What the model is (a :class:`ModelInfo`, read once at load time;
        still available after :meth:`close`)."""
        return self._info

    def _embeddings(self, embeddings: npt.ArrayLike, function: str) -> Tuple[np.ndarray, bool]:
        """Validates embeddings; returns a C-contiguous float32 [N, E] array and
        whether the input was a single 1-D embedding."""
        self._check_open()
        e = self._info.embed_dim
        arr = np.ascontiguousarray(embeddings, dtype=np.float32)
        single = arr.ndim == 1
        if single:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise ValueError(f"{function}: embeddings must be [E] or [N, E], got shape {arr.shape}")
        if arr.shape[1] != e:
            raise ValueError(f"{function}: embeddings must have E = embed_dim = {e} columns, got shape {arr.shape}")
        if arr.shape[0] < 1:
            raise ValueError(f"{function}: need at least one embedding, got shape {arr.shape}")
        return arr, single

    def embed(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The voice embedding of a recording.

        Args:
            features: log-mel features ``[n_frames, n_mels]``, frame-major,
                normalised as the front end does; converted to C-contiguous
                float32. ``n_mels`` must equal ``info.n_mels``; every value must
                be finite (NaN/inf give :class:`InvalidArgumentError`).

        Returns:
            ``[embed_dim]`` float32, an L2-unit vector.

        Raises:
            ValueError: features is not 2-D, has the wrong number of bands or
                no frames.
            InvalidArgumentError: the library rejected the input (e.g. non-finite values).
            ModelClosedError: the model is closed.
        """
        self._check_open()
        feats = np.ascontiguousarray(features, dtype=np.float32)
        m = self._info.n_mels
        if feats.ndim != 2:
            raise ValueError(f"embed: features must be 2-D [n_frames, n_mels={m}], got shape {feats.shape}")
        if feats.shape[1] != m:
            raise ValueError(f"embed: features must have n_mels = {m} columns, got shape {feats.shape}")
        if feats.shape[0] < 1:
            raise ValueError(f"embed: features need at least one frame, got shape {feats.shape}")
        out = np.empty(self._info.embed_dim, dtype=np.float32)
        self._fill_floats("avpgan_model_embed", feats, out)
        return out

    def _fill_floats(self, function: str, rows: np.ndarray, out: np.ndarray) -> None:
        """Calls ``function(model, rows, n_rows, n_columns, out, out.size, &needed)`` (the shape of
        avpgan_model_embed and avpgan_model_generate) on C-contiguous float32 arrays."""
        needed = ctypes.c_size_t(0)
        lib = _lib.get()
        with self._use() as handle:
            status = getattr(lib, function)(handle, rows.ctypes.data_as(_lib._c_float_p), rows.shape[0], rows.shape[1],
                                            out.ctypes.data_as(_lib._c_float_p), out.size, ctypes.byref(needed))
            _check(status, function)

    def portrait(
        self,
        source: AudioSource,
        sample_rate: Optional[int] = None,
        seconds: Optional[float] = None,
        vad: bool = True,
        *,
        vad_mode: int = 2,
        pixels: Optional[Union[str, Pixels]] = None,
        noise: float = 0.0,
        seed: int = 0,
        enhancer: Optional["Enhancer"] = None,
    ) -> npt.NDArray[np.uint8]:
        """A face ``[S, S, 3]`` uint8 from a recording: front end (as :func:`avpgan.features`),
        voice encoder, generator, pixel mapping, and with ``enhancer`` restoration.
        ``avpgan.to_pil(face)`` makes a ``PIL.Image`` of it.

        Args:
            source: a path, bytes of an encoded file, or a numpy array of samples (int16, or
                float in [-1, 1]; ``[n]`` or ``[n, channels]``), which needs ``sample_rate``.
            seconds: use only the first ``seconds`` of voiced audio (all when None).
            vad: keep only voiced audio (WebRTC VAD, mode ``vad_mode``).
            pixels: None (model default), ``"clamp"`` or ``"minmax"``.
            noise, seed: Gaussian noise of this standard deviation on the unit embedding
                (re-normalised), repeatable by seed; 0 = none.
            enhancer: an :class:`Enhancer`: the face is restored and enlarged to its size
                (as ``enhancer.enhance(face)`` does), so S is ``enhancer.info.size``.

        Raises:
            NoSpeechError: no speech in the recording. AudioFormatError: undecodable audio.
        """
        with _enhancer_handle(enhancer, "portrait") as enhancer_handle:
            size = enhancer.info.size if enhancer is not None else self._info.image_size
            return self._portrait(source, sample_rate, seconds, vad, vad_mode, pixels, noise, seed, enhancer_handle, size)

    def _portrait(self, source: AudioSource, sample_rate: Optional[int], seconds: Optional[float], vad: bool, vad_mode: int,
                  pixels: Optional[Union[str, Pixels]], noise: float, seed: int, enhancer_handle: Any,
                  s: int) -> npt.NDArray[np.uint8]:
        from ._media import pcm_16k

        rate = 16000 if sample_rate is None else int(sample_rate)
        x = pcm_16k(source, sample_rate)
        lib = _lib.get()
        p = _portrait_params(seconds, vad, vad_mode, pixels, noise, seed)
        if enhancer_handle is not None:
            p.enhancer = ctypes.cast(enhancer_handle, ctypes.c_void_p)
        out = np.empty((s, s, 3), dtype=np.uint8)
        needed = ctypes.c_size_t(0)
        with self._use() as handle:
            status = lib.avpgan_portrait_pcm(handle, x.ctypes.data_as(_lib._c_float_p), x.size, rate, ctypes.byref(p),
                                             out.ctypes.data_as(_lib._c_uint8_p), out.size, ctypes.byref(needed), None)
            _check(status, "avpgan_portrait_pcm")
        return out

    def save_portrait(
        self,
        source: PathLike,
        png_path: PathLike,
        *,
        seconds: Optional[float] = None,
        vad: bool = True,
        vad_mode: int = 2,
        pixels: Optional[Union[str, Pixels]] = None,
        noise: float = 0.0,
        seed: int = 0,
        provenance: bool = True,
        timestamp: bool = False,
        enhancer: Optional["Enhancer"] = None,
    ) -> PortraitInfo:
        """Writes the portrait of the recording file ``source`` to ``png_path`` as a PNG with
        provenance text chunks (software, model and audio SHA-256, parameters, voiced duration,
        the notice), byte for byte what ``avpgan portrait`` writes for the same options. The
        file is written to a temporary file and renamed into place: complete or untouched.

        Args:
            source, png_path: paths (``str``, ``bytes`` or ``os.PathLike``).
            seconds, vad, vad_mode, pixels, noise, seed: as :meth:`portrait`.
            provenance: False writes no text chunks.
            timestamp: True adds a "Creation Time" chunk (the file then differs run to run).
            enhancer: an :class:`Enhancer`: the face is restored and enlarged to its size, and
                the provenance names the enhancer's SHA-256 (as ``avpgan portrait --enhance``).

        Raises:
            AvpganIOError: ``source`` cannot be read or ``png_path`` cannot be written.
            NoSpeechError, AudioFormatError: as :meth:`portrait`.
        """
        voice, out = os.fsencode(source), os.fsencode(png_path)
        if b"\0" in voice or b"\0" in out:
            raise ValueError("save_portrait: a path contains a NUL byte")
        lib = _lib.get()
        p = _portrait_params(seconds, vad, vad_mode, pixels, noise, seed)
        p.provenance = 1 if provenance else 0
        p.timestamp = 1 if timestamp else 0
        info = _lib.PortraitInfo()
        info.struct_size = ctypes.sizeof(info)
        enhancer_use = _enhancer_handle(enhancer, "save_portrait")
        with self._use() as handle, enhancer_use as eh:
            if eh is not None:
                p.enhancer = ctypes.cast(eh, ctypes.c_void_p)
            _check(lib.avpgan_portrait_file(handle, voice, out, ctypes.byref(p), ctypes.byref(info)), "avpgan_portrait_file")
        return PortraitInfo(
            input_seconds=float(info.input_seconds),
            voiced_seconds=float(info.voiced_seconds),
            n_frames=int(info.n_frames),
            embedding=np.array(info.embedding[: min(int(info.embed_dim), _lib.MAX_EMBED)], dtype=np.float32),
        )

    def generate_raw(self, embeddings: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw generator output.

        Args:
            embeddings: ``[E]`` (one) or ``[N, E]`` (a batch) with
                E = ``info.embed_dim``; converted to C-contiguous float32;
                finite; used as given (not re-normalised).

        Returns:
            float32, planar RGB, unbounded (clamp to [-1, 1] for display):
            ``[N, 3, S, S]`` for a batch, ``[3, S, S]`` for a single 1-D
            embedding (S = ``info.image_size``).
        """
        emb, single = self._embeddings(embeddings, "generate_raw")
        n, s = emb.shape[0], self._info.image_size
        out = np.empty((n, 3, s, s), dtype=np.float32)
        self._fill_floats("avpgan_model_generate", emb, out)
        return out[0] if single else out

    def generate(
        self,
        embeddings: npt.ArrayLike,
        pixels: Optional[Union[str, Pixels]] = None,
    ) -> npt.NDArray[np.uint8]:
        """Faces as 8-bit RGB.

        Args:
            embeddings: ``[E]`` (one) or ``[N, E]`` (a batch), as for
                :meth:`generate_raw`.
            pixels: the mapping of generator output to bytes: ``None`` (the
                model's default, ``info.default_pixels``), ``"clamp"`` or
                ``"minmax"`` (or a :class:`Pixels` value).

        Returns:
            uint8, interleaved RGB, rows top to bottom: ``[N, S, S, 3]`` for a
            batch, ``[S, S, 3]`` for a single 1-D embedding.
        """
        emb, single = self._embeddings(embeddings, "generate")
        if pixels is None:
            mode = Pixels.MODEL_DEFAULT
        elif isinstance(pixels, Pixels):
            mode = pixels
        elif isinstance(pixels, str) and pixels in _PIXELS_BY_NAME:
            mode = _PIXELS_BY_NAME[pixels]
        else:
            raise ValueError(f"generate: pixels must be None, 'clamp' or 'minmax', got {pixels!r}")
        lib = _lib.get()
        params = _defaults(_lib.GenerateParams, "avpgan_generate_params_init")
        params.pixels = int(mode)
        n, s = emb.shape[0], self._info.image_size
        out = np.empty((n, s, s, 3), dtype=np.uint8)
        needed = ctypes.c_size_t(0)
        with self._use() as handle:
            status = lib.avpgan_model_generate_rgb8(
                handle,
                emb.ctypes.data_as(_lib._c_float_p),
                n,
                emb.shape[1],
                ctypes.byref(params),
                out.ctypes.data_as(_lib._c_uint8_p),
                out.size,
                ctypes.byref(needed),
            )
            _check(status, "avpgan_model_generate_rgb8")
        return out[0] if single else out


def _enhancer_handle(enhancer: Optional[Enhancer], function: str) -> Any:
    """A context holding ``enhancer``'s handle (None without one) for ``function``'s call;
    raises TypeError naming ``function`` when ``enhancer`` is not an :class:`Enhancer`."""
    if enhancer is None:
        return contextlib.nullcontext()
    if not isinstance(enhancer, Enhancer):
        raise TypeError(f"{function}: enhancer must be an avpgan.Enhancer, got {type(enhancer).__name__}")
    return enhancer._use()

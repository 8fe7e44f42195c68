""":func:`avpgan.pixel_retrieval` in three steps, for callers that share the work out (as
:func:`avpgan.distributed.pixel_retrieval` does on Dask): :func:`pixel_retrieval_recordings`
lists the recordings, :func:`pixel_retrieval_embeddings` computes the voice embeddings of any
share of them (features through the cache, voice encoder) as bytes that may cross processes,
and :func:`pixel_retrieval_score` generates and ranks the faces of the joined bytes once. The
result is bit for bit that of :func:`avpgan.pixel_retrieval` with the same arguments."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, Union

from . import _lib
from . import PathLike
from ._arguments import _path
from ._evaluation import PixelRetrievalResult, _opened, _retrieval_params, _retrieval_result
from ._face_similarity_steps import _check, _paths_from, _records_of
from ._long_call import Progress
from ._params_init import _defaults

if TYPE_CHECKING:
    from ._model import Model

__all__ = ["pixel_retrieval_recordings", "pixel_retrieval_embeddings", "pixel_retrieval_score"]


def pixel_retrieval_recordings(voices: PathLike, faces: PathLike, *, split: str = "test", test_list: Optional[PathLike] = None,
                               split_rule: str = "test-list") -> List[str]:
    """The recordings :func:`avpgan.pixel_retrieval` takes with these arguments, in its order
    (``avpgan_pixel_retrieval_recordings``)."""
    p, keep = _retrieval_params(voices, faces, split, test_list, split_rule, None, None)
    return _paths_from(_lib.get().avpgan_pixel_retrieval_recordings, p, "avpgan_pixel_retrieval_recordings")


def pixel_retrieval_embeddings(model: Union["Model", PathLike], recordings: Sequence[PathLike], *,
                               cache: Optional[PathLike] = None, progress: Progress = False, stop: Optional[Any] = None) -> bytes:
    """The voice embeddings of ``recordings`` (a share of :func:`pixel_retrieval_recordings`, in
    its order) as records for :func:`pixel_retrieval_score` (``avpgan_pixel_retrieval_embeddings``):
    one record per recording, all of one size, so the bytes of consecutive shares join by
    concatenation. ``cache``: the feature cache (default: the user's); progress, stop: as
    :func:`avpgan.pixel_retrieval`'s (off by default)."""
    def params(lib: Any) -> Tuple[Any, Any]:
        p = _defaults(_lib.PixelRetrievalEmbeddingsParams, "avpgan_pixel_retrieval_embeddings_params_init")
        cache_dir = _path(cache, "cache") if cache is not None else None
        p.cache_dir = cache_dir
        return p, cache_dir

    return _records_of(model, recordings, "avpgan_pixel_retrieval_embeddings", params,
                       ("pixel retrieval", "recording"), progress, stop)


def pixel_retrieval_score(model: Union["Model", PathLike], voices: PathLike, faces: PathLike, embeddings: bytes, *,
                          split: str = "test", test_list: Optional[PathLike] = None, split_rule: str = "test-list",
                          grid: Optional[PathLike] = None) -> PixelRetrievalResult:
    """The result of :func:`avpgan.pixel_retrieval` with the same arguments, from the embeddings
    already computed (``avpgan_pixel_retrieval_score``): ``embeddings`` holds the model's records
    of every recording of :func:`pixel_retrieval_recordings`, in its order (the shares joined).
    A record that does not match its recording or the model raises
    :class:`avpgan.InvalidArgumentError` naming it."""
    from . import Model
    if not isinstance(embeddings, (bytes, bytearray)):
        raise TypeError(f"embeddings must be bytes, got {type(embeddings).__name__}")
    data = bytes(embeddings)
    m, opened = _opened(model, Model, "model")
    try:
        p, keep = _retrieval_params(voices, faces, split, test_list, split_rule, None, grid)
        r = _lib.PixelRetrievalResult()
        r.struct_size = ctypes.sizeof(r)
        with m._use() as handle:
            _check(_lib.get().avpgan_pixel_retrieval_score(handle, ctypes.byref(p), data, len(data), ctypes.byref(r)),
                   "avpgan_pixel_retrieval_score")
    finally:
        if opened:
            m.close()
    return _retrieval_result(r)

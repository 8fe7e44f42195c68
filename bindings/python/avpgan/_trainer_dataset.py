"""The data-set fields of a trainer's params: folders, feature cache, held-out identities,
split rule, and VoxCeleb's identity table."""

from __future__ import annotations

from typing import List, Optional

from . import _lib
from ._arguments import PathLike, _path

#: ``split=`` values: the held-out list, the paper's initial-letter rule, or the corpus's
#: own speaker split (the ``Set`` column of ``meta``).
SPLITS = {"test-list": 0, "initial-letter": 1, "corpus-set": 2}


def fill_dataset(p: _lib.TrainerParams, voices: PathLike, faces: PathLike, cache: Optional[PathLike],
                 test_list: Optional[PathLike], split: str = "test-list",
                 meta: Optional[PathLike] = None) -> List[bytes]:
    """Sets the data-set fields of ``p``; returns the encoded paths, which must outlive the call."""
    if cache is None:
        raise ValueError("a data set needs cache= (a directory for the voice features, created if missing)")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    if split != "test-list" and test_list is not None:
        raise ValueError(f"split={split!r} takes no test_list")
    if split == "corpus-set" and meta is None:
        raise ValueError("split='corpus-set' needs meta= (vox1_meta.csv, whose Set column it uses)")
    p.split = SPLITS[split]
    keep = [_path(voices, "voices"), _path(faces, "faces"), _path(cache, "cache")]
    p.voices_dir, p.faces_dir, p.cache_dir = keep
    if test_list is not None:
        keep.append(_path(test_list, "test_list"))
        p.test_list = keep[-1]
    if meta is not None:
        keep.append(_path(meta, "meta"))
        p.meta_file = keep[-1]
    return keep

"""Faults while writing and cancelling (issue 13): a full disk and a read-only file system leave
the old checkpoint intact and no temporary file behind; an abort at a random step leaves a
trainer that saves exactly the state of the steps it took.

The disk cases mount a small tmpfs, so they need root (and a mount namespace that allows it);
otherwise they are skipped with the reason."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_trainer import create, dataset, make_checkpoint  # noqa: E402,F401  (dataset is a fixture)


@pytest.fixture
def tmpfs(tmp_path):
    """An 8 MiB tmpfs at tmp_path/mnt, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the full-disk and read-only cases needs root")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory: Path, leave: int) -> None:
    """Fills the file system of `directory` until at most `leave` bytes are free."""
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    with open(directory / "filler", "wb") as f:
        try:
            f.write(b"\0" * max(free - leave, 0))
        except OSError:
            pass


@contextlib.contextmanager
def saved_on(avpgan_module, tmp_path, tmpfs):
    """A trainer (of a fresh checkpoint) that has saved tmpfs/ckpt.safetensors: yields the
    trainer and that path, and afterwards fails the test if the file no longer holds what that
    save wrote."""
    make_checkpoint("avpgan", tmp_path / "start.safetensors")
    path = tmpfs / "ckpt.safetensors"
    with avpgan_module.Trainer.load(tmp_path / "start.safetensors") as t:
        t.save(path)
        old = path.read_bytes()
        yield t, path
    assert path.read_bytes() == old, "the old checkpoint changed"


def test_full_disk_keeps_the_old_checkpoint(avpgan_module, tmp_path, tmpfs):
    with saved_on(avpgan_module, tmp_path, tmpfs) as (t, path):
        fill(tmpfs, leave=64 * 1024)
        with pytest.raises(avpgan_module.AvpganIOError, match="No space left on device"):
            t.save(path)
        with pytest.raises(avpgan_module.AvpganIOError, match="No space left on device"):
            t.export(tmpfs / "model.safetensors")
    assert sorted(p.name for p in tmpfs.iterdir()) == ["ckpt.safetensors", "filler"], "a temporary file was left"


def test_read_only_file_system_keeps_the_old_checkpoint(avpgan_module, tmp_path, tmpfs):
    with saved_on(avpgan_module, tmp_path, tmpfs) as (t, path):
        subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
        with pytest.raises(avpgan_module.AvpganIOError, match="Read-only file system"):
            t.save(path)
    assert [p.name for p in tmpfs.iterdir()] == ["ckpt.safetensors"], "a temporary file was left"


def test_abort_at_random_steps_leaves_a_consistent_trainer(avpgan_module, dataset, tmp_path):  # noqa: F811
    rng = random.Random(13)
    with create(avpgan_module, dataset) as straight:
        reference = straight.run(6)
    for trial in range(3):
        k = rng.randint(1, 5)
        with create(avpgan_module, dataset) as t:
            history = t.run(6, progress=lambda done, total, losses: done < k)
            assert t.step_count == k and np.array_equal(history, reference[:k]), f"trial {trial}: aborted after {k}"
            t.save(tmp_path / f"abort-{trial}.safetensors")
        with avpgan_module.Trainer.load(tmp_path / f"abort-{trial}.safetensors", dataset / "data" / "voices",
                                        dataset / "data" / "faces", cache=dataset / "cache", batch_size=2) as u:
            assert u.step_count == k
            assert np.array_equal(u.run(6 - k), reference[k:]), f"trial {trial}: resuming after an abort at {k} diverged"

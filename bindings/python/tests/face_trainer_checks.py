"""What the tests of the two face-folder trainers (avpgan.EnhancerTrainer, avpgan.PriorTrainer)
share: drawn faces to train on, a maker of tiny runs, and the check that a stop and Ctrl-C keep the checkpoint."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest


def draw_face(seed: int, size: int = 32) -> np.ndarray:
    """A skin-coloured ellipse with two eyes and a mouth where the aligned template puts them."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] * (32 / size)
    img = np.zeros((size, size, 3)) + r.uniform(40, 200, 3)
    img[((x - 16) / r.uniform(9, 12)) ** 2 + ((y - 17) / r.uniform(12, 14)) ** 2 < 1] = r.uniform([150, 100, 80], [240, 190, 160])
    for cx in (12.75, 19.25):
        img[(x - cx) ** 2 + (y - 15) ** 2 < r.uniform(1.5, 3)] = r.uniform(0, 60, 3)
    img[(abs(x - 16) < r.uniform(2.5, 4)) & (abs(y - 22) < 1)] = r.uniform([120, 20, 20], [200, 70, 70])
    return np.clip(img + r.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def faces(avpgan, folder: Path, count: int = 8, size: int = 32) -> Path:
    (folder / "a").mkdir(parents=True)
    for k in range(count):
        avpgan.save_png(folder / "a" / f"{k}.png", draw_face(k, size))
    return folder


def maker(create, data: Path, **defaults):
    """``make(**kw)``: ``create(data, **defaults)`` with ``kw`` in place of those defaults."""
    return lambda **kw: create(data, **{**defaults, **kw})


def stop_and_ctrl_c_keep_the_checkpoint(avpgan, make, saved: Path, loss: str) -> None:
    """On a trainer from ``make()`` that checkpoints into ``saved``: progress returning False
    stops after that step and writes the checkpoint; Ctrl-C stops after the step in progress,
    keeps its checkpoint and restores the SIGINT handler; a call from a callback is refused as
    busy; afterwards a step still works and reports ``loss``."""
    with make() as t:
        history = t.run(5, progress=lambda done, total, losses: done < 2)
        assert len(history) == 2 and t.step_count == 2, "progress returning False stops after that step"
        assert saved.exists(), "a stopped run writes its checkpoint into checkpoint_dir"
        saved.unlink()
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with pytest.raises(KeyboardInterrupt):
                t.run(5, progress=lambda done, total, losses: signal.raise_signal(signal.SIGINT))
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the SIGINT handler is restored"
        finally:
            signal.signal(signal.SIGINT, inherited)
        assert t.step_count == 3 and saved.exists(), "Ctrl-C stops after the step in progress and keeps its checkpoint"
        with pytest.raises(avpgan.InvalidArgumentError, match="busy"):
            t.run(1, progress=lambda done, total, losses: t.step())
        assert loss in t.step(), "the trainer stays usable after a stop, Ctrl-C and a refused call"

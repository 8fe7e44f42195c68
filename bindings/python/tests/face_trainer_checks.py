"""What the tests of the two face-folder trainers (avpgan.EnhancerTrainer, avpgan.PriorTrainer)
share: drawn faces to train on, a maker of tiny runs, the check that a stop and Ctrl-C keep the
checkpoint, and threads as the ranks of a data-parallel run."""

from __future__ import annotations

import signal
import threading
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


class ThreadRanks:
    """Threads as the ranks of a data-parallel run: each rank's ``allreduce`` deposits its values,
    and every rank adds all deposits in rank order, so all get the same bits."""

    def __init__(self, n: int) -> None:
        self.barrier = threading.Barrier(n, timeout=120)
        self.deposits = [None] * n

    def allreduce(self, rank: int):
        def reduce(values: np.ndarray) -> None:
            self.deposits[rank] = values.copy()
            self.barrier.wait()
            total = self.deposits[0].copy()
            for other in self.deposits[1:]:
                total += other
            self.barrier.wait()
            values[:] = total
        return reduce


def train_on_two_ranks(make, steps: int, exported) -> list:
    """Each of two threads makes its rank's trainer with ``make(allreduce, rank)`` (collective),
    runs ``steps`` steps and exports to ``exported(rank)``; returns both ranks' losses, failing
    the test when a rank raised, when the ranks report different losses, or when rank 1 wrote
    its export (rank 0 alone writes)."""
    ranks, results, errors = ThreadRanks(2), [None, None], [None, None]

    def rank(r: int) -> None:
        try:
            with make(ranks.allreduce(r), r) as t:
                results[r] = t.run(steps)
                t.export(exported(r))
        except BaseException as e:  # noqa: B902 - reported below
            errors[r] = e
    threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [None, None], f"a rank failed: {errors}"
    assert results[0] == results[1], "the two ranks report different losses"
    assert Path(exported(0)).exists() and not Path(exported(1)).exists(), "rank 0 alone writes the exported file"
    return results[0]


def worst_relative_difference(single: list, ranks: list) -> float:
    """The largest relative difference of the losses of two runs, step by step (the same terms)."""
    worst = 0.0
    for a, b in zip(single, ranks, strict=True):
        assert set(a) == set(b), (a, b)
        worst = max([worst] + [abs(a[k] - b[k]) / max(abs(a[k]), 1e-3) for k in a])
    return worst

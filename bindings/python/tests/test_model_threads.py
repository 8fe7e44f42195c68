"""Tests of the avpgan Python bindings: one model shared by threads, and the error message of
each thread its own."""

from __future__ import annotations

import threading
from typing import Dict, List

import numpy as np
import pytest

from conftest import n_recordings


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------


def test_threads_share_one_model(avpgan_module, avpgan_model_path, avpgan_golden):
    avpgan = avpgan_module
    golden = avpgan_golden
    k = n_recordings(golden)
    with avpgan.Model(avpgan_model_path) as model:

        def work(i: int):
            feats = golden[f"features_{i % k}"]
            emb = model.embed(feats)
            batch = np.roll(golden["gen_input"], i, axis=0)
            return emb, model.generate_raw(batch), model.generate(batch, pixels="minmax")

        n_threads, rounds = 8, 3
        sequential = [work(i) for i in range(n_threads)]
        results: List[list] = [[] for _ in range(n_threads)]
        errors: List[BaseException] = []
        start = threading.Barrier(n_threads)

        def run(i: int) -> None:
            try:
                start.wait()
                for _ in range(rounds):
                    results[i].append(work(i))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, f"threads raised: {errors!r}"
        for i in range(n_threads):
            assert len(results[i]) == rounds, f"thread {i} finished {len(results[i])} of {rounds} rounds"
            for r, (e, raw, px) in enumerate(results[i]):
                se, sraw, spx = sequential[i]
                assert np.array_equal(e, se), f"thread {i} round {r}: embedding differs from the sequential run"
                assert np.array_equal(raw, sraw), f"thread {i} round {r}: raw images differ from the sequential run"
                assert np.array_equal(px, spx), f"thread {i} round {r}: pixels differ from the sequential run"


def test_thread_local_error_message(avpgan_module, avpgan_model_path, avpgan_golden):
    """A failure raised on one thread carries that thread's message, even when
    another thread fails differently at the same time."""
    avpgan = avpgan_module
    with avpgan.Model(avpgan_model_path) as model:
        nan = avpgan_golden["features_0"].copy()
        nan[0, 0] = np.nan
        got: Dict[str, List[avpgan.AvpganError]] = {"io": [], "nan": []}
        barrier = threading.Barrier(2)

        def io() -> None:
            barrier.wait()
            for _ in range(50):
                try:
                    avpgan.Model("/nonexistent/dir/model.safetensors")
                except avpgan.AvpganError as e:
                    got["io"].append(e)

        def bad() -> None:
            barrier.wait()
            for _ in range(50):
                try:
                    model.embed(nan)
                except avpgan.AvpganError as e:
                    got["nan"].append(e)

        ts = [threading.Thread(target=io), threading.Thread(target=bad)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert len(got["io"]) == 50 and len(got["nan"]) == 50, f"got {len(got['io'])} io and {len(got['nan'])} nan errors"
    assert all(e.status == avpgan.Status.E_IO for e in got["io"]), "a missing-file load gave a non-IO status"
    assert all(e.status == avpgan.Status.E_INVALID_ARGUMENT for e in got["nan"]), "NaN embed gave a non-INVALID status"
    io_msgs = {e.message for e in got["io"]}
    nan_msgs = {e.message for e in got["nan"]}
    assert len(io_msgs) == 1 and len(nan_msgs) == 1, f"messages varied: io {io_msgs}, nan {nan_msgs}"
    assert io_msgs.isdisjoint(nan_msgs), f"a thread saw the other thread's message: io {io_msgs}, nan {nan_msgs}"

"""Data-parallel `avpgan train` under `mpirun -np 2`: each rank computes its half of every
global batch, gradients are summed over MPI before each optimizer step, and the run equals one
process at the same global batch to float summation order; rank 0 alone writes; resuming works
with another number of ranks; ranks that disagree, a path missing on one rank, and a rank that
dies all end the whole job with a message instead of a hang. Needs build/bin/avpgan, espeak-ng
and Open MPI (the Makefile installs openmpi-bin)."""
import json
import os
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402
from mpi_helpers import (assert_disagreeing_ranks_refused, assert_exports_agree, job_with_a_killed_rank, mpirun_each,  # noqa: E402
                         needs_mpi, run_in_one_process, run_on_two_ranks, two_ranks_then_one_process)

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
ENCODER = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")

pytestmark = needs_mpi


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi-train")
    run_in_one_process([CLI, "synth-data", "-o", str(root / "data"), "--speakers", "6", "--utterances", "2",
                        "--faces", "2", "--seed", "3"])
    return root


def train_args(data, out, steps, *extra):
    return ["train", "--voices", str(data / "data" / "voices"), "--faces", str(data / "data" / "faces"),
            "--voice-encoder", ENCODER, "--widths", "tiny", "--batch", "8", "--steps", str(steps),
            "--cache", str(data / "cache"), "--checkpoint-every", "1", "--checkpoint-dir", str(out),
            "-o", str(out) + ".safetensors", *extra]


def losses(run_dir):
    return [json.loads(line) for line in (run_dir / "train.jsonl").read_text().splitlines()]


def faces(model_path):
    e = np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    with avpgan.Model(model_path) as m:
        return m.generate_raw(e)


@pytest.fixture(scope="module")
def single(data):
    out = data / "one"
    run_in_one_process([CLI, *train_args(data, out, 3)])
    return out


def test_two_ranks_train_as_one_process(data, single):
    out = data / "two"
    r = run_on_two_ranks([CLI, *train_args(data, out, 3)])
    assert r.stdout.count("wrote ") == 1, "rank 0 alone reports and writes: " + r.stdout
    assert "data-parallel over 2 ranks" in r.stdout and "ms per step" in r.stdout, r.stdout
    one, two = losses(single), losses(out)
    assert [x["step"] for x in two] == [1, 2, 3], "the log counts global steps"
    for a, b in zip(one, two):
        for k in ("d_real", "d_fake", "c_real", "g_fake", "g_class"):
            assert abs(a[k] - b[k]) <= 1e-4 * abs(a[k]), f"step {a['step']} {k}: 1 process {a[k]}, 2 ranks {b[k]}"
    assert_exports_agree(faces, single, out, "the exported models' faces differ")


def test_resume_with_another_number_of_ranks(data, single):
    out = data / "resumed"
    two_ranks_then_one_process([CLI, *train_args(data, out, 2)], [CLI, *train_args(data, out, 3)])
    assert [x["step"] for x in losses(out)] == [1, 2, 3]
    assert_exports_agree(faces, single, out, "2 steps on 2 ranks then 1 on one process differ from 3 straight steps")


def test_ranks_with_different_arguments_are_refused(data):
    out = data / "mixed"
    assert_disagreeing_ranks_refused(lambda *seed: [CLI, *train_args(data, out, 2, *seed)], "different arguments, data or checkpoints",
                                     data / "mixed.safetensors")


def test_a_path_missing_on_one_rank_ends_the_job(data):
    out = data / "missing"
    a = train_args(data, out, 2)
    b = [x if x != ENCODER else "/nonexistent/voice.safetensors" for x in a]
    start = time.time()
    r = mpirun_each([CLI, *a], [CLI, *b])
    assert r.returncode != 0 and "/nonexistent/voice.safetensors" in r.stderr, r.stderr
    assert time.time() - start < 120, "the other rank must not wait for the failed one"


def test_a_rank_that_dies_stops_the_job_and_keeps_the_checkpoint(data):
    out = data / "dies"
    checkpoint = out / "checkpoint.safetensors"
    with job_with_a_killed_rank([CLI, *train_args(data, out, 100000)], out, checkpoint):
        with avpgan.Trainer.load(checkpoint) as t:
            assert t.step_count >= 1, "the last saved checkpoint is intact and loads"

"""Data-parallel `avpgan train-voice` under `mpirun -np 2`: each rank computes its crops of every
global batch with BatchNorm synchronised over the ranks, gradients are summed before each Adam
step, and the run equals one process at the same global batch to float summation order; rank 0
alone writes; resuming works with another number of ranks; ranks that disagree and a rank that
dies end the whole job with a message instead of a hang. Needs build/bin/avpgan, espeak-ng and
Open MPI (the Makefile installs openmpi-bin)."""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402
from mpi_helpers import (assert_a_dying_rank_keeps_the_checkpoint, assert_disagreeing_ranks_refused,  # noqa: E402
                         assert_exports_agree, needs_mpi, run_in_one_process, run_on_two_ranks, two_ranks_then_one_process)

CLI = os.path.join(ROOT, "build", "bin", "avpgan")

pytestmark = needs_mpi


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi-train-voice")
    run_in_one_process([CLI, "synth-data", "-o", str(root / "data"), "--speakers", "6", "--utterances", "3",
                        "--faces", "1", "--seed", "4"])
    return root


def args(data, out, steps, *extra):
    return ["train-voice", "--voices", str(data / "data" / "voices"), "--widths", "tiny", "--batch", "7",
            "--steps", str(steps), "--lr", "1e-3", "--cache", str(data / "cache"), "--checkpoint-every", "1",
            "--checkpoint-dir", str(out), "-o", str(out) + ".safetensors", *extra]


def log(run_dir):
    return [json.loads(line) for line in (run_dir / "train-voice.jsonl").read_text().splitlines()]


def embedding(path):
    features = ((np.arange(300 * 64) * 7919) % 1009).astype(np.float32).reshape(300, 64) / 504.5 - 1
    with avpgan.Model(path) as m:
        return m.embed(features)


@pytest.fixture(scope="module")
def single(data):
    out = data / "one"
    run_in_one_process([CLI, *args(data, out, 3)])
    return out


def test_two_ranks_train_as_one_process(data, single):
    out = data / "two"
    r = run_on_two_ranks([CLI, *args(data, out, 3)])
    assert r.stdout.count("wrote ") == 1 and r.stdout.count("held-out accuracy") == 1, "rank 0 alone reports: " + r.stdout
    assert "data-parallel over 2 ranks" in r.stdout and "BatchNorm synchronised" in r.stdout, r.stdout
    one, two = log(single), log(out)
    assert [x["step"] for x in two] == [1, 2, 3], "the log counts global steps"
    for a, b in zip(one, two):
        assert b["batch"] == 7 and b["correct"] == a["correct"], f"step {a['step']}: {a} vs {b}"
        assert abs(a["loss"] - b["loss"]) <= 1e-4 * abs(a["loss"]), f"step {a['step']}: 1 process {a['loss']}, 2 ranks {b['loss']}"
    assert_exports_agree(embedding, single, out, "the exported encoders' embeddings differ")


def test_resume_with_another_number_of_ranks(data, single):
    out = data / "resumed"
    two_ranks_then_one_process([CLI, *args(data, out, 2)], [CLI, *args(data, out, 3)])
    assert [x["step"] for x in log(out)] == [1, 2, 3]
    assert_exports_agree(embedding, single, out, "2 steps on 2 ranks then 1 on one process differ from 3 straight steps")


def test_ranks_with_different_arguments_are_refused(data):
    out = data / "mixed"
    assert_disagreeing_ranks_refused(lambda *seed: [CLI, *args(data, out, 2, *seed)], "different arguments, data or checkpoints",
                                     data / "mixed.safetensors")


def test_a_rank_that_dies_stops_the_job_and_keeps_the_checkpoint(data):
    out = data / "dies"
    assert_a_dying_rank_keeps_the_checkpoint(lambda steps: [CLI, *args(data, out, steps)], out, out / "voice-checkpoint.safetensors")

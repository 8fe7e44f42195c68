"""Data-parallel `avpgan train-enhancer` under `mpirun -np 2` (32 px drawn faces, tiny widths,
batch 8: each rank takes one of the face discriminator's two minibatch-deviation groups): the
run equals one process at the same batch to float summation order, rank 0 alone prints and
writes, a two-rank checkpoint resumes in one process, a batch that cannot give each rank whole
groups and ranks that disagree are refused with a message, and a rank that dies ends the job
keeping the last checkpoint. Needs build/bin/avpgan, numpy and
Open MPI's mpirun (the Makefile installs openmpi-bin)."""
import json
import shutil

import numpy as np
import pytest

from cli_helpers import CLI
from mpi_helpers import (assert_a_dying_rank_keeps_the_checkpoint, assert_disagreeing_ranks_refused, assert_job_refused, mpirun,
                         run_in_one_process, run_on_two_ranks, two_ranks_then_one_process)
from test_train_enhancer import VGG, faces

pytestmark = pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI's mpirun is needed (make deps)")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi-train-enhancer")
    faces(root / "faces", count=10)
    return root


def args(data, out, steps, *extra, batch="8"):
    return ["train-enhancer", "--faces", str(data / "faces"), "--widths", "tiny", "--perceptual", VGG, "--batch", batch,
            "--steps", str(steps), "--checkpoint-every", "2", "--validation-fraction", "0.2", "--threads", "1",
            "--checkpoint-dir", str(out), "-o", str(out) + ".safetensors", *extra]


def losses(run_dir):
    lines = [json.loads(line) for line in (run_dir / "train-enhancer.jsonl").read_text().splitlines()]
    return [x for x in lines if "validation" not in x]


def worst_difference(one, two):
    """The largest relative difference of the loss terms of two logs, step by step."""
    assert [x["step"] for x in one] == [x["step"] for x in two], "the logs count the same global steps"
    worst = 0.0
    for a, b in zip(one, two):
        assert set(a) == set(b), f"step {a['step']}: other loss terms {sorted(a)} vs {sorted(b)}"
        for k in a:
            if k not in ("step", "steps_per_second"):
                worst = max(worst, abs(a[k] - b[k]) / max(abs(a[k]), 1e-3))
    return worst


@pytest.fixture(scope="module")
def single(data):
    out = data / "one"
    run_in_one_process([CLI, *args(data, out, 3)])
    return out


def test_two_ranks_train_as_one_process(data, single):
    out = data / "two"
    r = run_on_two_ranks([CLI, *args(data, out, 3)])
    assert r.stdout.count("wrote ") == 1 and r.stdout.count("training a 32 px enhancer") == 1, "rank 0 alone prints: " + r.stdout
    assert "data-parallel over 2 ranks" in r.stdout and "4 faces on rank 0" in r.stdout, r.stdout
    assert [x["step"] for x in losses(out)] == [1, 2, 3], "rank 0's log has each global step once"
    worst = worst_difference(losses(single), losses(out))
    print(f"mpirun -np 2 train-enhancer against one process: losses within {worst:.3g} relative")
    assert worst <= 1e-4, f"2 ranks' losses differ from one process's by {worst} (relative)"


def test_resume_in_one_process(data, single):
    out = data / "resumed"
    two_ranks_then_one_process([CLI, *args(data, out, 2)], [CLI, *args(data, out, 3)])
    worst = worst_difference(losses(single), losses(out))
    assert worst <= 1e-4, f"2 steps on 2 ranks then 1 in one process differ from 3 straight steps by {worst}"


def test_a_batch_without_a_group_per_rank_is_refused(data):
    # A batch of 4 (one group of 4) cannot be shared by 2 ranks.
    assert_job_refused(mpirun(CLI, *args(data, data / "small", 1, batch="4")), "at least 8", data / "small.safetensors")


def test_ranks_with_different_arguments_are_refused(data):
    out = data / "mixed"
    assert_disagreeing_ranks_refused(lambda *seed: [CLI, *args(data, out, 1, *seed)], "different arguments, faces or checkpoints",
                                     data / "mixed.safetensors")


def test_a_rank_that_dies_stops_the_job_and_keeps_the_checkpoint(data):
    out = data / "dies"
    assert_a_dying_rank_keeps_the_checkpoint(lambda steps: [CLI, *args(data, out, steps)], out, out / "enhancer-checkpoint.safetensors")

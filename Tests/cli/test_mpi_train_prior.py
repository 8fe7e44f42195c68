"""Data-parallel `avpgan train-prior` under `mpirun -np 2` (32 px drawn faces, tiny widths,
batch 8: each rank takes one of the discriminator's two minibatch-deviation groups, and half of
the path-length term's faces at step 4): the run equals one process at the same batch to float
summation order, rank 0 alone prints and writes, a two-rank checkpoint resumes in one process, a
face folder missing on one rank, a batch that cannot give each rank whole groups and ranks that
disagree are refused with a message, and a rank that dies ends the job keeping the last
checkpoint. Needs build/bin/avpgan, numpy and Open MPI's mpirun (the Makefile installs
openmpi-bin)."""
import json
import shutil

import pytest

from cli_helpers import CLI
from mpi_helpers import (assert_a_dying_rank_keeps_the_checkpoint, assert_disagreeing_ranks_refused, assert_job_refused, mpirun,
                         mpirun_each, run_in_one_process, run_on_two_ranks, two_ranks_then_one_process)
from test_mpi_train_enhancer import worst_difference
from test_train_enhancer import faces

pytestmark = pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI's mpirun is needed (make deps)")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi-train-prior")
    faces(root / "faces", count=10)
    return root


def args(data, out, steps, *extra, batch="8", folder="faces"):
    return ["train-prior", "--faces", str(data / folder), "--widths", "tiny", "--batch", batch, "--steps", str(steps),
            "--checkpoint-every", "2", "--samples", "4", "--threads", "1", "--checkpoint-dir", str(out),
            "-o", str(out) + ".safetensors", *extra]


def losses(run_dir):
    return [json.loads(line) for line in (run_dir / "train-prior.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def single(data):
    out = data / "one"
    run_in_one_process([CLI, *args(data, out, 4)])
    return out


def test_two_ranks_train_as_one_process(data, single):
    out = data / "two"
    r = run_on_two_ranks([CLI, *args(data, out, 4)])
    assert r.stdout.count("wrote ") == 1 and r.stdout.count("training a 32 px face prior") == 1, "rank 0 alone prints: " + r.stdout
    assert "data-parallel over 2 ranks" in r.stdout and "4 faces on rank 0" in r.stdout, r.stdout
    assert [x["step"] for x in losses(out)] == [1, 2, 3, 4], "rank 0's log has each global step once"
    assert "l_g_path" in losses(out)[3], "step 4 takes the path-length term"
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-000002.png", "step-000004.png"]
    worst = worst_difference(losses(single), losses(out))
    print(f"mpirun -np 2 train-prior against one process: losses within {worst:.3g} relative")
    assert worst <= 1e-4, f"2 ranks' losses differ from one process's by {worst} (relative)"


def test_resume_in_one_process(data, single):
    out = data / "resumed"
    two_ranks_then_one_process([CLI, *args(data, out, 2)], [CLI, *args(data, out, 4)])
    worst = worst_difference(losses(single), losses(out))
    assert worst <= 1e-4, f"2 steps on 2 ranks then 2 in one process differ from 4 straight steps by {worst}"


def test_a_face_folder_missing_on_one_rank_ends_the_job(data):
    out = data / "missing"
    r = mpirun_each([CLI, *args(data, out, 1)], [CLI, *args(data, out, 1, folder="no-such-faces")])
    assert_job_refused(r, "no-such-faces", data / "missing.safetensors")


def test_a_batch_without_a_group_per_rank_is_refused(data):
    # A batch of 4 (one group of 4) cannot be shared by 2 ranks.
    assert_job_refused(mpirun(CLI, *args(data, data / "small", 1, batch="4")), "at least 8", data / "small.safetensors")


def test_ranks_with_different_arguments_are_refused(data):
    out = data / "mixed"
    assert_disagreeing_ranks_refused(lambda *seed: [CLI, *args(data, out, 1, *seed)], "different arguments, faces or checkpoints",
                                     data / "mixed.safetensors")


def test_a_rank_that_dies_stops_the_job_and_keeps_the_checkpoint(data):
    out = data / "dies"
    assert_a_dying_rank_keeps_the_checkpoint(lambda steps: [CLI, *args(data, out, steps)], out, out / "prior-checkpoint.safetensors")

"""Running `avpgan` under Open MPI's `mpirun` for the data-parallel training tests (Tests/cli/
test_mpi_train.py, test_mpi_train_voice.py, test_mpi_train_enhancer.py, test_mpi_train_prior.py):
the environment mpirun needs here, two ranks with the same or different arguments, a job one of
whose ranks is killed mid-run, and the checks the four commands pass alike. Imported by name (pytest puts Tests/cli
on sys.path for the tests of this folder)."""
import contextlib
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

#: mpirun's environment: allowed as root (containers), shared memory or TCP between ranks.
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader,tcp")

#: A test module's `pytestmark`: skipped, saying why, without mpirun or espeak-ng.
needs_mpi = pytest.mark.skipif(shutil.which("mpirun") is None or shutil.which("espeak-ng") is None,
                               reason="Open MPI's mpirun and espeak-ng are needed (make deps)")


def mpirun(*args, np_=2, timeout=300):
    """The finished `mpirun -np np_ args...` (output captured as text), every rank running the
    same command."""
    return subprocess.run(["mpirun", "--oversubscribe", "-np", str(np_), *args], capture_output=True, text=True,
                          env=MPI_ENV, timeout=timeout)


def mpirun_each(first, second, timeout=300):
    """The finished two-rank job whose rank 0 runs the command `first` and rank 1 `second`
    (lists of arguments), for ranks that are given different arguments on purpose."""
    return subprocess.run(["mpirun", "--oversubscribe", "-np", "1", *first, ":", "-np", "1", *second],
                          capture_output=True, text=True, env=MPI_ENV, timeout=timeout)


@contextlib.contextmanager
def job_with_a_killed_rank(command, checkpoint_dir, checkpoint):
    """Runs `command` (an `avpgan` training command whose --checkpoint-dir is `checkpoint_dir`) on
    two ranks, waits up to 120 s for `checkpoint` to appear, SIGKILLs one rank, and enters the
    block once the whole job has ended with a failure; fails the test if the checkpoint never
    appears, if there are not exactly two rank processes, or if the job is still running 120 s
    after the kill. Whatever happens, no process of the job is left running afterwards."""
    p = subprocess.Popen(["mpirun", "--oversubscribe", "-np", "2", *command],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=MPI_ENV)
    try:
        deadline = time.time() + 120
        while not checkpoint.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert checkpoint.exists(), "no checkpoint was written"
        ranks = subprocess.run(["pgrep", "-f", f"checkpoint-dir {checkpoint_dir}"], capture_output=True,
                               text=True).stdout.split()
        children = [pid for pid in ranks if open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].endswith(b"avpgan")]
        assert len(children) == 2, f"expected two rank processes, found {children}"
        os.kill(int(children[-1]), signal.SIGKILL)
        try:
            p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("the job did not stop after a rank died")
        assert p.returncode != 0, "the job must fail when one of its ranks dies"
        yield
    finally:
        # Whatever happened above, leave no rank of this job running.
        if p.poll() is None:
            p.kill()
            p.communicate()
        subprocess.run(["pkill", "-KILL", "-f", f"checkpoint-dir {checkpoint_dir}"])


def run_in_one_process(command):
    """The finished `command` (a list: the avpgan path, then its arguments) in one process;
    fails the test unless it succeeded."""
    r = subprocess.run(command, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def run_on_two_ranks(command):
    """The finished `mpirun -np 2 command...` (every rank running the same command); fails the
    test unless it succeeded."""
    r = mpirun(*command)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def two_ranks_then_one_process(two_ranks, one_process):
    """Runs the training `two_ranks` on two ranks, then resumes its checkpoint in one process
    with `one_process` (`--resume` added); fails the test unless both succeed."""
    run_on_two_ranks(two_ranks)
    run_in_one_process([*one_process, "--resume"])


def assert_exports_agree(read, one, two, what):
    """`read(path)` (an array that an exported model computes) of `<one>.safetensors` and of
    `<two>.safetensors` differ by less than 1e-3 at most; else the test fails saying
    `what` ("... differ") and by how much."""
    diff = np.abs(read(f"{one}.safetensors") - read(f"{two}.safetensors")).max()
    assert diff < 1e-3, f"{what} by {diff}"


def assert_job_refused(result, message, output):
    """The finished job `result` failed saying `message` on stderr and wrote no `output`."""
    assert result.returncode != 0, "the job must fail: " + result.stdout
    assert message in result.stderr, result.stderr
    assert not os.path.exists(output), f"{output} was written by a job that failed"


def assert_disagreeing_ranks_refused(command, message, output):
    """Rank 0 runs `command("--seed", "1")`, rank 1 `command("--seed", "2")` (`command(*extra)`:
    the training's argument list with `extra` added): the job must fail saying `message` and
    write no `output`."""
    r = mpirun_each(command("--seed", "1"), command("--seed", "2"))
    assert r.returncode != 0, "ranks started with different seeds must not train"
    assert message in r.stderr, r.stderr
    assert not os.path.exists(output), f"{output} was written by ranks that disagree"


def assert_a_dying_rank_keeps_the_checkpoint(command, checkpoint_dir, checkpoint):
    """`command(100000)` (`command(steps)`: the training's argument list, its --checkpoint-dir
    `checkpoint_dir`) on two ranks, one of them killed once `checkpoint` exists, ends the job
    (`job_with_a_killed_rank`); then `command(0)` with --resume succeeds and writes its output:
    the last checkpoint saved before the rank died is intact."""
    with job_with_a_killed_rank(command(100000), checkpoint_dir, checkpoint):
        r = subprocess.run([*command(0), "--resume"], capture_output=True, text=True)
        assert r.returncode == 0 and "wrote" in r.stdout, "the last saved checkpoint is intact and resumes: " + r.stderr

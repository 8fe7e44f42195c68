"""Timing an `avpgan` training command in one process (2 threads) and under `mpirun -np 2`
(1 thread each), from the seconds per step its JSONL log records. Shared by the data-parallel
benchmarks (tools/benchmarks/bench_data_parallel.py for `train`, bench_voice_data_parallel.py for
`train-voice`, bench_enhancer_data_parallel.py for `train-enhancer`); they read the rest of what they report from the MPI run's output."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
#: mpirun's environment: allowed as root (containers).
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(cmd, env=None):
    """The stdout of `cmd`; a failure ends the benchmark with the command and its output."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def seconds_per_step(log_path, skip):
    """Mean seconds per step after the first `skip` steps, from the JSONL log's rates
    (`steps_per_second` is cumulative since the start; per-step times are recovered from it).
    Lines without a rate (train-enhancer's validation lines) are skipped."""
    rows = [r for r in (json.loads(line) for line in open(log_path)) if "steps_per_second" in r]
    times = [r["step"] / r["steps_per_second"] for r in rows]
    return (times[-1] - times[skip - 1]) / (len(rows) - skip)


def one_process_and_two_ranks(command, tmp, log_name, skip):
    """Runs the training `command` (arguments after `avpgan`, without --threads,
    --checkpoint-dir or -o) once in one process with 2 threads and once under
    `mpirun -np 2` with 1 thread per rank, each writing under the folder `tmp` (one/, two/).
    Returns (seconds per step of the one process, of the two ranks, both after the first
    `skip` steps, read from each run's log `log_name`; the MPI run's stdout)."""
    run([CLI, *command, "--threads", "2", "--checkpoint-dir", f"{tmp}/one", "-o", f"{tmp}/one.safetensors"])
    out = run(["mpirun", "--oversubscribe", "-np", "2", CLI, *command, "--threads", "1", "--checkpoint-dir", f"{tmp}/two",
               "-o", f"{tmp}/two.safetensors"], env=MPI_ENV)
    return seconds_per_step(f"{tmp}/one/{log_name}", skip), seconds_per_step(f"{tmp}/two/{log_name}", skip), out

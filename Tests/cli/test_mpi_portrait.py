"""avpgan portrait under a parallel launcher: each copy takes every N-th file, so the copies of
one `mpirun -np N` (or `srun -n N`) share a batch with no file done twice, and the PNGs are
those of a single process. Needs build/bin/avpgan, espeak-ng and Open MPI's mpirun (the
Makefile installs openmpi-bin)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
MODEL = os.path.join(ROOT, "models", "default.safetensors")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    for i in range(5):
        subprocess.run(["espeak-ng", "-w", str(d / f"s{i}.wav"), f"Speaker {i} says a few words here."], check=True)
    (d / "bad.wav").write_text("not audio\n")
    return d


@pytest.fixture(scope="module")
def single(recordings, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    r = subprocess.run([CLI, "portrait", "--model", MODEL, str(recordings), "--out-dir", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr  # bad.wav
    return out


def done(stdout):
    return re.findall(r"-> (\S+) \(", stdout)


def same_pngs(a, b):
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b)), (names, sorted(os.listdir(b)))
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"{n} differs from the single-process run"


@pytest.mark.parametrize("variables", [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"),
                                       ("SLURM_PROCID", "SLURM_NTASKS")], ids=["openmpi", "pmi", "slurm"])
def test_launcher_ranks_share_the_files(recordings, single, tmp_path, variables):
    out = tmp_path / "out"
    written = []
    for rank in range(3):
        env = dict(os.environ, **{variables[0]: str(rank), variables[1]: "3"})
        r = subprocess.run([CLI, "portrait", "--model", MODEL, str(recordings), "--out-dir", str(out)],
                           capture_output=True, text=True, env=env)
        assert f"rank {rank} of 3" in r.stderr, r.stderr
        written += done(r.stdout)
    assert len(written) == 5 and len(set(written)) == 5, f"files done twice or not at all: {written}"
    same_pngs(out, single)


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI's mpirun is not installed (make deps)")
def test_mpirun_np_2(recordings, single, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", CLI, "portrait", "--model", MODEL, str(recordings),
                        "--out-dir", str(out), "--threads", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode != 0, "bad.wav failed on its rank, so the job exits non-zero"
    written = done(r.stdout)
    assert len(written) == 5 and len(set(written)) == 5, f"files done twice or not at all: {written}\n{r.stderr}"
    assert "rank 0 of 2" in r.stderr and "rank 1 of 2" in r.stderr, r.stderr
    same_pngs(out, single)

"""`avpgan eval` and `avpgan pixel-retrieval` under `mpirun -np 2`: the ranks share the
recordings, rank 0 gathers the portraits (or embeddings) and writes the report, which is byte
for byte the one-process report; ranks that disagree and a model missing on one rank end the
job with a message instead of a hang. Needs build/bin/avpgan, espeak-ng and Open MPI."""
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
import face_model_file  # noqa: E402

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader,tcp")
REPORT = ["eval.json", "eval.md", "eval.csv", "eval-recordings.csv", "grid.png", "sweep-1.png"]

pytestmark = pytest.mark.skipif(shutil.which("mpirun") is None or shutil.which("espeak-ng") is None,
                                reason="Open MPI's mpirun and espeak-ng are needed (make deps)")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mpi-eval")
    data = tmp / "data"
    r = subprocess.run([CLI, "synth-data", "-o", str(data), "--speakers", "5", "--utterances", "2", "--faces", "2",
                        "--seed", "6"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # A recording without speech: a skipped row, reported the same by both runs.
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(next((data / "voices").iterdir()) / "silence.wav"),
                    "trim", "0", "1"], check=True)
    face = tmp / "face.safetensors"
    face_model_file.write_face_model(str(face), "mobilefacenet", face_model_file.random_state_dict("mobilefacenet", 4), "stored")
    return tmp, data, face


def eval_args(setup, out, model=MODEL):
    _, data, face = setup
    return ["eval", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--face-model", str(face),
            "--split", "all", "--model", model, "--seconds", "1,all", "-o", str(out)]


def retrieval_args(setup, out):
    tmp, data, _ = setup
    return ["pixel-retrieval", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--split", "train",
            "--model", MODEL, "--cache", str(tmp / ("cache-" + out.stem)), "--json", str(out)]


def mpirun(*a, timeout=300):
    return subprocess.run(["mpirun", "--oversubscribe", "-np", "2", *a], capture_output=True, text=True,
                          env=MPI_ENV, timeout=timeout)


def test_eval_on_two_ranks_writes_the_one_process_report(setup):
    tmp = setup[0]
    one = subprocess.run([CLI, *eval_args(setup, tmp / "one")], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    two = mpirun(CLI, *eval_args(setup, tmp / "two"))
    assert two.returncode == 0, two.stdout + two.stderr
    assert two.stdout.count("wrote ") == 1 and "on 2 ranks" in two.stdout, "rank 0 alone reports: " + two.stdout
    assert two.stderr.count("skipped") == one.stderr.count("skipped") == 1, (one.stderr, two.stderr)
    for name in REPORT:
        assert (tmp / "one" / name).read_bytes() == (tmp / "two" / name).read_bytes(), f"{name} differs from the one-process report"


def test_pixel_retrieval_on_two_ranks_gives_the_one_process_result(setup):
    tmp = setup[0]
    one = subprocess.run([CLI, *retrieval_args(setup, tmp / "one.json")], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    two = mpirun(CLI, *retrieval_args(setup, tmp / "two.json"))
    assert two.returncode == 0, two.stdout + two.stderr
    assert two.stdout.count("generated faces") == 1, "rank 0 alone prints: " + two.stdout
    assert (tmp / "one.json").read_text() == (tmp / "two.json").read_text()


def test_ranks_with_different_arguments_are_refused(setup):
    tmp = setup[0]
    a = eval_args(setup, tmp / "mixed")
    b = [x if x != "1,all" else "2,all" for x in a]
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "1", CLI, *a, ":", "-np", "1", CLI, *b],
                       capture_output=True, text=True, env=MPI_ENV, timeout=300)
    assert r.returncode != 0 and "different arguments, data or models" in r.stderr, r.stderr
    assert not (tmp / "mixed" / "eval.json").exists()


def test_a_model_missing_on_one_rank_ends_the_job(setup):
    tmp = setup[0]
    a = eval_args(setup, tmp / "missing")
    b = eval_args(setup, tmp / "missing", model="/nonexistent/model.safetensors")
    start = time.time()
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "1", CLI, *a, ":", "-np", "1", CLI, *b],
                       capture_output=True, text=True, env=MPI_ENV, timeout=300)
    assert r.returncode != 0 and "/nonexistent/model.safetensors" in r.stderr, r.stderr
    assert time.time() - start < 120, "the other rank must not wait for the failed one"

"""avpgan.distributed.portraits on a Dask LocalCluster of two worker processes, against the
avpgan command: the same PNG bytes, one row per recording, failures as rows, reruns that skip
what is done and replace nothing silently. Needs dask[distributed] (the Makefile installs it),
espeak-ng and sox, and build/bin/avpgan."""
import os
import shutil
import subprocess

import pytest
from dask.distributed import Client, LocalCluster

import avpgan
from avpgan import distributed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
MODEL = os.path.join(ROOT, "models", "default.safetensors")
OTHER_MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """Three recordings in two folders (two named the same), and a file that is not audio."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed (make deps installs them)")
    d = tmp_path_factory.mktemp("voices")
    (d / "x").mkdir()
    subprocess.run(["espeak-ng", "-w", str(d / "a.wav"), "The first voice on the cluster."], check=True)
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(d / "b.wav"), "Eine zweite Stimme."], check=True)
    subprocess.run(["sox", str(d / "b.wav"), "-r", "44100", "-c", "2", str(d / "x" / "a.flac")], check=True)
    (d / "x" / "broken.wav").write_text("not audio\n")
    return d


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def test_cluster_writes_what_the_command_writes(voices, client, tmp_path):
    results = distributed.portraits([voices], MODEL, tmp_path / "dask", client=client, progress=False)
    assert [os.path.basename(r.source) for r in results] == ["a.wav", "b.wav", "a.flac", "broken.wav"]
    status = {os.path.basename(r.output): r.status for r in results}
    assert status == {"a.png": "ok", "b.png": "ok", "a-2.png": "ok", "broken.png": "failed"}, status
    broken = results[3]
    assert "broken.wav" in broken.error and broken.voiced_seconds == 0, broken
    assert all(r.voiced_seconds > 0.5 for r in results[:3]), results

    cli = subprocess.run([CLI, "portrait", "--model", MODEL, str(voices), "--out-dir", str(tmp_path / "cli")],
                         capture_output=True, text=True)
    assert cli.returncode == 1, cli.stderr  # the broken file
    for name in ["a.png", "b.png", "a-2.png"]:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), \
            f"{name}: the cluster's PNG differs from avpgan portrait's"
    chunks = distributed.provenance(tmp_path / "dask" / "a.png")
    assert chunks is not None and chunks["avpgan:model-sha256"] and chunks["avpgan:audio-sha256"]


def test_rerun_skips_complete_outputs_and_replaces_nothing_silently(voices, client, tmp_path):
    out = tmp_path / "out"
    distributed.portraits([voices / "a.wav", voices / "b.wav"], MODEL, out, client=client, progress=False)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    again = distributed.portraits([voices / "a.wav", voices / "b.wav"], MODEL, out, client=client, progress=False)
    assert [r.status for r in again] == ["skipped", "skipped"], again
    assert all(r.voiced_seconds > 0.5 for r in again)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before

    # Another model's outputs are not "done": reported, and kept until overwrite=True.
    other = distributed.portraits([voices / "a.wav"], OTHER_MODEL, out, client=client, progress=False)
    assert other[0].status == "failed" and "another model" in other[0].error, other
    assert (out / "a.png").read_bytes() == before["a.png"][1]
    replaced = distributed.portraits([voices / "a.wav"], OTHER_MODEL, out, client=client, progress=False, overwrite=True)
    assert replaced[0].status == "ok" and (out / "a.png").read_bytes() != before["a.png"][1]

    # A damaged output is not complete.
    (out / "b.png").write_bytes(before["b.png"][1][:100])
    damaged = distributed.portraits([voices / "b.wav"], MODEL, out, client=client, progress=False)
    assert damaged[0].status == "failed" and "not a complete PNG" in damaged[0].error, damaged


def test_options_reach_the_workers(voices, client, tmp_path):
    results = distributed.portraits([voices / "a.wav"], MODEL, tmp_path, client=client, progress=False,
                                    seconds=1.0, noise=0.2, seed=3)
    assert results[0].status == "ok" and results[0].voiced_seconds <= 1.0 + 1e-6, results
    with avpgan.Model(MODEL) as m:
        m.save_portrait(voices / "a.wav", tmp_path / "local.png", seconds=1.0, noise=0.2, seed=3)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "local.png").read_bytes()


def test_missing_model_is_a_clear_error(voices, client, tmp_path):
    with pytest.raises(FileNotFoundError, match="no/such/model"):
        distributed.portraits([voices / "a.wav"], "/no/such/model.safetensors", tmp_path, client=client)


def test_enhanced_portraits_match_the_command(voices, client, tmp_path):
    enhancer = os.path.join(ROOT, "Tests", "Fixtures", "enhancer", "enhancer-s32-half-latent.safetensors")
    rows = distributed.portraits([voices / "a.wav"], MODEL, tmp_path / "dask", client=client, progress=False,
                                 enhancer_path=enhancer)
    assert rows[0].status == "ok", rows
    cli = subprocess.run([CLI, "portrait", "--model", MODEL, "--enhance", enhancer, str(voices / "a.wav"),
                          "-o", str(tmp_path / "cli.png")], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert (tmp_path / "dask" / "a.png").read_bytes() == (tmp_path / "cli.png").read_bytes()
    chunks = distributed.provenance(tmp_path / "dask" / "a.png")
    assert chunks and chunks.get("avpgan:enhancer-sha256"), chunks
    # The same outputs without the enhancer are not "done".
    plain = distributed.portraits([voices / "a.wav"], MODEL, tmp_path / "dask", client=client, progress=False)
    assert plain[0].status == "failed" and "enhancer" in plain[0].error, plain

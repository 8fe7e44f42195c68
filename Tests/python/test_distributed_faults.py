"""avpgan.distributed.portraits when a Dask worker process is killed mid-run: the scheduler runs
the lost worker's tasks on the other worker (or on the nanny's replacement), and every row comes
back with the PNG one process writes. Needs dask[distributed] and espeak-ng.

The kill is aimed, not timed: the test waits until the scheduler lists tasks processing on one
worker and kills that worker's process then (SIGKILL, no goodbye); eight recordings at one
thread per worker leave it unfinished work whatever the machine's speed."""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
from dask.distributed import Client, LocalCluster

import avpgan
from avpgan import distributed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "default.safetensors")


def test_a_killed_workers_tasks_run_again(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed (make deps installs it)")
    voices = tmp_path / "voices"
    voices.mkdir()
    subprocess.run(["espeak-ng", "-w", str(voices / "a.wav"), "A voice that is read many times on the cluster."], check=True)
    for k in range(1, 8):
        shutil.copy(voices / "a.wav", voices / f"a{k}.wav")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pids = client.run(os.getpid)
        done: dict = {}
        run = threading.Thread(target=lambda: done.setdefault(
            "rows", distributed.portraits([voices], MODEL, tmp_path / "out", client=client, progress=False)))
        run.start()
        victim, held = None, []
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and run.is_alive():
            for address, keys in client.processing().items():
                if keys and address in pids:
                    victim, held = address, list(keys)
                    break
            else:
                time.sleep(0.01)
        assert victim is not None, "no task was seen processing on a worker"
        os.kill(pids[victim], signal.SIGKILL)
        run.join(120)
        assert not run.is_alive(), "the run did not finish after the kill"
        assert victim not in client.scheduler_info()["workers"], "the killed worker is gone (the nanny starts another)"
    rows = done["rows"]
    assert len(rows) == 8 and all(r.status in ("ok", "skipped") for r in rows), rows
    with avpgan.Model(MODEL) as m:
        for r in rows:
            m.save_portrait(r.source, tmp_path / "one.png")
            assert open(r.output, "rb").read() == (tmp_path / "one.png").read_bytes(), r.output

"""The pipeline learns (issue 4), in a small budget: the same steps as `make bench-learning`
(tools/benchmarks/bench_learning.py: synth-data, train-voice, train, evaluate) with fewer steps. Training
is seeded and deterministic at a given thread count, so the numbers below are the same on
every run on this kind of machine; the thresholds leave a margin below what was measured
(2026-11-25, 2 threads: held-out top-1 0.229 against chance 0.083, mean rank 4.21 against 6.50;
training speakers top-1 0.062 against 0.021, mean rank 14.70 against 24.50) and sit well above
what an untrained generator scores (about chance)."""
import json, os, shutil, subprocess, sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("AVPGAN_CLI", os.path.join(ROOT, "build", "bin", "avpgan"))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is needed")
def test_small_budget_learning(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "benchmarks", "bench_learning.py"), "--cli", CLI,
                        "--workdir", str(tmp_path), "--speakers", "60", "--voice-steps", "300", "--gan-steps", "1500",
                        "--json", str(tmp_path / "result.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    held_out = json.loads((tmp_path / "result.json").read_text())
    seen = subprocess.run([CLI, "evaluate", "--model", str(tmp_path / "model.safetensors"), "--voices", str(tmp_path / "data" / "voices"),
                           "--faces", str(tmp_path / "data" / "faces"), "--cache", str(tmp_path / "feature-cache"), "--split", "train",
                           "--json", str(tmp_path / "train.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert seen.returncode == 0, seen.stderr
    train = json.loads((tmp_path / "train.json").read_text())
    report = (f"held-out: top-1 {held_out['top1']:.3f} (chance {held_out['chance_top1']:.3f}), mean rank {held_out['mean_rank']:.2f} "
              f"(chance {held_out['chance_mean_rank']:.2f}); training speakers: top-1 {train['top1']:.3f} "
              f"(chance {train['chance_top1']:.3f}), mean rank {train['mean_rank']:.2f} (chance {train['chance_mean_rank']:.2f})")
    print(report)
    # Faces made from held-out speakers' voices rank their own speaker's picture well above chance ...
    assert held_out["mean_rank"] < held_out["chance_mean_rank"] - 1.0, "the generator did not learn voice -> face: " + report
    assert held_out["top1"] >= 1.75 * held_out["chance_top1"], "the generator did not learn voice -> face: " + report
    # ... and the training speakers' faces rank well above chance too.
    assert train["mean_rank"] < 0.8 * train["chance_mean_rank"], "the generator did not learn the training speakers' faces: " + report

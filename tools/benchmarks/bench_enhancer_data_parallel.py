#!/usr/bin/env python3
"""Data-parallel `avpgan train-enhancer`: seconds per step of one process (1 and 2 threads) and
of `mpirun -np 2` (1 thread each) on this machine, with the time rank 0 spends in the
reductions (waiting for the other rank included) and how far the two ranks' losses are from
the one process's (relative, every logged term of every step).

    python3 tools/benchmarks/bench_enhancer_data_parallel.py [--size 128] [--batch 8] [--steps 4]

Faces from `avpgan synth-data --face-size SIZE`; the `small` widths, the paper's losses but
the perceptual and identity terms (no network files needed). Needs build/bin/avpgan,
espeak-ng and Open MPI's mpirun. Prints a Markdown table (the one in docs/enhancer-training.md)
and the load average before the run: the machine may be shared."""
import argparse
import json
import re
import tempfile

from bench_ranks import CLI, one_process_and_two_ranks, run, seconds_per_step


def losses(path):
    return [r for r in (json.loads(line) for line in open(path)) if "validation" not in r]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--skip", type=int, default=1, help="first steps not counted")
    a = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        run([CLI, "synth-data", "-o", f"{tmp}/data", "--speakers", "20", "--utterances", "1", "--faces", "2",
             "--face-size", str(a.size), "--seed", "4"])
        common = ["train-enhancer", "--faces", f"{tmp}/data/faces", "--batch", str(a.batch), "--steps", str(a.steps),
                  "--checkpoint-every", str(a.steps), "--validation-fraction", "0.05"]
        run([CLI, *common, "--threads", "1", "--checkpoint-dir", f"{tmp}/single", "-o", f"{tmp}/single.safetensors"])
        single = seconds_per_step(f"{tmp}/single/train-enhancer.jsonl", a.skip)
        one, two, out = one_process_and_two_ranks(common, tmp, "train-enhancer.jsonl", a.skip)
        m = re.search(r"communication \(with waiting\) ([0-9.]+) ms per step.*?(\d+) bytes reduced per step", out)
        comm, size = (float(m.group(1)), int(m.group(2))) if m else (float("nan"), 0)
        worst, where = 0.0, ""
        for x, y in zip(losses(f"{tmp}/one/train-enhancer.jsonl"), losses(f"{tmp}/two/train-enhancer.jsonl")):
            for k in x:
                if k not in ("step", "steps_per_second") and abs(x[k] - y[k]) / max(abs(x[k]), 1e-3) > worst:
                    worst, where = abs(x[k] - y[k]) / max(abs(x[k]), 1e-3), f"{k} at step {x['step']}: {x[k]} and {y[k]}"
    print("| run | s per step | steps/s | reductions per step (with waiting) |\n|---|---|---|---|")
    print(f"| 1 process, 1 thread | {single:.2f} | {1 / single:.3f} | — |")
    print(f"| 1 process, 2 threads | {one:.2f} | {1 / one:.3f} | — |")
    print(f"| mpirun -np 2, 1 thread each | {two:.2f} | {1 / two:.3f} | {comm:.0f} ms (rank 0) |")
    print(f"\n{a.size} px, small widths, batch {a.batch}, {a.steps} steps, the first {a.skip} not counted; "
          f"{size:,} bytes reduced per step; 2 ranks' losses within {worst:.2g} (relative) of one process's ({where}); "
          f"load average before the run {' '.join(load)}.")


if __name__ == "__main__":
    main()

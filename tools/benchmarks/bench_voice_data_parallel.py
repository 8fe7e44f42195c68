#!/usr/bin/env python3
"""Scaling of data-parallel `avpgan train-voice`: seconds per step of one process (2 threads)
and of `mpirun -np 2` (1 thread each) on this machine, with the time rank 0 spends in the
reductions (gradients and synchronised BatchNorm, including waiting for the other rank).

    python3 tools/benchmarks/bench_voice_data_parallel.py [--steps 8] [--widths full] [--batch 64]

Needs build/bin/avpgan, espeak-ng and Open MPI's mpirun. Prints a Markdown table (the one in
docs/scaling.md) and the load average before the run: the machine may be shared."""
import argparse
import re
import tempfile

from bench_ranks import CLI, one_process_and_two_ranks, run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--skip", type=int, default=2, help="first steps not counted")
    ap.add_argument("--widths", default="full")
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        run([CLI, "synth-data", "-o", f"{tmp}/data", "--speakers", "16", "--utterances", "3", "--faces", "1", "--seed", "4"])
        common = ["train-voice", "--voices", f"{tmp}/data/voices", "--widths", a.widths, "--batch", str(a.batch),
                  "--steps", str(a.steps), "--cache", f"{tmp}/cache", "--checkpoint-every", str(a.steps)]
        run([CLI, *common, "--steps", "0", "--checkpoint-dir", f"{tmp}/warm", "-o", f"{tmp}/warm.safetensors"])  # fills the cache
        one, two, out = one_process_and_two_ranks(common, tmp, "train-voice.jsonl", a.skip)
        m = re.search(r"communication \(with waiting\) ([0-9.]+) ms per step.*?(\d+) bytes reduced per step", out)
        comm, floats = (float(m.group(1)), int(m.group(2))) if m else (float("nan"), 0)
    print(f"| run | s per step | steps/s | reductions per step (with waiting) |\n|---|---|---|---|")
    print(f"| 1 process, 2 threads | {one:.3f} | {1 / one:.3f} | — |")
    print(f"| mpirun -np 2, 1 thread each | {two:.3f} | {1 / two:.3f} | {comm:.1f} ms (all steps, rank 0) |")
    print(f"\n{a.widths} widths, batch {a.batch}, {a.steps} steps, the first {a.skip} not counted; "
          f"{floats:,} bytes reduced per step; load average before the run {' '.join(load)}.")


if __name__ == "__main__":
    main()

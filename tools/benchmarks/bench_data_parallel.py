#!/usr/bin/env python3
"""Scaling of data-parallel `avpgan train`: steps per second of one process and of
`mpirun -np 2` on this machine, the communication time per step, and a model on paper of N
machines on a 10 Gb/s network (ring allreduce of the gradient bytes beside the compute time).

    python3 tools/benchmarks/bench_data_parallel.py [--steps 6] [--widths full] [--batch 64]

Needs build/bin/avpgan, espeak-ng and Open MPI's mpirun. Prints a Markdown report (the one in
docs/scaling.md). The model assumes the batch splits evenly, no overlap of communication with
computation, 10 Gb/s links (1.25 GB/s) and 50 us per message hop; it is arithmetic, not a
measurement, and says so."""
import argparse
import os
import re
import sys
import tempfile

from bench_ranks import CLI, ROOT, one_process_and_two_ranks, run

ENCODER = os.path.join(ROOT, "models", "default.safetensors")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--widths", default="full")
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run([CLI, "synth-data", "-o", f"{tmp}/data", "--speakers", "16", "--utterances", "2", "--faces", "2", "--seed", "4"])
        common = ["train", "--voices", f"{tmp}/data/voices", "--faces", f"{tmp}/data/faces", "--voice-encoder", ENCODER,
                  "--widths", a.widths, "--batch", str(a.batch), "--steps", str(a.steps), "--cache", f"{tmp}/cache",
                  "--checkpoint-every", str(10 ** 6), "--samples-every", "0"]
        one, two, out = one_process_and_two_ranks(common, tmp, "train.jsonl", skip=2)
        m = re.search(r"communication \(with waiting\) ([0-9.]+) ms per step.*?, ([0-9]+) gradient bytes per step", out)
        if not m:
            sys.exit("the data-parallel summary line is missing:\n" + out)
        comm_ms, grad_bytes = float(m.group(1)), int(m.group(2))
    cores = os.cpu_count()
    print(f"## Measured on this machine ({cores} cores), {a.widths} widths, global batch {a.batch}\n")
    print("| run | s per step | steps/s | communication per step (with waiting) |")
    print("|---|---|---|---|")
    print(f"| 1 process, 2 threads | {one:.3f} | {1 / one:.3f} | — |")
    print(f"| mpirun -np 2, 1 thread each | {two:.3f} | {1 / two:.3f} | {comm_ms:.1f} ms (all steps, rank 0) |")
    print(f"\nGradient bytes summed per step: {grad_bytes:,} ({grad_bytes / 2 ** 20:.1f} MiB: every trained "
          "parameter once, plus the spread sums and losses).\n")
    bandwidth, hop = 1.25e9, 50e-6
    print("## Model: N machines of this kind on 10 Gb/s (arithmetic, not measured)\n")
    print(f"Compute per step = {one:.3f} s / N (the batch split evenly, one machine = this one); ring allreduce = "
          "2 (N-1)/N x bytes / 1.25 GB/s + 2 (N-1) x 50 us; no overlap.\n")
    print("| N | rows per machine | compute ms | allreduce ms | efficiency |")
    print("|---|---|---|---|---|")
    for n in (k for k in (1, 2, 4, 8, 16, 32, 64) if k <= a.batch):
        compute = one / n
        comm = 0 if n == 1 else 2 * (n - 1) / n * grad_bytes / bandwidth + 2 * (n - 1) * hop
        print(f"| {n} | {a.batch / n:g} | {1000 * compute:.1f} | {1000 * comm:.1f} | {compute / (compute + comm):.0%} |")


if __name__ == "__main__":
    main()

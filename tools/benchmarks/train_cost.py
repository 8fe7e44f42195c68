"""CPU seconds per `avpgan train` step, per architecture and recipe (issue 11's "per CPU second").

Runs `avpgan train` for --steps steps on one data set and encoder (a folder that
`learning_experiments.py` made: DIR/data, DIR/encoder.safetensors, DIR/cache), once per variant
per round, the variants in turn, and prints each run's CPU time (user + system of the process,
so a machine loaded by other work still gives a fair comparison) with its ratio to the first
variant. Example (docs/training-design.md, "Fifth round"):

  python3 tools/benchmarks/train_cost.py --set build/experiments/A --steps 100 --rounds 2 \\
      --variant voice2face=--arch,voice2face --variant avpgan-residual=--arch,avpgan,--cbam-gate,residual
"""
import argparse, os, resource, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "avpgan"))
    p.add_argument("--set", required=True, help="a data-set folder of learning_experiments.py")
    p.add_argument("--variant", action="append", required=True, help="LABEL=OPT,VALUE,...: avpgan train options")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--widths", default="tiny", choices=["tiny", "full"])
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    variants = [(v.split("=", 1)[0], v.split("=", 1)[1].split(",") if "=" in v else []) for v in a.variant]
    cpu = {name: [] for name, _ in variants}
    with tempfile.TemporaryDirectory(prefix="avpgan-cost-") as tmp:
        for rnd in range(a.rounds):
            for name, opts in variants:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                r = subprocess.run([a.cli, "train", "--voices", f"{a.set}/data/voices", "--faces", f"{a.set}/data/faces",
                                    "--voice-encoder", f"{a.set}/encoder.safetensors", "-o", os.path.join(tmp, f"{name}.safetensors"),
                                    "--widths", a.widths, "--steps", str(a.steps), "--batch", str(a.batch), "--seed", "1",
                                    "--cache", f"{a.set}/cache", "--threads", str(a.threads), *opts],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if r.returncode != 0:
                    sys.exit(f"{name} failed ({r.returncode}):\n{r.stderr[-2000:]}")
                cpu[name].append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
                print(f"round {rnd + 1} {name:20s} {cpu[name][-1]:7.1f} CPU s for {a.steps} steps", flush=True)
    base = statistics.mean(cpu[variants[0][0]])
    for name, _ in variants:
        m = statistics.mean(cpu[name])
        print(f"{name:20s} {' '.join(f'{c:.1f}' for c in cpu[name])} CPU s, {m / a.steps:.3f} s per step, {m / base:.2f}x {variants[0][0]}")


if __name__ == "__main__":
    main()

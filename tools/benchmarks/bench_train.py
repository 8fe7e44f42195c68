"""`make bench` (training part): one training step (Algorithm 1, `gan_step`) of libavpgan
against the PyTorch reference, in one run, at batch 64 and full widths, same thread count.

Each round runs, per architecture, `avpgan bench --train ARCH` and then (when a Python with
torch is found: TORCH_PYTHON, this Python, python3) tools/benchmarks/bench_train_torch.py, each in its own
subprocess with one warm-up step and --steps timed steps. The table shows the median over all
timed steps of all rounds, the ratio libavpgan / PyTorch time (< 1: the library is faster)
against the goal of issue 18, and each side's peak memory (the largest process peak RSS)."""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
from bench_run import mib, ratio_and_goal, run_json_rss  # noqa: E402
ARCHS = ["voice2face", "avpgan", "avpgan-nocbam"]


def torch_python():
    for candidate in (os.environ.get("TORCH_PYTHON"), sys.executable, "python3"):
        if candidate and subprocess.run([candidate, "-c", "import torch"], capture_output=True).returncode == 0:
            return candidate
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--frames", type=int, default=800)
    p.add_argument("--arch", action="append", choices=ARCHS)
    p.add_argument("--reference", help="the reference avpgan_torch.py (default ../shared/reference/avpgan_torch.py)")
    a = p.parse_args()
    archs = a.arch or ARCHS
    cli = os.path.join(ROOT, "build", "bin", "avpgan")
    torch_py = torch_python()
    common = ["--batch", str(a.batch), "--frames", str(a.frames), "--steps", str(a.steps), "--threads", str(a.threads)]
    ref_args = ["--reference", a.reference] if a.reference else []
    lib, ref = {x: [] for x in archs}, {x: [] for x in archs}
    version, peak, peak_ref = None, {}, {}
    for r in range(a.rounds):
        for arch in archs:
            print(f"round {r + 1}/{a.rounds}: {arch} ...", file=sys.stderr, flush=True)
            (out,), rss = run_json_rss([cli, "bench", "--train", arch, "--json", "1"] + common)
            lib[arch] += out["train_steps"]
            peak[arch] = max(peak.get(arch, 0), rss)
            if torch_py:
                (out,), rss = run_json_rss([torch_py, os.path.join(ROOT, "tools", "benchmarks", "bench_train_torch.py"), "--arch", arch]
                                           + common + ref_args)
                ref[arch] += out["train_steps"]
                peak_ref[arch] = max(peak_ref.get(arch, 0), rss)
                version = out["torch"]
    print(f"\nOne training step (gan_step), libavpgan vs PyTorch {version or '(not installed: library only)'}, "
          f"batch {a.batch}, {a.frames} voice frames, full widths, {a.threads} threads, "
          f"median of {a.rounds} x {a.steps} steps, alternating\n")
    print("| arch | libavpgan | PyTorch | ratio | goal | peak libavpgan | peak PyTorch |\n|---|---|---|---|---|---|---|")
    for arch in archs:
        t = statistics.median(lib[arch])
        tr = statistics.median(ref[arch]) if torch_py else None
        ratio, goal = ratio_and_goal(t, tr, 0.6)
        print(f"| {arch} | {t:.3f} s/step | {f'{tr:.3f} s/step' if tr else '-'} | {ratio} | {goal} | {mib(peak[arch])} | "
              f"{mib(peak_ref[arch]) if tr else '-'} |")

if __name__ == "__main__":
    main()

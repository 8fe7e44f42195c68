"""`make bench` (training part): one training step (Algorithm 1, `gan_step`) of libavpgan
against the PyTorch reference, in one run, at batch 64 and full widths, same thread count.

Each round runs, per architecture, `avpgan bench --train ARCH` and then (when a Python with
torch is found: TORCH_PYTHON, this Python, python3) tools/bench_train_torch.py, each in its own
subprocess with one warm-up step and --steps timed steps. The table shows the median over all
timed steps of all rounds, and the speed ratio (PyTorch / libavpgan; > 1: the library is faster)."""
import argparse, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = ["voice2face", "avpgan", "avpgan-nocbam"]


def torch_python():
    for candidate in (os.environ.get("TORCH_PYTHON"), sys.executable, "python3"):
        if candidate and subprocess.run([candidate, "-c", "import torch"], capture_output=True).returncode == 0:
            return candidate
    return None


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


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
    version = None
    for r in range(a.rounds):
        for arch in archs:
            print(f"round {r + 1}/{a.rounds}: {arch} ...", file=sys.stderr, flush=True)
            lib[arch] += run_json([cli, "bench", "--train", arch, "--json", "1"] + common)[0]["train_steps"]
            if torch_py:
                out = run_json([torch_py, os.path.join(ROOT, "tools", "bench_train_torch.py"), "--arch", arch]
                               + common + ref_args)[0]
                ref[arch] += out["train_steps"]
                version = out["torch"]
    print(f"\nOne training step (gan_step), libavpgan vs PyTorch {version or '(not installed: library only)'}, "
          f"batch {a.batch}, {a.frames} voice frames, full widths, {a.threads} threads, "
          f"median of {a.rounds} x {a.steps} steps, alternating\n")
    print("| arch | libavpgan | PyTorch | speed-up |\n|---|---|---|---|")
    for arch in archs:
        t = statistics.median(lib[arch])
        if torch_py:
            tr = statistics.median(ref[arch])
            print(f"| {arch} | {t:.3f} s/step | {tr:.3f} s/step | {tr / t:.2f}x |")
        else:
            print(f"| {arch} | {t:.3f} s/step | - | - |")


if __name__ == "__main__":
    main()

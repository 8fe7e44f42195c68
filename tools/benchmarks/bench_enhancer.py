"""`make bench` (enhancer part): one 512 px face through the full GFPGAN v1.3/v1.4 network
(GFPGANv1Clean: channel_multiplier 2, different_w, sft_half, input_is_latent), libavpgan
against upstream gfpgan on PyTorch, 2 threads each, in one run; also checks their outputs agree.

    python3 tools/benchmarks/bench_enhancer.py [--rounds 2] [--runs 2] [--threads 2] [--keep DIR]

The weights are random (no pretrained enhancer can be shipped): the PyTorch side, from
TORCH_PYTHON (or this Python, or python3) with torch and gfpgan installed, builds upstream's
network as tools/fixtures/make_enhancer_fixtures.py does, saves it as a release checkpoint and converts
it with tools/converters/convert_gfpgan.py. Without them only the library is timed, on random weights
written with numpy. Each side runs in its own subprocess, alternating over the rounds; a round
is one warm-up call then `--runs` timed calls. Reported: the median time per face, the peak
resident memory of each worker process (its whole process: weights, scratch and runtime), and
the largest difference between the two outputs for the same input, against the output's scale.
Needs numpy only."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]

import numpy as np  # noqa: E402

import enhancer_file as ef  # noqa: E402

SIZE = 512


def upstream_python():
    """A Python that can build upstream's network (torch and gfpgan, through the fixture
    script's import shim), or None."""
    code = f"import sys; sys.path.insert(0, {os.path.join(ROOT, 'tools', 'fixtures')!r}); import make_enhancer_fixtures as m; m.import_upstream()"
    for candidate in (os.environ.get("TORCH_PYTHON"), sys.executable, "python3"):
        if candidate and subprocess.run([candidate, "-c", code], capture_output=True).returncode == 0:
            return candidate
    return None


def input_image():
    return np.random.default_rng(0).uniform(-1, 1, size=(1, 3, SIZE, SIZE)).astype(np.float32)


def worker(a):
    """One side in this process: prints {"seconds": [...], "peak_mib": ...}; saves its output."""
    x = input_image()
    if a.side == "library":
        sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
        import avpgan
        avpgan.set_num_threads(a.threads)
        enhancer = avpgan.Enhancer(a.file)
        run = lambda: enhancer.enhance_raw(x)  # noqa: E731
    else:
        import torch
        import make_enhancer_fixtures as mf
        torch.set_num_threads(a.threads)
        net = mf.build(ef.EnhancerConfig(SIZE), 5)
        net.load_state_dict(torch.load(a.file, map_location="cpu")["params_ema"])
        tx = torch.from_numpy(x)

        def run():
            with torch.inference_mode():
                return net(tx, return_rgb=False, randomize_noise=False)[0].numpy()
    y = run()
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        y = run()
        times.append(time.perf_counter() - t)
    np.save(a.output, np.asarray(y, dtype=np.float32))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": times, "peak_mib": peak}))


def make_files(directory, torch_python):
    """The converted enhancer (and the checkpoint when PyTorch is there)."""
    enhancer = os.path.join(directory, "enhancer.safetensors")
    checkpoint = os.path.join(directory, "checkpoint.pth")
    if torch_python:
        code = ("import sys, torch; sys.path.insert(0, %r); import make_enhancer_fixtures as mf, enhancer_file as ef; "
                "net = mf.build(ef.EnhancerConfig(%d), 5); torch.save({'params_ema': net.state_dict()}, %r)"
                % (os.path.join(ROOT, "tools", "fixtures"), SIZE, checkpoint))
        subprocess.run([torch_python, "-c", code], check=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "converters", "convert_gfpgan.py"), checkpoint, "-o", enhancer],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        config = ef.EnhancerConfig(SIZE)
        rng = np.random.default_rng(5)
        tensors = {}
        for name, shape in ef.layout(config):
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            tensors[name] = (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)
        ef.write_enhancer(enhancer, config, tensors)
    return enhancer, checkpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2, help="timed calls per side and round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="keep the files in DIR (default: a temporary directory)")
    parser.add_argument("--worker", choices=["library", "pytorch"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.worker:
        a.side = a.worker
        return worker(a)
    torch_python = upstream_python()
    directory = a.keep or tempfile.mkdtemp(prefix="avpgan-bench-enhancer-")
    os.makedirs(directory, exist_ok=True)
    enhancer, checkpoint = make_files(directory, torch_python)
    sides = [("library", sys.executable, enhancer)] + ([("pytorch", torch_python, checkpoint)] if torch_python else [])
    results = {name: {"seconds": [], "peak_mib": 0.0} for name, _, _ in sides}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures")))
    for _ in range(a.rounds):
        for name, python, file in sides:
            out = subprocess.run([python, os.path.abspath(__file__), "--worker", name, "--file", file, "--threads",
                                  str(a.threads), "--runs", str(a.runs), "--output", os.path.join(directory, f"{name}.npy")],
                                 check=True, capture_output=True, text=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[name]["seconds"] += r["seconds"]
            results[name]["peak_mib"] = max(results[name]["peak_mib"], r["peak_mib"])
    print(f"GFPGANv1Clean 512 px (v1.3/v1.4 configuration, random weights), one face, {a.threads} threads, "
          f"median of {a.rounds * a.runs} calls")
    print("| measurement | libavpgan | upstream gfpgan (PyTorch) | ratio |")
    print("|---|---|---|---|")
    lib = statistics.median(results["library"]["seconds"])
    torch_s = statistics.median(results["pytorch"]["seconds"]) if torch_python else None
    goal = 0.4  # issue 18: at most 0.4x PyTorch's time
    ratio = f"{lib / torch_s:.2f}x the time {'✓' if lib / torch_s <= goal else '✗'} (goal ≤ {goal}x)" if torch_s else f"- (goal ≤ {goal}x)"
    print(f"| time per face | {lib:.2f} s | {f'{torch_s:.2f} s' if torch_s else '- (no torch + gfpgan)'} | {ratio} |")
    peak_t = f"{results['pytorch']['peak_mib']:.0f} MiB" if torch_python else "-"
    print(f"| peak resident memory of the process | {results['library']['peak_mib']:.0f} MiB | {peak_t} | |")
    if torch_python:
        y_lib = np.load(os.path.join(directory, "library.npy"))
        y_ref = np.load(os.path.join(directory, "pytorch.npy"))
        diff = float(np.abs(y_lib - y_ref).max())
        scale = float(np.abs(y_ref).max())
        print(f"outputs: max |libavpgan - upstream| = {diff:.3g} on values up to {scale:.3g} "
              f"({diff / scale:.2g} of the scale; the parity bound is 1e-3)")
    if not a.keep:
        for f in os.listdir(directory):
            os.remove(os.path.join(directory, f))
        os.rmdir(directory)


if __name__ == "__main__":
    sys.exit(main())

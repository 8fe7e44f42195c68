"""`make bench`: libavpgan against the PyTorch reference on this machine, in one run.

Full widths, random weights, the same thread count for both. Each side runs in its own
subprocess (so neither thread pool disturbs the other), alternating over several rounds;
the table shows, for each measurement, the minimum over the rounds of each process's median,
the ratio libavpgan time / PyTorch time (< 1: the library is faster) against the goal of
issue 18, and each process's peak memory. The PyTorch column is left out when no Python with torch
is found (TORCH_PYTHON, this Python, python3). Needs numpy only."""
import argparse, json, os, statistics, subprocess, sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
import avpgan_model_file as amf  # noqa: E402
import safetensors_io  # noqa: E402
from bench_run import mib, ratio_and_goal, run_json_rss  # noqa: E402

ARCHS = ["voice2face", "avpgan", "avpgan-nocbam"]
FULL = dict(n_mels=64, embed_dim=64, voice_widths=[256, 384, 576, 864],
            generator_widths=[1024, 512, 256, 128, 64], image_size=64)


def random_model(arch, path, seed=0):
    """A full-width model file with He-scaled random weights (values do not change timing,
    but they must stay in the normal float range)."""
    rng = np.random.default_rng(seed)
    config = dict(FULL, networks=["voice_encoder", "generator"])
    if arch != "voice2face":
        config["spectral_norm"] = "folded"
    nets = {}
    for net in config["networks"]:
        sd = {}
        for key, shape in amf.network_layout(net, arch, config, sn="torch"):
            if key.endswith("running_var"):
                v = rng.uniform(0.5, 2.0, shape)
            elif key.endswith(("weight_u", "weight_v")):
                v = rng.normal(0, 1, shape)
                v /= np.linalg.norm(v)
            elif len(shape) == 1:
                v = rng.normal(0, 0.1, shape)
            else:
                fan_in = int(np.prod(shape)) // shape[1 if net == "generator" and ".mlp." not in key and "spatial" not in key else 0]
                v = rng.normal(0, (2.0 / max(fan_in, 1)) ** 0.5, shape)
            sd[key] = v.astype(np.float32)
        nets[net] = sd
    tensors, metadata = amf.model_tensors(arch, nets, spectral_norm="folded", source="tools/benchmarks/bench.py random weights")
    safetensors_io.write(path, tensors, metadata)


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
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", default="1,64")
    p.add_argument("--frames", type=int, default=800)
    p.add_argument("--arch", action="append", choices=ARCHS)
    p.add_argument("--no-frontend", action="store_true", help="skip the front-end and portrait section")
    a = p.parse_args()
    archs = a.arch or ARCHS
    cli = os.path.join(ROOT, "build", "bin", "avpgan")
    work = os.path.join(ROOT, "build", "bench")
    os.makedirs(work, exist_ok=True)
    models = {}
    for arch in archs:
        models[arch] = os.path.join(work, f"{arch}-full.safetensors")
        if not os.path.exists(models[arch]):
            random_model(arch, models[arch])
    torch_py = torch_python()
    common = ["--frames", str(a.frames), "--seconds", str(a.seconds), "--threads", str(a.threads)]
    batches = a.batch.split(",")
    # One process per side, arch and batch size (so that each has its own peak memory); the
    # voice encoder runs in each. Times: the minimum over rounds of each process's median.
    lib, ref = {}, {}
    version = None
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds} ...", file=sys.stderr, flush=True)
        for arch in archs:
            for b in batches:
                runs = [(lib, [cli, "bench", "--model", models[arch], "--json", "1"])]
                if torch_py:
                    runs.append((ref, [torch_py, os.path.join(ROOT, "tools", "benchmarks", "bench_torch.py"), "--arch", arch]))
                for side, cmd in runs:
                    (out,), rss = run_json_rss(cmd + common + ["--batch", b])
                    version = out.get("torch", version)
                    # The voice encoder's peak: the smallest process's (its generator batch is
                    # the smallest); a generator batch's: the largest over the rounds.
                    voice = f"voice_encoder_{a.frames}_frames"
                    t, peak = side.get((arch, voice), (float("inf"), float("inf")))
                    side[(arch, voice)] = (min(t, out[voice]), min(peak, rss))
                    t, peak = side.get((arch, f"generator_batch_{b}"), (float("inf"), 0))
                    side[(arch, f"generator_batch_{b}")] = (min(t, out[f"generator_batch_{b}"]), max(peak, rss))
    print(f"\nlibavpgan vs PyTorch {version or '(not installed: library only)'}, full widths, {a.threads} threads, "
          f"minimum over {a.rounds} rounds of each process's median; ratio = libavpgan time / PyTorch time; "
          f"peak = the process's peak RSS (model, inputs and that measurement)\n")
    print("| network | arch | libavpgan | PyTorch | ratio | goal | peak libavpgan | peak PyTorch |\n"
          "|---|---|---|---|---|---|---|---|")
    goals = {f"voice_encoder_{a.frames}_frames": 0.5, "generator_batch_64": 0.5}
    for arch in archs:
        for k in [f"voice_encoder_{a.frames}_frames"] + [f"generator_batch_{b}" for b in batches]:
            batch = int(k.rsplit("_", 1)[1]) if k.startswith("generator") else 1
            def show(s):
                return f"{s * 1e3:.2f} ms" + (f" ({batch / s:.0f} faces/s)" if batch > 1 else "")
            t, peak = lib[(arch, k)]
            tr, peak_ref = ref.get((arch, k), (None, None))
            ratio, goal = ratio_and_goal(t, tr, goals.get(k))
            name = k.replace("_", " ")
            print(f"| {name} | {arch} | {show(t)} | {show(tr) if tr else '-'} | {ratio} | {goal} | {mib(peak)} | "
                  f"{mib(peak_ref) if peak_ref else '-'} |")
    if not a.no_frontend:
        frontend_section(work, a.seconds, torch_py)


def speech_wav(path, seconds=8.0):
    """An ~8 s, 16 kHz mono 16-bit recording of espeak-ng speech (sox trims it to length)."""
    if os.path.exists(path):
        return path
    text = ("The quick brown fox jumps over the lazy dog. A voice is all we have of this speaker. "
            "Good morning, the weather is fine today and the train leaves at nine.")
    raw = path + ".raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", raw, text], check=True)
    subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", path, "trim", "0", str(seconds)], check=True)
    os.remove(raw)
    return path


def frontend_section(work, seconds, torch_py):
    """Front end and whole-portrait timings (issue 3's measurements)."""
    wav = speech_wav(os.path.join(work, "speech-8s.wav"))
    model = os.path.join(work, "avpgan-full.safetensors")
    if not os.path.exists(model):
        random_model("avpgan", model)
    (lib,), rss = run_json_rss([os.path.join(ROOT, "build", "bin", "avpgan"), "bench", "--model", model, "--voice", wav,
                                "--batch", "1", "--json", "1", "--seconds", str(seconds)])
    py = run_json([sys.executable, os.path.join(ROOT, "tools", "benchmarks", "bench_frontend.py"), "--wav", wav, "--model", model,
                   "--seconds", str(seconds)])[0]
    print(f"\nFront end and portrait on an 8 s recording ({wav}), full-width avpgan, model load excluded\n")
    print("| measurement | libavpgan | Python/PyTorch reference | speed-up |\n|---|---|---|---|")
    ref = py.get("reference_frontend")
    print(f"| decode + VAD + log-mel | {lib['frontend_total'] * 1e3:.2f} ms "
          f"(via Python bindings {py['bindings_frontend'] * 1e3:.2f} ms) | "
          + (f"{ref * 1e3:.2f} ms (numpy + webrtcvad, no decode) | {ref / lib['frontend_total']:.1f}x |" if ref
             else f"- ({py.get('reference_missing')}) | - |"))
    t = None
    if torch_py:
        try:
            t = run_json([torch_py, os.path.join(ROOT, "tools", "benchmarks", "bench_torch.py"), "--arch", "avpgan", "--batch", "1",
                          "--seconds", str(seconds), "--portrait-wav", wav])[0].get("portrait_png")
        except subprocess.CalledProcessError as e:
            print(f"(PyTorch pipeline failed: {e.stderr.strip().splitlines()[-1] if e.stderr else e})")
    print(f"| WAV -> PNG portrait | {lib['portrait_png'] * 1e3:.2f} ms | "
          + (f"{t * 1e3:.2f} ms (reference front end + PyTorch) | {t / lib['portrait_png']:.1f}x |" if t else "- | - |"))
    goal = 15e-3
    print(f"\nWAV -> PNG goal (issue 18): at most {goal * 1e3:.0f} ms; measured {lib['portrait_png'] * 1e3:.2f} ms "
          f"{'✓' if lib['portrait_png'] <= goal else '✗'} (peak RSS of the process {mib(rss)})")


if __name__ == "__main__":
    main()

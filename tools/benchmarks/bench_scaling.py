"""How libavpgan's cost grows: generator with batch size, voice encoder and whole portrait with
recording length (1 s to 10 min), and model load against reading the file. One computation
thread, CPU time of this process (`time.process_time`), minimum of repeated calls: on a
machine shared with other work, stolen time does not count, so the shape of the curves holds
even when wall times do not. Run from the repository root after `make build`:

    PYTHONPATH=bindings/python python3 tools/benchmarks/bench_scaling.py --model build/bench/avpgan-full.safetensors
Needs numpy only (the model: tools/benchmarks/bench.py writes random full-width ones into build/bench)."""
import argparse, os, sys, time

import numpy as np

import avpgan

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import min_seconds  # noqa: E402


def speech_like(seconds, rate=16000, seed=0):
    """Voiced-looking int16 samples: a 120-200 Hz buzz with harmonics under a syllable-rate
    envelope, plus a little noise (the VAD keeps most of it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 150 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(h * phase) / h for h in range(1, 12))
    x *= 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    x += 0.02 * rng.standard_normal(t.size)
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batches", default="1,4,16,64")
    p.add_argument("--seconds", default="1,4,8,30,60,600", help="recording lengths for the portrait")
    a = p.parse_args()
    avpgan.set_num_threads(1)

    with open(a.model, "rb") as f:
        data = f.read()
    read = min_seconds(lambda: open(a.model, "rb").read(), a.repeat, time.thread_time)
    load = min_seconds(lambda: avpgan.Model(a.model), a.repeat, time.thread_time)
    print(f"model load ({len(data) / 2**20:.0f} MiB): {load * 1e3:.1f} ms CPU of the calling thread; "
          f"reading the file: {read * 1e3:.1f} ms; ratio {load / read:.1f} (goal: at most 2)\n")

    model = avpgan.Model(a.model)
    e = model.info.embed_dim
    print("| generator batch | CPU time | per face | GFLOP/s (1.077 GFLOP/face) |\n|---|---|---|---|")
    for b in (int(x) for x in a.batches.split(",")):
        z = np.random.default_rng(b).standard_normal((b, e)).astype(np.float32)
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        t = min_seconds(lambda: model.generate_raw(z), a.repeat)
        print(f"| {b} | {t * 1e3:.1f} ms | {t / b * 1e3:.2f} ms | {1.0774 * b / t:.1f} |")

    print("\n| voice encoder frames | CPU time | GFLOP/s (0.56 MFLOP/frame) |\n|---|---|---|")
    for frames in (100, 1000, 3000, 6000, 60000):
        x = np.random.default_rng(frames).standard_normal((frames, model.info.n_mels)).astype(np.float32)
        t = min_seconds(lambda: model.embed(x), a.repeat)
        print(f"| {frames} ({frames / 100:g} s) | {t * 1e3:.1f} ms | {0.5595e-3 * frames / t:.1f} |")

    print("\n| recording (16 kHz int16, samples in memory) | portrait CPU time | per second of audio |\n|---|---|---|")
    for s in (float(x) for x in a.seconds.split(",")):
        pcm = speech_like(s)
        t = min_seconds(lambda: model.portrait(pcm, sample_rate=16000), a.repeat if s < 60 else 1)
        print(f"| {s:g} s | {t * 1e3:.1f} ms | {t / s * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()

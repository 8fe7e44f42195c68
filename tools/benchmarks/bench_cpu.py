"""The issue-18 measurements in CPU time, for a machine shared with other work (where wall times
mean nothing): voice encoder on 800 frames, generator at batch 1 and 64, and a WAV file to a PNG
portrait (`Model.save_portrait`, into a temporary directory, provenance on: the same path as the
`portrait_png` of `avpgan bench`), full widths. Each figure is the least CPU time of this process
(`time.process_time`: every thread's, stolen time excluded) over `--repeat` calls after one
warm-up call. At 2 threads it includes what the thread pools spend waiting for work (OpenBLAS's
threads spin before they sleep), so compare like with like. Run from the repository root:

    PYTHONPATH=bindings/python python3 tools/benchmarks/bench_cpu.py --model build/bench/avpgan-full.safetensors \\
        --wav build/bench/speech-8s.wav --threads 1
(`make bench` writes both files into build/bench.) Needs numpy."""
import argparse, os, sys, tempfile, time

import numpy as np

import avpgan

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import min_seconds  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--wav", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--batches", default="1,64")
    a = p.parse_args()
    avpgan.set_num_threads(a.threads)
    model = avpgan.Model(a.model)
    e, mels = model.info.embed_dim, model.info.n_mels

    def timed(fn, repeat=a.repeat):
        fn()
        return min_seconds(fn, repeat)

    rows = []
    x = np.random.default_rng(0).standard_normal((800, mels)).astype(np.float32)
    rows.append(("voice encoder, 800 frames", timed(lambda: model.embed(x))))
    for b in (int(v) for v in a.batches.split(",")):
        z = np.random.default_rng(b).standard_normal((b, e)).astype(np.float32)
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        rows.append((f"generator, batch {b}", timed(lambda: model.generate_raw(z), a.repeat if b < 16 else max(2, a.repeat // 4))))
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "p.png")
        rows.append((f"WAV file -> PNG ({os.path.basename(a.wav)})", timed(lambda: model.save_portrait(a.wav, png))))
    print(f"| measurement ({a.threads} thread{'s' if a.threads > 1 else ''}) | CPU time |\n|---|---|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()

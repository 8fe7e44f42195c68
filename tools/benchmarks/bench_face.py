"""`make bench` (face part): one face embedding with libavpgan against onnxruntime and PyTorch on
this machine, in one run; then `avpgan eval` over 100 recordings x 4 voice lengths.

Each side runs in its own subprocess (so no thread pool disturbs another), alternating over
several rounds at 1 and 2 threads; the table shows the median per-face time of the rounds.
MobileFaceNet uses the weights of ../shared/models/mobilefacenet (or AVPGAN_FACE_WEIGHTS_DIR)
when present — onnxruntime on the original ONNX file, PyTorch on the .pt through
tools/fixtures/face_torch.py, the library on the file tools/converters/convert_face.py makes from the ONNX —
otherwise random weights (and no onnxruntime column). iresnet50 uses random weights
(library and PyTorch). onnxruntime and torch come from TORCH_PYTHON (or this Python, or
python3); columns whose package is missing are left out. Needs numpy only."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
WEIGHTS = os.environ.get("AVPGAN_FACE_WEIGHTS_DIR", os.path.join(ROOT, "..", "shared", "models", "mobilefacenet"))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")


def python_with(module):
    for candidate in (os.environ.get("TORCH_PYTHON"), sys.executable, "python3"):
        if candidate and subprocess.run([candidate, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return candidate
    return None


def worker(a):
    """One side's timing in this process: prints {"ms": median per-face milliseconds}."""
    import numpy as np
    image = np.random.default_rng(0).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    x = ((image.astype(np.float32) - 127.5) / a.std).transpose(2, 0, 1)[None].copy()
    if a.side == "library":
        sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
        import avpgan
        avpgan.set_num_threads(a.threads)
        fm = avpgan.FaceModel(a.file)
        run = lambda: fm.embed(image)  # noqa: E731
    elif a.side == "onnxruntime":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        s = ort.InferenceSession(a.file, so, providers=["CPUExecutionProvider"])
        name = s.get_inputs()[0].name
        run = lambda: s.run(None, {name: x})  # noqa: E731
    else:
        import torch
        import face_torch
        torch.set_num_threads(a.threads)
        net = face_torch.load_face_model(a.file)[0].eval()
        tx = torch.from_numpy(x)

        def run():
            with torch.inference_mode():
                net(tx)
    # Warm up for 10 runs and at least 2 s: the library hashes a freshly loaded file (SHA-256,
    # for provenance) on a background thread, which must not share the timed runs' cores.
    start = time.perf_counter()
    for k in range(1000):
        run()
        if k >= 9 and time.perf_counter() - start > 2:
            break
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"ms": 1e3 * statistics.median(times)}))


def time_side(python, side, path, threads, std, repeats):
    out = subprocess.run([python, os.path.abspath(__file__), "--worker", side, "--file", path, "--threads", str(threads),
                          "--std", str(std), "--repeats", str(repeats)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["ms"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--worker", choices=["library", "onnxruntime", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--std", type=float, default=128.0, help=argparse.SUPPRESS)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="write the results here")
    a = p.parse_args()
    if a.worker:
        a.side = a.worker
        return worker(a)

    import face_model_file
    work = tempfile.mkdtemp(prefix="avpgan-bench-face-")
    ort_py, torch_py = python_with("onnxruntime"), python_with("torch")
    onnx, pt = os.path.join(WEIGHTS, "mobilefacenet.onnx"), os.path.join(WEIGHTS, "mobilefacenet.pt")
    real = os.path.isfile(onnx) and os.path.isfile(pt)
    cases = []
    mfn = os.path.join(work, "mobilefacenet.safetensors")
    if real:
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "converters", "convert_face.py"), "--onnx", onnx, "-o", mfn], check=True,
                       capture_output=True)
        sides = {"library": mfn, "onnxruntime": onnx if ort_py else None, "torch": mfn if torch_py else None}
        cases.append(("mobilefacenet (real weights)", 128.0, sides))
    else:
        face_model_file.write_face_model(mfn, "mobilefacenet", face_model_file.random_state_dict("mobilefacenet", 1), "stored")
        cases.append(("mobilefacenet (random weights)", 128.0, {"library": mfn, "torch": mfn if torch_py else None}))
    r50 = os.path.join(work, "iresnet50.safetensors")
    face_model_file.write_face_model(r50, "iresnet50", face_model_file.random_state_dict("iresnet50", 1), "stored")
    cases.append(("iresnet50 (random weights)", 127.5, {"library": r50, "torch": r50 if torch_py else None}))

    pythons = {"library": sys.executable, "onnxruntime": ort_py, "torch": torch_py}
    results = []
    print(f"one 112x112 face, median ms per face over {a.rounds} alternating rounds of {a.repeats}")
    print(f"{'network':32s} {'threads':>7s} {'libavpgan':>10s} {'onnxruntime':>12s} {'PyTorch':>9s}")
    for name, std, sides in cases:
        for threads in (1, 2):
            rounds = {k: [] for k, v in sides.items() if v}
            repeats = a.repeats if "mobilefacenet" in name else max(a.repeats // 10, 10)
            for _ in range(a.rounds):
                for side in rounds:
                    rounds[side].append(time_side(pythons[side], side, sides[side], threads, std, repeats))
            row = {k: statistics.median(v) for k, v in rounds.items()}
            results.append(dict(network=name, threads=threads, **row))
            cell = lambda k: f"{row[k]:.2f}" if k in row else "-"  # noqa: E731
            print(f"{name:32s} {threads:7d} {cell('library'):>10s} {cell('onnxruntime'):>12s} {cell('torch'):>9s}", flush=True)

    # avpgan eval over 100 recordings (25 synthetic speakers x 4) at 4 voice lengths.
    data = os.path.join(work, "data")
    subprocess.run([CLI, "synth-data", "-o", data, "--speakers", "25", "--utterances", "4", "--faces", "2", "--seed", "9"],
                   check=True, capture_output=True)
    t0 = time.perf_counter()
    r = subprocess.run([CLI, "eval", "--model", os.path.join(ROOT, "models", "default.safetensors"), "--voices",
                        os.path.join(data, "voices"), "--faces", os.path.join(data, "faces"), "--face-model", mfn,
                        "--split", "all", "--seconds", "2,4,6,8", "-o", os.path.join(work, "eval"), "--threads", "2"],
                       capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"avpgan eval failed: {r.stderr}")
    print(f"avpgan eval, default model, 100 recordings x 4 lengths, MobileFaceNet, 2 threads: {seconds:.1f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(embed=results, eval_seconds=seconds), f, indent=1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

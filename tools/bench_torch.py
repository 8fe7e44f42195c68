"""Times the PyTorch reference networks (../shared/reference/avpgan_torch.py) at full widths, the
same measurements as `avpgan bench`: voice encoder on N frames, generator at given batch sizes.
Prints one JSON object per architecture. Run by tools/bench.py; needs torch."""
import argparse, importlib.util, json, os, statistics, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_seconds(fn, seconds):
    fn()
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or (time.perf_counter() - start < seconds and len(samples) < 1000):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reference", default=os.path.join(ROOT, "..", "shared", "reference", "avpgan_torch.py"))
    p.add_argument("--arch", action="append", required=True)
    p.add_argument("--batch", default="1,64")
    p.add_argument("--frames", type=int, default=800)
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    import torch
    spec = importlib.util.spec_from_file_location("avpgan_reference", a.reference)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for arch in a.arch:
        nets = ref.build(arch, ref.FULL)
        for n in nets.values():
            n.eval()
        out = {"arch": arch, "threads": a.threads, "torch": torch.__version__}
        with torch.inference_mode():
            x = torch.randn(1, 64, a.frames)
            out[f"voice_encoder_{a.frames}_frames"] = median_seconds(lambda: nets["e"](x), a.seconds)
            for b in (int(s) for s in a.batch.split(",")):
                z = torch.nn.functional.normalize(torch.randn(b, 64)).view(b, 64, 1, 1)
                out[f"generator_batch_{b}"] = median_seconds(lambda: nets["g"](z), a.seconds)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

"""Times the PyTorch reference's `gan_step` (../shared/reference/avpgan_torch.py, imported from
--reference, not copied) at full widths on random data: the shapes `avpgan bench --train` uses
(batch N voices of T frames, faces 3x64x64, 100 identities, noise 0.05 N(0, 1) [N, E, 1, 1]),
e in eval mode and g, f, d, c in train mode as Algorithm 1 runs them. One warm-up step, then
--steps timed steps. Prints one JSON object per architecture. Run by tools/benchmarks/bench_train.py."""
import argparse, json, os, statistics, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "benchmarks"))
from timing import load_module  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reference", default=os.environ.get("AVPGAN_REFERENCE",
                                                          os.path.join(ROOT, "..", "shared", "reference", "avpgan_torch.py")))
    p.add_argument("--arch", action="append", required=True)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--frames", type=int, default=800)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--identities", type=int, default=100)
    a = p.parse_args()
    import torch
    ref = load_module("avpgan_reference", a.reference)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n, t = a.batch, a.frames
    for arch in a.arch:
        nets = ref.build(arch, ref.FULL, identities=a.identities)
        for k in "gfdc":
            nets[k].train()
        nets["e"].eval()
        opts = {k: ref.adam(nets[k]) for k in "gfdc"}
        e = ref.FULL["embed"]
        voice = torch.randn(n, 64, t)
        face = torch.rand(n, 3, 64, 64) * 2 - 1
        voice_label = torch.randint(0, a.identities, (n,))
        face_label = torch.randint(0, a.identities, (n,))
        noise = 0.05 * torch.randn(n, e, 1, 1)
        step = lambda: ref.gan_step(nets, opts, voice, voice_label, face, face_label, noise)  # noqa: E731
        step()
        samples = []
        for _ in range(max(a.steps, 1)):
            t0 = time.perf_counter()
            step()
            samples.append(time.perf_counter() - t0)
        print(json.dumps({"arch": arch, "threads": a.threads, "batch": n, "frames": t, "torch": torch.__version__,
                          "train_step": statistics.median(samples), "train_steps": samples}), flush=True)


if __name__ == "__main__":
    main()

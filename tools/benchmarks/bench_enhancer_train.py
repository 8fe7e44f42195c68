#!/usr/bin/env python3
"""`make bench-enhancer-train`: one enhancer training step (generator and discriminator
updates, as EnhancerTrainingSession takes it) in libavpgan beside the same step in PyTorch on
the upstream modules, wall time and process CPU time (user + sys), at 1 and 2 threads.

    python3 tools/benchmarks/bench_enhancer_train.py [--rounds 2] [--steps 3] [--config a --config b ...]

Configurations (batch 4 unless said):
  a  the default enhancer's recipe (`make default-enhancer`): 128 px, `small` widths, the L1
     loss alone (so no discriminator is built or stepped)
  b  the paper's losses at 128 px, `small` widths: L1, perceptual on a full-width VGG-19,
     adversarial (face discriminator; its R1 falls on every 16th step, which is not timed),
     facial components with their Gram style loss, identity through a MobileFaceNet; VGG and
     face network with random weights (the loss cost does not depend on them)
  c  GFPGAN v1.3/v1.4's full widths at 512 px, batch 1, the same losses as b

libavpgan runs through the Python binding (`avpgan.EnhancerTrainer.step()` on a folder of
`avpgan synth-data` faces: the step, plus the session's wait for a batch its background thread
has already degraded, whose CPU time is in the process's); PyTorch through
tools/fixtures/upstream_enhancer_step.py, the step the parity fixtures are made with, on
random batches made before the clock starts. Each side runs in its own process with its thread
count set (`avpgan.set_num_threads`, `torch.set_num_threads`, OPENBLAS/OMP_NUM_THREADS),
alternating which goes first over the rounds; each process takes `--warmup` steps untimed, then
`--steps` timed ones. The tables give the median over all timed steps of all rounds and each
side's peak resident memory. The generator's and discriminators' initial values differ between
the sides (each initialises its own); shapes, losses and optimisers are the same.

Needs build/lib (make build), espeak-ng for synth-data, and a Python with torch, torchvision,
gfpgan and basicsr (TORCH_PYTHON, this Python or python3); without one it says so and exits 0.
"""
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
TOOLS = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
sys.path[:0] = TOOLS
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
PAPER = dict(l1=0.1, perceptual=1.0, adversarial=0.1, facial_components=1.0, component_style=200.0, identity=10.0)
L1_ONLY = dict(l1=0.1, perceptual=0.0, adversarial=0.0, facial_components=0.0, component_style=0.0, identity=0.0)
# name -> (size, widths, batch, losses, what)
CONFIGS = {
    "a": (128, "small", 4, L1_ONLY, "default enhancer's recipe: 128 px, small widths, L1 only"),
    "b": (128, "small", 4, PAPER, "paper's losses: 128 px, small widths, L1 + VGG-19 perceptual + adversarial + components + Gram + identity"),
    "c": (512, "full", 1, PAPER, "GFPGANv1Clean full widths: 512 px, batch 1, the paper's losses"),
}
WIDTHS = {"small": (64, 1, 0.25), "full": (512, 2, 1.0)}  # num_style_feat, channel_multiplier, narrow
VGG_SEED, FACE_SEED = 46, 48


def torch_python():
    """A Python that can build the upstream step, or None."""
    code = f"import sys; sys.path[:0] = {TOOLS!r}; import upstream_enhancer_step, make_discriminator_fixtures as m; m.discriminator_class()"
    for candidate in (os.environ.get("TORCH_PYTHON"), sys.executable, "python3"):
        if candidate and subprocess.run([candidate, "-c", code], capture_output=True).returncode == 0:
            return candidate
    return None


def make_networks(directory):
    """(In the torch Python.) The loss networks' files: a full-width VGG-19 and a MobileFaceNet,
    random weights, through the project's converters."""
    import torch
    import convert_face
    import convert_vgg
    import face_torch
    from make_enhancer_loss_fixtures import narrow_vgg19
    vgg = narrow_vgg19(1, torch.Generator().manual_seed(VGG_SEED))
    convert_vgg.write(os.path.join(directory, "vgg19.safetensors"), {k: v.numpy() for k, v in vgg.state_dict().items()},
                      "bench_enhancer_train.py (random weights)")
    torch.manual_seed(FACE_SEED)
    face = face_torch.build("mobilefacenet")
    torch.save(face.state_dict(), os.path.join(directory, "face.pth"))
    convert_face.convert(os.path.join(directory, "face.safetensors"), torch=os.path.join(directory, "face.pth"), arch="mobilefacenet")


def upstream_step(config, directory):
    """(In the torch Python.) The PyTorch side of `config`: (step object, lq, gt, rois)."""
    import torch
    import enhancer_file as ef
    import face_torch
    from make_discriminator_fixtures import component_discriminator, discriminator_class
    from make_enhancer_fixtures import build
    from make_enhancer_loss_fixtures import narrow_vgg19
    from upstream_enhancer_step import LossWeights, UpstreamEnhancerStep, roi_boxes, template_landmarks
    size, widths, batch, losses, _ = CONFIGS[config]
    style, multiplier, narrow = WIDTHS[widths]
    net_g = build(ef.EnhancerConfig(size, num_style_feat=style, channel_multiplier=multiplier, narrow=narrow, num_mlp=8,
                                    different_w=True, sft_half=True, input_is_latent=True), 5)
    weights = LossWeights(pixel=losses["l1"], perceptual=losses["perceptual"], perceptual_style=0.0,
                          adversarial=losses["adversarial"], components=losses["facial_components"],
                          component_style=losses["component_style"], identity=losses["identity"])
    net_d = parts = vgg = face = None
    if weights.adversarial > 0:
        torch.manual_seed(6)
        net_d = discriminator_class()(size, channel_multiplier=1, narrow=narrow)
    if weights.components > 0 or weights.component_style > 0:
        w = tuple(max(1, int(c * narrow)) for c in (64, 128, 256))
        parts = {p: component_discriminator(7 + i, w)[0] for i, p in enumerate(("left_eye", "right_eye", "mouth"))}
    if weights.perceptual > 0:
        vgg = narrow_vgg19(1, torch.Generator().manual_seed(VGG_SEED))
    if weights.identity > 0:
        net, cfg = face_torch.load_face_model(os.path.join(directory, "face.safetensors"))
        face = (net, cfg["input_size"], cfg["input_mean"], cfg["input_std"])
    step = UpstreamEnhancerStep(net_g, weights, net_d=net_d, parts=parts, vgg=vgg, face=face,
                                eye=int(80 * size / 512 + 0.5), mouth=int(120 * size / 512 + 0.5), lr=1e-3)
    gen = torch.Generator().manual_seed(8)
    gt = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
    lq = (gt + 0.2 * torch.randn(batch, 3, size, size, generator=gen)).clamp(-1, 1)
    return step, lq, gt, roi_boxes(template_landmarks(size, batch))


def worker(a):
    """One side, one configuration, one thread count, in this process: prints one JSON line."""
    size, widths, batch, losses, _ = CONFIGS[a.config]
    if a.worker == "libavpgan":
        sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
        import avpgan
        avpgan.set_num_threads(a.threads)
        files = dict(perceptual=os.path.join(a.dir, "vgg19.safetensors") if losses["perceptual"] else None,
                     face_model=os.path.join(a.dir, "face.safetensors") if losses["identity"] else None)
        trainer = avpgan.EnhancerTrainer.create(os.path.join(a.dir, f"faces-{size}", "faces"), size=size, widths=widths,
                                                losses=losses, lr=1e-3, batch_size=batch, sheet_rows=0, **files)
        run, version = trainer.step, avpgan.__version__
    else:
        import torch
        torch.set_num_threads(a.threads)
        step, lq, gt, rois = upstream_step(a.config, a.dir)
        counter = iter(range(1, 10**9))
        run, version = (lambda: step.step(next(counter), lq, gt, rois)), torch.__version__
    for _ in range(a.warmup):
        run()
    wall, cpu = [], []
    for _ in range(a.steps):
        t, c = time.perf_counter(), time.process_time()
        run()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mib": peak, "version": version}))


def prepare(directory, torch_py, configs):
    """The faces (synth-data at each size needed) and the loss networks' files."""
    for size in sorted({CONFIGS[c][0] for c in configs}):
        if os.path.isdir(os.path.join(directory, f"faces-{size}", "faces")):
            continue
        subprocess.run([CLI, "synth-data", "-o", os.path.join(directory, f"faces-{size}"), "--speakers", "10", "--utterances",
                        "1", "--faces", "2", "--face-size", str(size), "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    if not all(os.path.exists(os.path.join(directory, f)) for f in ("vgg19.safetensors", "face.safetensors")):
        subprocess.run([torch_py, os.path.abspath(__file__), "--make-networks", "--dir", directory], check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=3, help="timed steps per process")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per process first")
    p.add_argument("--threads", type=int, action="append", help="thread counts (default 1 and 2)")
    p.add_argument("--config", action="append", choices=sorted(CONFIGS), help="configurations (default a and b)")
    p.add_argument("--worker", choices=["libavpgan", "pytorch"], help=argparse.SUPPRESS)
    p.add_argument("--make-networks", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dir", help="work in DIR and keep it (its faces and network files are reused); default: a temporary one")
    a = p.parse_args()
    if a.make_networks:
        return make_networks(a.dir)
    if a.worker:
        a.config, a.threads = a.config[0], a.threads[0]
        return worker(a)
    torch_py = torch_python()
    if torch_py is None:
        print("bench-enhancer-train skipped: no Python with torch, torchvision, gfpgan and basicsr "
              "(set TORCH_PYTHON to one, as tools/fixtures/make_enhancer_step_fixtures.py needs)")
        return 0
    configs, threads = a.config or ["a", "b"], a.threads or [1, 2]
    load_before = open("/proc/loadavg").read().split()[:3]
    times = {}
    with tempfile.TemporaryDirectory(prefix="avpgan-bench-enhancer-train-") as scratch:
        directory = a.dir or scratch
        os.makedirs(directory, exist_ok=True)
        prepare(directory, torch_py, configs)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(TOOLS))
        for r in range(a.rounds):
            for config in configs:
                for t in threads:
                    sides = [("libavpgan", sys.executable), ("pytorch", torch_py)]
                    for side, python in sides if r % 2 == 0 else sides[::-1]:
                        print(f"round {r + 1}/{a.rounds}: {config}, {t} thread(s), {side} ...", file=sys.stderr, flush=True)
                        env.update(OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
                        out = subprocess.run([python, os.path.abspath(__file__), "--worker", side, "--config", config, "--dir",
                                              directory, "--threads", str(t), "--steps", str(a.steps), "--warmup",
                                              str(a.warmup)], check=True, capture_output=True, text=True, env=env)
                        result = json.loads(out.stdout.strip().splitlines()[-1])
                        cell = times.setdefault((config, t, side), {"wall": [], "cpu": [], "peak_mib": 0, "version": ""})
                        cell["wall"] += result["wall"]
                        cell["cpu"] += result["cpu"]
                        cell["peak_mib"] = max(cell["peak_mib"], result["peak_mib"])
                        cell["version"] = result["version"]
    report(a, configs, threads, times, load_before)


def report(a, configs, threads, times, load_before):
    med = lambda xs: statistics.median(xs)  # noqa: E731
    torch_version = next(v["version"] for (c, t, s), v in times.items() if s == "pytorch")
    print(f"\nOne enhancer training step, libavpgan vs PyTorch {torch_version} (upstream gfpgan/basicsr modules), "
          f"median of {a.rounds} rounds x {a.steps} steps after {a.warmup} warm-up step(s) per process; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average before {' '.join(load_before)}, "
          f"after {' '.join(open('/proc/loadavg').read().split()[:3])}\n")
    for config in configs:
        print(f"({config}) {CONFIGS[config][4]}\n")
        print("| threads | libavpgan CPU s | PyTorch CPU s | CPU ratio | libavpgan wall s | PyTorch wall s | peak libavpgan | peak PyTorch |")
        print("|---|---|---|---|---|---|---|---|")
        for t in threads:
            lib, ref = times[(config, t, "libavpgan")], times[(config, t, "pytorch")]
            print(f"| {t} | {med(lib['cpu']):.2f} | {med(ref['cpu']):.2f} | {med(lib['cpu']) / med(ref['cpu']):.2f}x | "
                  f"{med(lib['wall']):.2f} | {med(ref['wall']):.2f} | {lib['peak_mib']:.0f} MiB | {ref['peak_mib']:.0f} MiB |")
        print()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Makes the training parity fixtures Tests/Fixtures/training/<arch>/ with the reference `gan_step`.

    python3 tools/make_training_golden.py [--reference ../shared/reference/avpgan_torch.py]
                                          [--out Tests/Fixtures/training] [--verify] [--diagnose]

Needs torch (run by hand; the tests only read the files). For each architecture
(voice2face, avpgan, avpgan-nocbam) it builds the reference networks at TINY
widths (4 identities) with fixed seeds, one thread, deterministic algorithms,
makes one Adam per trained network with the reference's `adam`, and runs three
consecutive `gan_step`s on fixed batches (N = 4, T = 48 frames) and fixed noise,
with g, f, d, c in train() mode and e in eval() mode. It writes
  initial.safetensors   the five state dicts before step 0, exactly as torch has them
  steps.safetensors     inputs, the five losses of each step, weights after steps, Adam state
(layout in Tests/Fixtures/training/README.md). Running it twice gives byte-identical files.

--verify reads the written files back (tools/safetensors_io.py), loads initial.safetensors
into fresh reference networks and replays the three steps from the stored inputs, checking
that losses, weights and Adam state come out bit-identical; it also checks `numpy_adam`, a
float32 numpy transcription of torch's Adam update, against torch on every step.
--diagnose (when writing) also prints gradient sizes at step 0 and how far a float64 run of the
same steps lands from the float32 one.
--recipe generator-sn-off writes <out>/avpgan.generator-sn-off instead: avpgan built by
tools/reference_recipes.py from the reference's own modules with spectral norm on the face
encoder only (the trainer's generator_spectral_norm = false); metadata avpgan.recipe says so.
--recipe generator-cbam-off (CBAM in the face encoder only), --recipe cbam-reduction-4 (every
CBAM's channel MLP reduced by 4, not 16) and --recipe cbam-residual (every CBAM gates as
x (1 + M), residual attention) likewise write avpgan.<recipe>.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import convert_torch  # noqa: E402
import make_golden  # noqa: E402
import reference_recipes  # noqa: E402
import safetensors_io  # noqa: E402

REPO_ROOT = convert_torch.REPO_ROOT
ARCHS = ("voice2face", "avpgan", "avpgan-nocbam")
ARCH_SEEDS = {"voice2face": 5001, "avpgan": 5002, "avpgan-nocbam": 5003}
DATA_SEED = 6001
STEPS = 3
BATCH = 4
FRAMES = 48
IDENTITIES = 4
NOISE_STD = 0.05
IMAGE_STD = 0.1              # generator output std the calibration aims at (see build)
NET_NAMES = {"e": "voice_encoder", "g": "generator", "f": "face_encoder", "d": "discriminator", "c": "classifier"}
TRAINED = "gfdc"
LOSS_NAMES = ("d_real", "d_fake", "c_real", "g_fake", "g_class")
# What steps.safetensors keeps of the weights after each step (size: see README).
SNAPSHOTS = {0: "dc", 2: "gfdc"}
ADAM_STATE = "dc"            # Adam state after the last step, for these networks


def build(ref, arch, torch):
    """The five networks, as tools/make_golden.py makes them (its seed replaced by ours, 4 identities):
    torch default init, non-trivial BN statistics and affine parameters in the (frozen) voice
    encoder, five train-mode passes so spectral-norm u, v are power-iterated, and the generator and
    face encoder calibrated so their outputs depend on their inputs (see make_golden._calibrate).
    At plain default init the generator outputs its biases (the same image for every embedding:
    batch std 2e-5 of 0.24), and the G step's classifier gradient then cancels across a batch
    whose voice labels cover the identities: its float32 value has ~1e-3 relative rounding error
    and Adam (whose first steps are ~lr * sign(grad)) turns that into weight differences far
    above 1e-4 relative. The generator is calibrated to output std IMAGE_STD = 0.1 rather than
    make_golden's 0.5: at 0.5 the avpgan generator's final layer is scaled ~5e4 and three Adam steps
    already make its losses chaotic (float32 vs float64: 3e-4 relative on step 2's losses, 11 % of
    the weights off by more than 1e-4); at 0.1 all three architectures stay within ~1e-6.
    Returned in eval mode."""
    saved = make_golden.IMAGE_STD
    make_golden.IMAGE_STD = IMAGE_STD
    try:
        nets, _ = make_golden.build_networks(ref, arch, torch, identities=IDENTITIES, seed=ARCH_SEEDS[arch])
    finally:
        make_golden.IMAGE_STD = saved
    return nets


def make_inputs(torch, E):
    """Fixed batches and noise for the three steps, float32, torch layout."""
    gen = torch.Generator().manual_seed(DATA_SEED)
    steps = []
    for k in range(STEPS):
        v = torch.randn(BATCH, 64, FRAMES, generator=gen)
        v = (v - v.mean(2, keepdim=True)) / (v.std(2, keepdim=True, unbiased=False) + torch.finfo(torch.float32).eps)
        steps.append(dict(
            voice=v.contiguous(),
            voice_label=torch.randperm(IDENTITIES, generator=gen)[:BATCH].to(torch.int64),
            face=(torch.rand(BATCH, 3, 64, 64, generator=gen) * 2 - 1),
            face_label=torch.randperm(IDENTITIES, generator=gen)[:BATCH].to(torch.int64),
            noise=(NOISE_STD * torch.randn(BATCH, E, generator=gen)).view(BATCH, E, 1, 1),
        ))
    return steps


def state(net, prefix):
    return {prefix + k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def set_modes(nets):
    for k in TRAINED:
        nets[k].train()
    nets["e"].eval()


def run(ref, arch, torch, nets, inputs):
    """Runs STEPS gan_steps; returns (losses [STEPS][5], snapshots {k: {net: state}}, opts)."""
    opts = {k: ref.adam(nets[k]) for k in TRAINED}
    set_modes(nets)
    losses, snaps = [], {}
    for k, x in enumerate(inputs):
        losses.append(ref.gan_step(nets, opts, x["voice"], x["voice_label"], x["face"], x["face_label"], x["noise"]))
        snaps[k] = {n: state(nets[n], "") for n in TRAINED}
    return losses, snaps, opts


def adam_state(net, opt, prefix):
    """Adam state keyed by parameter name: .exp_avg, .exp_avg_sq (F32, parameter shape), .step (F32 scalar)."""
    out = {}
    for name, p in net.named_parameters():
        s = opt.state[p]
        out[f"{prefix}{name}.exp_avg"] = s["exp_avg"].numpy().copy()
        out[f"{prefix}{name}.exp_avg_sq"] = s["exp_avg_sq"].numpy().copy()
        out[f"{prefix}{name}.step"] = s["step"].numpy().copy()
    return out


def training_config(ref):
    w = ref.TINY
    return {"widths": {"voice": list(w["voice"]), "gen": list(w["gen"]), "face": list(w["face"])},
            "embed": w["embed"], "identities": IDENTITIES, "n_mels": 64, "image_size": 64,
            "optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "eps": 1e-8, "weight_decay": 0,
            "amsgrad": False, "batch_size": BATCH, "frames": FRAMES, "steps": STEPS, "noise_std": NOISE_STD,
            "modes": {"voice_encoder": "eval", "generator": "train", "face_encoder": "train",
                      "discriminator": "train", "classifier": "train"}}


def check_gradients(ref, arch, torch, inputs):
    """Diagnostics (not stored): per network, the largest |grad| after step 0's backward passes,
    and how far a float64 run of the same three steps is from the float32 run (conditioning)."""
    nets = build(ref, arch, torch)
    grads = {}
    opts = {k: ref.adam(nets[k]) for k in TRAINED}
    for k, opt in opts.items():
        def wrapped(closure=None, _orig=opt.step, _k=k):
            if _k not in grads:   # step 0 only: the gradients this optimizer applies
                ps = [p for p in nets[_k].parameters()]
                grads[_k] = (max(p.grad.abs().max().item() for p in ps),
                             min(p.grad.abs().max().item() for p in ps),
                             sum(int((p.grad == 0).sum()) for p in ps), sum(p.numel() for p in ps))
            return _orig(closure)
        opt.step = wrapped
    set_modes(nets)
    x = inputs[0]
    ref.gan_step(nets, opts, x["voice"], x["voice_label"], x["face"], x["face_label"], x["noise"])
    # float64 replay
    n32 = build(ref, arch, torch)
    n64 = build(ref, arch, torch)
    for n in n64.values():
        n.double()
    l32, s32, _ = run(ref, arch, torch, n32, inputs)
    in64 = [{k: (v.double() if v.is_floating_point() else v) for k, v in x.items()} for x in inputs]
    torch.set_default_dtype(torch.float64)   # gan_step makes its BCE targets in the default dtype
    try:
        l64, s64, _ = run(ref, arch, torch, n64, in64)
    finally:
        torch.set_default_dtype(torch.float32)
    loss_rel = max(abs(a - b) / abs(b) for la, lb in zip(l32, l64) for a, b in zip(la, lb))
    w_err = 0.0
    for k in range(STEPS):
        for n in TRAINED:
            for name, a in s32[k][n].items():
                if a.dtype.kind != "f":
                    continue
                b = s64[k][n][name]
                w_err = max(w_err, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3))))
    return grads, loss_rel, w_err


def write_arch(ref, arch, torch, outdir):
    nets = build(ref, arch, torch)
    E = ref.TINY["embed"]
    inputs = make_inputs(torch, E)
    initial = {}
    for k in "egfdc":
        initial.update(state(nets[k], NET_NAMES[k] + "."))
    init_meta = {"avpgan.arch": arch, "avpgan.training_config": json.dumps(training_config(ref), sort_keys=True),
                 "generator": "tools/make_training_golden.py", "torch": torch.__version__,
                 "seeds": f"weights {ARCH_SEEDS[arch]}, data {DATA_SEED}",
                 "init": f"tools/make_golden.py build_networks (seed {ARCH_SEEDS[arch]}, {IDENTITIES} identities, "
                         f"IMAGE_STD {IMAGE_STD})"}
    if hasattr(ref, "recipe"):
        init_meta["avpgan.recipe"] = json.dumps(ref.recipe, sort_keys=True)
    losses, snaps, opts = run(ref, arch, torch, nets, inputs)
    steps = {}
    for k, x in enumerate(inputs):
        for name in ("voice", "voice_label", "face", "face_label", "noise"):
            steps[f"{name}_{k}"] = x[name].numpy().copy()
        steps[f"losses_{k}"] = np.array(losses[k], dtype=np.float32)
    for k, which in SNAPSHOTS.items():
        for n in which:
            for name, a in snaps[k][n].items():
                steps[f"after_{k}.{NET_NAMES[n]}.{name}"] = a
    for n in ADAM_STATE:
        steps.update(adam_state(nets[n], opts[n], f"adam_{STEPS - 1}.{NET_NAMES[n]}."))
    step_meta = {"avpgan.arch": arch, "avpgan.training_config": init_meta["avpgan.training_config"],
                 "generator": "tools/make_training_golden.py", "torch": torch.__version__,
                 "losses": json.dumps(list(LOSS_NAMES)),
                 "snapshots": json.dumps({str(k): [NET_NAMES[n] for n in v] for k, v in SNAPSHOTS.items()}),
                 "adam_state": json.dumps([NET_NAMES[n] for n in ADAM_STATE])}
    if hasattr(ref, "recipe"):
        step_meta["avpgan.recipe"] = init_meta["avpgan.recipe"]
    os.makedirs(outdir, exist_ok=True)
    for fname, tensors, meta in (("initial.safetensors", initial, init_meta), ("steps.safetensors", steps, step_meta)):
        path = os.path.join(outdir, fname)
        safetensors_io.write(path, tensors, meta)
        back, _ = safetensors_io.read(path)
        assert list(back) == list(tensors) and all(np.array_equal(back[k], v) for k, v in tensors.items())
        print(f"{os.path.relpath(path, REPO_ROOT)}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")
    return losses, inputs


# ---------------------------------------------------------------------------
# Verification, from the files alone.

def numpy_adam(p, g, m, v, step, lr=2e-4, b1=0.5, b2=0.999, eps=1e-8):
    """torch.optim.Adam's single-tensor CPU update (foreach and fused are off for CPU tensors) in float32,
    op for op as torch 2.13 computes it; found bit-exact on this machine except the square root:
    torch's vectorised float32 sqrt is not correctly rounded (1 ulp off IEEE sqrt for ~16 % of inputs),
    so a transcription with IEEE sqrt matches m and v exactly and p to within an ulp or so."""
    f, d = np.float32, np.float64
    m = g - (g - m) * f(1 - b1)                                    # exp_avg.lerp_(grad, 0.5): weight >= 0.5 branch
    vb = v * f(b2)                                                 # exp_avg_sq.mul_(0.999)
    v = ((f(1 - b2) * g).astype(d) * g.astype(d) + vb.astype(d)).astype(f)  # .addcmul_(g, g, value=0.001): one fma
    bc1 = 1 - b1 ** step                                           # Python floats (double), step as a float
    bc2_sqrt = (1 - b2 ** step) ** 0.5
    denom = np.sqrt(v) / f(bc2_sqrt) + f(eps)                      # (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
    p = p + f(-(lr / bc1)) * m / denom                             # addcdiv_(m, denom, value=-lr/bc1): p + (s*m)/denom
    return p, m, v


def verify(ref, arch, torch, outdir):
    init, imeta = safetensors_io.read(os.path.join(outdir, "initial.safetensors"))
    st, smeta = safetensors_io.read(os.path.join(outdir, "steps.safetensors"))
    assert imeta["avpgan.arch"] == arch and smeta["avpgan.arch"] == arch
    cfg = json.loads(imeta["avpgan.training_config"])
    widths = dict(voice=tuple(cfg["widths"]["voice"]), gen=tuple(cfg["widths"]["gen"]),
                  face=tuple(cfg["widths"]["face"]), embed=cfg["embed"])
    torch.manual_seed(12345)  # any: everything is overwritten from the file
    nets = ref.build(arch, widths, cfg["identities"])
    for k in "egfdc":
        p = NET_NAMES[k] + "."
        sd = {n[len(p):]: torch.from_numpy(a) for n, a in init.items() if n.startswith(p)}
        nets[k].load_state_dict(sd, strict=True)
        assert set(sd) == set(nets[k].state_dict()), (k, set(sd) ^ set(nets[k].state_dict()))
    inputs = [{name: torch.from_numpy(st[f"{name}_{k}"]) for name in ("voice", "voice_label", "face", "face_label", "noise")}
              for k in range(cfg["steps"])]

    losses, snaps, opts = run(ref, arch, torch, nets, inputs)
    bad = []
    for k in range(cfg["steps"]):
        if not np.array_equal(np.array(losses[k], dtype=np.float32), st[f"losses_{k}"]):
            bad.append(f"losses_{k}: {losses[k]} vs {st[f'losses_{k}'].tolist()}")
    nsnap = 0
    for name, a in st.items():
        if name.startswith("after_"):
            k, net, key = name[len("after_"):].split(".", 2)
            n = next(c for c, v in NET_NAMES.items() if v == net)
            nsnap += 1
            if not np.array_equal(snaps[int(k)][n][key], a):
                bad.append(name)
        elif name.startswith("adam_"):
            _, net, rest = name.split(".", 2)
            n = next(c for c, v in NET_NAMES.items() if v == net)
            pname, field = rest.rsplit(".", 1)
            p = dict(nets[n].named_parameters())[pname]
            if not np.array_equal(opts[n].state[p][field].numpy(), a):
                bad.append(name)
    # numpy_adam against torch: re-run the steps, applying it to torch's own gradients at each step.
    adam_diff = check_numpy_adam(ref, arch, torch, widths, cfg, init, inputs)
    print(f"verify {arch}: losses and {nsnap} snapshot tensors "
          f"{'reproduce bit for bit' if not bad else 'DIFFER: ' + ', '.join(bad[:8])}; "
          f"numpy Adam vs torch: {adam_diff}")
    return not bad


def check_numpy_adam(ref, arch, torch, widths, cfg, init, inputs):
    """Replays the steps, wrapping each optimizer's step() to compare torch's update with numpy_adam.
    Returns counts of differing elements (over all steps and nets) and the largest parameter difference (the update itself is ~lr = 2e-4)."""
    nets = ref.build(arch, widths, cfg["identities"])
    for k in "egfdc":
        p = NET_NAMES[k] + "."
        nets[k].load_state_dict({n[len(p):]: torch.from_numpy(a) for n, a in init.items() if n.startswith(p)})
    opts = {k: ref.adam(nets[k]) for k in TRAINED}
    stats = {"elements": 0, "exp_avg differ": 0, "exp_avg_sq differ": 0, "param differ": 0, "param max abs diff": 0.0}
    for k, opt in opts.items():
        orig = opt.step

        def wrapped(closure=None, _orig=orig, _opt=opt):
            before = []
            for p in _opt.param_groups[0]["params"]:
                s = _opt.state.get(p, {})
                m = s["exp_avg"].numpy().copy() if s else np.zeros(p.shape, np.float32)
                v = s["exp_avg_sq"].numpy().copy() if s else np.zeros(p.shape, np.float32)
                n = float(s["step"]) if s else 0.0
                before.append((p, p.detach().numpy().copy(), p.grad.numpy().copy(), m, v, n + 1))
            r = _orig(closure)
            for p, p0, g, m, v, n in before:
                p1, m1, v1 = numpy_adam(p0, g, m, v, n)
                a = p.detach().numpy()
                stats["elements"] += a.size
                stats["exp_avg differ"] += int(np.sum(m1 != _opt.state[p]["exp_avg"].numpy()))
                stats["exp_avg_sq differ"] += int(np.sum(v1 != _opt.state[p]["exp_avg_sq"].numpy()))
                stats["param differ"] += int(np.sum(p1 != a))
                stats["param max abs diff"] = max(stats["param max abs diff"], float(np.max(np.abs(p1 - a))))
            return r
        opt.step = wrapped
    set_modes(nets)
    for x in inputs:
        ref.gan_step(nets, opts, x["voice"], x["voice_label"], x["face"], x["face_label"], x["noise"])
    return stats


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE)
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "training"))
    p.add_argument("--verify", action="store_true", help="check the written files instead of writing them")
    p.add_argument("--diagnose", action="store_true", help="also print gradient sizes and a float64 comparison")
    p.add_argument("--recipe", choices=sorted(reference_recipes.RECIPES),
                   help="the avpgan fixture of a training recipe (tools/reference_recipes.py) in <out>/avpgan.<recipe>")
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ref = convert_torch.load_reference(a.reference)
    archs, suffix = ARCHS, ""
    if a.recipe:
        ref = reference_recipes.with_recipe(ref, **reference_recipes.RECIPES[a.recipe])
        archs, suffix = ("avpgan",), "." + a.recipe
    ok = True
    for arch in archs:
        outdir = os.path.join(a.out, arch + suffix)
        if a.verify:
            ok &= verify(ref, arch, torch, outdir)
            continue
        losses, inputs = write_arch(ref, arch, torch, outdir)
        for k, l in enumerate(losses):
            print(f"  step {k}: " + ", ".join(f"{n} {v:.6f}" for n, v in zip(LOSS_NAMES, l)))
        if a.diagnose:
            grads, loss_rel, w_err = check_gradients(ref, arch, torch, inputs)
            for k, (gmax, gmin, zero, total) in grads.items():
                print(f"  {NET_NAMES[k]}: max|grad| over tensors {gmax:.3g}, smallest tensor max {gmin:.3g}, "
                      f"{zero}/{total} exact-zero grads")
            print(f"  float32 vs float64: losses rel {loss_rel:.2e}, weights rel (floor 1e-3) {w_err:.2e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

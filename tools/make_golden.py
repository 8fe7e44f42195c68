#!/usr/bin/env python3
"""Makes the golden test fixtures Tests/Fixtures/golden/<arch>/ with the reference networks.

    python3 tools/make_golden.py [--reference ../shared/reference/avpgan_torch.py] [--out Tests/Fixtures/golden]

Needs torch (run by hand; the tests only read the files). For each architecture
(voice2face, avpgan, avpgan-nocbam) it builds the reference networks at TINY
widths with fixed seeds, one thread, and writes
  model.safetensors            all five networks (5 identities), spectral norm folded,
                               written by tools/convert_torch.py from saved .pth files
  model-sn-stored.safetensors  (avpgan only) the same weights, spectral norm stored
  golden.safetensors           inputs and reference outputs (see README.md there)
and checks what it wrote (layout, bit-exact folding, outputs of the file's weights).
Running it twice gives byte-identical files.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import avpgan_model_file as amf  # noqa: E402
import convert_torch  # noqa: E402
import safetensors_io  # noqa: E402

REPO_ROOT = convert_torch.REPO_ROOT
ARCH_SEEDS = {"voice2face": 1001, "avpgan": 1002, "avpgan-nocbam": 1003}
FEATURE_SEED = 2001
INPUT_SEED = 3001
FRAMES = (1000, 333, 64, 7, 1)
IDENTITIES = 5
SN_TRAIN_PASSES = 5          # power iterations run before eval, so u and v are not their init values
GATE_STD = 1.5               # see _calibrate
IMAGE_STD = 0.5              # input-dependent std of the generator output on unit embeddings
FACE_EMBEDDING_STD = 1.0
NET_NAMES = {"e": "voice_encoder", "g": "generator", "f": "face_encoder", "d": "discriminator", "c": "classifier"}


# ---------------------------------------------------------------------------
# Pixels, exactly as include/avpgan.h documents them, in float32.

def pixels_clamp(images):
    """[N, 3, S, S] float32 -> [N, S, S, 3] uint8: floor((clip(x, -1, 1) + 1) / 2 * 255 + 0.5)."""
    x = np.clip(images.astype(np.float32), np.float32(-1), np.float32(1))
    p = np.floor((x + np.float32(1)) / np.float32(2) * np.float32(255) + np.float32(0.5))
    return np.clip(p, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()


def pixels_minmax(images):
    """Per image over all channels: v = clip(x, -1, 1); floor((v - lo) / max(hi - lo, 1e-5) * 255 + 0.5), clipped."""
    v = np.clip(images.astype(np.float32), np.float32(-1), np.float32(1))
    lo = v.min(axis=(1, 2, 3), keepdims=True)
    hi = v.max(axis=(1, 2, 3), keepdims=True)
    p = np.floor((v - lo) / np.maximum(hi - lo, np.float32(1e-5)) * np.float32(255) + np.float32(0.5))
    return np.clip(p, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()


def normalise_features(fb):
    """Per mel band over frames, as reference/voice_frontend.py: (x - mean) / (std + float32 eps)."""
    fb = fb.astype(np.float32)
    fb = fb - fb.mean(0)
    return fb / (fb.std(0) + np.finfo(np.float32).eps)


# ---------------------------------------------------------------------------
# Weights.

def _signal_std(x):
    """Std of the input-dependent part of a batch of activations (deviation from the batch mean)."""
    return float((x - x.mean(0, keepdim=True)).std())


def _calibrate(net, inputs, ref, torch, out_std):
    """Makes a generator / face encoder compute something input-dependent at every layer.

    With torch's default init each k4 layer shrinks the signal 3-5x while adding a
    fresh bias (and CBAM gates shrink it further), so after five layers the output
    is the biases alone: the same image for every embedding, which would make the
    golden test blind to most bugs. So, deterministically (fixed calibration
    inputs, one forward walk through the layers in order):
      * a convolution that is not spectrally normalised gets its weight scaled so
        that its output's input-dependent std is 1 (spectrally normalised ones
        cannot be scaled: they keep whatever the normalisation gives);
      * every bias but the final layer's is set to its default-init direction,
        scaled to std 0.2 x that input-dependent std (so biases matter, but do
        not drown the signal);
      * in each CBAM, a hidden MLP unit that is off (ReLU) for every calibration
        input has its mlp.0.weight row negated, and mlp.2.weight and
        spatial.weight are scaled so that the
        channel- and spatial-gate pre-activations have std GATE_STD (sigmoids
        neither flat nor saturated);
      * the FINAL layer's weight is scaled so that the output's input-dependent
        std is out_std (its default bias is kept). With spectral norm the signal
        reaching it is small, so this factor is large (10^3-10^5): the weights
        are unusual, the arithmetic is not (float32 keeps its relative precision).
    Returns the final layer's factor."""
    mods = list(net.model)
    convs = [i for i, m in enumerate(mods) if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    F = torch.nn.functional
    h, final = inputs, 1.0
    for i, m in enumerate(mods):
        if i in convs:
            bias = m.bias.detach().clone()
            m.bias.zero_()
            s = _signal_std(m(h))
            if i == convs[-1]:
                final = out_std / s
                m.weight.mul_(final)
                m.bias.copy_(bias)
            else:
                if not hasattr(m, "weight_orig"):
                    m.weight.mul_(1.0 / s)
                    s = 1.0
                m.bias.copy_(bias / bias.std() * 0.2 * s)
        elif isinstance(m, ref.CBAM):
            pools = torch.cat([F.adaptive_avg_pool2d(h, 1), F.adaptive_max_pool2d(h, 1)])
            dead = (m.mlp[0](pools) <= 0).all(dim=0).flatten()  # hidden units off for every input
            m.mlp[0].weight[dead] *= -1                         # (with C < 2r there is only one)
            pre = m.mlp(F.adaptive_avg_pool2d(h, 1)) + m.mlp(F.adaptive_max_pool2d(h, 1))
            m.mlp[2].weight.mul_(GATE_STD / float(pre.std()))
            pre = m.mlp(F.adaptive_avg_pool2d(h, 1)) + m.mlp(F.adaptive_max_pool2d(h, 1))
            x = h * torch.sigmoid(pre)
            pre = m.spatial(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1))
            m.spatial.weight.mul_(GATE_STD / float(pre.std()))
        h = m(h)
    return final


def build_networks(ref, arch, torch, widths=None, identities=IDENTITIES, seed=None):
    """The five reference networks (TINY widths by default), deterministic, non-trivial, in eval mode.
    Also used by tools/check_parity.py at FULL widths. Returns (nets, final-layer scales)."""
    widths = widths or ref.TINY
    torch.manual_seed(ARCH_SEEDS[arch] if seed is None else seed)
    nets = ref.build(arch, widths, identities)
    e = widths["embed"]
    with torch.no_grad():
        # BatchNorm: non-trivial statistics and affine parameters.
        for m in nets["e"].modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
        # Spectral norm: power iterations in train mode, so u and v move off their random init.
        for k in "gf":
            nets[k].train()
        for _ in range(SN_TRAIN_PASSES):
            nets["g"](torch.nn.functional.normalize(torch.randn(2, e)).view(2, e, 1, 1))
            nets["f"](torch.rand(2, 3, 64, 64) * 2 - 1)
        for net in nets.values():
            net.eval()
        # Calibration batches (see _calibrate).
        g_in = torch.nn.functional.normalize(torch.randn(16, e)).view(16, e, 1, 1)
        scales = {"generator": _calibrate(nets["g"], g_in, ref, torch, IMAGE_STD)}
        f_in = torch.cat([nets["g"](g_in[:8]), torch.rand(8, 3, 64, 64) * 2 - 1])
        scales["face_encoder"] = _calibrate(nets["f"], f_in, ref, torch, FACE_EMBEDDING_STD)
    return nets, scales


# ---------------------------------------------------------------------------
# Golden data.

def golden_data(nets, torch):
    e = nets["g"].model[0].weight.shape[0]
    rng = np.random.default_rng(FEATURE_SEED)
    out = {}
    with torch.no_grad():
        for k, t in enumerate(FRAMES):
            fb = rng.standard_normal((t, 64)).astype(np.float32)
            if t > 1:
                fb = normalise_features(fb)
            out[f"features_{k}"] = np.ascontiguousarray(fb, dtype=np.float32)
            x = torch.from_numpy(fb.T.copy()).unsqueeze(0)          # reference input [1, 64, T]
            out[f"embedding_{k}"] = nets["e"](x).reshape(-1).numpy().copy()
        rng = np.random.default_rng(INPUT_SEED)
        unit = rng.standard_normal((2, e)).astype(np.float32)
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        # Not normalised: entries N(0, 9 / E), so the norm is about 3 (not exactly). Plain N(0, 1) x 3
        # (norm ~12) drives the CBAM generator to outputs near 150, where float32 itself differs
        # from float64 by ~7e-4, too close to the tests' 1e-3 tolerance.
        raw = (rng.standard_normal((1, e)) * (3 / np.sqrt(e))).astype(np.float32)
        gen_input = np.concatenate([out["embedding_0"][None], out["embedding_1"][None], unit, raw]).astype(np.float32)
        out["gen_input"] = gen_input
        images = nets["g"](torch.from_numpy(gen_input).view(5, e, 1, 1)).numpy().copy()
        out["images"] = images
        out["pixels_clamp"] = pixels_clamp(images)
        out["pixels_minmax"] = pixels_minmax(images)
        noise = np.clip(rng.standard_normal((2, 3, 64, 64)).astype(np.float32), -1, 1)
        face_input = np.concatenate([noise, images[:1]]).astype(np.float32)
        out["face_input"] = face_input
        h = nets["f"](torch.from_numpy(face_input))
        out["face_embedding"] = h.reshape(3, -1).numpy().copy()
        out["disc_logit"] = nets["d"](h).numpy().copy()
        out["class_logits"] = nets["c"](h).numpy().copy()
    return out


# ---------------------------------------------------------------------------
# Checks of what was written.

def check_model_file(path, arch, nets, ref, golden, torch, sn_mode):
    tensors, meta = safetensors_io.read(path)
    config = json.loads(meta["avpgan.config"])
    assert meta["avpgan.format"] == "1" and meta["avpgan.arch"] == arch, meta
    assert config.get("spectral_norm") == (None if arch == "voice2face" else sn_mode), config
    layout = amf.file_layout(arch, config)
    assert [n for n, _ in layout] == list(tensors), "tensor names or order differ from the layout"
    for name, shape in layout:
        assert tensors[name].shape == tuple(shape) and tensors[name].dtype == np.float32, name
    cbam, sn = amf.ARCHS[arch]
    # Load the file's tensors into reference networks (plain convolutions when folded) and
    # compare their outputs with the golden ones bit for bit.
    opts = dict(cbam=cbam, sn=sn and sn_mode == "stored")
    w = ref.TINY
    rebuilt = dict(e=ref.VoiceEncoder(w["voice"], w["embed"]), g=ref.Generator(w["gen"], w["embed"], **opts),
                   f=ref.FaceEncoder(w["face"], w["embed"], **opts), d=ref.Head(w["embed"], 1),
                   c=ref.Head(w["embed"], IDENTITIES))
    for k, net in rebuilt.items():
        prefix = NET_NAMES[k] + "."
        sd = {n[len(prefix):]: torch.from_numpy(t) for n, t in tensors.items() if n.startswith(prefix)}
        missing, unexpected = net.load_state_dict(sd, strict=False)
        assert not unexpected and all(m.endswith("num_batches_tracked") for m in missing), (missing, unexpected)
        net.eval()
    if sn and sn_mode == "folded":  # the folded weights are torch's eval-mode weights, bit for bit
        for k in "gf":
            for i, m in enumerate(nets[k].model):
                if hasattr(m, "weight_orig"):
                    name = f"{NET_NAMES[k]}.model.{i}.weight"
                    assert np.array_equal(tensors[name], m.weight.detach().numpy()), name
    again = golden_data(rebuilt, torch)
    for name, value in golden.items():
        assert np.array_equal(value, again[name]), f"{path}: {name} differs when run from the file's weights"


def tensor_summary(golden):
    return ", ".join(f"{k} {list(v.shape)}" for k, v in golden.items())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE, help="avpgan_torch.py (default: %(default)s)")
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden"))
    p.add_argument("--archs", nargs="+", default=list(amf.ARCHS), choices=list(amf.ARCHS))
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    ref = convert_torch.load_reference(a.reference)
    for arch in a.archs:
        nets, scales = build_networks(ref, arch, torch)
        golden = golden_data(nets, torch)
        images = golden["images"]
        assert images.std() >= 0.3 and np.abs(images).max() > 1, (images.std(), np.abs(images).max())
        outdir = os.path.join(a.out, arch)
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for k, name in NET_NAMES.items():
                paths[name] = os.path.join(tmp, f"{name}.pth")
                torch.save(nets[k].state_dict(), paths[name])
            modes = ["folded"] + (["stored"] if arch == "avpgan" else [])
            for mode in modes:
                out = os.path.join(outdir, "model.safetensors" if mode == "folded" else "model-sn-stored.safetensors")
                source = (f"tools/make_golden.py: reference networks ({os.path.basename(a.reference)}) at TINY widths, "
                          f"seed {ARCH_SEEDS[arch]}, converted by tools/convert_torch.py (spectral norm {mode})")
                config, n = convert_torch.convert(arch, paths, out, spectral_norm=mode, pixels="clamp",
                                                  reference=a.reference, source=source)
                check_model_file(out, arch, nets, ref, golden, torch, mode)
                print(f"{os.path.relpath(out, REPO_ROOT)}: {amf.describe(arch, config, n)}")
        meta = {"avpgan.golden": "1", "arch": arch, "generator": "tools/make_golden.py",
                "torch": torch.__version__, "seeds": f"weights {ARCH_SEEDS[arch]}, features {FEATURE_SEED}, inputs {INPUT_SEED}",
                "final_layer_scale": json.dumps({k: float(f"{v:.6g}") for k, v in scales.items()})}
        path = os.path.join(outdir, "golden.safetensors")
        safetensors_io.write(path, golden, meta)
        back, _ = safetensors_io.read(path)
        assert list(back) == list(golden) and all(np.array_equal(back[k], v) for k, v in golden.items())
        print(f"{os.path.relpath(path, REPO_ROOT)}: images std {images.std():.3f}, "
              f"|x|>1 {np.mean(np.abs(images) > 1) * 100:.1f}%, final-layer scale {meta['final_layer_scale']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

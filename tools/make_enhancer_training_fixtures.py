#!/usr/bin/env python3
"""Writes Tests/Fixtures/enhancer-training/: the enhancer's building blocks run forward and
backward by PyTorch autograd on the upstream modules, for the Swift backward passes to match.

    /work/torchenv/bin/python tools/make_enhancer_training_fixtures.py [--out DIR]

Needs torch and the PyPI packages gfpgan and basicsr (installed with --no-deps, with their
light imports; see tools/make_enhancer_fixtures.py for the torchvision shim). Every case is
seeded and small (a few KB). Each file NAME.safetensors holds the case's inputs, its
parameters (named as in upstream's state_dict), `grad_output` (a random upstream gradient:
the loss is sum(output * grad_output)), the forward `output`, and `grad.X` for every input
and parameter X, all float32:

  styleconv-up    upstream StyleConv(4 -> 5, 3x3, sample_mode="upsample") on x [1, 4, 6, 6]
                  with style [1, 7] and a given noise plane [1, 1, 12, 12]: bilinear x2,
                  modulated demodulated conv times sqrt 2, noise injection, bias, LeakyReLU 0.2
  styleconv       StyleConv(5 -> 6, 3x3) on x [1, 5, 8, 8], noise [1, 1, 8, 8]
  torgb-skip      ToRGB(6, upsample=True) on x [1, 6, 8, 8] with skip [1, 3, 4, 4]: modulated
                  1x1 conv without demodulation, bias, plus the bilinear x2 skip
  torgb-first     ToRGB(6, upsample=False) on x [1, 6, 4, 4] without a skip (to_rgb1)
  bilinear-up     F.interpolate(x [1, 3, 5, 7], scale_factor=2, bilinear, align_corners=False)
  bilinear-down   F.interpolate(x [1, 3, 8, 6], scale_factor=0.5, bilinear, align_corners=False)
  sft-half        GFPGANv1Clean's CS-SFT with sft_half: x [1, 6, 5, 5] split at 6 // 2, the
                  second half times scale [1, 3, 5, 5] plus shift (split and cat as upstream)
  sft-full        the same with sft_half False: every channel, scale and shift [1, 4, 5, 5]
  resblock-down   the U-Net's ResBlock(4 -> 6, mode="down") (gfpgan.archs.gfpganv1_clean_arch)
                  on x [1, 4, 8, 8]: conv 3x3, LeakyReLU, bilinear x0.5, conv 3x3, LeakyReLU,
                  plus the bias-free 1x1 skip of the resampled input
  resblock-up     ResBlock(6 -> 4, mode="up") on x [1, 6, 4, 4]

And the whole network: for NAME in NETWORKS, upstream GFPGANv1Clean at 32 px with tiny widths
(seeded random weights, built by tools/make_enhancer_fixtures.py's `build`), converted by
tools/convert_gfpgan.py into enhancer-NAME.safetensors, and network-NAME.safetensors with
`input` [1, 3, 32, 32], the image `output` (randomize_noise=False: the stored noise), a random
`grad_output`, and `grad.NAME` for every tensor that reaches the image (the U-Net's RGB heads
do not):
  net-w-mlp       different_w, sft_half, the style MLP (input_is_latent false): NormStyleCode
                  over the layers of a [L, S] code
  net-one-full    one style vector (different_w false), CS-SFT on every channel, the MLP:
                  NormStyleCode over the features
"""
import argparse
import os
import sys

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import safetensors_io  # noqa: E402
from make_enhancer_fixtures import import_upstream  # noqa: E402


def upstream_modules():
    import_upstream()  # installs the torchvision shim basicsr needs
    from gfpgan.archs.stylegan2_clean_arch import StyleConv, ToRGB
    return StyleConv, ToRGB


def randomise(module, gen):
    """Every parameter random, so each term of the backward pass counts (upstream zeroes the
    noise weight and biases and sets the modulation bias to one)."""
    import torch
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("modulation.bias"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))


def autograd_case(module, inputs, extra=None, seed=0):
    """Runs `module(**inputs)` and backward with a random upstream gradient; returns the arrays."""
    import torch
    leaves = {k: v.clone().requires_grad_(k in ("x", "style", "skip", "scale", "shift")) for k, v in inputs.items()}
    out = module(**leaves)
    gen = torch.Generator().manual_seed(seed + 1000)
    grad_output = torch.randn(out.shape, generator=gen)
    out.backward(grad_output)
    arrays = {k: v.detach().numpy() for k, v in inputs.items()}
    arrays.update({"output": out.detach().numpy(), "grad_output": grad_output.numpy()})
    for k, v in leaves.items():
        if v.grad is not None:
            arrays[f"grad.{k}"] = v.grad.numpy()
    if isinstance(module, torch.nn.Module):
        for name, p in module.named_parameters():
            arrays[name] = p.detach().numpy()
            arrays[f"grad.{name}"] = p.grad.numpy()
    if extra:
        arrays.update(extra)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}


def style_conv_case(seed, cin, cout, side, upsample):
    import torch
    StyleConv, _ = upstream_modules()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    layer = StyleConv(cin, cout, 3, num_style_feat=7, demodulate=True, sample_mode="upsample" if upsample else None)
    randomise(layer, gen)
    out_side = 2 * side if upsample else side
    inputs = {"x": torch.randn(1, cin, side, side, generator=gen), "style": torch.randn(1, 7, generator=gen),
              "noise": torch.randn(1, 1, out_side, out_side, generator=gen)}
    return autograd_case(layer, inputs, seed=seed)


def to_rgb_case(seed, cin, side, skip):
    import torch
    _, ToRGB = upstream_modules()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    layer = ToRGB(cin, num_style_feat=7, upsample=skip)
    randomise(layer, gen)
    inputs = {"x": torch.randn(1, cin, side, side, generator=gen), "style": torch.randn(1, 7, generator=gen)}
    if skip:
        inputs["skip"] = torch.randn(1, 3, side // 2, side // 2, generator=gen)
    return autograd_case(layer, inputs, seed=seed)


def bilinear_case(seed, shape, factor):
    import torch
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(seed)
    inputs = {"x": torch.randn(*shape, generator=gen)}
    return autograd_case(lambda x: F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False),
                         inputs, seed=seed)


def res_block_case(seed, cin, cout, side, mode):
    import torch
    import_upstream()
    from gfpgan.archs.gfpganv1_clean_arch import ResBlock
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    block = ResBlock(cin, cout, mode=mode)
    randomise(block, gen)
    return autograd_case(block, {"x": torch.randn(1, cin, side, side, generator=gen)}, seed=seed)


NETWORKS = {
    "net-w-mlp": (dict(num_style_feat=8, channel_multiplier=1, narrow=1 / 64, num_mlp=1, different_w=True, sft_half=True,
                       input_is_latent=False), 31),
    "net-one-full": (dict(num_style_feat=8, channel_multiplier=1, narrow=1 / 64, num_mlp=2, different_w=False,
                          sft_half=False, input_is_latent=False), 32),
}


def network_case(name, out):
    import subprocess
    import tempfile
    import torch
    import enhancer_file as ef
    from make_enhancer_fixtures import build
    fields, seed = NETWORKS[name]
    config = ef.EnhancerConfig(32, **fields)
    net = build(config, seed)
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "checkpoint.pth")
        torch.save({"params_ema": net.state_dict()}, pth)
        subprocess.run([sys.executable, os.path.join(TOOLS, "convert_gfpgan.py"), pth, "-o",
                        os.path.join(out, f"enhancer-{name}.safetensors"), "--no-input-is-latent"], check=True)
    gen = torch.Generator().manual_seed(seed + 500)
    x = (torch.rand(1, 3, 32, 32, generator=gen) * 2 - 1).requires_grad_(True)
    image, _ = net(x, return_rgb=False, randomize_noise=False)
    grad_output = torch.randn(image.shape, generator=gen)
    image.backward(grad_output)
    arrays = {"input": x.detach().numpy(), "output": image.detach().numpy(), "grad_output": grad_output.numpy()}
    for param, p in net.named_parameters():
        if p.grad is not None:
            arrays[f"grad.{param}"] = p.grad.numpy()
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}


def sft_case(seed, channels, side, half):
    """GFPGANv1Clean.forward's CS-SFT step, written with the same torch operations."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    n = channels - channels // 2 if half else channels
    inputs = {"x": torch.randn(1, channels, side, side, generator=gen),
              "scale": torch.randn(1, n, side, side, generator=gen),
              "shift": torch.randn(1, n, side, side, generator=gen)}

    def sft(x, scale, shift):
        if half:
            same, modulated = torch.split(x, int(x.size(1) // 2), dim=1)
            return torch.cat([same, modulated * scale + shift], dim=1)
        return x * scale + shift
    return autograd_case(sft, inputs, seed=seed)


CASES = {
    "styleconv-up": lambda: style_conv_case(11, 4, 5, 6, upsample=True),
    "styleconv": lambda: style_conv_case(12, 5, 6, 8, upsample=False),
    "torgb-skip": lambda: to_rgb_case(13, 6, 8, skip=True),
    "torgb-first": lambda: to_rgb_case(14, 6, 4, skip=False),
    "bilinear-up": lambda: bilinear_case(15, (1, 3, 5, 7), 2),
    "bilinear-down": lambda: bilinear_case(16, (1, 3, 8, 6), 0.5),
    "sft-half": lambda: sft_case(17, 6, 5, half=True),
    "sft-full": lambda: sft_case(18, 4, 5, half=False),
    "resblock-down": lambda: res_block_case(19, 4, 6, 8, "down"),
    "resblock-up": lambda: res_block_case(20, 6, 4, 4, "up"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "enhancer-training"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, make in CASES.items():
        arrays = make()
        safetensors_io.write(os.path.join(args.out, f"{name}.safetensors"), arrays)
        print(f"{name}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(arrays.items())))
    for name in NETWORKS:
        arrays = network_case(name, args.out)
        safetensors_io.write(os.path.join(args.out, f"network-{name}.safetensors"), arrays)
        print(f"network-{name}: {len(arrays) - 3} gradients, {sum(v.size for v in arrays.values())} floats")
    return 0


if __name__ == "__main__":
    sys.exit(main())

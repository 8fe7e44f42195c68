#!/usr/bin/env python3
"""Writes the enhancer fixtures of Tests/Fixtures/enhancer/ from the upstream gfpgan package.

    /work/torchenv/bin/python tools/make_enhancer_fixtures.py [--out DIR]
    /work/torchenv/bin/python tools/make_enhancer_fixtures.py --full-size DIR   # 512 px, not committed

Needs torch and the PyPI package gfpgan (with basicsr; current torchvision lacks the module
torchvision.transforms.functional_tensor that basicsr imports, so this script provides it).
Each config builds upstream's GFPGANv1Clean with seeded random weights (the zero-initialised
biases and noise weights randomised too, so that every term counts), saves its state dict as a
release checkpoint would ({"params_ema": ...}), converts that with tools/convert_gfpgan.py,
and writes, per config NAME:
  enhancer-NAME.safetensors  the converted enhancer
  NAME.safetensors           input [2, 3, S, S] in [-1, 1] and upstream's output (the image,
                             randomize_noise=False: the stored noise), plus rgb8_input
                             [H, W, 3] (uint8, not S x S) and rgb8_output [S, S, 3]: GFPGAN's
                             pre- and post-processing as libavpgan documents it (resize with
                             torch's bilinear antialias=True, x / 127.5 - 1, clamp, (x + 1) / 2 *
                             255 rounded half up)
--full-size DIR writes the same for the v1.3/v1.4 configuration (512 px, channel_multiplier 2,
different_w, sft_half, input_is_latent) into DIR (about 340 MB; for a manual parity check).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import types

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import enhancer_file as ef  # noqa: E402
import safetensors_io  # noqa: E402


def import_upstream():
    """GFPGANv1Clean from the installed gfpgan package, with basicsr's missing import shimmed."""
    import torchvision.transforms.functional as functional
    name = "torchvision.transforms.functional_tensor"
    if name not in sys.modules:
        shim = types.ModuleType(name)
        shim.rgb_to_grayscale = functional.rgb_to_grayscale
        sys.modules[name] = shim
    from gfpgan.archs.gfpganv1_clean_arch import GFPGANv1Clean
    return GFPGANv1Clean


# name -> (config, seed). Together they cover sft_half on and off, one and many style
# vectors, the style MLP (input_is_latent false, with a [N, L, S] and a [N, S] code), and
# sizes 32, 64 and 128 with narrow and channel_multiplier other than 1.
CONFIGS = {
    "s32-half-latent": (ef.EnhancerConfig(32, num_style_feat=16, channel_multiplier=1, narrow=1 / 16, num_mlp=2,
                                          different_w=True, sft_half=True, input_is_latent=True), 1),
    "s64-full-mlp": (ef.EnhancerConfig(64, num_style_feat=16, channel_multiplier=2, narrow=1 / 32, num_mlp=2,
                                       different_w=False, sft_half=False, input_is_latent=False), 2),
    "s128-half-mlp-w": (ef.EnhancerConfig(128, num_style_feat=8, channel_multiplier=1, narrow=1 / 32, num_mlp=1,
                                          different_w=True, sft_half=True, input_is_latent=False), 3),
}
FULL = ef.EnhancerConfig(512)


def build(config, seed):
    import torch
    GFPGANv1Clean = import_upstream()
    torch.manual_seed(seed)
    net = GFPGANv1Clean(out_size=config.out_size, num_style_feat=config.num_style_feat,
                        channel_multiplier=config.channel_multiplier, decoder_load_path=None, fix_decoder=False,
                        num_mlp=config.num_mlp, input_is_latent=config.input_is_latent,
                        different_w=config.different_w, narrow=config.narrow, sft_half=config.sft_half)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, p in net.named_parameters():
            # Upstream initialises these to zero (noise weights, biases) or one (modulation
            # biases); random values make each of them change the output.
            if name.endswith("modulation.bias"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias") or (name.startswith("stylegan_decoder.style_conv") and name.endswith(".weight")
                                            and p.dim() == 1):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    return net.eval()


def run(net, x):
    import torch
    with torch.no_grad():
        image, _ = net(torch.from_numpy(x), return_rgb=False, randomize_noise=False)
    return image.numpy().astype(np.float32)


def rgb8_reference(net, config, rgb):
    """GFPGAN's pre- and post-processing as libavpgan defines it, around upstream's network."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None]
    s = config.out_size
    t = F.interpolate(t, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
    x = (t - 127.5) / 127.5
    y = run(net, x.numpy().astype(np.float32))[0]
    y = np.clip(y, -1, 1)
    return np.floor((y + 1) / 2 * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)


def write_config(name, config, seed, out):
    import torch
    net = build(config, seed)
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "checkpoint.pth")
        torch.save({"params_ema": net.state_dict()}, pth)
        subprocess.run([sys.executable, os.path.join(TOOLS, "convert_gfpgan.py"), pth, "-o",
                        os.path.join(out, f"enhancer-{name}.safetensors")]
                       + ([] if config.input_is_latent else ["--no-input-is-latent"]), check=True)
    rng = np.random.default_rng(seed)
    s = config.out_size
    x = rng.uniform(-1, 1, size=(2, 3, s, s)).astype(np.float32)
    y = run(net, x)
    rgb = rng.integers(0, 256, size=(s // 2 + 3, s // 2 - 5, 3), dtype=np.uint8)
    arrays = {"input": x, "output": y, "rgb8_input": rgb, "rgb8_output": rgb8_reference(net, config, rgb)}
    safetensors_io.write(os.path.join(out, f"{name}.safetensors"), arrays)
    print(f"{name}: {sum(p.numel() for p in net.parameters())} parameters, output max |y| {np.abs(y).max():.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "enhancer"))
    parser.add_argument("--full-size", metavar="DIR", help="write the 512 px v1.3/v1.4 configuration to DIR instead")
    args = parser.parse_args(argv)
    if args.full_size:
        os.makedirs(args.full_size, exist_ok=True)
        write_config("full512", FULL, 5, args.full_size)
        return 0
    os.makedirs(args.out, exist_ok=True)
    for name, (config, seed) in CONFIGS.items():
        write_config(name, config, seed, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

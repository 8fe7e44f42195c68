#!/usr/bin/env python3
"""Writes Tests/Fixtures/enhancer-training/discriminator-*.safetensors: basicsr's
StyleGAN2Discriminator run forward and backward by PyTorch autograd at tiny widths, for the
Swift discriminator to match.

    /work/torchenv/bin/python tools/make_discriminator_fixtures.py [--out DIR]

Needs torch and basicsr (PyPI, --no-deps; its torchvision import shimmed as in
tools/make_enhancer_fixtures.py). basicsr's FusedLeakyReLU calls a compiled CUDA extension;
this script replaces it by the same arithmetic in plain torch, `leaky_relu(x + bias, 0.2) *
sqrt(2)` (the extension's definition), so that it runs on the CPU. Each file holds the
discriminator's parameters under their state_dict names (biases randomised: upstream zeroes
them), `input` [N, 3, S, S], the scores `output` [N, 1], a random `grad_output` [N, 1] (the loss
is sum(output * grad_output)), and `grad.input` and `grad.NAME` for every parameter, and GFPGAN's
R1 penalty (basicsr's `r1_penalty`: the squared gradient of the summed scores with respect to
the images, summed per image and averaged) as `r1.penalty` [1] with its exact gradient by
double backward, `r1.grad.NAME` for every parameter, all float32:
  discriminator-s64   out_size 64, channel_multiplier 1, narrow 1/128 (2 channels at 64 px,
                      4 below: blocks that widen), N 1 (the statistic is then a constant; the
                      s16 case covers its gradient)
  discriminator-s16   out_size 16, channel_multiplier 1, narrow 1/64 (8 channels), N 8: the
                      stddev over groups of 4, two statistics

and component-s16.safetensors: GFPGAN's FacialComponentDiscriminator (gfpgan.archs.gfpganv1_arch)
with its layers rebuilt at widths 4, 8, 16 instead of 64, 128, 256 (basicsr's ConvLayer, the
same kinds and order; upstream's forward unchanged), on `input` [2, 3, 16, 16] with
return_feats: the score map `output` [2, 1, 4, 4] and `feat0` [2, 8, 8, 8], `feat1` [2, 16, 4, 4];
the loss sum(output * grad_output) + sum(feat0 * grad_feat0) + sum(feat1 * grad_feat1), its
gradients `grad.input` and `grad.NAME`.
"""
import argparse
import math
import os
import sys

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import safetensors_io  # noqa: E402
from make_enhancer_fixtures import import_upstream  # noqa: E402


def discriminator_class():
    import torch.nn.functional as F
    import_upstream()
    from basicsr.archs import stylegan2_arch

    def fused_leaky_relu(x, bias, negative_slope=0.2, scale=2 ** 0.5):
        return F.leaky_relu(x + bias.view(1, -1, *[1] * (x.dim() - 2)), negative_slope) * scale

    stylegan2_arch.fused_leaky_relu = fused_leaky_relu
    stylegan2_arch.FusedLeakyReLU.forward = lambda self, x: fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)
    return stylegan2_arch.StyleGAN2Discriminator


def case(seed, size, narrow, batch):
    import torch
    StyleGAN2Discriminator = discriminator_class()
    torch.manual_seed(seed)
    net = StyleGAN2Discriminator(size, channel_multiplier=1, narrow=narrow)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    x = torch.randn(batch, 3, size, size, generator=gen).requires_grad_(True)
    out = net(x)
    grad_output = torch.randn(out.shape, generator=gen)
    out.backward(grad_output)
    arrays = {"input": x.detach().numpy(), "output": out.detach().numpy(), "grad_output": grad_output.numpy(),
              "grad.input": x.grad.numpy()}
    for name, p in net.named_parameters():
        arrays[name] = p.detach().numpy()
        arrays[f"grad.{name}"] = p.grad.numpy()
    net.zero_grad()
    real = x.detach().clone().requires_grad_(True)
    grad_real, = torch.autograd.grad(outputs=net(real).sum(), inputs=real, create_graph=True)
    penalty = grad_real.pow(2).view(grad_real.shape[0], -1).sum(1).mean()
    penalty.backward()
    arrays["r1.penalty"] = penalty.detach().reshape(1).numpy()
    for name, p in net.named_parameters():
        arrays[f"r1.grad.{name}"] = (p.grad if p.grad is not None else torch.zeros_like(p)).numpy()  # the score bias: none
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}


def component_case(seed):
    import torch
    discriminator_class()  # the CPU FusedLeakyReLU
    from basicsr.archs.stylegan2_arch import ConvLayer
    from gfpgan.archs.gfpganv1_arch import FacialComponentDiscriminator
    torch.manual_seed(seed)
    net = FacialComponentDiscriminator()
    w = (4, 8, 16)
    net.conv1 = ConvLayer(3, w[0], 3, downsample=False, bias=True, activate=True)
    net.conv2 = ConvLayer(w[0], w[1], 3, downsample=True, bias=True, activate=True)
    net.conv3 = ConvLayer(w[1], w[1], 3, downsample=False, bias=True, activate=True)
    net.conv4 = ConvLayer(w[1], w[2], 3, downsample=True, bias=True, activate=True)
    net.conv5 = ConvLayer(w[2], w[2], 3, downsample=False, bias=True, activate=True)
    net.final_conv = ConvLayer(w[2], 1, 3, bias=True, activate=False)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    x = torch.randn(2, 3, 16, 16, generator=gen).requires_grad_(True)
    out, feats = net(x, return_feats=True)
    grads = [torch.randn(t.shape, generator=gen) for t in [out] + feats]
    (sum((t * g).sum() for t, g in zip([out] + feats, grads))).backward()
    arrays = {"input": x.detach(), "output": out.detach(), "feat0": feats[0].detach(), "feat1": feats[1].detach(),
              "grad_output": grads[0], "grad_feat0": grads[1], "grad_feat1": grads[2], "grad.input": x.grad}
    for name, p in net.named_parameters():
        arrays[name] = p.detach()
        arrays[f"grad.{name}"] = p.grad
    return {k: np.ascontiguousarray(v.numpy(), dtype=np.float32) for k, v in arrays.items()}


CASES = {"discriminator-s64": (21, 64, 1 / 128, 1), "discriminator-s16": (22, 16, 1 / 64, 8)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "enhancer-training"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, params in CASES.items():
        arrays = case(*params)
        safetensors_io.write(os.path.join(args.out, f"{name}.safetensors"), arrays)
        print(f"{name}: output {arrays['output'].ravel()}, {sum(v.size for v in arrays.values())} floats")
    arrays = component_case(23)
    safetensors_io.write(os.path.join(args.out, "component-s16.safetensors"), arrays)
    print(f"component-s16: {sum(v.size for v in arrays.values())} floats")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes Tests/Fixtures/enhancer-step/: three whole training steps of GFPGAN's loop
(GFPGANModel.optimize_parameters with train_gfpgan_v1.yml's optimisers) run by PyTorch on the
upstream modules at 32 px with tiny widths, for EnhancerTrainingStep to match.

    /work/torchenv/bin/python tools/make_enhancer_step_fixtures.py [--out DIR]

Needs torch, torchvision, and the PyPI packages gfpgan and basicsr (as the other enhancer
fixture scripts). The networks, all seeded:
  generator   upstream GFPGANv1Clean at 32 px, num_style_feat 8, channel_multiplier 1, narrow
              1/64, num_mlp 1, different_w, sft_half, the style MLP (tools/make_enhancer_fixtures.py's
              `build`, whose biases and noise weights are random)
  face D      basicsr StyleGAN2Discriminator(32, channel_multiplier 1, narrow 1/64), biases random
  components  three gfpgan FacialComponentDiscriminators rebuilt at widths 4, 8, 16
  VGG-19      torchvision's, widths / 32, random weights (vgg19-w32.safetensors, through
              tools/convert_vgg.py's writer)
The losses are basicsr's modules with train_gfpgan_v1.yml's options: L1Loss 0.1, PerceptualLoss
(its layers, perceptual 1, style 50), GANLoss wgan_softplus 0.1 for the face and vanilla 1
for the components, the component style loss 200 (GFPGANModel's Gram matrices); the identity
loss is off (weight 0). Adam: generator lr 2e-3, betas (0, 0.99); face D with
net_d_reg_every = 2 (so that step 2 of 3 is an R1 step; r1_reg_weight 10): lr 2e-3 * 2/3,
betas (0, 0.99^(2/3)); components lr 2e-3, betas (0.9, 0.99); EMA decay 0.5^(32/10000).

Batch 2. The crops: per face (left eye, right eye, mouth) centres and half sides
(`landmarks` [2, 3, 3]); boxes as FFHQDegradationDataset makes them (eyes enlarged 1.4),
roi_align to 5 px (eyes) and 8 px (mouth), i.e. 80 and 120 times 32/512 rounded (upstream's
int(out_size / 512) factor would make them 0 below 512 px).

Upstream draws the StyleConvs' noise afresh (randomize_noise); here each step's planes are
drawn from a seeded generator, set as the stored noises ([2, 1, r, r], one per image) and used
with randomize_noise=False, and saved, so Swift feeds the same planes.

step.safetensors holds: `g.NAME`, `d.NAME`, `left_eye.NAME`, `right_eye.NAME`, `mouth.NAME`
(the initial weights, state_dict names; the generator's stored noises too); `landmarks`; per
step k = 1, 2, 3: `stepK.input`, `stepK.truth` [2, 3, 32, 32] in [-1, 1], `stepK.noise`
[2, F] (each image's planes concatenated in layer order), `stepK.loss.NAME` (upstream's log
names); and after step 3: `final.g.NAME`, `final.ema.NAME`, `final.d.NAME`, `final.left_eye.NAME`, ...
Also `r1.grad.NAME`: the R1 term's exact parameter gradient at step 2 (double backward), for
measuring the Swift approximation.
"""
import argparse
import copy
import os
import sys

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import convert_vgg  # noqa: E402
import enhancer_file as ef  # noqa: E402
import safetensors_io  # noqa: E402
from make_discriminator_fixtures import discriminator_class  # noqa: E402
from make_enhancer_fixtures import build  # noqa: E402
from make_enhancer_loss_fixtures import LAYERS, import_basicsr, narrow_vgg19  # noqa: E402

SIZE, BATCH, STEPS, REG_EVERY, R1_WEIGHT = 32, 2, 3, 2, 10.0
CONFIG = ef.EnhancerConfig(SIZE, num_style_feat=8, channel_multiplier=1, narrow=1 / 64, num_mlp=1, different_w=True,
                           sft_half=True, input_is_latent=False)
EMA_DECAY = 0.5 ** (32 / (10 * 1000))
EYE, MOUTH = int(80 * SIZE / 512 + 0.5), int(120 * SIZE / 512 + 0.5)
# (centre x, centre y, half side) of left eye, right eye, mouth: the aligned-face template at
# 32 px, and a face whose regions sit elsewhere.
LANDMARKS = [[[12.75, 15.0, 2.0], [19.25, 15.0, 2.0], [16.0, 21.0, 3.0]],
             [[11.5, 13.0, 2.5], [20.0, 14.5, 2.0], [15.0, 23.0, 3.5]]]


def component_discriminator(seed):
    import torch
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
    return net


def boxes():
    """GFPGANModel.get_roi_regions' rois: eyes [2B, 5] (left, right per face), mouths [B, 5]."""
    import torch
    eyes, mouths = [], []
    for b, face in enumerate(LANDMARKS):
        for k, (cx, cy, half) in enumerate(face):
            h = half * 1.4 if k < 2 else half
            row = [float(b), cx - h + 1, cy - h + 1, cx + h, cy + h]
            (eyes if k < 2 else mouths).append(row)
    return torch.tensor(eyes), torch.tensor(mouths)


def gram(x):
    n, c, h, w = x.size()
    features = x.view(n, c, w * h)
    return features.bmm(features.transpose(1, 2)) / (c * h * w)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "enhancer-step"))
    args = parser.parse_args(argv)
    import torch
    from torchvision.ops import roi_align
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    vgg_arch, basic_loss = import_basicsr()
    StyleGAN2Discriminator = discriminator_class()
    from basicsr.losses.gan_loss import GANLoss, r1_penalty

    net_g = build(CONFIG, 41).train()
    torch.manual_seed(42)
    net_d = StyleGAN2Discriminator(SIZE, channel_multiplier=1, narrow=1 / 64)
    gen = torch.Generator().manual_seed(42)
    with torch.no_grad():
        for name, p in net_d.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    parts = {"left_eye": component_discriminator(43), "right_eye": component_discriminator(44), "mouth": component_discriminator(45)}
    vgg = narrow_vgg19(32, torch.Generator().manual_seed(46))
    convert_vgg.write(os.path.join(args.out, "vgg19-w32.safetensors"), {k: v.numpy() for k, v in vgg.state_dict().items()},
                      "make_enhancer_step_fixtures.py")
    vgg_arch.vgg.vgg19 = lambda *a, **k: vgg
    vgg_arch.VGG_PRETRAIN_PATH = "/nonexistent"
    cri_pix = basic_loss.L1Loss(loss_weight=0.1, reduction="mean")
    cri_l1 = basic_loss.L1Loss(loss_weight=1, reduction="mean")
    cri_perceptual = basic_loss.PerceptualLoss(dict(LAYERS), vgg_type="vgg19", use_input_norm=True, range_norm=True,
                                               perceptual_weight=1.0, style_weight=50.0, criterion="l1")
    cri_gan = GANLoss("wgan_softplus", loss_weight=0.1)
    cri_component = GANLoss("vanilla", loss_weight=1.0)

    arrays = {f"g.{k}": v.clone() for k, v in net_g.state_dict().items()}
    arrays.update({f"d.{k}": v.clone() for k, v in net_d.state_dict().items()})
    for part, net in parts.items():
        arrays.update({f"{part}.{k}": v.clone() for k, v in net.state_dict().items()})
    arrays["landmarks"] = torch.tensor(LANDMARKS)
    net_g_ema = copy.deepcopy(net_g)
    ratio = REG_EVERY / (REG_EVERY + 1)
    optimizer_g = torch.optim.Adam(net_g.parameters(), lr=2e-3, betas=(0.0, 0.99))
    optimizer_d = torch.optim.Adam(net_d.parameters(), lr=2e-3 * ratio, betas=(0 ** ratio, 0.99 ** ratio))
    optimizers_c = {part: torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.9, 0.99)) for part, net in parts.items()}
    rois_eyes, rois_mouths = boxes()
    data = torch.Generator().manual_seed(47)
    noise_count = 2 * CONFIG.log_size - 3
    for step in range(1, STEPS + 1):
        gt = (torch.rand(BATCH, 3, SIZE, SIZE, generator=data) * 2 - 1)
        lq = (gt + 0.4 * torch.randn(BATCH, 3, SIZE, SIZE, generator=data)).clamp(-1, 1)
        planes = [torch.randn(BATCH, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), generator=data) for i in range(noise_count)]
        for i, plane in enumerate(planes):
            setattr(net_g.stylegan_decoder.noises, f"noise{i}", plane)
        arrays[f"step{step}.input"], arrays[f"step{step}.truth"] = lq, gt
        arrays[f"step{step}.noise"] = torch.cat([p.reshape(BATCH, -1) for p in planes], dim=1)
        log = {}

        # The generator step, the discriminators frozen.
        for net in [net_d] + list(parts.values()):
            for p in net.parameters():
                p.requires_grad = False
        optimizer_g.zero_grad()
        output, _ = net_g(lq, return_rgb=False, randomize_noise=False)
        all_eyes = roi_align(output, boxes=rois_eyes, output_size=EYE)
        crops = {"left_eye": all_eyes[0::2], "right_eye": all_eyes[1::2], "mouth": roi_align(output, boxes=rois_mouths, output_size=MOUTH)}
        gt_eyes = roi_align(gt, boxes=rois_eyes, output_size=EYE)
        gt_crops = {"left_eye": gt_eyes[0::2], "right_eye": gt_eyes[1::2], "mouth": roi_align(gt, boxes=rois_mouths, output_size=MOUTH)}
        log["l_g_pix"] = cri_pix(output, gt)
        log["l_g_percep"], log["l_g_style"] = cri_perceptual(output, gt)
        log["l_g_gan"] = cri_gan(net_d(output), True, is_disc=False)
        style = 0
        for part, net in parts.items():
            fake, fake_feats = net(crops[part], return_feats=True)
            log[f"l_g_gan_{part}"] = cri_component(fake, True, is_disc=False)
            _, real_feats = net(gt_crops[part], return_feats=True)
            style = style + cri_l1(gram(fake_feats[0]), gram(real_feats[0].detach())) * 0.5 \
                + cri_l1(gram(fake_feats[1]), gram(real_feats[1].detach()))
        log["l_g_comp_style_loss"] = style * 200
        sum(log.values()).backward()
        optimizer_g.step()
        with torch.no_grad():
            ema = dict(net_g_ema.named_parameters())
            for name, p in net_g.named_parameters():
                ema[name].mul_(EMA_DECAY).add_(p, alpha=1 - EMA_DECAY)

        # The face discriminator's step.
        for net in [net_d] + list(parts.values()):
            for p in net.parameters():
                p.requires_grad = True
        optimizer_d.zero_grad()
        fake_pred, real_pred = net_d(output.detach()), net_d(gt)
        l_d = cri_gan(real_pred, True, is_disc=True) + cri_gan(fake_pred, False, is_disc=True)
        log["l_d"], log["real_score"], log["fake_score"] = l_d, real_pred.mean(), fake_pred.mean()
        l_d.backward()
        if step % REG_EVERY == 0:
            before = {n: p.grad.clone() for n, p in net_d.named_parameters()}
            real = gt.clone().requires_grad_(True)
            real_pred = net_d(real)
            l_d_r1 = R1_WEIGHT / 2 * r1_penalty(real_pred, real) * REG_EVERY + 0 * real_pred[0]
            log["l_d_r1"] = l_d_r1.detach().mean()
            l_d_r1.backward()
            for n, p in net_d.named_parameters():
                arrays[f"r1.grad.{n}"] = p.grad - before[n]
        optimizer_d.step()

        # The component discriminators' steps.
        for part, net in parts.items():
            optimizers_c[part].zero_grad()
            fake_pred, _ = net(crops[part].detach())
            real_pred, _ = net(gt_crops[part])
            loss = cri_component(real_pred, True, is_disc=True) + cri_gan(fake_pred, False, is_disc=True)
            log[f"l_d_{part}"] = loss
            loss.backward()
        for part in parts:
            optimizers_c[part].step()
        for name, value in log.items():
            arrays[f"step{step}.loss.{name}"] = value.detach().reshape(1)
        print(f"step {step}: " + ", ".join(f"{k} {float(v):.5g}" for k, v in log.items()))

    for prefix, net in [("final.g", net_g), ("final.ema", net_g_ema), ("final.d", net_d)] + \
            [(f"final.{part}", net) for part, net in parts.items()]:
        arrays.update({f"{prefix}.{k}": v.detach().clone() for k, v in net.named_parameters()})
    arrays = {k: np.ascontiguousarray(v.detach().numpy(), dtype=np.float32) for k, v in arrays.items()}
    safetensors_io.write(os.path.join(args.out, "step.safetensors"), arrays)
    for f in sorted(os.listdir(args.out)):
        print(f, os.path.getsize(os.path.join(args.out, f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

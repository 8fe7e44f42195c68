#!/usr/bin/env python3
"""Writes Tests/Fixtures/enhancer-losses/: the enhancer's training losses computed, with their
gradients, by PyTorch autograd on basicsr's own loss modules, for the Swift losses to match.

    /work/torchenv/bin/python tools/make_enhancer_loss_fixtures.py [--out DIR]

Needs torch, torchvision and the PyPI package basicsr (installed with --no-deps; its missing
torchvision import is shimmed as in tools/make_enhancer_fixtures.py). Seeded, float32, small:

  l1.safetensors          basicsr L1Loss(loss_weight=0.1) of `x` [2, 3, 5, 6] against `target`,
                          a quarter of whose values equal x's exactly (torch's gradient there
                          is 0): `loss` and `grad.x`
  vgg19-w32.safetensors   a VGG-19 in torchvision's layout (`features.N`), every width divided
                          by 32 (2, 4, 8, 16, 16), random weights, written by
                          tools/convert_vgg.py's converter
  perceptual.safetensors  basicsr PerceptualLoss with GFPGAN's options (conv1_2 0.1, conv2_2
                          0.1, conv3_4 1, conv4_4 1, conv5_4 1; vgg19, use_input_norm, range_norm,
                          L1; perceptual_weight 1, style_weight 50) on that network, `x` and
                          `gt` [2, 3, 32, 32] in [-1, 1]: `perceptual`, `style`, and the
                          gradient of each with respect to x (`grad.perceptual`, `grad.style`),
                          plus every tapped pre-ReLU feature of x (`feature.convS_I`)
  components.safetensors  GFPGAN's facial-component crops of `image` [2, 2, 64, 64]: per face
                          `landmarks` [2, 3, 3] (left eye, right eye, mouth: centre x, centre y,
                          half side, as FFHQ_eye_mouth_landmarks_512.pth), boxes made as
                          FFHQDegradationDataset makes them (eyes enlarged 1.4), torchvision's
                          roi_align at 80 * 64 / 512 = 10 px (eyes) and 15 px (mouth), as
                          GFPGANModel.get_roi_regions: `eyes` [4, 2, 10, 10], `mouths`
                          [2, 2, 15, 15], random `grad_eyes`/`grad_mouths`, and `grad.image` of
                          sum(eyes * grad_eyes) + sum(mouths * grad_mouths). Face 1's mouth and
                          right eye reach past the image's edges.
  face-mobile.safetensors, face-iresnet.safetensors
                          narrow face-recognition networks (16 px input, 6-dim embedding) with the
                          layer kinds of MobileFaceNet (conv + BN + ReLU6, depthwise + BN + ReLU,
                          an inverted residual, a global depthwise conv, a 1x1 conv with bias + BN
                          head) and of IResNet (conv + BN + PReLU, pre-activation blocks with a
                          standalone BN, a strided 1x1 conv + BN shortcut, a final BN, flatten +
                          linear + BatchNorm1d head), BatchNorms stored, random weights and
                          statistics; tensor names as docs/face-model-format.md
  identity-mobile.safetensors, identity-iresnet.safetensors
                          GFPGAN's identity loss through that network, weight 10: `output` and
                          `truth` [2, 3, 20, 20] in [-1, 1], bilinear-resized to 16 px
                          (F.interpolate, align_corners False), pixels (x + 1) * 127.5 normalised
                          by mean 127.5, std 128, the network in eval mode; basicsr L1Loss of the
                          embeddings (truth detached) times 10: `embedding` (of output), `loss`,
                          `grad.output`
  adversarial.safetensors basicsr GANLoss on `logits` [12] (some beyond softplus's threshold
                          of 20 either way): for gan_type wgan_softplus and vanilla, real and
                          fake targets, as the generator (loss_weight 0.1, is_disc False) and as
                          the discriminator (is_disc True): `KIND.REAL.ROLE` and `grad.KIND.REAL.ROLE`
  component-style.safetensors
                          GFPGAN's component style loss (comp_style_weight 200) with GFPGANModel's
                          own `_gram_mat`: for each of 3 components, output and truth features at
                          two scales, `out.K.S` / `gt.K.S` ([2, 4, 6, 6] and [2, 8, 3, 3]); `loss`
                          and `grad.out.K.S`
"""
import argparse
import os
import sys
import types

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import convert_vgg  # noqa: E402
import safetensors_io  # noqa: E402

LAYERS = {"conv1_2": 0.1, "conv2_2": 0.1, "conv3_4": 1.0, "conv4_4": 1.0, "conv5_4": 1.0}


def import_basicsr():
    import torchvision.transforms.functional as functional
    name = "torchvision.transforms.functional_tensor"
    if name not in sys.modules:
        shim = types.ModuleType(name)
        shim.rgb_to_grayscale = functional.rgb_to_grayscale
        sys.modules[name] = shim
    import basicsr.archs.vgg_arch as vgg_arch
    import basicsr.losses.basic_loss as basic_loss
    return vgg_arch, basic_loss


def narrow_vgg19(divisor, gen):
    """torchvision's VGG-19 (its own make_layers, so `features.N` keys) with widths / divisor
    and random weights scaled to keep activations of order one."""
    import torch
    from torchvision.models import vgg
    cfg = [v if v == "M" else v // divisor for v in vgg.cfgs["E"]]
    model = vgg.VGG(vgg.make_layers(cfg, batch_norm=False), num_classes=10, init_weights=False)
    with torch.no_grad():
        for m in model.features:
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight.shape[1] * 9
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()


def l1_case(basic_loss, gen):
    import torch
    x = torch.randn(2, 3, 5, 6, generator=gen)
    target = torch.randn(2, 3, 5, 6, generator=gen)
    ties = torch.rand(2, 3, 5, 6, generator=gen) < 0.25
    target[ties] = x[ties]
    x.requires_grad_(True)
    loss = basic_loss.L1Loss(loss_weight=0.1, reduction="mean")(x, target)
    loss.backward()
    return {"x": x.detach(), "target": target, "loss": loss.detach().reshape(1), "grad.x": x.grad}


def perceptual_case(vgg_arch, basic_loss, model, gen):
    import torch
    # basicsr builds its VGG with torchvision's vgg19(pretrained=True): hand it ours instead.
    vgg_arch.vgg.vgg19 = lambda *args, **kwargs: model
    vgg_arch.VGG_PRETRAIN_PATH = "/nonexistent"
    loss_fn = basic_loss.PerceptualLoss(dict(LAYERS), vgg_type="vgg19", use_input_norm=True, range_norm=True,
                                        perceptual_weight=1.0, style_weight=50.0, criterion="l1")
    x = (torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1)
    gt = (x + 0.3 * torch.randn(2, 3, 32, 32, generator=gen)).clamp(-1, 1)
    out = {"x": x.clone(), "gt": gt}
    for term in ("perceptual", "style"):
        xi = x.clone().requires_grad_(True)
        percep, style = loss_fn(xi, gt)
        value = percep if term == "perceptual" else style
        value.backward()
        out[term] = value.detach().reshape(1)
        out[f"grad.{term}"] = xi.grad
    with torch.no_grad():
        for name, f in loss_fn.vgg(x).items():
            out[f"feature.{name}"] = f
    return out


def components_case(gen):
    import torch
    from torchvision.ops import roi_align
    image = torch.randn(2, 2, 64, 64, generator=gen).requires_grad_(True)
    landmarks = torch.tensor([[[25.5, 30.0, 4.0], [38.5, 30.0, 4.0], [32.0, 42.0, 6.0]],
                              [[20.2, 27.7, 3.3], [60.6, 29.1, 4.4], [33.3, 61.0, 7.5]]])
    eye_rois, mouth_rois = [], []
    for b in range(2):
        loc = []
        for part in range(3):
            mean = landmarks[b, part, :2].numpy().astype(np.float64)
            half = float(landmarks[b, part, 2]) * (1.4 if part < 2 else 1.0)
            loc.append(torch.from_numpy(np.hstack((mean - half + 1, mean + half))).float())
        eye_rois.append(torch.cat([torch.full((2, 1), float(b)), torch.stack(loc[:2])], dim=-1))
        mouth_rois.append(torch.cat([torch.full((1, 1), float(b)), loc[2][None]], dim=-1))
    eyes = roi_align(image, boxes=torch.cat(eye_rois), output_size=10)
    mouths = roi_align(image, boxes=torch.cat(mouth_rois), output_size=15)
    grad_eyes = torch.randn(eyes.shape, generator=gen)
    grad_mouths = torch.randn(mouths.shape, generator=gen)
    ((eyes * grad_eyes).sum() + (mouths * grad_mouths).sum()).backward()
    return {"image": image.detach(), "landmarks": landmarks, "eyes": eyes, "mouths": mouths,
            "grad_eyes": grad_eyes, "grad_mouths": grad_mouths, "grad.image": image.grad}


# The narrow face networks as lists of layers: ("conv", name, in, out, k, stride, pad, groups,
# bias, bn, act) with act None, "relu", "relu6" or ("prelu", name); ("bn", name, channels);
# ("linear", name, in, out, bn); ("residual", body, shortcut or None). Mirrored in
# Tests/AVPGANCoreTests/FaceNetworkBackwardTests.swift.
MOBILE = [
    ("conv", "conv1.0", 3, 8, 3, 2, 1, 1, False, "conv1.1", "relu6"),
    ("conv", "dw.depthwise", 8, 8, 3, 1, 1, 8, False, "dw.bn1", "relu"),
    ("residual", [("conv", "f.0", 8, 16, 1, 1, 0, 1, False, "f.0bn", "relu6"),
                  ("conv", "f.1", 16, 16, 3, 1, 1, 16, False, "f.1bn", "relu6"),
                  ("conv", "f.2", 16, 8, 1, 1, 0, 1, False, "f.3", None)], None),
    ("conv", "conv2.0", 8, 16, 1, 1, 0, 1, False, "conv2.1", "relu6"),
    ("conv", "gdconv.depthwise", 16, 16, 8, 1, 0, 16, False, "gdconv.bn", None),
    ("conv", "conv3", 16, 6, 1, 1, 0, 1, True, "bn", None),
]
IRESNET = [
    ("conv", "conv1", 3, 4, 3, 1, 1, 1, False, "bn1", ("prelu", "prelu")),
    ("residual", [("bn", "layer1.0.bn1", 4),
                  ("conv", "layer1.0.conv1", 4, 6, 3, 1, 1, 1, False, "layer1.0.bn2", ("prelu", "layer1.0.prelu")),
                  ("conv", "layer1.0.conv2", 6, 6, 3, 2, 1, 1, False, "layer1.0.bn3", None)],
     ("conv", "layer1.0.downsample.0", 4, 6, 1, 2, 0, 1, False, "layer1.0.downsample.1", None)),
    ("residual", [("bn", "layer1.1.bn1", 6),
                  ("conv", "layer1.1.conv1", 6, 6, 3, 1, 1, 1, False, "layer1.1.bn2", ("prelu", "layer1.1.prelu")),
                  ("conv", "layer1.1.conv2", 6, 6, 3, 1, 1, 1, False, "layer1.1.bn3", None)], None),
    ("bn", "bn2", 6),
    ("linear", "fc", 6 * 8 * 8, 6, "features"),
]


def face_params(spec, gen, out):
    import torch

    def bn(name, c):
        out[f"{name}.weight"] = 1 + 0.2 * torch.randn(c, generator=gen)
        out[f"{name}.bias"] = 0.2 * torch.randn(c, generator=gen)
        out[f"{name}.running_mean"] = 0.2 * torch.randn(c, generator=gen)
        out[f"{name}.running_var"] = 0.5 + torch.rand(c, generator=gen)
    for layer in spec:
        kind = layer[0]
        if kind == "conv":
            _, name, cin, cout, k, _, _, groups, bias, bn_name, act = layer
            fan_in = cin // groups * k * k
            out[f"{name}.weight"] = torch.randn(cout, cin // groups, k, k, generator=gen) * (2.0 / fan_in) ** 0.5
            if bias:
                out[f"{name}.bias"] = 0.1 * torch.randn(cout, generator=gen)
            bn(bn_name, cout)
            if isinstance(act, tuple):
                out[f"{act[1]}.weight"] = 0.25 + 0.1 * torch.randn(cout, generator=gen)
        elif kind == "bn":
            bn(layer[1], layer[2])
        elif kind == "linear":
            _, name, fin, fout, bn_name = layer
            out[f"{name}.weight"] = torch.randn(fout, fin, generator=gen) * (1.0 / fin) ** 0.5
            out[f"{name}.bias"] = 0.1 * torch.randn(fout, generator=gen)
            bn(bn_name, fout)
        else:
            face_params(layer[1], gen, out)
            if layer[2] is not None:
                face_params([layer[2]], gen, out)
    return out


def face_forward(spec, p, x):
    """The network in eval mode, with torch's functional ops (autograd records it)."""
    import torch.nn.functional as F

    def bn(name, y):
        return F.batch_norm(y, p[f"{name}.running_mean"], p[f"{name}.running_var"], p[f"{name}.weight"],
                            p[f"{name}.bias"], training=False, eps=1e-5)
    for layer in spec:
        kind = layer[0]
        if kind == "conv":
            _, name, _, _, _, stride, pad, groups, bias, bn_name, act = layer
            x = F.conv2d(x, p[f"{name}.weight"], p.get(f"{name}.bias") if bias else None, stride, pad, 1, groups)
            x = bn(bn_name, x)
            if act == "relu":
                x = F.relu(x)
            elif act == "relu6":
                x = F.relu6(x)
            elif isinstance(act, tuple):
                x = F.prelu(x, p[f"{act[1]}.weight"])
        elif kind == "bn":
            x = bn(layer[1], x)
        elif kind == "linear":
            _, name, _, _, bn_name = layer
            x = F.linear(x.flatten(1), p[f"{name}.weight"], p[f"{name}.bias"])
            x = F.batch_norm(x, p[f"{bn_name}.running_mean"], p[f"{bn_name}.running_var"], p[f"{bn_name}.weight"],
                             p[f"{bn_name}.bias"], training=False, eps=1e-5)
        else:
            body = face_forward(layer[1], p, x)
            side = face_forward([layer[2]], p, x) if layer[2] is not None else x
            x = body + side
    return x


def identity_case(basic_loss, spec, gen):
    import torch
    import torch.nn.functional as F
    params = face_params(spec, gen, {})
    truth = torch.rand(2, 3, 20, 20, generator=gen) * 2 - 1
    output = (truth + 0.4 * torch.randn(2, 3, 20, 20, generator=gen)).clamp(-1, 1).requires_grad_(True)

    def embed(images):
        x = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
        return face_forward(spec, params, ((x + 1) * 127.5 - 127.5) / 128).flatten(1)
    target = embed(truth).detach()
    embedding = embed(output)
    loss = basic_loss.L1Loss(loss_weight=1.0)(embedding, target) * 10
    loss.backward()
    return params, {"output": output.detach(), "truth": truth, "embedding": embedding.detach(),
                    "loss": loss.detach().reshape(1), "grad.output": output.grad}


def adversarial_case(basic_loss, gen):
    import torch
    from basicsr.losses.gan_loss import GANLoss
    logits = torch.cat([3 * torch.randn(9, generator=gen), torch.tensor([25.0, -25.0, 20.5])])
    out = {"logits": logits}
    for kind in ("wgan_softplus", "vanilla"):
        loss_fn = GANLoss(kind, real_label_val=1.0, fake_label_val=0.0, loss_weight=0.1)
        for real in (True, False):
            for role, is_disc in (("generator", False), ("discriminator", True)):
                x = logits.clone().requires_grad_(True)
                value = loss_fn(x, real, is_disc=is_disc)
                value.backward()
                name = f"{kind}.{'real' if real else 'fake'}.{role}"
                out[name] = value.detach().reshape(1)
                out[f"grad.{name}"] = x.grad
    return out


def component_style_case(basic_loss, gen):
    import torch
    from gfpgan.models.gfpgan_model import GFPGANModel
    gram = lambda x: GFPGANModel._gram_mat(None, x)  # noqa: E731 (the method does not use self)
    l1 = basic_loss.L1Loss(loss_weight=1.0)
    shapes = [(2, 4, 6, 6), (2, 8, 3, 3)]
    out = {}
    feats = []
    for k in range(3):
        pair = []
        for s, shape in enumerate(shapes):
            f = torch.randn(shape, generator=gen).requires_grad_(True)
            g = torch.randn(shape, generator=gen)
            out[f"gt.{k}.{s}"] = g
            pair.append((f, g))
        feats.append(pair)
    # GFPGANModel.optimize_parameters: half the first scale's Gram distance plus the second's,
    # summed over the components, times comp_style_weight.
    loss = 0
    for pair in feats:
        loss = loss + l1(gram(pair[0][0]), gram(pair[0][1].detach())) * 0.5 + l1(gram(pair[1][0]), gram(pair[1][1].detach()))
    loss = loss * 200
    loss.backward()
    for k, pair in enumerate(feats):
        for s, (f, _) in enumerate(pair):
            out[f"out.{k}.{s}"] = f.detach()
            out[f"grad.out.{k}.{s}"] = f.grad
    out["loss"] = loss.detach().reshape(1)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "enhancer-losses"))
    a = p.parse_args()
    import torch
    torch.use_deterministic_algorithms(True)
    os.makedirs(a.out, exist_ok=True)
    vgg_arch, basic_loss = import_basicsr()

    def save(name, tensors, metadata=None):
        arrays = {k: v.detach().numpy().astype(np.float32) for k, v in tensors.items()}
        safetensors_io.write(os.path.join(a.out, name), arrays, metadata)

    save("l1.safetensors", l1_case(basic_loss, torch.Generator().manual_seed(17)))
    model = narrow_vgg19(32, torch.Generator().manual_seed(19))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    convert_vgg.write(os.path.join(a.out, "vgg19-w32.safetensors"), state, "make_enhancer_loss_fixtures.py")
    save("perceptual.safetensors", perceptual_case(vgg_arch, basic_loss, model, torch.Generator().manual_seed(23)))
    save("components.safetensors", components_case(torch.Generator().manual_seed(29)))
    save("adversarial.safetensors", adversarial_case(basic_loss, torch.Generator().manual_seed(41)))
    save("component-style.safetensors", component_style_case(basic_loss, torch.Generator().manual_seed(43)))
    for name, spec, seed in (("mobile", MOBILE, 31), ("iresnet", IRESNET, 37)):
        params, arrays = identity_case(basic_loss, spec, torch.Generator().manual_seed(seed))
        save(f"face-{name}.safetensors", params)
        save(f"identity-{name}.safetensors", arrays)
    for f in sorted(os.listdir(a.out)):
        print(f, os.path.getsize(os.path.join(a.out, f)))


if __name__ == "__main__":
    main()

"""PyTorch definitions of the face-recognition networks of docs/face-model-format.md.

For fixtures, parity checks and benchmarks only (libavpgan itself has no torch dependency).
Written from the spec's tables: state_dict() keys are exactly the spec's tensor names plus
the BatchNorms' num_batches_tracked.

    MobileFaceNet(embed_dim=128)
    IResNet(blocks, embed_dim=512); iresnet18() ... iresnet200()
    build(arch, embed_dim=None, folded=False)       a network of the spec's arch name
    load_face_model(path) -> (network, config)      a face model file as an eval-mode network

With folded=True every BatchNorm that the "folded" layout folds into its convolution or
linear layer is an nn.Identity and that layer has a bias, so a "folded" file loads with
strict=True. All BatchNorms use eps = 1e-5 unless `eps` is given.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import face_model_file as fmf  # noqa: E402

__all__ = ["MobileFaceNet", "IResNet", "iresnet18", "iresnet34", "iresnet50", "iresnet100", "iresnet200",
           "build", "load_face_model"]


def _bn(c, folded, eps):
    return nn.Identity() if folded else nn.BatchNorm2d(c, eps=eps)


def _conv_bn(cin, cout, k, stride, pad, groups, folded, eps, act):
    """nn.Sequential(conv, BN[, act]): keys '0.weight', '1.*' (conv.0/conv.1 in the spec's names)."""
    mods = [nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=folded), _bn(cout, folded, eps)]
    if act is not None:
        mods.append(act)
    return nn.Sequential(*mods)


class _DepthwisePointwise(nn.Module):
    """MobileFaceNet's dw_conv: depthwise 3x3 + bn1 + ReLU, pointwise 1x1 + bn2 + ReLU."""

    def __init__(self, c, folded, eps):
        super().__init__()
        self.depthwise = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=folded)
        self.pointwise = nn.Conv2d(c, c, 1, bias=folded)
        self.bn1 = _bn(c, folded, eps)
        self.bn2 = _bn(c, folded, eps)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.bn1(self.depthwise(x)))
        return self.relu(self.bn2(self.pointwise(x)))


class _GlobalDepthwise(nn.Module):
    """MobileFaceNet's gdconv: a 7x7 depthwise convolution without padding, then bn."""

    def __init__(self, c, folded, eps):
        super().__init__()
        self.depthwise = nn.Conv2d(c, c, 7, groups=c, bias=folded)
        self.bn = _bn(c, folded, eps)

    def forward(self, x):
        return self.bn(self.depthwise(x))


class _InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t, folded, eps):
        super().__init__()
        h = cin * t
        self.residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            _conv_bn(cin, h, 1, 1, 0, 1, folded, eps, nn.ReLU6()),
            _conv_bn(h, h, 3, stride, 1, h, folded, eps, nn.ReLU6()),
            nn.Conv2d(h, cout, 1, bias=folded),
            _bn(cout, folded, eps))

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.residual else y


class MobileFaceNet(nn.Module):
    """MobileFaceNet as the spec's table: output [N, embed_dim] (the [E, 1, 1] map flattened)."""

    def __init__(self, embed_dim=128, folded=False, eps=fmf.DEFAULT_EPS):
        super().__init__()
        self.conv1 = _conv_bn(3, 64, 3, 2, 1, 1, folded, eps, nn.ReLU6())
        self.dw_conv = _DepthwisePointwise(64, folded, eps)
        blocks, c = [], 64
        for t, o, n, s in fmf.MOBILEFACENET_STAGES:
            for r in range(n):
                blocks.append(_InvertedResidual(c, o, s if r == 0 else 1, t, folded, eps))
                c = o
        self.features = nn.Sequential(*blocks)
        self.conv2 = _conv_bn(c, 512, 1, 1, 0, 1, folded, eps, nn.ReLU6())
        self.gdconv = _GlobalDepthwise(512, folded, eps)
        self.conv3 = nn.Conv2d(512, embed_dim, 1, bias=True)
        self.bn = _bn(embed_dim, folded, eps)

    def forward(self, x):
        x = self.dw_conv(self.conv1(x))
        x = self.conv2(self.features(x))
        x = self.bn(self.conv3(self.gdconv(x)))
        return x.flatten(1)


class _IBasicBlock(nn.Module):
    def __init__(self, cin, width, stride, folded, eps):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, width, 3, 1, 1, bias=folded)
        self.bn2 = _bn(width, folded, eps)
        self.prelu = nn.PReLU(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=folded)
        self.bn3 = _bn(width, folded, eps)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=folded), _bn(width, folded, eps))

    def forward(self, x):
        y = self.prelu(self.bn2(self.conv1(self.bn1(x))))
        y = self.bn3(self.conv2(y))
        return y + (x if self.downsample is None else self.downsample(x))


class IResNet(nn.Module):
    """insightface-style IResNet with blocks per stage `blocks`: output [N, embed_dim]."""

    def __init__(self, blocks, embed_dim=512, folded=False, eps=fmf.DEFAULT_EPS):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=folded)
        self.bn1 = _bn(64, folded, eps)
        self.prelu = nn.PReLU(64)
        c = 64
        for s, (n, w) in enumerate(zip(blocks, fmf.IRESNET_WIDTHS), start=1):
            setattr(self, f"layer{s}", nn.Sequential(*[_IBasicBlock(c if j == 0 else w, w, 2 if j == 0 else 1,
                                                                    folded, eps) for j in range(n)]))
            c = w
        self.bn2 = nn.BatchNorm2d(c, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(c * 7 * 7, embed_dim)
        self.features = nn.Identity() if folded else nn.BatchNorm1d(embed_dim, eps=eps)

    def forward(self, x):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn2(x).flatten(1))
        return self.features(self.fc(x))


def iresnet18(**kw):
    return IResNet(fmf.IRESNET_BLOCKS["iresnet18"], **kw)


def iresnet34(**kw):
    return IResNet(fmf.IRESNET_BLOCKS["iresnet34"], **kw)


def iresnet50(**kw):
    return IResNet(fmf.IRESNET_BLOCKS["iresnet50"], **kw)


def iresnet100(**kw):
    return IResNet(fmf.IRESNET_BLOCKS["iresnet100"], **kw)


def iresnet200(**kw):
    return IResNet(fmf.IRESNET_BLOCKS["iresnet200"], **kw)


def build(arch, embed_dim=None, folded=False, eps=fmf.DEFAULT_EPS):
    """An untrained network of `arch` (a spec arch name)."""
    e = fmf.default_embed_dim(arch) if embed_dim is None else embed_dim
    if arch == "mobilefacenet":
        return MobileFaceNet(e, folded=folded, eps=eps)
    return IResNet(fmf.IRESNET_BLOCKS[arch], e, folded=folded, eps=eps)


def load_face_model(path):
    """A face model file as an eval-mode network (strict load); returns (network, config dict)."""
    import numpy as np

    import safetensors_io
    tensors, meta = safetensors_io.read(path)
    config = json.loads(meta["avpgan.config"])
    net = build(meta["avpgan.arch"], config["embed_dim"], folded=config["batch_norm"] == "folded",
                eps=config.get("batch_norm_eps", fmf.DEFAULT_EPS))
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}
    for k, v in net.state_dict().items():  # num_batches_tracked is not in the file
        if k.endswith("num_batches_tracked"):
            state[k] = v
    net.load_state_dict(state, strict=True)
    return net.eval(), config

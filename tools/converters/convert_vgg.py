#!/usr/bin/env python3
"""Converts torchvision's VGG-19 weights into the perceptual-loss network file libavpgan reads.

    python3 tools/converters/convert_vgg.py vgg19-dcbb9e9d.pth -o vgg19.safetensors

The input is a torch.save state dict of torchvision's `vgg19` (the file torchvision downloads,
or basicsr's experiments/pretrained_models/vgg19-dcbb9e9d.pth), read without torch and without
running code from the file (tools/converters/convert_face.py's restricted reader). Only the 16
convolutions of `features` are kept (`features.N.weight` [out, in, 3, 3] and
`features.N.bias` [out], N = 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34, the
indices torchvision's layout gives them); `classifier.*` is dropped. Widths are read from the
shapes, so a narrow VGG-19 with the same layout (the tests' random ones) converts too.

Checks: every one of the 16 convolutions present, 3x3, the first reading 3 channels and each
reading the previous one's output, one bias per output channel, finite values; a VGG-19 with
BatchNorm (vgg19_bn) or any other network is refused. Output: float32 safetensors with
metadata avpgan.format "1", avpgan.arch "vgg19-features", avpgan.source (the input's name).

On success one line (widths, parameter count, output); on any problem one line to stderr and
exit status 2. Needs numpy only.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import safetensors_io  # noqa: E402
from conversion_error import ConversionError, report  # noqa: E402

PROG = "convert_vgg.py"
ARCH = "vgg19-features"
# torchvision's vgg19 "E" configuration: output channels, "M" a 2x2 max-pool.
CONFIG_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def conv_indices():
    """The `features` indices of the 16 convolutions (each followed by a ReLU, pools between)."""
    out, i = [], 0
    for v in CONFIG_E:
        if v == "M":
            i += 1
        else:
            out.append(i)
            i += 2
    return out


def convert_state_dict(state):
    """{name: float32 array} of the 16 convolutions of a torchvision VGG-19 state dict
    ({key: array}), checked as the module docstring says."""
    if any(".running_mean" in k for k in state):
        raise ConversionError("the state dict has BatchNorm statistics (vgg19_bn?); the perceptual loss uses plain vgg19")
    out, previous = {}, 3
    for n in conv_indices():
        w_name, b_name = f"features.{n}.weight", f"features.{n}.bias"
        for name in (w_name, b_name):
            if name not in state:
                raise ConversionError(f"{name} is missing: not a torchvision vgg19 state dict")
        w = np.asarray(state[w_name])
        b = np.asarray(state[b_name])
        if w.ndim != 4 or w.shape[2:] != (3, 3) or w.shape[1] != previous:
            raise ConversionError(f"{w_name} has shape {list(w.shape)}, expected [out, {previous}, 3, 3]")
        if b.shape != (w.shape[0],):
            raise ConversionError(f"{b_name} has shape {list(b.shape)}, expected [{w.shape[0]}]")
        for name, a in ((w_name, w), (b_name, b)):
            if a.dtype.kind != "f":
                raise ConversionError(f"{name} has dtype {a.dtype}, expected floating point")
            if not np.isfinite(a).all():
                raise ConversionError(f"{name} has non-finite values")
        out[w_name] = np.ascontiguousarray(w, dtype=np.float32)
        out[b_name] = np.ascontiguousarray(b, dtype=np.float32)
        previous = w.shape[0]
    extra = [k for k in state if k.startswith("features.") and k not in out]
    if extra:
        raise ConversionError(f"{extra[0]} is not a tensor of torchvision's vgg19 features")
    return out


def write(path, state, source):
    """Writes the converted file; returns (widths of the five stages, parameter count)."""
    tensors = convert_state_dict(state)
    safetensors_io.write(path, tensors, safetensors_io.avpgan_metadata(ARCH, source=source))
    widths = [tensors[f"features.{n}.weight"].shape[0] for n in (2, 7, 16, 25, 34)]  # last conv of each stage
    return widths, sum(int(a.size) for a in tensors.values())


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("input", metavar="VGG19.pth", help="torchvision vgg19 state dict (torch.save file)")
    p.add_argument("-o", "--output", required=True, metavar="VGG.safetensors")
    a = p.parse_args(argv)
    try:
        import convert_face
        with open(a.input, "rb") as f:
            state = convert_face.read_torch_state_dict(f.read())
        widths, n = write(a.output, state, os.path.basename(a.input))
    except Exception as e:
        return report(PROG, e, own=(Exception,))  # every failure in its own words
    print(f"vgg19 features, widths {widths}, {n} parameters -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

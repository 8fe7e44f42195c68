#!/usr/bin/env python3
"""Converts face-recognition weights (ONNX or a PyTorch state_dict) to a libavpgan face model file.

    python3 tools/converters/convert_face.py --onnx FILE [--arch ARCH] [--input-mean M] [--input-std S] \\
        [--channel-order rgb|bgr] -o face.safetensors
    python3 tools/converters/convert_face.py --torch FILE --arch ARCH [--fold] [--bn-eps EPS] \\
        [--input-mean M] [--input-std S] [--channel-order rgb|bgr] -o face.safetensors

ARCH: mobilefacenet, iresnet18, iresnet34, iresnet50, iresnet100 or iresnet200. The output
follows docs/face-model-format.md (tools/converters/face_model_file.py). Needs numpy only: no torch,
no onnx package.

ONNX: the graph is read with a small protobuf reader; its parameter-carrying nodes (Conv,
BatchNormalization, PRelu, Gemm, MatMul + Add) are matched in graph order against the
architecture's layers (detected from the number of layers when --arch is not given). Kinds,
shapes, groups, kernel sizes, strides, paddings and the activation after each layer are
checked. A BatchNormalization reading a Conv or linear layer's output is folded into it, a
Conv without one is taken as already folded, and the standalone BatchNorms (IResNet) are
kept, so the output always has batch_norm "folded". A leading Sub/Add/Mul/Div of the input by
a constant is absorbed into input_mean / input_std (the graph then takes 0..255 pixels);
otherwise they are the arch's defaults (mobilefacenet 127.5 / 128, iresnet 127.5 / 127.5)
unless --input-mean / --input-std say what the graph's input expects.

PyTorch (.pt/.pth, legacy torch.save format or zip format): read without torch, by an
unpickler that accepts only what a state dict needs (OrderedDict, tensor rebuilding, the
storage types) and rejects any other global, so no code from the file is run. The file holds
a state dict, or a dict with 'state_dict', 'model_state_dict' or 'model'; a leading 'module.'
is stripped and num_batches_tracked dropped. Output: batch_norm "stored", or with --fold the
BatchNorms folded (eps --bn-eps, default 1e-5: the state dict does not record it).

On success one line: arch, embed_dim, parameter count, batch_norm, output path. On any
problem one line to stderr and exit status 2.
"""
import argparse
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import face_model_file as fmf  # noqa: E402
from conversion_error import ConversionError, report  # noqa: E402
from face_onnx import _detect_arch, onnx_tensors  # noqa: E402,F401 - _detect_arch for the tests
from onnx_reader import read_onnx  # noqa: E402,F401 - part of what this module offers
# The PyTorch reader; convert_gfpgan.py reads GFPGAN checkpoints through these names.
from torch_checkpoint import _read_legacy, _read_zip, _tensor_array, _TensorRef, read_torch_state_dict  # noqa: E402,F401

PROG = "convert_face.py"


# ===========================================================================
# PyTorch state dict -> face model tensors

def torch_tensors(blob, arch, fold=False, eps=fmf.DEFAULT_EPS):
    """Converts a PyTorch state dict (bytes). Returns (tensors, batch_norm)."""
    sd = {k: v for k, v in read_torch_state_dict(blob).items() if not k.endswith(".num_batches_tracked")}
    names = {n for n, _ in fmf.layout(arch, "stored", fmf.infer_embed_dim(arch, sd))}
    for k, v in sd.items():
        if k in names and v.dtype.kind != "f":
            raise ConversionError(f"tensor {k!r} has dtype {v.dtype}, expected floating point")
    try:
        embed_dim = fmf.infer_embed_dim(arch, sd)
        fmf.check_tensors(arch, sd, "stored", embed_dim)
    except fmf.FaceModelError as e:
        if fold is False and _looks_folded(arch, sd):
            raise ConversionError(f"{e} (the state dict looks BatchNorm-folded, which the PyTorch path "
                                  "does not read)") from None
        raise ConversionError(str(e)) from None
    if fold:
        return fmf.fold_state_dict(arch, sd, eps, embed_dim), "folded"
    return sd, "stored"


def _looks_folded(arch, sd):
    try:
        fmf.check_tensors(arch, sd, "folded")
        return True
    except fmf.FaceModelError:
        return False


# ===========================================================================
# Command line

def convert(output, onnx=None, torch=None, arch=None, fold=False, bn_eps=fmf.DEFAULT_EPS, input_mean=None,
            input_std=None, channel_order="rgb"):
    """Converts one input file; returns (arch, config, number of scalars)."""
    path = onnx or torch
    outdir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(outdir):
        raise ConversionError(f"output directory {outdir} does not exist")
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as e:
        raise ConversionError(f"{path}: {e.strerror or e}") from None
    digest = hashlib.sha256(blob).hexdigest()
    try:
        if onnx is not None:
            arch, tensors, cfg = onnx_tensors(blob, arch, input_mean, input_std)
            batch_norm, eps = "folded", cfg["eps"]
            input_mean, input_std, embed_dim = cfg["input_mean"], cfg["input_std"], cfg["embed_dim"]
            kind = "ONNX"
        else:
            tensors, batch_norm = torch_tensors(blob, arch, fold, bn_eps)
            eps, embed_dim, kind = bn_eps, None, "PyTorch state dict"
    except ConversionError as e:
        raise ConversionError(f"{path}: {e}") from None
    source = f"tools/converters/convert_face.py from {kind} {os.path.basename(path)} (sha256 {digest})"
    config, n = fmf.write_face_model(output, arch, tensors, batch_norm, embed_dim=embed_dim, input_mean=input_mean,
                                     input_std=input_std, channel_order=channel_order, eps=eps, source=source)
    return arch, config, n


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None):
    p = _Parser(prog=PROG, description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--onnx", metavar="FILE", help="an ONNX model (BatchNorm folded or not)")
    src.add_argument("--torch", metavar="FILE", help="a torch.save state dict (.pt/.pth); needs --arch")
    p.add_argument("--arch", choices=fmf.ARCHS, help="the architecture (detected from an ONNX graph when absent)")
    p.add_argument("--fold", action="store_true", help="--torch: fold the BatchNorms (ONNX output is always folded)")
    p.add_argument("--bn-eps", type=float, default=fmf.DEFAULT_EPS,
                   help="--torch: the BatchNorm epsilon of the network (default %(default)s)")
    p.add_argument("--input-mean", type=float, help="pixel mean the network input expects (default: the arch's)")
    p.add_argument("--input-std", type=float, help="pixel std the network input expects (default: the arch's)")
    p.add_argument("--channel-order", choices=("rgb", "bgr"), default="rgb", help="order of the input planes")
    p.add_argument("-o", "--output", required=True, metavar="FACE.safetensors")
    a = p.parse_args(argv)
    if a.torch is not None and a.arch is None:
        p.error("--torch needs --arch (a state dict does not say which network it is)")
    try:
        arch, config, n = convert(a.output, onnx=a.onnx, torch=a.torch, arch=a.arch, fold=a.fold, bn_eps=a.bn_eps,
                                  input_mean=a.input_mean, input_std=a.input_std, channel_order=a.channel_order)
    except Exception as e:
        return report(PROG, e, (ConversionError, fmf.FaceModelError))
    print(f"{arch}, embed_dim {config['embed_dim']}, {n} parameters, batch_norm {config['batch_norm']} -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

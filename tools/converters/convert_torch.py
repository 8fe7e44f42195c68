#!/usr/bin/env python3
"""Converts PyTorch checkpoints of the AVP-GAN / Voice2Face networks to a libavpgan model file.

    python3 tools/converters/convert_torch.py --arch {voice2face,avpgan,avpgan-nocbam} \\
        --voice-encoder e.pth --generator g.pth \\
        [--face-encoder f.pth --discriminator d.pth --classifier c.pth] \\
        [--spectral-norm folded|stored] [--pixels clamp|minmax] -o model.safetensors

Each .pth holds one network of the reference layout (../shared/reference/avpgan_torch.py):
a bare state_dict, a dict with a 'state_dict' or 'model_state_dict' entry, or a
pickled nn.Module; a leading 'module.' (DataParallel) is stripped from the keys.
Public Voice2Face checkpoints (voice_embedding.pth, generator.pth) convert with
--arch voice2face. Files are loaded with torch.load(weights_only=True); only if
that fails is weights_only=False tried, with a warning, since it runs the file's
pickle code (a pickled nn.Module of the reference classes needs --reference).

The output is written as docs/model-format.md specifies (tools/converters/avpgan_model_file.py,
tools/converters/safetensors_io.py); spectrally normalised layers are folded with torch's
own eval-mode arithmetic, so the folded weights equal torch's bit for bit.
On any problem the script prints one line to stderr and exits with status 2.
Needs torch (only this script; the file writer itself is numpy-only).
"""
import argparse
import importlib.util
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import avpgan_model_file as amf  # noqa: E402
from conversion_error import ConversionError, report  # noqa: E402
import safetensors_io  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_REFERENCE = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "reference", "avpgan_torch.py"))
NETWORK_OPTIONS = [("voice_encoder", "--voice-encoder"), ("generator", "--generator"),
                   ("face_encoder", "--face-encoder"), ("discriminator", "--discriminator"),
                   ("classifier", "--classifier")]


def load_reference(path=DEFAULT_REFERENCE):
    """Imports the reference networks (avpgan_torch.py) from `path` as module 'avpgan_torch'."""
    if "avpgan_torch" in sys.modules:
        return sys.modules["avpgan_torch"]
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ConversionError(f"reference networks not found at {path} (use --reference)")
    spec = importlib.util.spec_from_file_location("avpgan_torch", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["avpgan_torch"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["avpgan_torch"]
        raise
    return module


def torch_fold(weight_orig, weight_u, weight_v, dim):
    """The effective weight of a spectrally normalised layer, computed with the very operations of
    torch.nn.utils.spectral_norm in eval mode (SpectralNorm.compute_weight without power iteration)."""
    import torch
    w = torch.from_numpy(np.ascontiguousarray(weight_orig, np.float32))
    u = torch.from_numpy(np.ascontiguousarray(weight_u, np.float32))
    v = torch.from_numpy(np.ascontiguousarray(weight_v, np.float32))
    mat = w
    if dim != 0:
        mat = mat.permute(dim, *[d for d in range(mat.dim()) if d != dim])
    mat = mat.reshape(mat.size(0), -1)
    with torch.no_grad():
        sigma = torch.dot(u, torch.mv(mat, v))
        return (w / sigma).numpy()


def _first_line(e, limit=160):
    """'Type: first sentence of the message', without terminal escapes, at most `limit` characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip()
    text = " ".join(text.split(". ")[0].split()) if text else ""
    text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _torch_load(path, reference):
    import torch
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # not loadable as plain weights: maybe a pickled module
        print(f"convert_torch.py: warning: {path}: torch.load(weights_only=True) failed ({_first_line(e)}); "
              "retrying with weights_only=False, which runs code from the file: use only trusted files",
              file=sys.stderr)
    try:
        load_reference(reference)  # so that pickled reference modules find their classes
    except ConversionError:
        pass
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise ConversionError(f"{path}: cannot load: {_first_line(e)}") from None


def load_state_dict(path, reference=DEFAULT_REFERENCE):
    """One network's state dict from a checkpoint file, as {key: numpy array} (floating tensors as float32)."""
    import torch
    obj = _torch_load(path, reference)
    for _ in range(3):  # unwrap a module or a training checkpoint
        if isinstance(obj, torch.nn.Module):
            obj = obj.state_dict()
        elif isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
            inner = next((obj[k] for k in ("state_dict", "model_state_dict") if k in obj), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: holds a {type(obj).__name__}, not a state dict or nn.Module")
    bad = next((k for k, v in obj.items() if not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise ConversionError(f"{path}: entry {bad!r} is a {type(obj[bad]).__name__}, not a tensor "
                              "(expected a state dict, or a dict with 'state_dict' / 'model_state_dict')")
    if not obj:
        raise ConversionError(f"{path}: the state dict is empty")
    if all(isinstance(k, str) and k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    out = {}
    for k, v in obj.items():
        v = v.detach().cpu()
        out[k] = (v.to(torch.float32) if v.is_floating_point() else v).contiguous().numpy()
    return out


def convert(arch, paths, output, spectral_norm="folded", pixels="clamp", reference=DEFAULT_REFERENCE, source=None,
            training=None):
    """Converts the checkpoints `paths` ({network: .pth path}) to the model file `output`, or,
    with `training` (a seed), to a fresh training checkpoint (spectral norm stored).

    Returns (config dict, number of scalars written). Raises ConversionError,
    amf.ModelFileError or OSError."""
    import json
    import torch
    outdir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(outdir):
        raise ConversionError(f"output directory {outdir} does not exist")
    nets = {net: load_state_dict(p, reference) for net, p in paths.items() if p is not None}
    if source is None:
        files = ", ".join(f"{net}={os.path.basename(p)}" for net, p in paths.items() if p is not None)
        source = f"tools/converters/convert_torch.py (torch {torch.__version__}) from PyTorch checkpoints: {files}"
    tensors, metadata = amf.model_tensors(arch, nets, spectral_norm=spectral_norm, pixels=pixels,
                                          source=source, fold=torch_fold)
    if training is not None:
        tensors, metadata = training_checkpoint(tensors, metadata, seed=training)
    safetensors_io.write(output, tensors, metadata)
    return json.loads(metadata["avpgan.config"]), sum(int(t.size) for t in tensors.values())


TRAINED = ("generator.", "face_encoder.", "discriminator.", "classifier.")


def training_checkpoint(tensors, metadata, seed):
    """A fresh training checkpoint (docs/model-format.md, "Training checkpoints") from the five
    networks: Adam's moments zero for every trained parameter, step 0, the sampler seeded."""
    import json
    import numpy as np
    config = json.loads(metadata["avpgan.config"])
    if config["networks"] != list(amf.NETWORKS):
        raise ConversionError("--training needs all five networks: --face-encoder, --discriminator and --classifier too")
    out = dict(tensors)
    for name, value in tensors.items():
        if name.startswith(TRAINED) and not name.endswith((".weight_u", ".weight_v")):
            out[f"adam.exp_avg.{name}"] = np.zeros_like(value)
            out[f"adam.exp_avg_sq.{name}"] = np.zeros_like(value)
    meta = dict(metadata)
    meta["avpgan.checkpoint"] = json.dumps({"step": 0, "adam_step": 0, "lr": 2e-4, "beta1": 0.5, "beta2": 0.999,
                                            "eps": 1e-8, "rng": str(seed)}, separators=(",", ":"))
    return out, meta


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None):
    p = _Parser(prog="convert_torch.py", description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=list(amf.ARCHS))
    for net, option in NETWORK_OPTIONS:
        p.add_argument(option, dest=net, metavar="PTH", required=net in ("voice_encoder", "generator"),
                       help=f"{net.replace('_', ' ')} checkpoint")
    p.add_argument("--spectral-norm", choices=amf.SPECTRAL_NORM_MODES, default="folded",
                   help="store spectrally normalised layers as their effective weight (folded, default) "
                        "or as weight_orig/weight_u/weight_v (stored); no effect for voice2face")
    p.add_argument("--pixels", choices=amf.PIXEL_MODES, default="clamp", help="default pixel mapping of the model")
    p.add_argument("--training", action="store_true",
                   help="write a training checkpoint (all five networks, spectral norm stored, zero Adam state)")
    p.add_argument("--seed", type=int, default=1, help="with --training: the batch sampler's seed")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.safetensors")
    p.add_argument("--reference", default=DEFAULT_REFERENCE,
                   help="avpgan_torch.py, needed only to unpickle whole nn.Module checkpoints (default: %(default)s)")
    a = p.parse_args(argv)
    try:
        try:
            import torch
        except ImportError:
            raise ConversionError("this script needs torch (pip install torch)") from None
        torch.set_grad_enabled(False)
        paths = {net: getattr(a, net) for net, _ in NETWORK_OPTIONS}
        config, n = convert(a.arch, paths, a.output, "stored" if a.training else a.spectral_norm, a.pixels,
                            a.reference, training=a.seed if a.training else None)
    except Exception as e:
        return report("convert_torch.py", e, (ConversionError, amf.ModelFileError))
    print(f"{a.output}: {amf.describe(a.arch, config, n)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

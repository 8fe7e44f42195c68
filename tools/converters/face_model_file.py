"""The layout of a face model file (docs/face-model-format.md) and its writer, on numpy alone.

    layers(arch, embed_dim)            -> the network's parameter-carrying layers, in forward order
    layout(arch, batch_norm, embed_dim) -> [(tensor name, shape), ...], the order the file uses
    write_face_model(path, arch, tensors, batch_norm, ...)
    fold_state_dict(arch, tensors, eps)  -> the "folded" tensors of a "stored" dict
    random_iresnet_state_dict(arch, seed) -> deterministic random weights for parity tests

Tensor names are the spec's (the PyTorch state_dict keys without num_batches_tracked).
The file lists the tensors in forward order: for each layer of the spec's tables, a
convolution's weight (and bias), then its BatchNorm's weight, bias, running_mean,
running_var ("stored" only); a standalone BatchNorm's four tensors; a PReLU's weight.
Errors are FaceModelError (a ValueError) with a one-line message naming the tensor.
"""
import math

import numpy as np

import safetensors_io

__all__ = [
    "FaceModelError", "ARCHS", "IRESNET_BLOCKS", "BATCH_NORM_MODES", "FORMAT_VERSION", "INPUT_SIZE",
    "default_embed_dim", "default_normalisation", "layers", "layout", "write_face_model", "face_config",
    "fold_batch_norm", "fold_state_dict", "infer_embed_dim", "random_iresnet_state_dict",
]

FORMAT_VERSION = safetensors_io.FORMAT_VERSION
INPUT_SIZE = 112
BATCH_NORM_MODES = ("stored", "folded")
DEFAULT_EPS = 1e-5
IRESNET_BLOCKS = {
    "iresnet18": (2, 2, 2, 2),
    "iresnet34": (3, 4, 6, 3),
    "iresnet50": (3, 4, 14, 3),
    "iresnet100": (3, 13, 30, 3),
    "iresnet200": (6, 26, 60, 6),
}
ARCHS = ("mobilefacenet",) + tuple(IRESNET_BLOCKS)
IRESNET_WIDTHS = (64, 128, 256, 512)
# MobileFaceNet's inverted-residual stages: (expansion t, output channels, repeats, first stride)
MOBILEFACENET_STAGES = ((2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1))
BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var")


class FaceModelError(ValueError):
    """Tensors or settings that do not form a face model of the requested architecture."""


def _check_arch(arch):
    if arch not in ARCHS:
        raise FaceModelError(f"unknown face architecture {arch!r} (known: {', '.join(ARCHS)})")


def default_embed_dim(arch):
    _check_arch(arch)
    return 128 if arch == "mobilefacenet" else 512


def default_normalisation(arch):
    """(input_mean, input_std) of the public weights of `arch`."""
    _check_arch(arch)
    return (127.5, 128.0) if arch == "mobilefacenet" else (127.5, 127.5)


# ---------------------------------------------------------------------------
# Layers, forward order. Each is a dict:
#   conv:   name, bn (name of the BatchNorm folded into it, or None), cin, cout, k, stride, pad,
#           groups, bias (has a bias of its own), act ("relu6", "relu", "prelu" or None: what follows)
#   bn:     name, channels (a standalone BatchNorm)
#   prelu:  name, channels
#   linear: name, bn, cin, cout (always with a bias)
# "act" is informative (the ONNX converter checks it); a PReLU is a layer of its own.


def _conv(name, bn, cin, cout, k, stride=1, pad=0, groups=1, bias=False, act=None):
    return {"kind": "conv", "name": name, "bn": bn, "cin": cin, "cout": cout, "k": k, "stride": stride,
            "pad": pad, "groups": groups, "bias": bias, "act": act}


def _mobilefacenet_layers(e):
    out = [_conv("conv1.0", "conv1.1", 3, 64, 3, stride=2, pad=1, act="relu6"),
           _conv("dw_conv.depthwise", "dw_conv.bn1", 64, 64, 3, pad=1, groups=64, act="relu"),
           _conv("dw_conv.pointwise", "dw_conv.bn2", 64, 64, 1, act="relu")]
    c, i = 64, 0
    for t, o, n, s in MOBILEFACENET_STAGES:
        for r in range(n):
            p, h = f"features.{i}.conv", c * t
            out += [_conv(f"{p}.0.0", f"{p}.0.1", c, h, 1, act="relu6"),
                    _conv(f"{p}.1.0", f"{p}.1.1", h, h, 3, stride=s if r == 0 else 1, pad=1, groups=h, act="relu6"),
                    _conv(f"{p}.2", f"{p}.3", h, o, 1)]
            c, i = o, i + 1
    out += [_conv("conv2.0", "conv2.1", c, 512, 1, act="relu6"),
            _conv("gdconv.depthwise", "gdconv.bn", 512, 512, 7, groups=512),
            _conv("conv3", "bn", 512, e, 1, bias=True)]
    return out


def _iresnet_layers(blocks, e):
    out = [_conv("conv1", "bn1", 3, 64, 3, pad=1, act="prelu"), {"kind": "prelu", "name": "prelu", "channels": 64}]
    c = 64
    for s, (n, w) in enumerate(zip(blocks, IRESNET_WIDTHS), start=1):
        for j in range(n):
            p = f"layer{s}.{j}"
            out += [{"kind": "bn", "name": f"{p}.bn1", "channels": c},
                    _conv(f"{p}.conv1", f"{p}.bn2", c, w, 3, pad=1, act="prelu"),
                    {"kind": "prelu", "name": f"{p}.prelu", "channels": w},
                    _conv(f"{p}.conv2", f"{p}.bn3", w, w, 3, stride=2 if j == 0 else 1, pad=1)]
            if j == 0:
                out.append(_conv(f"{p}.downsample.0", f"{p}.downsample.1", c, w, 1, stride=2))
            c = w
    out += [{"kind": "bn", "name": "bn2", "channels": c},
            {"kind": "linear", "name": "fc", "bn": "features", "cin": c * 7 * 7, "cout": e}]
    return out


def layers(arch, embed_dim=None):
    """The parameter-carrying layers of `arch`, in forward order (see the comment above)."""
    _check_arch(arch)
    e = default_embed_dim(arch) if embed_dim is None else int(embed_dim)
    if e < 1:
        raise FaceModelError(f"embed_dim must be positive, got {embed_dim}")
    if arch == "mobilefacenet":
        return _mobilefacenet_layers(e)
    return _iresnet_layers(IRESNET_BLOCKS[arch], e)


def _weight_shape(layer):
    if layer["kind"] == "linear":
        return (layer["cout"], layer["cin"])
    return (layer["cout"], layer["cin"] // layer["groups"], layer["k"], layer["k"])


def _bn_entries(name, c):
    return [(f"{name}.{s}", (c,)) for s in BN_SUFFIXES]


def layout(arch, batch_norm, embed_dim=None):
    """[(name, shape), ...]: every tensor of a face model file of `arch`, in file order."""
    if batch_norm not in BATCH_NORM_MODES:
        raise FaceModelError(f"batch_norm must be one of {BATCH_NORM_MODES}, got {batch_norm!r}")
    out = []
    for layer in layers(arch, embed_dim):
        kind, name = layer["kind"], layer["name"]
        if kind == "bn":
            out += _bn_entries(name, layer["channels"])
        elif kind == "prelu":
            out.append((f"{name}.weight", (layer["channels"],)))
        else:
            cout = layer["cout"]
            out.append((f"{name}.weight", _weight_shape(layer)))
            has_bias = kind == "linear" or layer["bias"] or (batch_norm == "folded" and layer["bn"])
            if has_bias:
                out.append((f"{name}.bias", (cout,)))
            if batch_norm == "stored" and layer["bn"]:
                out += _bn_entries(layer["bn"], cout)
    return out


def infer_embed_dim(arch, tensors):
    """The embedding size implied by the final layer's weight in `tensors`, else the arch default."""
    _check_arch(arch)
    key = "conv3.weight" if arch == "mobilefacenet" else "fc.weight"
    w = tensors.get(key)
    if w is not None and np.ndim(w) >= 1 and np.shape(w)[0] >= 1:
        return int(np.shape(w)[0])
    return default_embed_dim(arch)


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def check_tensors(arch, tensors, batch_norm, embed_dim=None):
    """Checks that `tensors` has exactly the names and shapes of layout(); returns that layout."""
    if embed_dim is None:
        embed_dim = infer_embed_dim(arch, tensors)
    expected = layout(arch, batch_norm, embed_dim)
    names = {n for n, _ in expected}
    missing = [n for n, _ in expected if n not in tensors]
    unexpected = [n for n in tensors if n not in names]
    if missing or unexpected:
        parts = []
        if missing:
            shape = dict(expected)[missing[0]]
            parts.append(f"missing tensor {missing[0]!r} {_shape_text(shape)}"
                         + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
        if unexpected:
            parts.append(f"unexpected tensor {unexpected[0]!r}"
                         + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""))
        raise FaceModelError(f"the tensors are not those of {arch} (batch_norm {batch_norm!r}): "
                             + "; ".join(parts))
    for name, shape in expected:
        got = tuple(int(d) for d in np.shape(tensors[name]))
        if got != tuple(shape):
            raise FaceModelError(f"{arch}: tensor {name!r} has shape {_shape_text(got)}, expected {_shape_text(shape)}")
    return expected


def _number(x, what):
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise FaceModelError(f"{what} must be a number, got {x!r}") from None
    if not math.isfinite(v):
        raise FaceModelError(f"{what} must be finite, got {x!r}")
    return v


def face_config(arch, embed_dim, batch_norm, input_mean=None, input_std=None, channel_order="rgb", eps=DEFAULT_EPS):
    """The avpgan.config object (a dict, in the spec's field order), with the settings checked."""
    dmean, dstd = default_normalisation(arch)
    mean = _number(dmean if input_mean is None else input_mean, "input_mean")
    std = _number(dstd if input_std is None else input_std, "input_std")
    if std == 0:
        raise FaceModelError("input_std must not be 0")
    if channel_order not in ("rgb", "bgr"):
        raise FaceModelError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if batch_norm not in BATCH_NORM_MODES:
        raise FaceModelError(f"batch_norm must be one of {BATCH_NORM_MODES}, got {batch_norm!r}")
    eps = _number(eps, "batch_norm_eps")
    if eps <= 0:
        raise FaceModelError(f"batch_norm_eps must be positive, got {eps}")
    return {"kind": "face", "input_size": INPUT_SIZE, "embed_dim": int(embed_dim), "input_mean": mean,
            "input_std": std, "channel_order": channel_order, "batch_norm": batch_norm, "batch_norm_eps": eps}


def write_face_model(path, arch, tensors, batch_norm, embed_dim=None, input_mean=None, input_std=None,
                     channel_order="rgb", eps=DEFAULT_EPS, source=None):
    """Writes a face model file. `tensors` maps the spec's names to arrays (num_batches_tracked
    entries are ignored); the set of names and every shape must be exactly the layout's.
    input_mean / input_std default to the arch's (mobilefacenet 127.5 / 128, iresnet 127.5 / 127.5).
    Returns (config dict, number of scalars written). Raises FaceModelError."""
    _check_arch(arch)
    tensors = {k: v for k, v in tensors.items() if not k.endswith(".num_batches_tracked")}
    if embed_dim is None:
        embed_dim = infer_embed_dim(arch, tensors)
    expected = check_tensors(arch, tensors, batch_norm, embed_dim)
    config = face_config(arch, embed_dim, batch_norm, input_mean, input_std, channel_order, eps)
    out = {}
    for name, _ in expected:
        a = np.asarray(tensors[name])
        if a.dtype.kind not in "fiu":
            raise FaceModelError(f"tensor {name!r} has dtype {a.dtype}, expected a floating-point array")
        a = np.ascontiguousarray(a, dtype=np.float32)
        if not np.isfinite(a).all():
            raise FaceModelError(f"tensor {name!r} has non-finite values")
        out[name] = a
    safetensors_io.write(path, out, safetensors_io.avpgan_metadata(arch, config, source))
    return config, sum(int(a.size) for a in out.values())


# ---------------------------------------------------------------------------
# BatchNorm folding


def fold_batch_norm(weight, bias, gamma, beta, mean, var, eps=DEFAULT_EPS):
    """(weight', bias') of a layer followed by an eval-mode BatchNorm, as float32.

    weight's dimension 0 is the output channel (conv [out, in/g, k, k], linear [out, in]);
    bias may be None (zero). scale = gamma / sqrt(var + eps); weight' = weight * scale;
    bias' = (bias - mean) * scale + beta; computed in float64."""
    w = np.asarray(weight, dtype=np.float64)
    c = w.shape[0]
    vecs = [np.asarray(v, dtype=np.float64).reshape(-1) for v in (gamma, beta, mean, var)]
    b = np.zeros(c) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    for v, what in zip(vecs + [b], ("gamma", "beta", "mean", "var", "bias")):
        if v.shape != (c,):
            raise FaceModelError(f"fold_batch_norm: {what} has {v.size} values for {c} output channels")
    gamma, beta, mean, var = vecs
    if eps <= 0 or (var + eps <= 0).any():
        raise FaceModelError("fold_batch_norm: running_var + eps must be positive")
    scale = gamma / np.sqrt(var + eps)
    w2 = w * scale.reshape((c,) + (1,) * (w.ndim - 1))
    b2 = (b - mean) * scale + beta
    return w2.astype(np.float32), b2.astype(np.float32)


def fold_state_dict(arch, tensors, eps=DEFAULT_EPS, embed_dim=None):
    """The "folded" tensors (layout order) of a "stored" tensor dict of `arch` (checked first)."""
    tensors = {k: v for k, v in tensors.items() if not k.endswith(".num_batches_tracked")}
    if embed_dim is None:
        embed_dim = infer_embed_dim(arch, tensors)
    check_tensors(arch, tensors, "stored", embed_dim)
    out = {}
    for layer in layers(arch, embed_dim):
        name, kind = layer["name"], layer["kind"]
        if kind == "bn":
            for s in BN_SUFFIXES:
                out[f"{name}.{s}"] = np.asarray(tensors[f"{name}.{s}"], dtype=np.float32)
        elif kind == "prelu":
            out[f"{name}.weight"] = np.asarray(tensors[f"{name}.weight"], dtype=np.float32)
        else:
            bias = tensors.get(f"{name}.bias")
            if layer["bn"]:
                bn = layer["bn"]
                w, b = fold_batch_norm(tensors[f"{name}.weight"], bias, *(tensors[f"{bn}.{s}"] for s in BN_SUFFIXES),
                                       eps=eps)
            else:
                w, b = np.asarray(tensors[f"{name}.weight"], np.float32), bias
            out[f"{name}.weight"] = w
            if b is not None:
                out[f"{name}.bias"] = np.asarray(b, dtype=np.float32)
    check_tensors(arch, out, "folded", embed_dim)
    return out


# ---------------------------------------------------------------------------
# Deterministic random weights (numpy only), for parity fixtures and tests


def random_iresnet_state_dict(arch, seed, embed_dim=None):
    """`random_state_dict` for an IResNet (the name the fixtures were made with)."""
    if arch not in IRESNET_BLOCKS:
        raise FaceModelError(f"random_iresnet_state_dict: {arch!r} is not an IResNet")
    return random_state_dict(arch, seed, embed_dim)


def random_state_dict(arch, seed, embed_dim=None):
    """A "stored" state dict of `arch` with random weights that keep activations moderate
    (for tests of the library's own code paths, not a face-recognition network).

    Deterministic for (arch, seed, embed_dim) with numpy's PCG64 (np.random.default_rng), the draws
    taken in layout order, float64 rounded to float32. Conv weights are He-scaled normals
    (std sqrt(2 / fan_in)); BatchNorm gammas U(0.5, 1.5), betas and running means N(0, 0.05^2)
    and N(0, 0.1^2), running variances U(0.5, 1.5); the BatchNorm that closes each residual
    branch (bn3) has gammas U(0.1, 0.3) so that the sum of many blocks stays O(1);
    PReLU slopes U(0.15, 0.35); fc weights N(0, 1 / in), its bias N(0, 0.01^2); other biases
    (MobileFaceNet's conv3) as BatchNorm betas."""
    _check_arch(arch)
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in layout(arch, "stored", embed_dim):
        base, _, field = name.rpartition(".")
        if name.endswith(".running_var"):
            a = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(".running_mean"):
            a = rng.normal(0.0, 0.1, shape)
        elif len(shape) == 4:  # convolution
            a = rng.normal(0.0, math.sqrt(2.0 / (shape[1] * shape[2] * shape[3])), shape)
        elif base == "fc":
            a = rng.normal(0.0, 1.0 / math.sqrt(shape[1]), shape) if field == "weight" else rng.normal(0.0, 0.01, shape)
        elif base == "prelu" or base.endswith(".prelu"):
            a = rng.uniform(0.15, 0.35, shape)
        elif field == "weight":  # BatchNorm gamma
            a = rng.uniform(0.1, 0.3, shape) if base.endswith(".bn3") else rng.uniform(0.5, 1.5, shape)
        else:  # BatchNorm beta
            a = rng.normal(0.0, 0.05, shape)
        out[name] = a.astype(np.float32)
    return out


def main(argv=None):
    """`python3 tools/converters/face_model_file.py --random ARCH [--seed N] [--fold] -o FILE`: a face model
    file with deterministic random weights, for tests that need a face model but no real one."""
    import argparse
    import sys
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--random", required=True, metavar="ARCH")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fold", action="store_true", help="write batch_norm \"folded\"")
    p.add_argument("-o", required=True, metavar="FILE")
    a = p.parse_args(argv)
    try:
        tensors = random_state_dict(a.random, a.seed)
        if a.fold:
            tensors = fold_state_dict(a.random, tensors)
        write_face_model(a.o, a.random, tensors, "folded" if a.fold else "stored",
                         source=f"random weights, seed {a.seed} (tools/converters/face_model_file.py)")
    except FaceModelError as e:
        sys.exit(f"face_model_file.py: {e}")


if __name__ == "__main__":
    main()

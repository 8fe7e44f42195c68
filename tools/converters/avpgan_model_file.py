"""Builds the tensors and metadata of a libavpgan model file (docs/model-format.md, format 1).

numpy only: the caller turns its checkpoints into numpy state dicts
(tools/converters/convert_torch.py does so for PyTorch) and writes the result with
tools/converters/safetensors_io.py.

    tensors, metadata = model_tensors("avpgan", {"voice_encoder": sd_e, "generator": sd_g, ...})
    safetensors_io.write("model.safetensors", tensors, metadata)

Each state dict maps the keys of the reference module's state_dict()
(../shared/reference/avpgan_torch.py: "model.0.weight", "model.1.running_mean",
...) to numpy arrays. All widths are read from the shapes; the whole layout is
then checked against what the architecture implies, and any missing,
unexpected or mis-shaped tensor is reported by name (ModelFileError).
"""
import numpy as np

import safetensors_io

__all__ = [
    "ModelFileError", "NETWORKS", "ARCHS", "FORMAT_VERSION", "model_tensors", "network_layout",
    "file_layout", "fold_spectral_norm", "describe",
]

FORMAT_VERSION = safetensors_io.FORMAT_VERSION
NETWORKS = ("voice_encoder", "generator", "face_encoder", "discriminator", "classifier")
# arch -> (CBAM after generator / face-encoder layers i >= 1, spectral norm on those layers)
ARCHS = {"voice2face": (False, False), "avpgan": (True, True), "avpgan-nocbam": (False, True)}
CBAM_REDUCTION = 16
CBAM_KERNEL = 7
BATCH_NORM_EPS = 1e-5
SPECTRAL_NORM_MODES = ("folded", "stored")
PIXEL_MODES = ("clamp", "minmax")


class ModelFileError(ValueError):
    """The state dicts do not form a model of the requested architecture."""


def fold_spectral_norm(weight_orig, weight_u, weight_v, dim):
    """Effective weight of a spectrally normalised layer as torch computes it in eval mode.

    W = weight_orig with dimension `dim` moved first (0 for Conv2d, 1 for
    ConvTranspose2d), reshaped to [out, -1]; sigma = u . (W v); weight =
    weight_orig / sigma. All in float32. numpy's float32 dot products may sum in
    another order than torch's, so sigma can differ from torch's in the last
    bit; tools/converters/convert_torch.py passes a torch implementation instead."""
    w = np.asarray(weight_orig, dtype=np.float32)
    mat = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    sigma = np.dot(np.asarray(weight_u, np.float32), mat @ np.asarray(weight_v, np.float32))
    return w / np.float32(sigma)


# ---------------------------------------------------------------------------
# Layouts: key -> shape, in the order torch's state_dict() lists them.


def _cbam(prefix, c):
    hidden = max(c // CBAM_REDUCTION, 1)
    return [(f"{prefix}.mlp.0.weight", (hidden, c, 1, 1)),
            (f"{prefix}.mlp.2.weight", (c, hidden, 1, 1)),
            (f"{prefix}.spatial.weight", (1, 2, CBAM_KERNEL, CBAM_KERNEL))]


def _conv(prefix, shape, sn, out_dim):
    """A convolution's entries. sn: None (plain), "torch"/"stored" (weight_orig, u, v), "folded"."""
    bias = (f"{prefix}.bias", (shape[out_dim],))
    if sn is None:
        return [(f"{prefix}.weight", shape), bias]
    if sn == "folded":  # the effective weight takes weight_orig's place: after the bias
        return [bias, (f"{prefix}.weight", shape)]
    rest = int(np.prod(shape)) // shape[out_dim]
    return [bias, (f"{prefix}.weight_orig", shape), (f"{prefix}.weight_u", (shape[out_dim],)),
            (f"{prefix}.weight_v", (rest,))]


def _conv_positions(n_layers, cbam):
    """Sequential indices of the n_layers width layers plus the final layer (generator, face encoder)."""
    positions, p = [], 0
    for i in range(n_layers + 1):
        positions.append(p)
        p += 2 + (1 if cbam and i >= 1 else 0)
    return positions


def network_layout(network, arch, config, sn="torch"):
    """The entries [(key, shape), ...] of one network's state dict, in torch's order.

    config holds the widths as in avpgan.config (n_mels, embed_dim, voice_widths,
    generator_widths, face_widths, identities). sn says how spectrally
    normalised layers appear: "torch"/"stored" (weight_orig, weight_u,
    weight_v) or "folded" (weight); it is ignored for voice2face."""
    cbam, has_sn = ARCHS[arch]
    sn = sn if has_sn else None
    e = config["embed_dim"]
    out = []
    if network == "voice_encoder":
        c = config["n_mels"]
        widths = config["voice_widths"]
        for i, o in enumerate(widths):
            out.append((f"model.{3 * i}.weight", (o, c, 3)))
            out += [(f"model.{3 * i + 1}.{k}", (o,)) for k in ("weight", "bias", "running_mean", "running_var")]
            c = o
        last = 3 * len(widths)
        out += [(f"model.{last}.weight", (e, c, 3)), (f"model.{last}.bias", (e,))]
    elif network in ("generator", "face_encoder"):
        gen = network == "generator"
        widths = config["generator_widths" if gen else "face_widths"]
        pos = _conv_positions(len(widths), cbam)
        c = e if gen else 3
        for i, o in enumerate(widths):
            if gen:
                shape, out_dim = ((c, o, 4, 4), 1)
            else:
                shape, out_dim = ((o, c, 1 if i == 0 else 4, 1 if i == 0 else 4), 0)
            out += _conv(f"model.{pos[i]}", shape, sn if i >= 1 else None, out_dim)
            if cbam and i >= 1:
                out += _cbam(f"model.{pos[i] + 2}", o)
            c = o
        final = (c, 3, 1, 1) if gen else (e, c, 4, 4)
        out += _conv(f"model.{pos[-1]}", final, None, 1 if gen else 0)
    elif network == "discriminator":
        out.append(("model.weight", (1, e)))
    elif network == "classifier":
        out.append(("model.weight", (config["identities"], e)))
    else:
        raise ValueError(f"unknown network {network!r}")
    return out


def file_layout(arch, config):
    """[(tensor name, shape), ...] that a model file with this arch and config holds (docs/model-format.md),
    networks in file order, each in torch's state_dict order."""
    sn = config.get("spectral_norm", "folded")
    return [(f"{net}.{key}", shape) for net in config["networks"]
            for key, shape in network_layout(net, arch, config, sn)]


# ---------------------------------------------------------------------------
# Inference of the widths from a state dict.


def _group(sd):
    """'model.<i>.<rest>' keys -> {i: {rest: array}}; other keys are left for the layout check."""
    groups = {}
    for key, value in sd.items():
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[0] == "model" and parts[1].isdigit():
            groups.setdefault(int(parts[1]), {})[parts[2]] = value
    return groups


def _shape(network, sd, key, ndim):
    if key not in sd:
        raise ModelFileError(f"{network}: missing {key}")
    shape = tuple(np.shape(sd[key]))
    if len(shape) != ndim:
        raise ModelFileError(f"{network}.{key}: expected a {ndim}-d tensor, got shape {list(shape)} "
                             f"(is this the {network.replace('_', ' ')} checkpoint?)")
    return shape


def _conv_weight_key(groups, i):
    g = groups.get(i, {})
    return "weight_orig" if "weight_orig" in g else "weight"


def _infer_voice(sd):
    groups = _group(sd)
    n_mels = _shape("voice_encoder", sd, "model.0.weight", 3)[1]
    widths, i = [], 0
    while "running_mean" in groups.get(3 * i + 1, {}):
        widths.append(_shape("voice_encoder", sd, f"model.{3 * i}.weight", 3)[0])
        i += 1
    if not widths:
        raise ModelFileError("voice_encoder: missing model.1.running_mean (no BatchNorm after the first conv)")
    embed = _shape("voice_encoder", sd, f"model.{3 * len(widths)}.weight", 3)[0]
    return dict(n_mels=n_mels, voice_widths=widths, embed_dim=embed)


def _infer_convs(network, sd, cbam):
    """Widths and embedding size of the generator or face encoder, from its convolution weights.

    Layers are looked for where the layout puts them (model.0, model.2, then every
    2 or, with CBAM, 3 indices); the last one found is the final layer. Anything
    elsewhere is left for the layout check to report as unexpected."""
    groups = _group(sd)
    is_conv = lambda i: "weight" in groups.get(i, {}) or "weight_orig" in groups.get(i, {})  # noqa: E731
    found, n = [], 1
    while True:
        pos = _conv_positions(n, cbam)
        if not is_conv(pos[len(found)]):
            break
        found.append(pos[len(found)])
        n = len(found)
    if len(found) < 2:
        where = f"model.{_conv_positions(1, cbam)[len(found)]}"
        raise ModelFileError(f"{network}: missing {where}.weight (found {len(found)} convolution layer(s) "
                             "where the layout puts them, need at least 2; is this the "
                             f"{network.replace('_', ' ')} checkpoint?)")
    shapes = [_shape(network, sd, f"model.{i}.{_conv_weight_key(groups, i)}", 4) for i in found]
    if network == "generator":  # ConvTranspose2d: [in, out, k, k]
        return dict(generator_widths=[s[1] for s in shapes[:-1]], embed_dim=shapes[0][0])
    return dict(face_widths=[s[0] for s in shapes[:-1]], embed_dim=shapes[-1][0])


def _infer_head(network, sd):
    shape = _shape(network, sd, "model.weight", 2)
    return shape[0], shape[1]


def _check_arch(arch, network, sd):
    """Clear errors when the state dict's CBAM / spectral-norm modules disagree with the arch."""
    cbam, sn = ARCHS[arch]
    cbam_keys = [k for k in sd if ".mlp.0.weight" in k or ".spatial.weight" in k]
    sn_keys = [k for k in sd if k.endswith((".weight_orig", ".weight_u", ".weight_v"))]
    if network in ("voice_encoder", "discriminator", "classifier"):
        if cbam_keys or sn_keys:
            raise ModelFileError(f"{network}: unexpected {(cbam_keys + sn_keys)[0]} "
                                 f"(the {network} has no CBAM and no spectral norm); is this the right file?")
        return
    hint = {(True, True): "avpgan", (False, True): "avpgan-nocbam", (False, False): "voice2face"}
    found = (bool(cbam_keys), bool(sn_keys))
    if found != (cbam, sn):
        have = ", ".join(s for s, on in (("CBAM", found[0]), ("spectral norm", found[1])) if on) or "neither CBAM nor spectral norm"
        want = ", ".join(s for s, on in (("CBAM", cbam), ("spectral norm", sn)) if on) or "neither CBAM nor spectral norm"
        example = (cbam_keys + sn_keys)[0] if (cbam_keys or sn_keys) else None
        guess = hint.get(found)
        raise ModelFileError(
            f"{network}: the state dict has {have}" + (f" (e.g. {example})" if example else "")
            + f", but arch {arch!r} has {want}" + (f"; it looks like --arch {guess}" if guess else ""))


def _check_layout(network, sd, layout):
    expected = dict(layout)
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing:
        raise ModelFileError(f"{network}: missing {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                             + (f"; unexpected {unexpected[0]}" if unexpected else ""))
    if unexpected:
        raise ModelFileError(f"{network}: unexpected {unexpected[0]}"
                             + (f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""))
    for key, shape in layout:
        got = tuple(np.shape(sd[key]))
        if got != tuple(shape):
            raise ModelFileError(f"{network}.{key}: shape {list(got)}, expected {list(shape)}")


def _as_float32(network, key, value):
    a = np.asarray(value)
    if a.dtype.kind != "f":
        raise ModelFileError(f"{network}.{key}: dtype {a.dtype}, expected a floating-point tensor")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise ModelFileError(f"{network}.{key}: has non-finite values")
    return a


def model_tensors(arch, nets, spectral_norm="folded", pixels="clamp", source=None, fold=None):
    """The tensors and metadata of a model file.

    arch: "voice2face", "avpgan" or "avpgan-nocbam".
    nets: {network: state dict as {key: np.ndarray}} with voice_encoder and
      generator, optionally face_encoder and then discriminator / classifier
      (these two need the face encoder). num_batches_tracked entries are dropped.
    spectral_norm: "folded" (store the eval-mode effective weight as .weight) or
      "stored" (keep weight_orig, weight_u, weight_v). Ignored for voice2face,
      which has no spectral norm and gets no "spectral_norm" config field.
    pixels: the file's default pixel mapping, "clamp" or "minmax".
    source: free text for the avpgan.source metadata.
    fold: fold(weight_orig, weight_u, weight_v, dim) -> effective weight as
      float32 numpy; default fold_spectral_norm (numpy).
    Returns (tensors, metadata): tensors is {"<network>.<key>": float32 array}
    in network order, each network in the given state dict's order (a folded
    weight takes weight_orig's place); metadata has avpgan.format, avpgan.arch,
    avpgan.config (compact JSON) and avpgan.source.
    Raises ModelFileError naming the network and key on any mismatch."""
    if arch not in ARCHS:
        raise ModelFileError(f"unknown arch {arch!r} (expected one of {', '.join(ARCHS)})")
    if spectral_norm not in SPECTRAL_NORM_MODES:
        raise ModelFileError(f"unknown spectral_norm {spectral_norm!r} (expected folded or stored)")
    if pixels not in PIXEL_MODES:
        raise ModelFileError(f"unknown pixels {pixels!r} (expected clamp or minmax)")
    extra = [n for n in nets if n not in NETWORKS]
    if extra:
        raise ModelFileError(f"unknown network {extra[0]!r} (expected among {', '.join(NETWORKS)})")
    for required in ("voice_encoder", "generator"):
        if nets.get(required) is None:
            raise ModelFileError(f"missing the {required} state dict")
    present = [n for n in NETWORKS if nets.get(n) is not None]
    if ("discriminator" in present or "classifier" in present) and "face_encoder" not in present:
        raise ModelFileError("the discriminator and classifier need the face_encoder too")
    sds = {n: {k: v for k, v in nets[n].items() if not k.endswith("num_batches_tracked")} for n in present}
    for n in present:
        _check_arch(arch, n, sds[n])

    # Widths, from the shapes; every network must agree on the embedding size.
    config = {"networks": present}
    inferred = {"voice_encoder": _infer_voice(sds["voice_encoder"]),
                "generator": _infer_convs("generator", sds["generator"], ARCHS[arch][0])}
    if "face_encoder" in present:
        inferred["face_encoder"] = _infer_convs("face_encoder", sds["face_encoder"], ARCHS[arch][0])
    for head in ("discriminator", "classifier"):
        if head in present:
            rows, cols = _infer_head(head, sds[head])
            inferred[head] = {"embed_dim": cols}
            if head == "classifier":
                inferred[head]["identities"] = rows
    embed = inferred["voice_encoder"]["embed_dim"]
    for n, info in inferred.items():
        if info["embed_dim"] != embed:
            raise ModelFileError(f"{n}: embedding size {info['embed_dim']} differs from the voice encoder's {embed}")
    v, g = inferred["voice_encoder"], inferred["generator"]
    config.update(n_mels=v["n_mels"], embed_dim=embed, voice_widths=v["voice_widths"],
                  generator_widths=g["generator_widths"],
                  image_size=4 * 2 ** (len(g["generator_widths"]) - 1))
    if "face_encoder" in present:
        config["face_widths"] = inferred["face_encoder"]["face_widths"]
        if len(config["face_widths"]) != len(config["generator_widths"]):
            raise ModelFileError(
                f"face_encoder: {len(config['face_widths'])} width layers cannot take the generator's "
                f"{config['image_size']}x{config['image_size']} images down to 4x4 "
                f"(needs {len(config['generator_widths'])})")
    if "classifier" in present:
        config["identities"] = inferred["classifier"]["identities"]
    cbam, has_sn = ARCHS[arch]
    if has_sn:
        config["spectral_norm"] = spectral_norm
    config.update(pixels=pixels, cbam_reduction=CBAM_REDUCTION, cbam_kernel=CBAM_KERNEL,
                  batch_norm_eps=BATCH_NORM_EPS)

    # Exact layout check, then the tensors in file order.
    fold = fold or fold_spectral_norm
    tensors = {}
    for n in present:
        sd = sds[n]
        _check_layout(n, sd, network_layout(n, arch, config, "torch"))
        for key, value in sd.items():
            if has_sn and spectral_norm == "folded" and key.endswith((".weight_u", ".weight_v")):
                continue
            if has_sn and spectral_norm == "folded" and key.endswith(".weight_orig"):
                prefix = key[: -len("_orig")]
                w = _as_float32(n, key, value)
                u = _as_float32(n, prefix + "_u", sd[prefix + "_u"])
                vv = _as_float32(n, prefix + "_v", sd[prefix + "_v"])
                weight = np.ascontiguousarray(fold(w, u, vv, 1 if n == "generator" else 0), dtype=np.float32)
                if weight.shape != w.shape or not np.all(np.isfinite(weight)):
                    raise ModelFileError(f"{n}.{key}: spectral norm folding gave a non-finite or mis-shaped weight "
                                         "(sigma = u . (W v) is 0?)")
                tensors[f"{n}.{prefix}"] = weight
                continue
            tensors[f"{n}.{key}"] = _as_float32(n, key, value)

    metadata = safetensors_io.avpgan_metadata(
        arch, config, source or "converted from PyTorch state dicts of the reference networks")
    return tensors, metadata


def describe(arch, config, n_parameters=None):
    """A one-line summary of a model's architecture and widths."""
    parts = [arch, f"mels {config['n_mels']}", f"embed {config['embed_dim']}",
             f"voice {config['voice_widths']}", f"generator {config['generator_widths']}"]
    if "face_widths" in config:
        parts.append(f"face {config['face_widths']}")
    if "identities" in config:
        parts.append(f"identities {config['identities']}")
    if "spectral_norm" in config:
        parts.append(f"spectral norm {config['spectral_norm']}")
    parts.append(f"pixels {config['pixels']}")
    if n_parameters is not None:
        parts.append(f"{n_parameters:,} parameters")
    return ", ".join(parts)

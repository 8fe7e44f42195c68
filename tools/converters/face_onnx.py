"""An ONNX face-recognition graph converted to face model tensors (onnx_tensors), for
tools/converters/convert_face.py: the architecture detected from the layers, then every layer matched
against it (kind, shape, groups, kernel, stride, padding, activation), BatchNorms folded."""
import numpy as np

import face_model_file as fmf
from conversion_error import ConversionError
from face_onnx_layers import _Graph, _absorb_normalisation, _collect_entries
from onnx_reader import _snap, read_onnx


def _detect_arch(entries):
    convs = sum(e.kind == "conv" for e in entries)
    prelus = sum(e.kind == "prelu" for e in entries)
    if prelus:
        for arch, blocks in fmf.IRESNET_BLOCKS.items():
            if convs == 1 + 2 * sum(blocks) + 4:
                return arch
    elif convs == len([x for x in fmf.layers("mobilefacenet") if x["kind"] == "conv"]):
        return "mobilefacenet"
    raise ConversionError(f"cannot tell the architecture from the graph ({convs} Conv, {prelus} PRelu, "
                          f"{sum(e.kind == 'linear' for e in entries)} Gemm/MatMul layers): give --arch")


def _canonical_order(entries):
    """IResNet exporters may emit a block's shortcut (downsample) conv before its main branch:
    moves each 1x1 stride-2 conv that reads the input of a standalone BN to after that block's conv2."""
    out = list(entries)
    for e in entries:
        if e.kind != "conv" or e.weight.shape[2:] != (1, 1) or e.attrs["strides"] != [2, 2]:
            continue
        if not any(x.kind == "bn" and x.input == e.input for x in out):
            continue
        out.remove(e)
        bn = next(i for i, x in enumerate(out) if x.kind == "bn" and x.input == e.input)
        out.insert(min(bn + 4, len(out)), e)
    return out


def _describe_layer(layer):
    if layer["kind"] == "conv":
        return (f"conv {layer['name']} ({layer['cin']}->{layer['cout']}, {layer['k']}x{layer['k']}, "
                f"stride {layer['stride']}, pad {layer['pad']}, groups {layer['groups']})")
    if layer["kind"] == "linear":
        return f"linear {layer['name']} ({layer['cin']}->{layer['cout']})"
    if layer["kind"] == "bn":
        return f"standalone BatchNorm {layer['name']} ({layer['channels']} channels)"
    return f"PReLU {layer['name']} ({layer['channels']} channels)"


def _check_activation(graph, entry, layer):
    want = layer.get("act")
    users = [u for u in graph.consumers.get(entry.out, []) if u is not None]
    acts = [u for u in users if u.op in ("Relu", "Clip", "PRelu")]
    if want is None:
        if acts:
            raise ConversionError(f"{acts[0].label()}: an activation after {_describe_layer(layer)}, which has none")
        return
    op = {"relu6": "Clip", "relu": "Relu", "prelu": "PRelu"}[want]
    if len(users) != 1 or users[0].op != op:
        got = ", ".join(u.op for u in users) or "nothing"
        raise ConversionError(f"{entry.node.label()}: {_describe_layer(layer)} must be followed by {want} "
                              f"({op}) alone; its output goes to {got}")


def _match(graph, entries, arch, embed_dim):
    """Maps the entries onto the arch's layers; returns (folded tensors, eps of the standalone BNs)."""
    layer_list = fmf.layers(arch, embed_dim)
    tensors, eps_seen = {}, {}
    for i, layer in enumerate(layer_list):
        if i >= len(entries):
            raise ConversionError(f"the graph ends after {len(entries)} layers; {arch} needs {_describe_layer(layer)} next")
        e = entries[i]
        kind, name = layer["kind"], layer["name"]
        want = "conv" if kind == "conv" else kind
        if e.kind != want:
            raise ConversionError(f"{e.node.label()}: expected {_describe_layer(layer)} for {arch}, got {e.describe()}")
        if kind in ("conv", "linear"):
            shape = fmf._weight_shape(layer)
            if tuple(e.weight.shape) != shape:
                raise ConversionError(f"{e.node.label()}: expected {_describe_layer(layer)} for {arch} "
                                      f"(weight {list(shape)}), got {e.describe()}")
            if kind == "conv":
                a, k, s, p = e.attrs, layer["k"], layer["stride"], layer["pad"]
                if (a["group"] != layer["groups"] or list(a["kernel"]) != [k, k] or a["strides"] != [s, s]
                        or a["pads"] != [p] * 4 or a["dilations"] != [1, 1]):
                    raise ConversionError(f"{e.node.label()}: expected {_describe_layer(layer)} for {arch}, "
                                          f"got {e.describe()}, dilations {a['dilations']}")
            if e.bias is not None and e.bias.shape != (shape[0],):
                raise ConversionError(f"{e.node.label()}: bias of {e.bias.size} values for {shape[0]} outputs")
            _check_activation(graph, e, layer)
            if e.bn is not None:
                g, b, m, v, eps, bn_node = e.bn
                if g.size != shape[0]:
                    raise ConversionError(f"{bn_node.label()}: {g.size} channels after {_describe_layer(layer)}")
                w, bias = fmf.fold_batch_norm(e.weight, e.bias, g, b, m, v, eps)
            else:
                w = e.weight.astype(np.float32)
                bias = np.zeros(shape[0], np.float32) if e.bias is None else e.bias.astype(np.float32)
            tensors[f"{name}.weight"], tensors[f"{name}.bias"] = w, bias
        elif kind == "bn":
            g, b, m, v, eps, _ = e.bn
            if g.size != layer["channels"]:
                raise ConversionError(f"{e.node.label()}: expected {_describe_layer(layer)} for {arch}, got {e.describe()}")
            for suffix, val in zip(fmf.BN_SUFFIXES, (g, b, m, v)):
                tensors[f"{name}.{suffix}"] = val.astype(np.float32)
            eps_seen.setdefault(eps, e.node)
        else:  # prelu
            c = layer["channels"]
            if e.weight.size not in (1, c):
                raise ConversionError(f"{e.node.label()}: expected {_describe_layer(layer)} for {arch}, got {e.describe()}")
            tensors[f"{name}.weight"] = np.broadcast_to(e.weight, (c,)).astype(np.float32)
    if len(entries) > len(layer_list):
        extra = entries[len(layer_list)]
        raise ConversionError(f"{extra.node.label()}: one layer more than {arch} has ({extra.describe()})")
    if len(eps_seen) > 1:
        (e1, n1), (e2, n2) = list(eps_seen.items())[:2]
        raise ConversionError(f"standalone BatchNorms differ in epsilon ({n1.label()}: {e1}, {n2.label()}: {e2}); "
                              "a face model file has one batch_norm_eps")
    return tensors, (next(iter(eps_seen)) if eps_seen else fmf.DEFAULT_EPS)


def onnx_tensors(blob, arch=None, input_mean=None, input_std=None):
    """Converts an ONNX model (bytes). Returns (arch, folded tensors, config keyword arguments)."""
    try:
        parsed = read_onnx(blob)
    except ConversionError as e:
        raise ConversionError(f"not a readable ONNX model: {e}") from None
    graph = _Graph(parsed)
    start, mean, std, absorbed = _absorb_normalisation(graph, 0.0, 1.0)
    entries = _collect_entries(graph, absorbed)
    if not entries:
        raise ConversionError("the ONNX graph has no Conv, BatchNormalization, PRelu or Gemm layers")
    first = entries[0]
    if first.input != start:
        what = "the network input" + (" after its normalisation" if absorbed else "")
        raise ConversionError(f"{first.node.label()}: the first layer must read {what} ({start!r}), "
                              f"it reads {first.input!r}")
    if arch is None:
        arch = _detect_arch(entries)
    if arch in fmf.IRESNET_BLOCKS:
        entries = _canonical_order(entries)
    last = entries[-1]
    embed_dim = int(last.weight.shape[0]) if last.kind in ("conv", "linear") else fmf.default_embed_dim(arch)
    tensors, eps = _match(graph, entries, arch, embed_dim)
    d_mean, d_std = fmf.default_normalisation(arch)
    m0 = (0.0 if absorbed else d_mean) if input_mean is None else input_mean
    s0 = (1.0 if absorbed else d_std) if input_std is None else input_std
    # The graph is fed (p - m0) / s0; absorbed ops turned (p - 0) / 1 into (p - mean) / std.
    return arch, tensors, {"embed_dim": embed_dim, "input_mean": _snap(m0 + mean * s0), "input_std": _snap(s0 * std),
                           "eps": eps}

#!/usr/bin/env python3
"""Converts face-recognition weights (ONNX or a PyTorch state_dict) to a libavpgan face model file.

    python3 tools/convert_face.py --onnx FILE [--arch ARCH] [--input-mean M] [--input-std S] \\
        [--channel-order rgb|bgr] -o face.safetensors
    python3 tools/convert_face.py --torch FILE --arch ARCH [--fold] [--bn-eps EPS] \\
        [--input-mean M] [--input-std S] [--channel-order rgb|bgr] -o face.safetensors

ARCH: mobilefacenet, iresnet18, iresnet34, iresnet50, iresnet100 or iresnet200. The output
follows docs/face-model-format.md (tools/face_model_file.py). Needs numpy only: no torch,
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
import collections
import hashlib
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import face_model_file as fmf  # noqa: E402

PROG = "convert_face.py"


class ConversionError(Exception):
    """An input that cannot be converted; the message is one line for the user."""


# ===========================================================================
# Protobuf wire format (just what ONNX needs)

_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LEN, _WIRE_FIXED32 = 0, 1, 2, 5


def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ConversionError("truncated protobuf (a varint runs past the end)")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ConversionError("malformed protobuf (a varint longer than 10 bytes)")


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _fields(buf):
    """Yields (field number, wire type, value) of a message: an int for varint and fixed
    fields (fixed ones as raw unsigned), a memoryview for length-delimited ones."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ConversionError("malformed protobuf (field number 0)")
        if wire == _WIRE_VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _WIRE_FIXED64:
            if pos + 8 > end:
                raise ConversionError("truncated protobuf (a 64-bit field runs past the end)")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == _WIRE_FIXED32:
            if pos + 4 > end:
                raise ConversionError("truncated protobuf (a 32-bit field runs past the end)")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        elif wire == _WIRE_LEN:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise ConversionError("truncated protobuf (a field of %d bytes runs past the end)" % n)
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ConversionError(f"malformed protobuf (unsupported wire type {wire} in field {field})")
        yield field, wire, value


def _text(v):
    try:
        return bytes(v).decode("utf-8")
    except UnicodeDecodeError:
        raise ConversionError("malformed ONNX (a string is not UTF-8)") from None


def _packed_varints(v):
    out, pos = [], 0
    while pos < len(v):
        x, pos = _varint(v, pos)
        out.append(x)
    return out


def _repeated_ints(wire, value, into):
    """Appends a repeated int64 field's values (packed or not) to `into`, as signed ints."""
    if wire == _WIRE_LEN:
        into.extend(_signed64(x) for x in _packed_varints(value))
    elif wire == _WIRE_VARINT:
        into.append(_signed64(value))
    else:
        raise ConversionError(f"malformed ONNX (repeated integer with wire type {wire})")


def _f32(bits):
    """A float32 field as the shortest decimal that round-trips (1e-05, not 9.99999974737875e-06)."""
    return float(str(np.float32(struct.unpack("<f", struct.pack("<I", bits))[0])))


def _snap(v):
    """`v` rounded to 7 significant digits when that changes it by less than float32 resolution
    (127.49999245978005, from a float32 1/127.5, becomes 127.5)."""
    short = float(f"{v:.7g}")
    return short if abs(short - v) <= abs(v) * 2.0 ** -23 else v


# ONNX TensorProto.DataType -> numpy dtype (little-endian); BFLOAT16 (16) handled apart
_ONNX_DTYPES = {1: "<f4", 2: "u1", 3: "i1", 4: "<u2", 5: "<i2", 6: "<i4", 7: "<i8", 9: "?", 10: "<f2",
                11: "<f8", 12: "<u4", 13: "<u8", 16: "<u2"}
_ONNX_DTYPE_NAMES = {0: "UNDEFINED", 8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128"}


class _Unsupported:
    """A tensor the converter cannot decode; an error only if a layer needs it."""

    def __init__(self, name, why):
        self.name, self.why = name, why


def _parse_tensor(buf):
    dims, dtype, name, raw, location = [], 0, "", None, 0
    floats, doubles, ints = [], [], []
    for field, wire, v in _fields(buf):
        if field == 1:
            _repeated_ints(wire, v, dims)
        elif field == 2:
            dtype = v
        elif field == 3:
            return _Unsupported(name, "segmented tensor")
        elif field == 4:  # float_data, packed or not
            if wire == _WIRE_LEN:
                if len(v) % 4:
                    raise ConversionError("malformed ONNX (float_data length not a multiple of 4)")
                floats.append(np.frombuffer(v, "<f4"))
            else:
                floats.append(np.array([_f32(v)], np.float32))
        elif field in (5, 7, 11):  # int32_data, int64_data, uint64_data
            _repeated_ints(wire, v, ints)
        elif field == 8:
            name = _text(v)
        elif field == 9:
            raw = v
        elif field == 10:
            if wire == _WIRE_LEN:
                doubles.append(np.frombuffer(v, "<f8"))
            else:
                doubles.append(np.array([v], np.uint64).view(np.float64))
        elif field == 14:
            location = v
    if location == 1:
        return _Unsupported(name, "data stored outside the .onnx file (external data)")
    if dtype not in _ONNX_DTYPES:
        return _Unsupported(name, f"data type {_ONNX_DTYPE_NAMES.get(dtype, dtype)}")
    np_dtype = np.dtype(_ONNX_DTYPES[dtype])
    if raw is not None:
        if len(raw) % np_dtype.itemsize:
            raise ConversionError(f"malformed ONNX (tensor {name!r}: raw_data of {len(raw)} bytes)")
        a = np.frombuffer(raw, np_dtype)
    elif floats:
        a = np.concatenate(floats)
    elif doubles:
        a = np.concatenate(doubles)
    elif ints:
        if np_dtype.kind == "f" or dtype == 16:  # float16 / bfloat16 bits in int32_data
            a = (np.array(ints, np.int64) & 0xFFFF).astype("<u2")
            if dtype == 10:
                a = a.view("<f2")
        else:
            a = np.array(ints, np.int64).astype(np_dtype)
    else:
        a = np.zeros(0, np_dtype)
    if dtype == 16:  # bfloat16: the high half of a float32
        a = (a.astype(np.uint32) << 16).view(np.float32)
    count = int(np.prod(dims)) if dims else 1
    if a.size != count:
        raise ConversionError(f"malformed ONNX (tensor {name!r}: {a.size} values for dims {dims})")
    return name, a.reshape(dims).astype(a.dtype.newbyteorder("="))


def _tensor_value(t):
    """A decoded tensor (name, array) or _Unsupported -> array or _Unsupported."""
    return t if isinstance(t, _Unsupported) else t[1]


def _parse_attribute(buf):
    name, value, floats, ints, kind = "", None, [], [], None
    for field, wire, v in _fields(buf):
        if field == 1:
            name = _text(v)
        elif field == 2:
            value = _f32(v) if wire == _WIRE_FIXED32 else value
        elif field == 3:
            value = _signed64(v)
        elif field == 4:
            value = bytes(v)
        elif field == 5:
            value = _tensor_value(_parse_tensor(v))
        elif field == 7:
            if wire == _WIRE_LEN:
                floats.extend(np.frombuffer(v, "<f4").tolist())
            else:
                floats.append(_f32(v))
            kind = "floats"
        elif field == 8:
            _repeated_ints(wire, v, ints)
            kind = "ints"
        elif field == 20:
            kind = {6: "floats", 7: "ints"}.get(v, kind)
    if kind == "floats":
        value = floats
    elif kind == "ints":
        value = ints
    return name, value


class _Node:
    def __init__(self, index):
        self.index, self.inputs, self.outputs, self.name, self.op, self.domain, self.attrs = index, [], [], "", "", "", {}

    def label(self):
        return f"ONNX node {self.name!r} ({self.op})" if self.name else f"ONNX node #{self.index} ({self.op})"


def _parse_node(buf, index):
    n = _Node(index)
    for field, _, v in _fields(buf):
        if field == 1:
            n.inputs.append(_text(v))
        elif field == 2:
            n.outputs.append(_text(v))
        elif field == 3:
            n.name = _text(v)
        elif field == 4:
            n.op = _text(v)
        elif field == 5:
            k, val = _parse_attribute(v)
            n.attrs[k] = val
        elif field == 7:
            n.domain = _text(v)
    return n


def _value_info_name(buf):
    for field, _, v in _fields(buf):
        if field == 1:
            return _text(v)
    return ""


def read_onnx(blob):
    """The graph of an ONNX ModelProto: dict(nodes, initializers {name: array or _Unsupported},
    inputs, outputs, opset)."""
    buf = memoryview(blob)
    graph, opset = None, None
    for field, wire, v in _fields(buf):
        if field == 7 and wire == _WIRE_LEN:
            graph = v
        elif field == 8 and wire == _WIRE_LEN:
            domain, version = "", None
            for f2, _, v2 in _fields(v):
                if f2 == 1:
                    domain = _text(v2)
                elif f2 == 2:
                    version = v2
            if domain in ("", "ai.onnx"):
                opset = version
    if graph is None:
        raise ConversionError("not an ONNX model (no graph)")
    nodes, inits, inputs, outputs = [], {}, [], []
    for field, wire, v in _fields(graph):
        if wire != _WIRE_LEN:
            continue
        if field == 1:
            nodes.append(_parse_node(v, len(nodes)))
        elif field == 5:
            t = _parse_tensor(v)
            if isinstance(t, _Unsupported):
                inits[t.name] = t
            else:
                inits[t[0]] = t[1]
        elif field == 11:
            inputs.append(_value_info_name(v))
        elif field == 12:
            outputs.append(_value_info_name(v))
    if not nodes:
        raise ConversionError("not an ONNX model of a network (the graph has no nodes)")
    return {"nodes": nodes, "initializers": inits, "inputs": inputs, "outputs": outputs, "opset": opset}


# ===========================================================================
# ONNX graph -> face model tensors

_PASS_THROUGH = ("Identity", "Dropout")
_ALLOWED_OPS = {"Conv", "BatchNormalization", "PRelu", "Gemm", "Add", "Relu", "Clip", "Reshape", "Flatten",
                "Identity", "Dropout", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast"}


class _Graph:
    """Value producers, consumers and constants of a parsed graph (Identity/Dropout see-through)."""

    def __init__(self, g):
        self.nodes = g["nodes"]
        self.consts = dict(g["initializers"])
        self.alias = {}
        for n in self.nodes:
            if n.op == "Constant" and n.outputs:
                self.consts[n.outputs[0]] = self._constant_value(n)
            elif n.op in _PASS_THROUGH and n.inputs and n.outputs:
                src = self.canon(n.inputs[0])
                if src in self.consts:
                    self.consts[n.outputs[0]] = self.consts[src]
                else:
                    self.alias[n.outputs[0]] = src
        self.producer, self.consumers = {}, collections.defaultdict(list)
        for n in self.nodes:
            if n.op in _PASS_THROUGH or n.op == "Constant":
                continue
            for o in n.outputs:
                self.producer[o] = n
            for i in n.inputs:
                if i:
                    self.consumers[self.canon(i)].append(n)
        for o in g["outputs"]:
            self.consumers[self.canon(o)].append(None)  # a graph output
        self.input = next((i for i in g["inputs"] if i not in g["initializers"]), None)
        if self.input is None:
            raise ConversionError("the ONNX graph has no input")

    @staticmethod
    def _constant_value(n):
        a = n.attrs
        if "value" in a:
            return a["value"]
        if "value_float" in a:
            return np.array(a["value_float"], np.float32)
        if "value_floats" in a:
            return np.array(a["value_floats"], np.float32)
        if "value_int" in a:
            return np.array(a["value_int"], np.int64)
        if "value_ints" in a:
            return np.array(a["value_ints"], np.int64)
        return _Unsupported(n.outputs[0], "a Constant node of an unsupported kind")

    def canon(self, name):
        while name in self.alias:
            name = self.alias[name]
        return name

    def const(self, name, node, what):
        """The constant array behind input `name` of `node`, or a ConversionError."""
        v = self.consts.get(self.canon(name)) if name else None
        if v is None:
            raise ConversionError(f"{node.label()}: its {what} ({name!r}) is not a constant of the graph")
        if isinstance(v, _Unsupported):
            raise ConversionError(f"{node.label()}: its {what} ({name!r}) uses {v.why}, which is not supported")
        return v

    def is_const(self, name):
        return bool(name) and self.canon(name) in self.consts


def _ints(node, key, default):
    v = node.attrs.get(key, default)
    return [int(x) for x in v] if isinstance(v, (list, tuple)) else v


def _scalar(a):
    """The single value of a constant whose elements are all equal, else None."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    if a.size == 0 or not np.all(a == a[0]):
        return None
    return float(a[0])


def _absorb_normalisation(graph, mean, std):
    """Follows Sub/Add/Mul/Div-by-constant nodes from the graph input. Returns (value name the
    network proper reads, mean, std, the absorbed nodes); mean/std are updated so that
    (p - mean) / std is what the network proper sees when the graph is fed (p - mean0) / std0."""
    value, absorbed = graph.input, []
    while True:
        users = graph.consumers.get(value, [])
        if len(users) != 1 or users[0] is None or users[0].op not in ("Sub", "Add", "Mul", "Div"):
            return value, mean, std, absorbed
        n = users[0]
        if len(n.inputs) != 2 or len(n.outputs) != 1:
            return value, mean, std, absorbed
        first = graph.canon(n.inputs[0]) == value
        other = n.inputs[1] if first else n.inputs[0]
        if not graph.is_const(other) or (not first and n.op in ("Sub", "Div")):
            raise ConversionError(f"{n.label()}: an input normalisation the converter does not understand")
        c = _scalar(graph.const(other, n, "constant"))
        if c is None:
            raise ConversionError(f"{n.label()}: per-channel input normalisation is not supported "
                                  "(only one constant for all channels)")
        if n.op == "Sub":
            mean += c * std
        elif n.op == "Add":
            mean -= c * std
        elif n.op == "Mul":
            if c == 0:
                raise ConversionError(f"{n.label()}: multiplies the input by 0")
            std /= c
        else:
            if c == 0:
                raise ConversionError(f"{n.label()}: divides the input by 0")
            std *= c
        value = graph.canon(n.outputs[0])
        absorbed.append(n)


class _Entry:
    """A parameter-carrying op of the graph: conv, linear, bn (standalone) or prelu."""

    def __init__(self, kind, node, inp, out):
        self.kind, self.node, self.input, self.out = kind, node, inp, out
        self.weight = self.bias = None
        self.bn = None  # (gamma, beta, mean, var, eps, node) of a BatchNormalization folded into it
        self.attrs = {}

    def describe(self):
        w = None if self.weight is None else list(self.weight.shape)
        if self.kind == "conv":
            a = self.attrs
            k = a["kernel"]
            return (f"Conv weight {w}, kernel {k[0]}x{k[1] if len(k) > 1 else k[0]}, stride {a['strides']}, "
                    f"pads {a['pads']}, group {a['group']}")
        if self.kind == "linear":
            return f"{self.node.op} weight [out, in] = {w}"
        if self.kind == "bn":
            return f"BatchNormalization of {self.weight.size} channels"
        return f"PRelu with {self.weight.size} slopes"


def _bn_params(graph, n):
    if len(n.inputs) < 5:
        raise ConversionError(f"{n.label()}: has {len(n.inputs)} inputs, expected 5")
    if int(n.attrs.get("training_mode", 0)) != 0:
        raise ConversionError(f"{n.label()}: training_mode is set (export the model in eval mode)")
    if int(n.attrs.get("spatial", 1)) != 1:
        raise ConversionError(f"{n.label()}: spatial=0 BatchNormalization is not supported")
    vals = [np.asarray(graph.const(n.inputs[i], n, what), np.float64).reshape(-1)
            for i, what in zip(range(1, 5), ("scale", "bias", "mean", "variance"))]
    if len({v.size for v in vals}) != 1:
        raise ConversionError(f"{n.label()}: scale, bias, mean and variance differ in length")
    eps = float(n.attrs.get("epsilon", 1e-5))
    if not eps > 0:
        raise ConversionError(f"{n.label()}: epsilon {eps} is not positive")
    return vals + [eps, n]


def _collect_entries(graph, skip):
    """The parameter-carrying ops in graph order, with BatchNorms attached to the Conv/linear they
    follow; checks the other nodes. `skip`: the absorbed input-normalisation nodes."""
    entries, by_out = [], {}
    skip = {id(n) for n in skip}
    for n in graph.nodes:
        if id(n) in skip:
            continue
        if n.domain not in ("", "ai.onnx"):
            raise ConversionError(f"{n.label()}: an op of domain {n.domain!r} is not part of MobileFaceNet or IResNet")
        ins = [graph.canon(i) if i else "" for i in n.inputs]
        if n.op == "Conv":
            e = _Entry("conv", n, ins[0], n.outputs[0])
            if len(ins) < 2:
                raise ConversionError(f"{n.label()}: has no weight input")
            e.weight = np.asarray(graph.const(ins[1], n, "weight"), np.float64)
            if e.weight.ndim != 4:
                raise ConversionError(f"{n.label()}: a {e.weight.ndim - 2}-d convolution, expected 2-d")
            if len(ins) > 2 and ins[2]:
                e.bias = np.asarray(graph.const(ins[2], n, "bias"), np.float64).reshape(-1)
            auto_pad = n.attrs.get("auto_pad", b"NOTSET")
            auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
            pads = _ints(n, "pads", [0, 0, 0, 0])
            if auto_pad not in ("NOTSET", "VALID"):
                raise ConversionError(f"{n.label()}: auto_pad {auto_pad} is not supported (explicit pads only)")
            e.attrs = {"kernel": _ints(n, "kernel_shape", list(e.weight.shape[2:])), "strides": _ints(n, "strides", [1, 1]),
                       "pads": pads if auto_pad == "NOTSET" else [0, 0, 0, 0], "group": int(n.attrs.get("group", 1)),
                       "dilations": _ints(n, "dilations", [1, 1])}
        elif n.op == "Gemm":
            e = _Entry("linear", n, ins[0], n.outputs[0])
            if int(n.attrs.get("transA", 0)):
                raise ConversionError(f"{n.label()}: transA=1 is not supported")
            b = np.asarray(graph.const(ins[1], n, "weight (B)"), np.float64)
            if b.ndim != 2:
                raise ConversionError(f"{n.label()}: weight B has {b.ndim} dimensions, expected 2")
            e.weight = float(n.attrs.get("alpha", 1.0)) * (b if int(n.attrs.get("transB", 0)) else b.T)
            if len(ins) > 2 and ins[2]:
                c = np.asarray(graph.const(ins[2], n, "bias (C)"), np.float64).reshape(-1)
                if c.size == 1:
                    c = np.full(e.weight.shape[0], c[0])
                e.bias = float(n.attrs.get("beta", 1.0)) * c
        elif n.op == "MatMul" and len(ins) == 2 and graph.is_const(ins[1]):
            e = _Entry("linear", n, ins[0], n.outputs[0])
            b = np.asarray(graph.const(ins[1], n, "weight"), np.float64)
            if b.ndim != 2:
                raise ConversionError(f"{n.label()}: weight has {b.ndim} dimensions, expected 2")
            e.weight = b.T
        elif n.op == "Add" and len(ins) == 2 and any(i in by_out for i in ins) and any(graph.is_const(i) for i in ins):
            src = by_out[ins[0] if ins[0] in by_out else ins[1]]
            c = np.asarray(graph.const(ins[1] if ins[0] in by_out else ins[0], n, "bias"), np.float64).reshape(-1)
            if src.kind != "linear" or src.node.op != "MatMul" or src.bias is not None or src.bn is not None:
                raise ConversionError(f"{n.label()}: adds a constant to the output of {src.node.label()}, "
                                      "which is not a layer of these networks")
            if len(graph.consumers[src.out]) != 1:
                raise ConversionError(f"{src.node.label()}: its output is used before its bias is added")
            src.bias = np.full(src.weight.shape[0], c[0]) if c.size == 1 else c
            del by_out[src.out]
            src.out = n.outputs[0]
            by_out[src.out] = src
            continue
        elif n.op == "BatchNormalization":
            src = by_out.get(ins[0])
            params = _bn_params(graph, n)
            if src is not None and src.kind in ("conv", "linear") and src.bn is None:
                if len(graph.consumers[src.out]) != 1:
                    raise ConversionError(f"{src.node.label()}: its output feeds {n.label()} and other nodes, "
                                          "so the BatchNorm cannot be folded")
                src.bn = params
                del by_out[src.out]
                src.out = n.outputs[0]
                by_out[src.out] = src
                continue
            e = _Entry("bn", n, ins[0], n.outputs[0])
            e.weight, e.bn = params[0], params
        elif n.op == "PRelu":
            e = _Entry("prelu", n, ins[0], n.outputs[0])
            if len(ins) < 2:
                raise ConversionError(f"{n.label()}: has no slope input")
            e.weight = np.asarray(graph.const(ins[1], n, "slope"), np.float64).reshape(-1)
        else:
            _check_plain_node(graph, n)
            continue
        entries.append(e)
        by_out[e.out] = e
    return entries


def _check_plain_node(graph, n):
    """A node without parameters: its op must be one these networks use, with no weight-like constant."""
    if n.op not in _ALLOWED_OPS:
        raise ConversionError(f"{n.label()}: op {n.op} is not part of MobileFaceNet or IResNet")
    if n.op == "Add" and any(graph.is_const(i) for i in n.inputs):
        raise ConversionError(f"{n.label()}: adds a constant, which is not part of MobileFaceNet or IResNet")
    if n.op == "Clip":
        lo, hi = _clip_bounds(graph, n)
        if (lo, hi) != (0.0, 6.0):
            raise ConversionError(f"{n.label()}: Clip({lo}, {hi}) is not ReLU6")
    if n.op == "Gather":  # only shape arithmetic, never a gather from the data (e.g. a channel swap)
        src = graph.producer.get(graph.canon(n.inputs[0]))
        if not (graph.is_const(n.inputs[0]) or (src is not None and src.op == "Shape")):
            raise ConversionError(f"{n.label()}: a Gather from the data is not part of MobileFaceNet or IResNet")


def _clip_bounds(graph, n):
    lo, hi = n.attrs.get("min", -np.inf), n.attrs.get("max", np.inf)
    if len(n.inputs) > 1 and n.inputs[1]:
        lo = _scalar(graph.const(n.inputs[1], n, "min"))
    if len(n.inputs) > 2 and n.inputs[2]:
        hi = _scalar(graph.const(n.inputs[2], n, "max"))
    return (None if lo is None else float(lo)), (None if hi is None else float(hi))


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


# ===========================================================================
# PyTorch checkpoints without torch

_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_PROTOCOL = 1001
# storage type -> element dtype ("bf16" is widened to float32 when a tensor is built)
_STORAGES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "BFloat16Storage": "bf16",
             "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
             "ByteStorage": "u1", "BoolStorage": "?", "UntypedStorage": "u1"}


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, _STORAGES[name]

    @property
    def itemsize(self):
        return 2 if self.dtype == "bf16" else np.dtype(self.dtype).itemsize


class _Storage:
    """A storage of the checkpoint; `data` (1-d numpy) is filled once its bytes are read."""

    def __init__(self, key, stype, numel):
        self.key, self.stype, self.numel, self.data, self.base, self.offset = key, stype, numel, None, None, 0


class _TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise ConversionError("a tensor in the checkpoint does not refer to a storage")
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) and all(isinstance(x, int) and x >= 0 for x in size + stride)):
        raise ConversionError("a tensor in the checkpoint has a malformed size or stride")
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles state dicts only: any global but the allowed ones is refused."""

    def __init__(self, file, storage_for):
        super().__init__(file)
        self._storage_for = storage_for

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        raise ConversionError(f"the pickle refers to {module}.{name}, which is not allowed: only state dicts of "
                              "tensors are read (no code from the file is run; save model.state_dict())")

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType) or not isinstance(pid[4], int)):
            raise ConversionError(f"the pickle has a persistent id the converter does not know: {str(pid)[:60]}")
        view = pid[5] if len(pid) == 6 else None
        return self._storage_for(str(pid[2]), pid[1], int(pid[4]), view)


def _safe_load(f, storage_for=None):
    def no_storage(*_):
        raise ConversionError("a storage reference where none is expected")
    try:
        return _RestrictedUnpickler(f, storage_for or no_storage).load()
    except ConversionError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, RecursionError) as e:
        raise ConversionError(f"malformed pickle ({type(e).__name__}: {' '.join(str(e).split())[:100]})") from None


def _storage_table():
    storages = {}

    def storage_for(key, stype, numel, view):
        root = storages.get(key)
        if root is None:
            root = storages[key] = _Storage(key, stype, numel)
        if view is None:
            return root
        # legacy storage view: (view key, offset in elements, view size)
        if not (isinstance(view, tuple) and len(view) == 3):
            raise ConversionError("malformed storage view in the checkpoint")
        vkey, offset, size = view
        v = storages.get(("view", vkey))
        if v is None:
            v = storages[("view", vkey)] = _Storage(vkey, stype, size)
            v.base, v.offset = root, int(offset)
        return v
    return storages, storage_for


def _set_storage_bytes(storage, raw, byteorder):
    st = storage.stype
    if st.dtype == "bf16":
        bits = np.frombuffer(raw, "<u2" if byteorder == "little" else ">u2")
        storage.data = (bits.astype(np.uint32) << 16).view(np.float32)
    else:
        dt = np.dtype(st.dtype)
        if byteorder != "little" and dt.itemsize > 1:
            dt = dt.newbyteorder(">")
        storage.data = np.frombuffer(raw, dt)
    if storage.data.size < storage.numel:
        raise ConversionError(f"storage {storage.key}: {storage.data.size} elements, the pickle says {storage.numel}")


def _read_legacy(blob):
    f = io.BytesIO(blob)
    magic = _safe_load(f)
    if magic != _TORCH_MAGIC:
        raise ConversionError("not a PyTorch checkpoint (neither a zip archive nor the legacy torch.save magic number)")
    protocol = _safe_load(f)
    if protocol != _TORCH_PROTOCOL:
        raise ConversionError(f"legacy torch.save protocol {protocol!r}, expected {_TORCH_PROTOCOL}")
    sys_info = _safe_load(f)
    if not isinstance(sys_info, dict):
        raise ConversionError("malformed legacy checkpoint (system info is not a dict)")
    storages, storage_for = _storage_table()
    obj = _safe_load(f, storage_for)
    keys = _safe_load(f)
    if not isinstance(keys, list):
        raise ConversionError("malformed legacy checkpoint (the storage key list is missing)")
    # The element counts and data are little-endian whatever sys_info says (torch writes them so).
    for key in keys:
        root = storages.get(str(key))
        if root is None:
            raise ConversionError(f"malformed legacy checkpoint (storage {key!r} is not referenced)")
        head = f.read(8)
        if len(head) < 8:
            raise ConversionError(f"the file is truncated (storage {key} is missing)")
        n = int.from_bytes(head, "little")
        nbytes = n * root.stype.itemsize
        raw = f.read(nbytes)
        if len(raw) < nbytes:
            raise ConversionError(f"the file is truncated (storage {key} needs {nbytes} bytes, {len(raw)} left)")
        _set_storage_bytes(root, raw, "little")
    return obj, storages


def _read_zip(blob):
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ConversionError(f"a damaged zip archive ({e})") from None
    pkl = sorted((n for n in names if n == "data.pkl" or n.endswith("/data.pkl")), key=len)
    if not pkl:
        raise ConversionError("a zip archive without data.pkl: not a torch.save checkpoint")
    prefix = pkl[0][:-len("data.pkl")]
    if any(n.startswith(prefix + "code/") for n in names):
        raise ConversionError("a TorchScript archive (torch.jit.save) is not supported: torch.save(model.state_dict())")

    def member(name):
        try:
            return zf.read(name)
        except KeyError:
            raise ConversionError(f"the archive lacks {name}") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
            raise ConversionError(f"the archive member {name} is damaged ({e})") from None

    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = member(prefix + "byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise ConversionError(f"unknown byteorder {byteorder!r} in the archive")
    storages, storage_for = _storage_table()
    obj = _safe_load(io.BytesIO(member(pkl[0])), storage_for)
    for key, st in storages.items():
        if isinstance(key, tuple):
            raise ConversionError("storage views are not expected in a zip checkpoint")
        raw = member(f"{prefix}data/{key}")
        need = st.numel * st.stype.itemsize
        if len(raw) < need:
            raise ConversionError(f"storage {key}: {len(raw)} bytes in the archive, {need} needed")
        _set_storage_bytes(st, raw[:need], byteorder)
    return obj, storages


def _tensor_array(ref):
    st = ref.storage
    data = st.data if st.base is None else st.base.data[st.offset:st.offset + st.numel]
    if data is None:
        raise ConversionError(f"storage {st.key} has no data in the file")
    if len(ref.size) == 0:
        extent = ref.offset + 1
    elif 0 in ref.size:
        return np.zeros(ref.size, data.dtype)
    else:
        extent = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) + 1
    if ref.offset < 0 or extent > min(st.numel, data.size):
        raise ConversionError(f"a tensor reaches past the end of storage {st.key}")
    view = np.lib.stride_tricks.as_strided(data[ref.offset:], shape=ref.size,
                                           strides=[s * data.itemsize for s in ref.stride], writeable=False)
    return np.array(view, dtype=data.dtype.newbyteorder("="))


def read_torch_state_dict(blob):
    """The state dict of a torch.save file (bytes) as {key: numpy array}, without torch."""
    if blob[:4] == b"PK\x03\x04":
        obj, _ = _read_zip(blob)
    elif blob[:2] == b"\x80\x02" or blob[:1] == b"\x80":
        obj, _ = _read_legacy(blob)
    else:
        raise ConversionError("not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)")
    for _ in range(3):
        if isinstance(obj, dict) and obj and not all(isinstance(v, _TensorRef) for v in obj.values()):
            inner = next((obj[k] for k in ("state_dict", "model_state_dict", "model") if isinstance(obj.get(k), dict)),
                         None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict):
        raise ConversionError(f"the checkpoint holds a {type(obj).__name__}, not a state dict")
    if not obj:
        raise ConversionError("the state dict is empty")
    bad = next((k for k, v in obj.items() if not isinstance(v, _TensorRef)), None)
    if bad is not None:
        raise ConversionError(f"entry {bad!r} is a {type(obj[bad]).__name__}, not a tensor (expected a state dict, "
                              "or a dict with 'state_dict', 'model_state_dict' or 'model')")
    if not all(isinstance(k, str) for k in obj):
        raise ConversionError("the state dict has keys that are not strings")
    keys = list(obj)
    if all(k.startswith("module.") for k in keys):
        keys = [k[len("module."):] for k in keys]
    return {k: _tensor_array(v) for k, v in zip(keys, obj.values())}


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
    source = f"tools/convert_face.py from {kind} {os.path.basename(path)} (sha256 {digest})"
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
        msg = " ".join(str(e).split()) or type(e).__name__
        if not isinstance(e, (ConversionError, fmf.FaceModelError)):
            msg = f"{type(e).__name__}: {msg}"
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    print(f"{arch}, embed_dim {config['embed_dim']}, {n} parameters, batch_norm {config['batch_norm']} -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

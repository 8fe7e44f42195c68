"""Face-recognition weights written from numpy for the converter's tests (Tests/cli/
test_convert_face.py): torch.save files in both formats (a pickle protocol 2 writer, opcode by
opcode) and ONNX graphs (a protobuf writer and a graph builder following the face model's
layers), so that tools/converters/convert_face.py is tested without torch or onnx."""

import io
import struct
import zipfile

import numpy as np

import face_model_file as fmf  # tools/ is on sys.path (test_convert_face.py puts it there)


# ---------------------------------------------------------------------------
# torch.save files from numpy: pickle protocol 2, written opcode by opcode

_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE = {np.dtype("float32"): "FloatStorage", np.dtype("float16"): "HalfStorage",
            np.dtype("float64"): "DoubleStorage", np.dtype("int64"): "LongStorage"}


def _p_str(s):
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def _p_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if -2 ** 31 <= v < 2 ** 31:
        return b"J" + struct.pack("<i", v)
    n = (v.bit_length() + 8) // 8
    return b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True)


def _p_tuple(items):
    return b"(" + b"".join(items) + b"t"


def _p_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _p_dict(items, ordered=False):
    head = _p_global("collections", "OrderedDict") + b")R" if ordered else b"}"
    return head + b"(" + b"".join(_p_str(k) + v for k, v in items) + b"u"


def _pickle(body):
    return b"\x80\x02" + body + b"."


def torch_save_bytes(state, fmt, wrap=None, prefix=""):
    """The bytes of torch.save(state_dict) in the "legacy" or "zip" format, from numpy arrays
    (one storage per tensor). wrap: put the state dict under this key of an outer dict."""
    storages, items = [], []
    for i, (name, a) in enumerate(state.items()):
        a = np.ascontiguousarray(a)
        key = str(1000 + i) if fmt == "legacy" else str(i)
        pid = [_p_str("storage"), _p_global("torch", _STORAGE[a.dtype]), _p_str(key), _p_str("cpu"), _p_int(a.size)]
        if fmt == "legacy":
            pid.append(b"N")  # no view
        stride, s = [], 1
        for d in reversed(a.shape):
            stride.insert(0, s)
            s *= d
        tensor = (_p_global("torch._utils", "_rebuild_tensor_v2") + b"(" + _p_tuple(pid) + b"Q" + _p_int(0)
                  + _p_tuple([_p_int(d) for d in a.shape]) + _p_tuple([_p_int(d) for d in stride]) + b"\x89"
                  + _p_global("collections", "OrderedDict") + b")R" + b"tR")
        items.append((prefix + name, tensor))
        storages.append((key, a.astype(a.dtype.newbyteorder("<")).tobytes(), a.size))
    obj = _p_dict(items, ordered=True)
    if wrap is not None:
        obj = _p_dict([("epoch", _p_int(7)), (wrap, obj)])
    if fmt == "legacy":
        sys_info = _p_dict([("protocol_version", _p_int(1001)), ("little_endian", b"\x88"),
                            ("type_sizes", _p_dict([("short", _p_int(2)), ("int", _p_int(4)), ("long", _p_int(4))]))])
        out = [_pickle(_p_int(_MAGIC)), _pickle(_p_int(1001)), _pickle(sys_info), _pickle(obj),
               _pickle(b"](" + b"".join(_p_str(k) for k, _, _ in storages) + b"e")]
        out += [struct.pack("<q", n) + raw for _, raw, n in storages]
        return b"".join(out)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", _pickle(obj))
        z.writestr("archive/byteorder", "little")
        for key, raw, _ in storages:
            z.writestr(f"archive/data/{key}", raw)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def with_batch_counters(sd):
    """sd plus a num_batches_tracked (int64 scalar) per BatchNorm, as a real state_dict() has."""
    out = {}
    for k, v in sd.items():
        out[k] = v
        if k.endswith(".running_var"):
            out[k[: -len("running_var")] + "num_batches_tracked"] = np.array(1234, np.int64)
    return out


# ---------------------------------------------------------------------------
# ONNX from numpy: a protobuf writer and a graph builder following the spec's layers


def _uvarint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _pb_int(field, v):
    return _uvarint(field << 3) + _uvarint(v)


def _pb_bytes(field, b):
    b = b.encode() if isinstance(b, str) else b
    return _uvarint(field << 3 | 2) + _uvarint(len(b)) + b


_ONNX_TYPES = {np.dtype("float32"): 1, np.dtype("int64"): 7}


def _pb_tensor(name, a, packed_floats=False):
    a = np.asarray(a)
    out = b"".join(_pb_int(1, d) for d in a.shape) + _pb_int(2, _ONNX_TYPES[a.dtype]) + _pb_bytes(8, name)
    if packed_floats:  # float_data instead of raw_data
        return out + _pb_bytes(4, a.astype("<f4").tobytes())
    return out + _pb_bytes(9, a.astype(a.dtype.newbyteorder("<")).tobytes())


def _pb_attr(name, v):
    out = _pb_bytes(1, name)
    if isinstance(v, float):
        return out + _uvarint(2 << 3 | 5) + struct.pack("<f", v) + _pb_int(20, 1)
    if isinstance(v, int):
        return out + _pb_int(3, v) + _pb_int(20, 2)
    if isinstance(v, np.ndarray):
        return out + _pb_bytes(5, _pb_tensor("", v)) + _pb_int(20, 4)
    return out + _pb_bytes(8, b"".join(_uvarint(x) for x in v)) + _pb_int(20, 7)  # ints, packed


class OnnxBuilder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, a, packed=False):
        self.count += 1
        name = f"w{self.count}"
        self.inits.append(_pb_tensor(name, a, packed))
        return name

    def node(self, op, inputs, **attrs):
        self.count += 1
        out = f"v{self.count}"
        self.nodes.append(b"".join(_pb_bytes(1, i) for i in inputs) + _pb_bytes(2, out) + _pb_bytes(3, f"{op}_{self.count}")
                          + _pb_bytes(4, op) + b"".join(_pb_bytes(5, _pb_attr(k, v)) for k, v in attrs.items()))
        return out

    def model(self, output):
        def value_info(name, dims):  # ValueInfoProto{name, type: TypeProto{tensor_type{elem_type FLOAT, shape}}}
            shape = b"" if dims is None else _pb_bytes(2, b"".join(_pb_bytes(1, _pb_int(1, d)) for d in dims))
            return _pb_bytes(1, name) + _pb_bytes(2, _pb_bytes(1, _pb_int(1, 1) + shape))
        graph = (b"".join(_pb_bytes(1, n) for n in self.nodes) + _pb_bytes(2, "g")
                 + b"".join(_pb_bytes(5, t) for t in self.inits) + _pb_bytes(11, value_info("input", (1, 3, 112, 112)))
                 + _pb_bytes(12, value_info(output, None)))
        return _pb_int(1, 8) + _pb_bytes(2, "test") + _pb_bytes(8, _pb_int(2, 17)) + _pb_bytes(7, graph)


def synthetic_onnx(arch, sd, fold=True, prefix=(), shortcut_first=False, eps=None, extra=None):
    """An ONNX graph of `arch` with the stored state dict `sd`, wired as the spec says. fold: BN folded
    into the convs (as torch's exporter does) or BatchNormalization nodes; prefix: (op, constant)
    nodes on the input; shortcut_first: IResNet downsample convs emitted before their block;
    eps: {BN name: epsilon}; extra: (after layer name, op) to insert a foreign node."""
    eps = eps or {}
    b = OnnxBuilder()
    x = "input"
    for op, c in prefix:
        x = b.node(op, [x, b.const(np.array(c, np.float32))])
    layers = fmf.layers(arch, fmf.infer_embed_dim(arch, sd))
    by_name = {layer["name"]: layer for layer in layers}
    relu6 = (b.node("Constant", [], value=np.array(0.0, np.float32)),
             b.node("Constant", [], value=np.array(6.0, np.float32)))

    def bn_node(name, inp):
        return b.node("BatchNormalization", [inp] + [b.const(sd[f"{name}.{s}"]) for s in fmf.BN_SUFFIXES],
                      epsilon=eps.get(name, 1e-5))

    def conv(layer, inp):
        name, bn = layer["name"], layer["bn"]
        attrs = dict(group=layer["groups"], kernel_shape=[layer["k"]] * 2, strides=[layer["stride"]] * 2,
                     pads=[layer["pad"]] * 4)
        if fold:
            w, bias = fmf.fold_batch_norm(sd[f"{name}.weight"], sd.get(f"{name}.bias"),
                                          *(sd[f"{bn}.{s}"] for s in fmf.BN_SUFFIXES), eps=eps.get(bn, 1e-5))
            return b.node("Conv", [inp, b.const(w), b.const(bias)], **attrs)
        ins = [inp, b.const(sd[f"{name}.weight"])] + ([b.const(sd[f"{name}.bias"])] if layer["bias"] else [])
        return bn_node(bn, b.node("Conv", ins, **attrs))

    block_in, done = None, set()
    for layer in layers:
        name, kind = layer["name"], layer["kind"]
        if name in done:
            continue
        if kind == "conv":
            if name.endswith("downsample.0"):
                x = b.node("Add", [main, conv(layer, block_in)])
            else:
                if name.endswith(".conv.0.0"):
                    block_in = x
                x = conv(layer, x)
                if layer["act"] == "relu6":
                    x = b.node("Clip", [x, *relu6])
                elif layer["act"] == "relu":
                    x = b.node("Relu", [x])
                if name.endswith(".conv.2"):  # MobileFaceNet block end
                    expand, dw = by_name[name[: -len("2")] + "0.0"], by_name[name[: -len("2")] + "1.0"]
                    if dw["stride"] == 1 and expand["cin"] == layer["cout"]:
                        x = b.node("Add", [block_in, x])
                if name.endswith(".conv2"):  # IResNet block end: Add now, or with the downsample
                    main = x
                    ds = by_name.get(name[: -len("conv2")] + "downsample.0")
                    if ds is None:
                        x = b.node("Add", [block_in, main])
                    elif ds["name"] in done:
                        x = b.node("Add", [shortcut, main])
        elif kind == "bn":
            if name.endswith(".bn1"):
                block_in = x
                ds = by_name.get(name[: -len("bn1")] + "downsample.0")
                if shortcut_first and ds is not None:
                    shortcut = conv(ds, block_in)
                    done.add(ds["name"])
            x = bn_node(name, x)
        elif kind == "prelu":
            x = b.node("PRelu", [x, b.const(sd[f"{name}.weight"].reshape(-1, 1, 1), packed=True)])
        else:  # linear
            x = b.node("Flatten", [x], axis=1)
            if fold:
                w, bias = fmf.fold_batch_norm(sd["fc.weight"], sd["fc.bias"],
                                              *(sd[f"features.{s}"] for s in fmf.BN_SUFFIXES))
                x = b.node("Gemm", [x, b.const(w), b.const(bias)], transB=1)
            else:
                x = bn_node("features", b.node("Gemm", [x, b.const(sd["fc.weight"]), b.const(sd["fc.bias"])],
                                               transB=1, alpha=1.0, beta=1.0))
        if extra is not None and name == extra[0]:
            x = b.node(extra[1], [x])
    if arch == "mobilefacenet":
        x = b.node("Reshape", [x, b.node("Constant", [], value_ints=[1, -1])])
    return b.model(x)


def random_mobilefacenet(seed=3):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in fmf.layout("mobilefacenet", "stored"):
        if name.endswith("running_var"):
            out[name] = rng.uniform(0.5, 1.5, shape)
        else:
            out[name] = rng.normal(0, 0.1, shape)
    return {k: v.astype(np.float32) for k, v in out.items()}

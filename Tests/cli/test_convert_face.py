"""tools/convert_face.py without the Swift library, on numpy alone: PyTorch checkpoints in both
torch.save formats (written here by a small pickle writer, plus two tiny files torch itself
wrote: Tests/Fixtures/face/tiny_*.pt), synthetic ONNX graphs (written here by a small protobuf
writer), the real MobileFaceNet weights when ../shared/models/mobilefacenet is there, and the
failures (one line on stderr, exit status 2)."""
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert_face  # noqa: E402
import face_model_file as fmf  # noqa: E402
import safetensors_io  # noqa: E402

CONVERT = os.path.join(ROOT, "tools", "convert_face.py")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "face")
WEIGHTS = os.environ.get("AVPGAN_FACE_WEIGHTS_DIR",
                         os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "mobilefacenet")))


def run(*args):
    r = subprocess.run([sys.executable, CONVERT, *map(str, args)], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def convert_ok(*args):
    code, out, err = run(*args)
    assert code == 0, err
    assert len(out.splitlines()) == 1 and not err, (out, err)
    return out


def fails(*args, match):
    code, out, err = run(*args)
    assert code == 2, (code, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("convert_face.py: error: "), err
    assert match in err, err
    return err


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


@pytest.fixture(scope="module")
def iresnet18():
    return fmf.random_iresnet_state_dict("iresnet18", 7)


@pytest.fixture(scope="module")
def iresnet18_legacy_pt(tmp_path_factory, iresnet18):
    path = tmp_path_factory.mktemp("pt") / "iresnet18_legacy.pt"
    path.write_bytes(torch_save_bytes(with_batch_counters(iresnet18), "legacy"))
    return path


def read(path):
    tensors, meta = safetensors_io.read(str(path))
    return tensors, meta, json.loads(meta["avpgan.config"])


def assert_same_tensors(got, want, arch, batch_norm, exact=True):
    assert list(got) == [n for n, _ in fmf.layout(arch, batch_norm)], "tensors not in layout order"
    for k, v in want.items():
        assert got[k].dtype == np.float32 and got[k].shape == v.shape, k
        if exact:
            assert np.array_equal(got[k], v), f"{k} differs"


def test_legacy_pt_roundtrip(tmp_path, iresnet18, iresnet18_legacy_pt):
    out = tmp_path / "face.safetensors"
    line = convert_ok("--torch", iresnet18_legacy_pt, "--arch", "iresnet18", "-o", out)
    n = sum(v.size for v in iresnet18.values())
    assert line.strip() == f"iresnet18, embed_dim 512, {n} parameters, batch_norm stored -> {out}"
    got, meta, config = read(out)
    assert_same_tensors(got, iresnet18, "iresnet18", "stored")
    assert meta["avpgan.format"] == "1" and meta["avpgan.arch"] == "iresnet18"
    assert "iresnet18_legacy.pt" in meta["avpgan.source"]
    assert config == {"kind": "face", "input_size": 112, "embed_dim": 512, "input_mean": 127.5, "input_std": 127.5,
                      "channel_order": "rgb", "batch_norm": "stored", "batch_norm_eps": 1e-5}


def test_zip_pt_roundtrip_folded(tmp_path, iresnet18):
    pt = tmp_path / "iresnet18.pth"
    pt.write_bytes(torch_save_bytes(with_batch_counters(iresnet18), "zip", wrap="state_dict",
                                    prefix="module."))
    out = tmp_path / "face.safetensors"
    convert_ok("--torch", pt, "--arch", "iresnet18", "--fold", "--input-std", "128", "--channel-order", "bgr",
               "-o", out)
    got, _, config = read(out)
    assert_same_tensors(got, fmf.fold_state_dict("iresnet18", iresnet18), "iresnet18", "folded")
    assert (config["batch_norm"], config["input_std"], config["channel_order"]) == ("folded", 128.0, "bgr")


def test_real_torch_save_files():
    expected = dict(np.load(os.path.join(FIXTURES, "tiny.npz")))
    for name in ("tiny_legacy.pt", "tiny_zip.pt"):
        with open(os.path.join(FIXTURES, name), "rb") as fh:
            sd = convert_face.read_torch_state_dict(fh.read())
        assert list(sd) == list(expected), name  # zip: unwrapped from model_state_dict, "module." stripped
        for k, v in expected.items():
            assert sd[k].shape == v.shape and np.array_equal(sd[k].astype(v.dtype), v), f"{name}: {k}"
        assert sd["extra.half"].dtype == np.float16 and sd["extra.double"].dtype == np.float64


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


@pytest.mark.parametrize("fold", [True, False], ids=["bn-folded", "bn-nodes"])
def test_synthetic_mobilefacenet_onnx(tmp_path, fold):
    sd = random_mobilefacenet()
    f = tmp_path / "m.onnx"
    f.write_bytes(synthetic_onnx("mobilefacenet", sd, fold=fold))
    out = tmp_path / "m.safetensors"
    assert convert_ok("--onnx", f, "-o", out).startswith("mobilefacenet, embed_dim 128, ")
    got, _, config = read(out)
    assert_same_tensors(got, fmf.fold_state_dict("mobilefacenet", sd), "mobilefacenet", "folded")
    assert (config["input_mean"], config["input_std"], config["batch_norm"]) == (127.5, 128.0, "folded")


def test_synthetic_iresnet18_onnx(tmp_path, iresnet18):
    """Unfolded BatchNorms (incl. BatchNorm1d after Gemm), shortcuts emitted first, a Sub/Mul
    normalisation at the input, arch detected."""
    f = tmp_path / "r18.onnx"
    f.write_bytes(synthetic_onnx("iresnet18", iresnet18, fold=False, prefix=[("Sub", 127.5), ("Mul", 1 / 127.5)],
                                 shortcut_first=True))
    out = tmp_path / "r18.safetensors"
    convert_ok("--onnx", f, "-o", out)
    got, meta, config = read(out)
    assert meta["avpgan.arch"] == "iresnet18"
    assert_same_tensors(got, fmf.fold_state_dict("iresnet18", iresnet18), "iresnet18", "folded")
    assert (config["input_mean"], config["input_std"], config["batch_norm_eps"]) == (127.5, 127.5, 1e-5)


# ---------------------------------------------------------------------------
# The real MobileFaceNet weights (not part of the repository)


@pytest.fixture(scope="module")
def real_weights():
    onnx, pt = (os.path.join(WEIGHTS, f"mobilefacenet.{e}") for e in ("onnx", "pt"))
    if not (os.path.isfile(onnx) and os.path.isfile(pt)):
        pytest.skip(f"MobileFaceNet weights not found in {WEIGHTS} (set AVPGAN_FACE_WEIGHTS_DIR); "
                    "they are not shipped with libavpgan")
    return onnx, pt


def test_real_mobilefacenet(tmp_path, real_weights):
    onnx, pt = real_weights
    convert_ok("--onnx", onnx, "-o", tmp_path / "onnx.safetensors")
    convert_ok("--torch", pt, "--arch", "mobilefacenet", "-o", tmp_path / "pt.safetensors")
    convert_ok("--torch", pt, "--arch", "mobilefacenet", "--fold", "-o", tmp_path / "fold.safetensors")
    a, _, ca = read(tmp_path / "onnx.safetensors")
    s, _, cs = read(tmp_path / "pt.safetensors")
    f, _, _ = read(tmp_path / "fold.safetensors")
    for got, bn in ((a, "folded"), (s, "stored"), (f, "folded")):
        assert [(k, v.shape) for k, v in got.items()] == fmf.layout("mobilefacenet", bn)
    assert ca == {"kind": "face", "input_size": 112, "embed_dim": 128, "input_mean": 127.5, "input_std": 128.0,
                  "channel_order": "rgb", "batch_norm": "folded", "batch_norm_eps": 1e-5}
    assert cs["batch_norm"] == "stored"
    assert sum(v.size for v in s.values()) == 1019648  # README: 307 tensors (51 num_batches_tracked), 1.02 M
    for k in a:  # the exporter folded with eps 1e-5, as the converter does
        rel = np.abs(a[k].astype(np.float64) - f[k]).max() / np.abs(a[k]).max()
        assert rel <= 1e-5, f"{k}: folded .pt differs from the ONNX by {rel:.2g} relative"


def test_real_mobilefacenet_wrong_arch(tmp_path, real_weights):
    onnx, pt = real_weights
    fails("--onnx", onnx, "--arch", "iresnet18", "-o", tmp_path / "x.safetensors", match="expected conv conv1 ")
    fails("--torch", pt, "--arch", "iresnet50", "-o", tmp_path / "x.safetensors", match="missing tensor 'conv1.weight'")


# ---------------------------------------------------------------------------
# Failures


def test_wrong_arch(tmp_path, iresnet18_legacy_pt):
    fails("--torch", iresnet18_legacy_pt, "--arch", "iresnet34", "-o", tmp_path / "x.safetensors",
          match="missing tensor 'layer1.2.bn1.weight' [64]")
    fails("--torch", os.path.join(FIXTURES, "tiny_zip.pt"), "--arch", "mobilefacenet", "-o", tmp_path / "x.safetensors",
          match="are not those of mobilefacenet")
    f = tmp_path / "m.onnx"
    f.write_bytes(synthetic_onnx("mobilefacenet", random_mobilefacenet()))
    fails("--onnx", f, "--arch", "iresnet100", "-o", tmp_path / "x.safetensors",
          match="expected conv conv1 (3->64, 3x3, stride 1, pad 1, groups 1) for iresnet100")


def test_truncated_files(tmp_path):
    for name in ("tiny_legacy.pt", "tiny_zip.pt"):
        with open(os.path.join(FIXTURES, name), "rb") as fh:
            blob = fh.read()
        for cut in (len(blob) // 2, len(blob) - 3):
            f = tmp_path / f"cut_{cut}_{name}"
            f.write_bytes(blob[:cut])
            fails("--torch", f, "--arch", "mobilefacenet", "-o", tmp_path / "x.safetensors", match=str(f))
    blob = synthetic_onnx("mobilefacenet", random_mobilefacenet())
    f = tmp_path / "cut.onnx"
    f.write_bytes(blob[: len(blob) - 1000])
    fails("--onnx", f, "-o", tmp_path / "x.safetensors", match="truncated protobuf")


def test_forbidden_global_is_refused_not_run(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    raw = pickle.dumps({"conv1.weight": Evil()}, protocol=2)
    legacy = tmp_path / "evil_legacy.pt"
    legacy.write_bytes(_pickle(_p_int(_MAGIC)) + _pickle(_p_int(1001)) + _pickle(b"}") + raw)
    zipped = tmp_path / "evil_zip.pt"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("evil/data.pkl", raw)
    bare = tmp_path / "evil_bare.pt"  # a bare pickle, no torch.save framing
    bare.write_bytes(raw)
    for f in (legacy, zipped):
        fails("--torch", f, "--arch", "iresnet18", "-o", tmp_path / "x.safetensors", match="system, which is not allowed")
    fails("--torch", bare, "--arch", "iresnet18", "-o", tmp_path / "x.safetensors", match="system, which is not allowed")
    assert not marker.exists(), "the pickle's code ran"


def test_onnx_graph_errors(tmp_path):
    sd = random_mobilefacenet()
    cases = [
        (dict(extra=("dw_conv.pointwise", "Sigmoid")), "op Sigmoid is not part of MobileFaceNet or IResNet"),
        (dict(prefix=[("Sub", [127.0, 127.5, 128.0])]), "per-channel input normalisation is not supported"),
        (dict(extra=("gdconv.depthwise", "Relu")), "an activation after conv gdconv.depthwise"),
    ]
    for i, (kw, message) in enumerate(cases):
        f = tmp_path / f"bad{i}.onnx"
        f.write_bytes(synthetic_onnx("mobilefacenet", sd, **kw))
        fails("--onnx", f, "-o", tmp_path / "x.safetensors", match=message)


def test_standalone_batchnorm_eps_must_agree(tmp_path):
    sd = fmf.random_iresnet_state_dict("iresnet18", 1, embed_dim=8)
    f = tmp_path / "eps.onnx"
    f.write_bytes(synthetic_onnx("iresnet18", sd, eps={"layer2.1.bn1": 2e-5}))
    fails("--onnx", f, "-o", tmp_path / "x.safetensors", match="standalone BatchNorms differ in epsilon")


def test_usage_errors(tmp_path):
    fails("--torch", os.path.join(FIXTURES, "tiny_zip.pt"), "-o", tmp_path / "x.safetensors", match="--torch needs --arch")
    fails("--onnx", tmp_path / "missing.onnx", "-o", tmp_path / "x.safetensors", match="No such file")
    fails("--onnx", os.path.join(FIXTURES, "tiny_zip.pt"), "-o", tmp_path / "x.safetensors", match="not a readable ONNX")


def test_arch_detection_by_layer_count():
    class FakeEntry:
        def __init__(self, kind):
            self.kind = kind
    for arch in fmf.ARCHS:
        entries = [FakeEntry("conv" if layer["kind"] == "conv" else layer["kind"]) for layer in fmf.layers(arch)]
        assert convert_face._detect_arch(entries) == arch
    with pytest.raises(convert_face.ConversionError, match="give --arch"):
        convert_face._detect_arch([FakeEntry("conv")] * 7)


# ---------------------------------------------------------------------------
# tools/face_model_file.py itself


def test_random_iresnet_weights_are_those_of_the_fixtures(iresnet18):
    """Tests/Fixtures/face/iresnet18_seed7.npy was computed from these exact weights; a numpy whose
    generator streams differ would make every IResNet parity test fail, so say so here first."""
    import hashlib
    h = hashlib.sha256()
    for k, v in iresnet18.items():
        h.update(k.encode())
        h.update(v.tobytes())
    assert h.hexdigest() == "1a7a6efe601f49ffdfd686783a7bb55e7e601587564a125deb2e33c6ee9cda94", \
        "random_iresnet_state_dict('iresnet18', 7) changed: regenerate Tests/Fixtures/face (make_face_fixtures.py)"


def test_write_face_model(tmp_path, iresnet18):
    out = str(tmp_path / "r.safetensors")
    sd = dict(reversed(list(iresnet18.items())))  # any order in, layout order out
    sd["layer1.0.bn1.num_batches_tracked"] = np.array(5)  # ignored
    sd["fc.bias"] = sd["fc.bias"].astype(np.float64)  # cast to float32
    config, n = fmf.write_face_model(out, "iresnet18", sd, "stored", source="unit test")
    got, meta, cfg = read(out)
    assert_same_tensors(got, iresnet18, "iresnet18", "stored")
    assert cfg == config and n == sum(v.size for v in iresnet18.values())
    assert meta["avpgan.source"] == "unit test"
    assert meta["avpgan.config"] == ('{"kind":"face","input_size":112,"embed_dim":512,"input_mean":127.5,'
                                     '"input_std":127.5,"channel_order":"rgb","batch_norm":"stored","batch_norm_eps":1e-05}')
    folded = fmf.fold_state_dict("iresnet18", iresnet18)
    assert "layer1.0.bn1.weight" in folded and "layer1.0.bn2.weight" not in folded and "layer1.0.conv1.bias" in folded
    bad = [(dict(folded), "stored", "missing tensor 'bn1.weight' [64]"),
           ({**iresnet18, "fc.weight": iresnet18["fc.weight"][:, :-1]}, "stored",
            "tensor 'fc.weight' has shape [512, 25087], expected [512, 25088]"),
           ({**iresnet18, "extra.weight": np.zeros(1)}, "stored", "unexpected tensor 'extra.weight'"),
           ({**folded, "conv1.bias": np.full(64, np.nan, np.float32)}, "folded", "tensor 'conv1.bias' has non-finite")]
    for tensors, bn, message in bad:
        with pytest.raises(fmf.FaceModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
            fmf.write_face_model(out, "iresnet18", tensors, bn)
    with pytest.raises(fmf.FaceModelError, match="input_std must not be 0"):
        fmf.write_face_model(out, "iresnet18", folded, "folded", input_std=0)


def test_fold_batch_norm():
    w = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    g, b, m, v = (np.array(x, np.float32) for x in ([1.0, 2.0, 0.5], [0.1, 0.2, 0.3], [1.0, -1.0, 0.0], [1.0, 4.0, 0.25]))
    wf, bf = fmf.fold_batch_norm(w, None, g, b, m, v, eps=0.0001)
    scale = g.astype(np.float64) / np.sqrt(v.astype(np.float64) + 0.0001)
    assert wf.dtype == np.float32 and bf.dtype == np.float32
    assert np.array_equal(wf, (w * scale[:, None]).astype(np.float32))
    assert np.array_equal(bf, (b - m * scale).astype(np.float32))
    x = np.linspace(-1, 1, 4)
    bn_out = (w @ x - m) / np.sqrt(v.astype(np.float64) + 0.0001) * g + b
    assert np.allclose(wf @ x + bf, bn_out, rtol=1e-6, atol=1e-6)

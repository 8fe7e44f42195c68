"""tools/converters/convert_face.py without the Swift library, on numpy alone: PyTorch checkpoints in both
torch.save formats (written here by a small pickle writer, plus two tiny files torch itself
wrote: Tests/Fixtures/face/tiny_*.pt), synthetic ONNX graphs (written here by a small protobuf
writer), the real MobileFaceNet weights when ../shared/models/mobilefacenet is there, and the
failures (one line on stderr, exit status 2)."""
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
import convert_face  # noqa: E402
import face_model_file as fmf  # noqa: E402
import safetensors_io  # noqa: E402
from face_weights import (  # noqa: E402
    _MAGIC, _p_int, _pickle, random_mobilefacenet, synthetic_onnx, torch_save_bytes, with_batch_counters)

CONVERT = os.path.join(ROOT, "tools", "converters", "convert_face.py")
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
# tools/converters/face_model_file.py itself


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

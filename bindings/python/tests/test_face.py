"""avpgan.FaceModel and avpgan.cosine: parity with onnxruntime (MobileFaceNet, when the weights
in ../shared are present) and with PyTorch (IResNet with random weights), through the committed
fixtures of Tests/Fixtures/face (tools/fixtures/make_face_fixtures.py), and the API's contract."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import avpgan

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "Tests" / "Fixtures" / "face"
sys.path.insert(0, str(REPO / "tools" / "converters"))
import face_model_file  # noqa: E402

WEIGHTS = Path(os.environ.get("AVPGAN_FACE_WEIGHTS_DIR", REPO.parent / "shared" / "models" / "mobilefacenet"))
IMAGES = ["astronaut", "astronaut_mirror", "heldout64", "astronaut_90x130", "noise112"]


def read_png(path: Path) -> np.ndarray:
    """RGB8 [H, W, 3] of an 8-bit RGB, non-interlaced PNG (the fixture images): a minimal
    reader, since the bindings decode no images and the tests need numpy only."""
    import zlib

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, chunks, width = 8, [], 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8] == 8 and body[9] == 2, f"{path}: fixtures are 8-bit RGB"
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(chunks))
    stride = width * 3
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for x in range(stride):
            a = cur[x - 3] if x >= 3 else 0
            b = prev[x]
            c = prev[x - 3] if x >= 3 else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + p) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(height, width, 3)


@pytest.fixture(scope="module")
def images():
    return [read_png(FIXTURES / "faces" / f"{name}.png") for name in IMAGES]


def cosines(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))


def embed_all(path: Path, images) -> np.ndarray:
    with avpgan.FaceModel(path) as fm:
        return np.stack([fm.embed(im) for im in images])


def convert(*args) -> None:
    r = subprocess.run([sys.executable, str(REPO / "tools" / "converters" / "convert_face.py"), *map(str, args)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"convert_face.py {args} failed: {r.stderr}"


@pytest.fixture(scope="module")
def real_weights():
    onnx, pt = WEIGHTS / "mobilefacenet.onnx", WEIGHTS / "mobilefacenet.pt"
    if not onnx.is_file() or not pt.is_file():
        pytest.skip(f"MobileFaceNet weights not found in {WEIGHTS} (set AVPGAN_FACE_WEIGHTS_DIR); "
                    "they are not shipped with libavpgan")
    return onnx, pt


@pytest.mark.parametrize("source", ["onnx", "pt", "pt-folded"])
def test_mobilefacenet_matches_onnxruntime(tmp_path, real_weights, images, source):
    """The converted MobileFaceNet (from the ONNX file, or the .pt with BatchNorm stored or
    folded) embeds the fixture faces as onnxruntime does on the original ONNX file (the
    expected embeddings were computed from torch's resize; the library resizes itself)."""
    onnx, pt = real_weights
    out = tmp_path / "face.safetensors"
    if source == "onnx":
        convert("--onnx", onnx, "-o", out)
    else:
        convert("--torch", pt, "--arch", "mobilefacenet", *(["--fold"] if source == "pt-folded" else []), "-o", out)
    got = embed_all(out, images)
    want = np.load(FIXTURES / "mobilefacenet_onnx.npy")
    cos = cosines(got, want)
    assert cos.min() >= 0.9999, f"{source}: cosine with onnxruntime per image {dict(zip(IMAGES, cos.round(6)))}"
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 2e-3 * scale, f"{source}: max abs difference {np.abs(got - want).max()} (scale {scale})"
    # The sanity figure of the weights' README: a face and its mirror image are close.
    assert avpgan.cosine(got[0], got[1]) > 0.9, "astronaut vs its mirror image"


@pytest.mark.parametrize("arch", ["iresnet18", "iresnet34"])
@pytest.mark.parametrize("batch_norm", ["stored", "folded"])
def test_iresnet_random_weights_match_pytorch(tmp_path, images, arch, batch_norm):
    """An IResNet with deterministic random weights (face_model_file.random_iresnet_state_dict,
    numpy) matches tools/fixtures/face_torch.py's PyTorch definition (fixture made by torch)."""
    tensors = face_model_file.random_iresnet_state_dict(arch, 7)
    if batch_norm == "folded":
        tensors = face_model_file.fold_state_dict(arch, tensors)
    path = tmp_path / f"{arch}.safetensors"
    face_model_file.write_face_model(str(path), arch, tensors, batch_norm)
    got = embed_all(path, images)
    want = np.load(FIXTURES / f"{arch}_seed7.npy")
    cos = cosines(got, want)
    assert cos.min() >= 0.9999, f"{arch} ({batch_norm}): cosine with torch per image {dict(zip(IMAGES, cos.round(6)))}"


@pytest.fixture(scope="module")
def random_face(tmp_path_factory):
    path = tmp_path_factory.mktemp("face") / "mobilefacenet-random.safetensors"
    face_model_file.write_face_model(str(path), "mobilefacenet", face_model_file.random_state_dict("mobilefacenet", 3), "stored")
    return path


def test_info_and_determinism(random_face, images):
    with avpgan.FaceModel(random_face) as fm:
        info = fm.info
        assert (info.arch, info.input_size, info.embed_dim) == ("mobilefacenet", 112, 128)
        assert (info.input_mean, info.input_std, info.bgr) == (127.5, 128.0, False)
        assert info.n_parameters == 1019648
        a, b = fm.embed(images[0]), fm.embed(images[0])
        assert a.dtype == np.float32 and a.shape == (128,)
        assert np.array_equal(a, b), "the same image twice gives the same embedding"
        # A strided view (every other column of a wider image) equals its contiguous copy.
        wide = np.repeat(images[0], 2, axis=1)
        view = wide[:, ::2]
        assert not view.flags.c_contiguous
        assert np.array_equal(fm.embed(view), fm.embed(np.ascontiguousarray(view)))
        assert "mobilefacenet" in repr(fm)


def test_from_bytes_equals_file(random_face, images):
    with avpgan.FaceModel(random_face) as a, avpgan.FaceModel.from_bytes(random_face.read_bytes()) as b:
        assert np.array_equal(a.embed(images[2]), b.embed(images[2]))


def test_bad_input(random_face):
    with avpgan.FaceModel(random_face) as fm:
        with pytest.raises(TypeError, match="uint8"):
            fm.embed(np.zeros((8, 8, 3), dtype=np.float32))
        with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
            fm.embed(np.zeros((8, 8), dtype=np.uint8))
        with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
            fm.embed(np.zeros((0, 8, 3), dtype=np.uint8))
        with pytest.raises(avpgan.InvalidArgumentError, match="16384"):
            fm.embed(np.zeros((1, 16385, 3), dtype=np.uint8))


def test_loading_errors(tmp_path, random_face):
    with pytest.raises(avpgan.AvpganIOError):
        avpgan.FaceModel(tmp_path / "missing.safetensors")
    voice = REPO / "Tests" / "Fixtures" / "golden" / "voice2face" / "model.safetensors"
    with pytest.raises(avpgan.ModelFormatError, match="avpgan_model_load_file"):
        avpgan.FaceModel(voice)
    with pytest.raises(avpgan.ModelFormatError, match="avpgan_face_model_load_file"):
        avpgan.Model(random_face)
    data = random_face.read_bytes()
    with pytest.raises(avpgan.ModelFormatError):
        avpgan.FaceModel.from_bytes(data[: len(data) // 3])


def test_close_and_pickle(random_face):
    fm = avpgan.FaceModel(random_face)
    fm.close()
    fm.close()
    assert fm.closed
    with pytest.raises(avpgan.FaceModelClosedError):
        fm.embed(np.zeros((4, 4, 3), dtype=np.uint8))
    assert fm.info.embed_dim == 128, "info stays readable after close"
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(avpgan.FaceModel(random_face))


def test_threads_agree(random_face, images):
    with avpgan.FaceModel(random_face) as fm:
        want = [fm.embed(im) for im in images]
        results, errors = {}, []

        def work(k):
            try:
                results[k] = [fm.embed(im) for im in images]
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        for k in range(4):
            assert all(np.array_equal(a, b) for a, b in zip(results[k], want)), f"thread {k} differs"


def test_cosine():
    a = np.array([1, 2, 3], dtype=np.float32)
    assert avpgan.cosine(a, a) == pytest.approx(1, abs=1e-7)
    assert avpgan.cosine(a, -a) == pytest.approx(-1, abs=1e-7)
    assert avpgan.cosine(a, np.array([3, 0, -1])) == pytest.approx(0, abs=1e-7)
    assert avpgan.cosine(a, np.zeros(3)) == 0
    with pytest.raises(ValueError, match="same"):
        avpgan.cosine(a, a[:2])
    with pytest.raises(avpgan.InvalidArgumentError, match="finite"):
        avpgan.cosine(a, np.array([1, np.nan, 0]))

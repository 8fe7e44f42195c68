"""avpgan.Enhancer against upstream gfpgan (Tests/Fixtures/enhancer, made by
tools/fixtures/make_enhancer_fixtures.py from the upstream package with random weights), the portrait
with an enhancer, the converter, and bad input: corrupt, truncated and wrong-kind files,
NaN/Inf weights, wrong image shapes and dtypes."""
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import avpgan

from conftest import read_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "enhancer")
CONFIGS = ["s32-half-latent", "s64-full-mlp", "s128-half-mlp-w"]
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")
ESPEAK, SOX = shutil.which("espeak-ng"), shutil.which("sox")


def enhancer_path(name):
    return os.path.join(FIXTURES, f"enhancer-{name}.safetensors")


def arrays(name):
    return read_safetensors(Path(FIXTURES) / f"{name}.safetensors")[0]


@pytest.fixture(scope="module")
def small():
    with avpgan.Enhancer(enhancer_path("s32-half-latent")) as e:
        yield e


@pytest.mark.parametrize("name", CONFIGS)
def test_raw_output_matches_upstream(name):
    a = arrays(name)
    with avpgan.Enhancer(enhancer_path(name)) as e:
        y = e.enhance_raw(a["input"])
        single = e.enhance_raw(a["input"][1])
    scale = np.abs(a["output"]).max()
    diff = np.abs(y - a["output"]).max()
    assert y.shape == a["output"].shape and y.dtype == np.float32
    assert diff <= 1e-3 * scale, f"{name}: max |libavpgan - upstream| {diff} (scale {scale})"
    assert np.array_equal(single, y[1]), "a single [3, S, S] image differs from the same image in a batch"


@pytest.mark.parametrize("name", CONFIGS)
def test_rgb8_matches_upstream_pipeline(name):
    a = arrays(name)
    with avpgan.Enhancer(enhancer_path(name)) as e:
        out = e.enhance(a["rgb8_input"])
        strided = e.enhance(np.ascontiguousarray(a["rgb8_input"][:, ::-1])[:, ::-1])
    assert out.shape == (e.info.size, e.info.size, 3) and out.dtype == np.uint8
    worst = np.abs(out.astype(int) - a["rgb8_output"]).max()
    assert worst <= 1, f"{name}: RGB8 output differs from upstream's by {worst} levels"
    assert np.array_equal(out, strided), "a strided view gave other bytes"


def test_info(small):
    i = small.info
    assert (i.arch, i.size, i.num_style_feat, i.num_mlp) == ("gfpgan-v1-clean", 32, 16, 2)
    assert (i.channel_multiplier, i.narrow) == (1.0, 1 / 16)
    assert (i.different_w, i.sft_half, i.input_is_latent) == (True, True, True)
    assert i.file_bytes == os.path.getsize(enhancer_path("s32-half-latent"))
    assert len(i.sha256) == 64 and i.n_parameters > 0


def test_from_bytes_equals_file(small):
    with open(enhancer_path("s32-half-latent"), "rb") as f:
        data = f.read()
    image = np.arange(20 * 13 * 3, dtype=np.uint8).reshape(13, 20, 3)
    with avpgan.Enhancer.from_bytes(data) as e:
        assert e.info == small.info
        assert np.array_equal(e.enhance(image), small.enhance(image))


def test_deterministic_at_any_thread_count(small):
    image = np.random.default_rng(1).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    before = avpgan.get_num_threads()
    try:
        outs = []
        for n in (1, 2, 3):
            avpgan.set_num_threads(n)
            outs.append(small.enhance(image))
    finally:
        avpgan.set_num_threads(before)
    assert all(np.array_equal(outs[0], o) for o in outs[1:]), "thread counts gave different bytes"


def test_progress_and_abort(small):
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    seen = []
    small.enhance(image, progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == list(range(1, 7)) and all(t == 6 for _, t in seen), seen
    with pytest.raises(avpgan.AbortedError):
        small.enhance(image, progress=lambda d, t: d < 2)


def test_bad_images(small):
    with pytest.raises(TypeError, match="uint8"):
        small.enhance(np.zeros((8, 8, 3), dtype=np.float32))
    for shape in [(8, 8), (8, 8, 4), (0, 8, 3), (8, 8, 1)]:
        with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
            small.enhance(np.zeros(shape, dtype=np.uint8))
    with pytest.raises(avpgan.InvalidArgumentError, match="16384"):
        small.enhance(np.zeros((16385, 1, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\[N, 3, 32, 32\]"):
        small.enhance_raw(np.zeros((1, 3, 64, 64), dtype=np.float32))
    x = np.zeros((1, 3, 32, 32), dtype=np.float32)
    x[0, 1, 2, 3] = np.inf
    with pytest.raises(avpgan.InvalidArgumentError, match="finite"):
        small.enhance_raw(x)


def _with_float(data, offset, value):
    b = bytearray(data)
    b[offset:offset + 4] = struct.pack("<f", value)
    return bytes(b)


def test_bad_files(tmp_path):
    with open(enhancer_path("s32-half-latent"), "rb") as f:
        data = f.read()
    start = 8 + struct.unpack("<Q", data[:8])[0]
    cases = {
        "empty": (b"", "shorter"),
        "truncated": (data[: len(data) // 2], "past the end"),
        "corrupt header": (data[:8] + b"[" + data[9:], "header"),
        "NaN weight": (_with_float(data, start, float("nan")), "non-finite"),
        "Inf weight": (_with_float(data, len(data) - 4, float("inf")), "non-finite"),
    }
    for what, (blob, needle) in cases.items():
        with pytest.raises(avpgan.ModelFormatError, match=needle):
            avpgan.Enhancer.from_bytes(blob)
        path = tmp_path / "bad.safetensors"
        path.write_bytes(blob)
        with pytest.raises(avpgan.ModelFormatError, match=needle):
            avpgan.Enhancer(path)
    with pytest.raises(avpgan.ModelFormatError, match="avpgan_model_load_file"):
        avpgan.Enhancer(MODEL)
    with pytest.raises(avpgan.ModelFormatError, match="avpgan_enhancer_load_file"):
        avpgan.Model(enhancer_path("s32-half-latent"))
    with pytest.raises(avpgan.AvpganIOError):
        avpgan.Enhancer(tmp_path / "missing.safetensors")


def test_closed_enhancer_refuses(tmp_path):
    e = avpgan.Enhancer(enhancer_path("s32-half-latent"))
    e.close()
    with pytest.raises(avpgan.EnhancerClosedError):
        e.enhance(np.zeros((4, 4, 3), dtype=np.uint8))


@pytest.mark.skipif(ESPEAK is None or SOX is None, reason="espeak-ng and sox are needed (make deps)")
def test_portrait_with_enhancer_is_enhance_of_portrait(tmp_path, small):
    raw, wav = tmp_path / "raw.wav", tmp_path / "speech.wav"
    subprocess.run([ESPEAK, "-w", str(raw), "A voice is all we have of this speaker."], check=True)
    subprocess.run([SOX, str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
    with avpgan.Model(MODEL) as m:
        face = m.portrait(wav)
        big = m.portrait(wav, enhancer=small)
        with pytest.raises(TypeError, match="Enhancer"):
            m.portrait(wav, enhancer="gfpgan.safetensors")
    assert big.shape == (32, 32, 3)
    assert np.array_equal(big, small.enhance(face)), "portrait(enhancer=e) is not e.enhance(portrait)"


def test_converter_refuses_what_is_not_gfpgan(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
    import enhancer_file as ef

    tensors, _ = read_safetensors(Path(enhancer_path("s32-half-latent")))
    config = ef.infer_config(tensors)
    assert config == ef.EnhancerConfig(32, 16, 1.0, 1 / 16, 2, True, True, True)
    bad = dict(tensors)
    bad["final_conv.weight"] = np.zeros((3, 3, 3, 3), np.float32)
    with pytest.raises(ef.EnhancerFileError, match="final_conv.weight.*shape"):
        ef.infer_config(bad)
    extra = dict(tensors, **{"something.else": np.zeros(1, np.float32)})
    with pytest.raises(ef.EnhancerFileError, match="something.else"):
        ef.infer_config(extra)
    missing = {k: v for k, v in tensors.items() if k != "stylegan_decoder.noises.noise0"}
    with pytest.raises(ef.EnhancerFileError, match="noise0"):
        ef.infer_config(missing)
    not_a_checkpoint = tmp_path / "x.pth"
    not_a_checkpoint.write_bytes(b"hello")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "converters", "convert_gfpgan.py"), str(not_a_checkpoint), "-o",
                          str(tmp_path / "e.safetensors")], capture_output=True, text=True)
    assert out.returncode == 2 and "not a PyTorch checkpoint" in out.stderr, out.stderr

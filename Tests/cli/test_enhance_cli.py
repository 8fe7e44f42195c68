"""avpgan enhance and avpgan portrait --enhance against the library: the same pixels as
avpgan.Enhancer, provenance naming the enhancer, failures that say why. Needs numpy,
build/bin/avpgan, and espeak-ng for the portrait."""
import os
import shutil
import subprocess
import sys
import zlib

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
ENHANCER = os.path.join(ROOT, "Tests", "Fixtures", "enhancer", "enhancer-s32-half-latent.safetensors")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")


def run(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)


def read_png(path):
    """(RGB8 [H, W, 3], {keyword: iTXt text}) of an 8-bit RGB PNG, with the stdlib's zlib."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, text = 8, b"", {}
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        elif kind == b"iTXt":  # keyword, NUL, flag 0, method, language NUL, keyword NUL, text
            k, rest = body.split(b"\0", 1)
            text[k.decode()] = rest[2:].split(b"\0", 2)[2].decode()
        pos += 12 + n
    raw, stride = zlib.decompress(idat), 3 * w
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a, b, c = (line[x - 3] if x >= 3 else 0), prev[x], (prev[x - 3] if x >= 3 else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return np.frombuffer(b"".join(rows), np.uint8).reshape(h, w, 3), text


@pytest.fixture(scope="module")
def enhancer():
    with avpgan.Enhancer(ENHANCER) as e:
        yield e


def test_enhance_writes_the_library_pixels_with_provenance(tmp_path, enhancer):
    face = np.random.default_rng(3).integers(0, 256, (21, 17, 3), dtype=np.uint8)
    avpgan.save_png(tmp_path / "face.png", face)
    r = run("enhance", "--enhancer", ENHANCER, tmp_path / "face.png", "-o", tmp_path / "big.png")
    assert r.returncode == 0, r.stderr
    pixels, text = read_png(tmp_path / "big.png")
    assert np.array_equal(pixels, enhancer.enhance(face)), "avpgan enhance differs from Enhancer.enhance"
    assert text["avpgan:enhancer-sha256"] == enhancer.info.sha256
    assert f"file-bytes={enhancer.info.file_bytes}" in text["avpgan:enhancer"]
    assert text["avpgan:source-size"] == "17x21"


def test_enhance_out_dir_keeps_going_after_a_bad_input(tmp_path):
    good = np.zeros((8, 8, 3), dtype=np.uint8)
    avpgan.save_png(tmp_path / "a.png", good)
    (tmp_path / "b.png").write_bytes(b"not a picture")
    r = run("enhance", "--enhancer", ENHANCER, tmp_path / "a.png", tmp_path / "b.png", "--out-dir", tmp_path / "out")
    assert r.returncode == 1, "a failed input must make the exit status 1"
    assert "b.png" in r.stderr and (tmp_path / "out" / "a.png").exists() and not (tmp_path / "out" / "b.png").exists()


@pytest.mark.parametrize("args, fragment", [
    (["enhance", "face.png", "-o", "x.png"], "--enhancer"),
    (["enhance", "--enhancer", ENHANCER, "face.png"], "-o OUT.png or --out-dir"),
    (["enhance", "--enhancer", MODEL, "face.png", "-o", "x.png"], "a voice-portrait model (avpgan.arch \"avpgan\"), not a face enhancer: give it with --model"),
    (["enhance", "--enhancer", "/nonexistent.safetensors", "face.png", "-o", "x.png"], "nonexistent"),
])
def test_enhance_failures_say_why(args, fragment, tmp_path):
    r = run(*args)
    assert r.returncode != 0 and fragment in r.stderr, r.stderr


def test_info_describes_an_enhancer():
    r = run("info", ENHANCER)
    assert r.returncode == 0 and "face enhancer" in r.stdout and "32 x 32" in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is needed (make deps)")
def test_portrait_enhance_is_enhance_of_the_portrait(tmp_path, enhancer):
    wav = tmp_path / "voice.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "A voice is all we have of this speaker."], check=True)
    r = run("portrait", "--model", MODEL, wav, "-o", tmp_path / "plain.png")
    assert r.returncode == 0, r.stderr
    r = run("portrait", "--model", MODEL, wav, "--enhance", ENHANCER, "-o", tmp_path / "enhanced.png")
    assert r.returncode == 0, r.stderr
    plain, _ = read_png(tmp_path / "plain.png")
    enhanced, text = read_png(tmp_path / "enhanced.png")
    assert enhanced.shape == (32, 32, 3)
    assert np.array_equal(enhanced, enhancer.enhance(plain)), "portrait --enhance is not enhance(portrait)"
    assert text["avpgan:enhancer-sha256"] == enhancer.info.sha256 and "avpgan:model-sha256" in text


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is needed (make deps)")
def test_portrait_enhance_without_a_file_takes_the_default_enhancer(tmp_path):
    wav = tmp_path / "voice.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "A voice is all we have of this speaker."], check=True)
    env = dict(os.environ, AVPGAN_ENHANCER=ENHANCER)
    # --enhance before the recording: the recording is not taken for the enhancer's file.
    r = subprocess.run([CLI, "portrait", "--model", MODEL, "--enhance", str(wav), "-o", str(tmp_path / "a.png")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    r = run("portrait", "--model", MODEL, wav, "--enhance", ENHANCER, "-o", tmp_path / "b.png")
    assert r.returncode == 0, r.stderr
    assert read_png(tmp_path / "a.png")[0].tobytes() == read_png(tmp_path / "b.png")[0].tobytes(), \
        "--enhance without a file did not take $AVPGAN_ENHANCER"
    env["AVPGAN_ENHANCER"] = "/no/such/enhancer.safetensors"
    r = subprocess.run([CLI, "portrait", "--model", MODEL, str(wav), "--enhance", "-o", str(tmp_path / "c.png")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "$AVPGAN_ENHANCER (/no/such/enhancer.safetensors)" in r.stderr, r.stderr
    assert not (tmp_path / "c.png").exists()


def turbojpeg():
    """libturbojpeg through ctypes (the library the project reads JPEG with), or a skip."""
    import ctypes, ctypes.util
    name = ctypes.util.find_library("turbojpeg")
    if name is None:
        pytest.skip("libturbojpeg is needed to make a JPEG (make deps)")
    tj = ctypes.CDLL(name)
    tj.tjInitCompress.restype = tj.tjInitDecompress.restype = ctypes.c_void_p
    return tj, ctypes


def jpeg_of(pixels):
    """Baseline JPEG bytes of RGB8 pixels (4:4:4, quality 90)."""
    tj, c = turbojpeg()
    h, w, _ = pixels.shape
    handle = c.c_void_p(tj.tjInitCompress())
    out, size = c.POINTER(c.c_ubyte)(), c.c_ulong(0)
    src = np.ascontiguousarray(pixels)
    assert tj.tjCompress2(handle, src.ctypes.data_as(c.c_void_p), w, 3 * w, h, 0, c.byref(out), c.byref(size), 0, 90, 0) == 0
    data = c.string_at(out, size.value)
    tj.tjFree(out)
    tj.tjDestroy(handle)
    return data


def rgb_of_jpeg(data):
    """The RGB8 pixels libturbojpeg decodes from JPEG bytes with default flags, as JPEGCodec does."""
    tj, c = turbojpeg()
    handle = c.c_void_p(tj.tjInitDecompress())
    w, h, sub, space = c.c_int(), c.c_int(), c.c_int(), c.c_int()
    assert tj.tjDecompressHeader3(handle, data, c.c_ulong(len(data)), c.byref(w), c.byref(h), c.byref(sub), c.byref(space)) == 0
    out = np.zeros((h.value, w.value, 3), np.uint8)
    assert tj.tjDecompress2(handle, data, c.c_ulong(len(data)), out.ctypes.data_as(c.c_void_p), w.value, 3 * w.value, h.value, 0, 0) == 0
    tj.tjDestroy(handle)
    return out


def test_enhance_accepts_a_jpeg(tmp_path, enhancer):
    face = np.random.default_rng(5).integers(0, 256, (19, 23, 3), dtype=np.uint8)
    data = jpeg_of(face)
    (tmp_path / "face.jpg").write_bytes(data)
    r = run("enhance", "--enhancer", ENHANCER, tmp_path / "face.jpg", "-o", tmp_path / "big.png")
    assert r.returncode == 0, f"avpgan enhance refused a JPEG: {r.stderr}"
    pixels, text = read_png(tmp_path / "big.png")
    assert pixels.shape == (32, 32, 3)
    assert np.array_equal(pixels, enhancer.enhance(rgb_of_jpeg(data))), "enhance of a JPEG differs from Enhancer.enhance of its pixels"
    assert text["avpgan:source-size"] == "23x19"

"""The avpgan command line against the golden fixtures: embed and generate give what the
library gives, failures print one clear line and exit non-zero. Needs numpy and build/bin/avpgan."""
import os, subprocess, sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import safetensors_io  # noqa: E402
import avpgan  # noqa: E402

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
GOLDEN = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan")
MODEL = os.path.join(GOLDEN, "model.safetensors")


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def golden():
    return safetensors_io.read(os.path.join(GOLDEN, "golden.safetensors"))[0]


def test_info_names_the_architecture():
    r = run("info", MODEL)
    assert r.returncode == 0, r.stderr
    assert "architecture:  avpgan" in r.stdout and "embed_dim:     16" in r.stdout, r.stdout


def test_embed_matches_reference(tmp_path, golden):
    features = tmp_path / "features.npy"
    np.save(features, golden["features_1"])
    out = tmp_path / "embedding.npy"
    r = run("embed", "--model", MODEL, str(features), "-o", str(out))
    assert r.returncode == 0, r.stderr
    got = np.load(out)
    assert got.shape == (16,), f"embedding shape {got.shape}"
    diff = np.abs(got - golden["embedding_1"]).max()
    assert diff <= 1e-4, f"CLI embedding differs from the reference by {diff}"
    printed = np.array([float(v) for v in run("embed", "--model", MODEL, str(features)).stdout.split()])
    assert np.abs(printed - got).max() <= 1e-6, "printed embedding differs from the written one"


def test_generate_from_embeddings_writes_the_library_faces(tmp_path, golden):
    emb = tmp_path / "emb.npy"
    np.save(emb, golden["gen_input"][:2].astype(np.float64))  # float64 input is accepted too
    r = run("generate", "--model", MODEL, "--embedding", str(emb), "-o", str(tmp_path / "face.png"))
    assert r.returncode == 0, r.stderr
    for i in range(2):
        png = (tmp_path / f"face-{i}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", f"face-{i}.png is not a PNG"
    with avpgan.Model(MODEL) as m:
        expected = m.generate(golden["gen_input"][:2])
    assert expected.shape == (2, 64, 64, 3)
    # The PNG is lossless: its pixels are the library's (decode it with the stdlib's zlib).
    import zlib, struct
    data = (tmp_path / "face-1.png").read_bytes()
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(64 * 3)
    for y in range(64):  # undo PNG row filters (bpp 3)
        f, line = raw[y * (64 * 3 + 1)], bytearray(raw[y * (64 * 3 + 1) + 1:(y + 1) * (64 * 3 + 1)])
        for x in range(len(line)):
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], (prev[x - 3] if x >= 3 else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    decoded = np.frombuffer(b"".join(rows), np.uint8).reshape(64, 64, 3)
    assert np.array_equal(decoded, expected[1]), "PNG pixels differ from Model.generate"


def test_seeded_generation_is_deterministic(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run("generate", "--model", MODEL, "--seed", "5", "-o", str(a)).returncode == 0
    assert run("generate", "--model", MODEL, "--seed", "5", "-o", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes(), "the same seed gave different PNGs"


@pytest.mark.parametrize("args, fragment", [
    (["info", "/nonexistent/model.safetensors"], "No such file"),
    (["info", ROOT], "is a directory"),
    (["info", os.path.join(ROOT, "README.md")], "AVPGAN_E_MODEL_FORMAT"),
    (["embed", "--model", MODEL, os.path.join(ROOT, "README.md")], "not a usable .npy"),
    (["generate", "--model", MODEL], "needs -o"),
    (["generate", "--model", MODEL, "-o", "x.png", "--pixels", "sepia"], "clamp or minmax"),
    (["frobnicate"], "unknown command"),
])
def test_failures_say_why_and_exit_nonzero(args, fragment, tmp_path):
    r = subprocess.run([CLI, *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0, f"{args} exited 0"
    assert fragment in r.stderr, f"{args}: stderr {r.stderr!r} should mention {fragment!r}"
    assert not list(tmp_path.iterdir()), f"{args} left files behind: {list(tmp_path.iterdir())}"

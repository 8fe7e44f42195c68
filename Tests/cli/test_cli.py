"""The avpgan command line against the golden fixtures: embed and generate give what the
library gives, failures print one clear line and exit non-zero; portraits, features, synth-data
and pixel retrieval. Needs numpy and build/bin/avpgan (training: test_train.py)."""
import json, os, shutil, subprocess, sys

import numpy as np
import pytest

from cli_helpers import CLI, ESPEAK, GOLDEN, MODEL, ROOT, SOX, run, safetensors_io
import avpgan  # noqa: E402


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


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """Two spoken recordings (WAV 16 kHz, FLAC 44.1 kHz stereo), a text file and silence, in a folder."""
    if ESPEAK is None or SOX is None:
        pytest.skip("espeak-ng and sox are needed (make deps)")
    d = tmp_path_factory.mktemp("voices")
    subprocess.run([ESPEAK, "-w", str(d / "a.wav"), "Hello there, this is the first speaker."], check=True)
    subprocess.run([ESPEAK, "-v", "de", "-w", str(d / "raw.wav"), "Guten Tag, hier spricht jemand anderes."], check=True)
    subprocess.run([SOX, str(d / "raw.wav"), "-r", "44100", "-c", "2", str(d / "b.flac")], check=True)
    os.remove(d / "raw.wav")
    (d / "c.wav").write_text("not audio at all\n")
    subprocess.run([SOX, "-n", "-r", "16000", "-b", "16", str(d / "d.wav"), "trim", "0", "1"], check=True)  # silence
    return d


def test_portrait_batch_reports_each_failure_and_continues(voices, tmp_path):
    out = tmp_path / "out"
    r = run("portrait", "--model", MODEL, "--out-dir", str(out), str(voices))
    assert r.returncode == 1, "a batch with failures must exit non-zero"
    made = sorted(p.name for p in out.iterdir())
    assert made == ["a.png", "b.png"], f"outputs {made}"
    assert "c.wav" in r.stderr and "AVPGAN_E_AUDIO_FORMAT" in r.stderr, r.stderr
    assert "d.wav" in r.stderr and "AVPGAN_E_NO_SPEECH" in r.stderr, r.stderr
    assert "2 of 4 files" in r.stderr, r.stderr


def test_portrait_png_is_deterministic_with_provenance(voices, tmp_path):
    a, b = tmp_path / "a1.png", tmp_path / "a2.png"
    for p in (a, b):
        r = run("portrait", "--model", MODEL, str(voices / "a.wav"), "-o", str(p))
        assert r.returncode == 0, r.stderr
    data = a.read_bytes()
    assert data == b.read_bytes(), "same inputs gave different PNGs"
    import hashlib, re
    text = {}
    pos = 8
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big"); kind = data[pos + 4:pos + 8]
        if kind == b"iTXt":
            body = data[pos + 8:pos + 8 + n]; key, rest = body.split(b"\0", 1)
            text[key.decode()] = rest[4:].decode()  # flags, method, empty language and translated keyword
        pos += 12 + n
    assert text["Description"] == "Synthetic image generated from a voice recording; not a photograph of the speaker"
    assert text["avpgan:model-sha256"] == hashlib.sha256(open(MODEL, "rb").read()).hexdigest()
    assert text["avpgan:audio-sha256"] == hashlib.sha256((voices / "a.wav").read_bytes()).hexdigest()
    assert "vad=on" in text["avpgan:parameters"] and "pixels=clamp" in text["avpgan:parameters"], text
    assert float(text["avpgan:voiced-seconds"]) > 1, text
    assert re.match(r"libavpgan \d+\.\d+\.\d+$", text["Software"])


def test_portrait_failure_writes_nothing(voices, tmp_path):
    out = tmp_path / "x.png"
    r = run("portrait", "--model", MODEL, str(voices / "d.wav"), "-o", str(out))
    assert r.returncode == 1 and "no speech" in r.stderr, r.stderr
    assert not out.exists() and not list(tmp_path.iterdir()), "a failed portrait left a file"


def test_features_command(voices, tmp_path):
    out = tmp_path / "f.npy"
    r = run("features", str(voices / "b.flac"), "-o", str(out), "--seconds", "1.5")
    assert r.returncode == 0, r.stderr
    f = np.load(out)
    assert f.shape == (1000, 64) and f.dtype == np.float32
    assert np.allclose(f, avpgan.features(voices / "b.flac", seconds=1.5)), "CLI and library features differ"


def test_python_example_runs(voices, tmp_path):
    out = tmp_path / "face.png"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", "portrait.py"), MODEL,
                        str(voices / "a.wav"), str(out)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "bindings", "python")})
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "bytes give the same face: True" in r.stdout, r.stdout


def test_synth_data_layout(tmp_path):
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    out = tmp_path / "synth"
    r = run("synth-data", "-o", str(out), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3")
    assert r.returncode == 0, r.stderr
    ids = sorted(p.name for p in (out / "voices").iterdir())
    assert ids == sorted(p.name for p in (out / "faces").iterdir()) and len(ids) == 5, ids
    for i in ids:
        assert sorted(p.name for p in (out / "voices" / i).iterdir()) == ["0.wav", "1.wav"]
        assert sorted(p.name for p in (out / "faces" / i).iterdir()) == ["0.png", "1.png"]
    rows = (out / "identities.csv").read_text().splitlines()
    assert rows[0] == "id,language,variant,pitch,rate,split" and len(rows) == 6, rows
    assert (out / "test.txt").read_text().split() == [rows[5].split(",")[0]], "the fifth speaker is held out"
    a = avpgan.decode(out / "voices" / ids[0] / "0.wav")
    assert a.seconds > 1, "espeak-ng wrote a real recording"
    again = tmp_path / "again"
    run("synth-data", "-o", str(again), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3")
    assert (again / "faces" / ids[3] / "1.png").read_bytes() == (out / "faces" / ids[3] / "1.png").read_bytes(), "not deterministic"


def test_portrait_same_names_in_different_folders(voices, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(); b.mkdir()
    shutil.copy(voices / "a.wav", a / "x.wav")
    shutil.copy(voices / "b.flac", b / "x.flac")
    out = tmp_path / "out"
    r = run("portrait", "--model", MODEL, "--out-dir", str(out), str(a / "x.wav"), str(b / "x.flac"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["x-2.png", "x.png"], "one output per input, none overwritten"


def test_evaluate_retrieval(tmp_path):
    """avpgan evaluate ranks generated faces against one mean picture per identity and reports
    chance and the real-picture ceiling beside them; a split with fewer than 2 identities is refused."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    data = tmp_path / "data"
    assert run("synth-data", "-o", str(data), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3").returncode == 0
    common = ["evaluate", "--model", MODEL, "--voices", str(data / "voices"), "--faces", str(data / "faces"),
              "--cache", str(tmp_path / "cache")]
    r = run(*common)
    assert r.returncode != 0 and "at least 2" in r.stderr, "the test split of 5 speakers holds one identity"
    r = run(*common, "--split", "train", "--json", str(tmp_path / "e.json"), "--grid", str(tmp_path / "g.png"))
    assert r.returncode == 0, r.stderr
    e = json.loads((tmp_path / "e.json").read_text())
    assert e["identities"] == 4 and e["recordings"] == 8, e
    assert e["chance_top1"] == 0.25 and e["chance_mean_rank"] == 2.5, e
    assert e["real_top1"] == 1.0, "a real picture is nearest to its own identity's mean picture"
    assert 0 <= e["top1"] <= 1 and 1 <= e["mean_rank"] <= 4, e
    assert "generated faces" in r.stdout and "chance" in r.stdout
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    r = run(*common, "--split-rule", "initial-letter", "--test-list", str(data / "test.txt"))
    assert r.returncode == 2 and "exclude each other" in r.stderr, r.stderr
    r = run(*common, "--split-rule", "initial-letter", "--split", "validation")
    assert r.returncode == 1 and "validation split has 0 identities" in r.stderr, "synth-data ids (id0000...) all start with i: " + r.stderr

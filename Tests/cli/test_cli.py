"""The avpgan command line against the golden fixtures: embed and generate give what the
library gives, failures print one clear line and exit non-zero. Needs numpy and build/bin/avpgan."""
import json, os, subprocess, sys

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


import shutil
ESPEAK, SOX = shutil.which("espeak-ng"), shutil.which("sox")


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


def test_train_resume_and_interrupt(tmp_path):
    """avpgan train on synthetic data: a run stopped and resumed writes the same model as a
    straight run; Ctrl-C checkpoints and exits 130; the exported model makes portraits."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    data = tmp_path / "data"
    assert run("synth-data", "-o", str(data), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3").returncode == 0
    common = ["train", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--voice-encoder", MODEL,
              "--widths", "tiny", "--batch", "4", "--checkpoint-every", "2"]
    a = run(*common, "--steps", "4", "--checkpoint-dir", str(tmp_path / "A"), "-o", str(tmp_path / "A.safetensors"))
    assert a.returncode == 0, a.stderr
    b1 = run(*common, "--steps", "2", "--checkpoint-dir", str(tmp_path / "B"), "-o", str(tmp_path / "B2.safetensors"))
    b2 = run(*common, "--steps", "4", "--checkpoint-dir", str(tmp_path / "B"), "--resume", "-o", str(tmp_path / "B.safetensors"))
    assert b1.returncode == 0 and b2.returncode == 0, b1.stderr + b2.stderr
    assert (tmp_path / "A.safetensors").read_bytes() == (tmp_path / "B.safetensors").read_bytes(), "resume is not bit-identical"
    log = [json.loads(line) for line in (tmp_path / "B" / "train.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4], "the log continues across the resume"
    assert all(0 < r["d_real"] < 10 and 0 < r["g_class"] < 10 for r in log)
    sheets = sorted(p.name for p in (tmp_path / "A" / "samples").iterdir())
    assert sheets == ["step-000002.png", "step-000004.png"], f"sample sheets every --checkpoint-every steps: {sheets}"
    png = (tmp_path / "A" / "samples" / "step-000004.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (width, height) == (68, 134), \
        f"one held-out speaker: its picture above its generated face, 2-pixel borders; got {width}x{height}"
    with avpgan.Model(tmp_path / "A.safetensors") as m:
        assert m.info.arch == "avpgan" and m.info.embed_dim == 16
        assert m.portrait(data / "voices" / "id0000" / "0.wav").shape == (64, 64, 3)
    # Ctrl-C: a long run stops at the end of a step, checkpoints, exits 130.
    import signal, time
    p = subprocess.Popen([CLI, *common, "--steps", "100000", "--checkpoint-dir", str(tmp_path / "C"), "-o", str(tmp_path / "C.safetensors")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not (tmp_path / "C" / "checkpoint.safetensors").exists() and time.time() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, (p.returncode, err)
    assert "resume with --resume" in out, out
    assert not (tmp_path / "C.safetensors").exists(), "an interrupted run must not export"


def test_train_health_warnings_and_stop_on_collapse(tmp_path):
    """avpgan train warns about an unhealthy run in the progress, the log and the checkpoint, and
    --stop-on-collapse stops at the warning keeping the last healthy checkpoint. Judged from step
    3 (--health-warm-up 3), a fresh generator's faces are all alike (batch spread ~1e-5 against
    the threshold 0.01), so the collapse warning is certain at step 3."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    data = tmp_path / "data"
    assert run("synth-data", "-o", str(data), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3").returncode == 0
    common = ["train", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--voice-encoder", MODEL,
              "--widths", "tiny", "--batch", "4", "--checkpoint-every", "2", "--samples-every", "0", "--health-warm-up", "3"]
    r = run(*common, "--steps", "4", "--checkpoint-dir", str(tmp_path / "W"), "-o", str(tmp_path / "W.safetensors"))
    assert r.returncode == 0, r.stderr
    assert "WARNING at step 3: collapse" in r.stderr and "WARNING: collapse since step 3" in r.stdout, r.stdout + r.stderr
    log = [json.loads(line) for line in (tmp_path / "W" / "train.jsonl").read_text().splitlines()]
    assert [("collapse" in x["warnings"]) for x in log] == [False, False, True, True], log
    assert all(0 <= x["spread"] < 0.01 for x in log), [x["spread"] for x in log]
    meta = json.loads(safetensors_metadata(tmp_path / "W" / "checkpoint.safetensors")["avpgan.checkpoint"])
    assert {"warning": "collapse", "step": 3} in meta["health"]["warnings"], meta["health"]

    r = run(*common, "--steps", "10", "--stop-on-collapse", "--checkpoint-dir", str(tmp_path / "S"), "-o", str(tmp_path / "S.safetensors"))
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "stopped at step 3 (--stop-on-collapse): collapse since step 3" in r.stdout, r.stdout
    assert "last healthy checkpoint, step 2" in r.stdout, r.stdout
    assert not (tmp_path / "S.safetensors").exists(), "a stopped run writes no model"
    kept = json.loads(safetensors_metadata(tmp_path / "S" / "checkpoint.safetensors")["avpgan.checkpoint"])
    assert kept["step"] == 2 and kept["health"]["warnings"] == [], kept
    assert len((tmp_path / "S" / "train.jsonl").read_text().splitlines()) == 3, "the log has the step that raised it"
    r = run(*common[:-1], "1", "--steps", "5", "--stop-on-collapse", "--checkpoint-dir", str(tmp_path / "F"), "-o", str(tmp_path / "F.safetensors"))
    assert r.returncode == 3 and "stopped at step 1" in r.stdout and "No healthy checkpoint was written" in r.stdout, r.stdout
    assert not (tmp_path / "F" / "checkpoint.safetensors").exists(), "nothing healthy to keep, nothing written"
    r = run(*common[:-1], "0", "--steps", "1", "-o", str(tmp_path / "x.safetensors"))
    assert r.returncode == 2 and "--health-warm-up" in r.stderr, r.stderr
    r = run(*common, "--steps", "1", "--generator-sn", "maybe", "-o", str(tmp_path / "x.safetensors"))
    assert r.returncode == 2 and "--generator-sn" in r.stderr, r.stderr
    r = run(*common, "--steps", "1", "--generator-cbam", "maybe", "-o", str(tmp_path / "x.safetensors"))
    assert r.returncode == 2 and "--generator-cbam" in r.stderr, r.stderr
    r = run(*common, "--steps", "1", "--cbam-reduction", "0", "-o", str(tmp_path / "x.safetensors"))
    assert r.returncode == 2 and "--cbam-reduction" in r.stderr, r.stderr
    r = run(*common, "--steps", "1", "--generator-cbam", "off", "--cbam-reduction", "4", "-o", str(tmp_path / "R.safetensors"))
    assert r.returncode == 0, r.stderr
    config = json.loads(safetensors_metadata(tmp_path / "R.safetensors")["avpgan.config"])
    assert config["generator_cbam"] is False and config["cbam_reduction"] == 4, f"the CBAM options reach the model: {config}"
    r = run(*common, "--steps", "1", "--cbam-gate", "softmax", "-o", str(tmp_path / "x.safetensors"))
    assert r.returncode == 2 and "--cbam-gate" in r.stderr and "residual" in r.stderr, r.stderr
    r = run(*common, "--steps", "1", "--cbam-gate", "residual", "-o", str(tmp_path / "G.safetensors"))
    assert r.returncode == 0, r.stderr
    config = json.loads(safetensors_metadata(tmp_path / "G.safetensors")["avpgan.config"])
    assert config["cbam_gate"] == "residual", f"the CBAM gate reaches the model: {config}"
    r = run("info", str(tmp_path / "G.safetensors"))
    assert r.returncode == 0 and "gate residual" in r.stdout, f"avpgan info shows the CBAM gate: {r.stdout}"
    r = run(*common, "--steps", "1", "-o", str(tmp_path / "D.safetensors"))
    assert r.returncode == 0, r.stderr
    config = json.loads(safetensors_metadata(tmp_path / "D.safetensors")["avpgan.config"])
    assert config.get("cbam_gate") == "residual", f"the default CBAM gate is the residual one (issue 11): {config}"
    r = run(*common, "--steps", "1", "--cbam-gate", "sigmoid", "-o", str(tmp_path / "S.safetensors"))
    assert r.returncode == 0, r.stderr
    config = json.loads(safetensors_metadata(tmp_path / "S.safetensors")["avpgan.config"])
    assert "cbam_gate" not in config, f"the reference's sigmoid gate is a file without cbam_gate: {config}"
    r = run(*common, "--steps", "1", "--cbam-gate", "residual", "--checkpoint-dir", str(tmp_path / "GC"), "-o", str(tmp_path / "G.safetensors"))
    assert r.returncode == 0, r.stderr
    r = run(*common, "--steps", "2", "--resume", "--cbam-gate", "sigmoid", "--checkpoint-dir", str(tmp_path / "GC"), "-o", str(tmp_path / "G.safetensors"))
    assert r.returncode == 2 and "residual gate" in r.stderr, f"a resume that asks for another gate is refused: {r.stderr}"
    r = run(*common, "--steps", "2", "--resume", "--checkpoint-dir", str(tmp_path / "GC"), "-o", str(tmp_path / "G.safetensors"))
    assert r.returncode == 0, r.stderr
    assert json.loads(safetensors_metadata(tmp_path / "G.safetensors")["avpgan.config"])["cbam_gate"] == "residual", \
        "a resumed run keeps its checkpoint's gate"


def safetensors_metadata(path):
    return safetensors_io.read(str(path))[1]


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


def test_train_voice_resume_interrupt_and_encoder_file(tmp_path):
    """avpgan train-voice on synthetic speakers: a stopped and resumed run writes the same
    encoder as a straight run; Ctrl-C checkpoints and exits 130; the encoder-only file embeds,
    refuses to generate, and is accepted by avpgan train --voice-encoder."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    data = tmp_path / "data"
    assert run("synth-data", "-o", str(data), "--speakers", "5", "--utterances", "3", "--faces", "1", "--seed", "3").returncode == 0
    common = ["train-voice", "--voices", str(data / "voices"), "--widths", "tiny", "--batch", "8", "--checkpoint-every", "3",
              "--cache", str(tmp_path / "cache")]
    a = run(*common, "--steps", "6", "--checkpoint-dir", str(tmp_path / "A"), "-o", str(tmp_path / "A.safetensors"))
    assert a.returncode == 0, a.stderr
    assert "4 speakers, 4 utterances held out" in a.stdout, a.stdout
    accuracy = [line for line in a.stdout.splitlines() if line.startswith("held-out accuracy: ")]
    assert accuracy and "/4 utterances" in accuracy[0], a.stdout
    b1 = run(*common, "--steps", "3", "--checkpoint-dir", str(tmp_path / "B"), "-o", str(tmp_path / "B3.safetensors"))
    b2 = run(*common, "--steps", "6", "--checkpoint-dir", str(tmp_path / "B"), "--resume", "-o", str(tmp_path / "B.safetensors"))
    assert b1.returncode == 0 and b2.returncode == 0, b1.stderr + b2.stderr
    assert (tmp_path / "A.safetensors").read_bytes() == (tmp_path / "B.safetensors").read_bytes(), "resume is not bit-identical"
    assert (tmp_path / "A" / "voice-checkpoint.safetensors").read_bytes() == (tmp_path / "B" / "voice-checkpoint.safetensors").read_bytes()
    log = [json.loads(line) for line in (tmp_path / "B" / "train-voice.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6], "the log continues across the resume"
    assert all(0 < r["loss"] < 10 and 0 <= r["correct"] <= 8 for r in log)

    encoder = tmp_path / "A.safetensors"
    tensors, meta = safetensors_io.read(str(encoder))
    assert json.loads(meta["avpgan.config"])["networks"] == ["voice_encoder"]
    assert all(k.startswith("voice_encoder.") for k in tensors)
    info = run("info", str(encoder))
    assert info.returncode == 0 and "networks:      voice_encoder\n" in info.stdout, info.stdout + info.stderr
    g = run("generate", "--model", str(encoder), "-o", str(tmp_path / "x.png"))
    assert g.returncode == 1 and "only a voice encoder" in g.stderr and "AVPGAN_E_MISSING_NETWORK" in g.stderr, g.stderr
    with avpgan.Model(encoder) as m:
        assert m.info.image_size == 0 and m.info.embed_dim == 16
        e = m.embed(np.random.default_rng(0).standard_normal((400, 64)).astype(np.float32))
        assert abs(np.linalg.norm(e) - 1) < 1e-5
        with pytest.raises(avpgan.MissingNetworkError):
            m.generate_raw(e)

    # Algorithm 1 with the pre-trained encoder, frozen: its tensors reach the GAN's model file unchanged.
    t = run("train", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--voice-encoder", str(encoder),
            "--widths", "tiny", "--batch", "4", "--steps", "1", "--cache", str(tmp_path / "cache"), "-o", str(tmp_path / "gan.safetensors"))
    assert t.returncode == 0, t.stderr
    gan, _ = safetensors_io.read(str(tmp_path / "gan.safetensors"))
    for k, v in tensors.items():
        assert np.array_equal(gan[k], v), k

    # Ctrl-C: stops at the end of a step, checkpoints, exits 130, writes no encoder.
    import signal, time
    p = subprocess.Popen([CLI, *common, "--steps", "1000000", "--checkpoint-dir", str(tmp_path / "C"), "-o", str(tmp_path / "C.safetensors")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not (tmp_path / "C" / "voice-checkpoint.safetensors").exists() and time.time() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, (p.returncode, err)
    assert "resume with --resume" in out, out
    assert not (tmp_path / "C.safetensors").exists(), "an interrupted run must not write the encoder"

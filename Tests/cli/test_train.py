"""avpgan train and train-voice on synthetic speakers: resume is bit-identical, Ctrl-C
checkpoints and exits 130, the log and the sample sheets, the health warnings and
--stop-on-collapse, the CBAM options, the encoder-only file. Needs espeak-ng, numpy and
build/bin/avpgan."""
import json

import numpy as np
import pytest

from cli_helpers import ESPEAK, MODEL, interrupt_after_checkpoint, run, safetensors_io, safetensors_metadata, straight_and_resumed
import avpgan  # noqa: E402


def test_train_resume_and_interrupt(tmp_path):
    """avpgan train on synthetic data: a run stopped and resumed writes the same model as a
    straight run; Ctrl-C checkpoints and exits 130; the exported model makes portraits."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is needed")
    data = tmp_path / "data"
    assert run("synth-data", "-o", str(data), "--speakers", "5", "--utterances", "2", "--faces", "2", "--seed", "3").returncode == 0
    common = ["train", "--voices", str(data / "voices"), "--faces", str(data / "faces"), "--voice-encoder", MODEL,
              "--widths", "tiny", "--batch", "4", "--checkpoint-every", "2"]
    straight_and_resumed(common, tmp_path)
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
    interrupt_after_checkpoint([*common, "--steps", "100000"], tmp_path, "checkpoint.safetensors")


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
    a, _ = straight_and_resumed(common, tmp_path, steps=6)
    assert "4 speakers, 4 utterances held out" in a.stdout, a.stdout
    accuracy = [line for line in a.stdout.splitlines() if line.startswith("held-out accuracy: ")]
    assert accuracy and "/4 utterances" in accuracy[0], a.stdout
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
    interrupt_after_checkpoint([*common, "--steps", "1000000"], tmp_path, "voice-checkpoint.safetensors")

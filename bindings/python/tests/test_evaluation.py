"""avpgan.pixel_retrieval, avpgan.evaluate_faces, avpgan.train_voice_encoder and
avpgan.synth_data: the command's train-voice, synth-data, pixel-retrieval and eval as functions,
on a small synthetic data set (espeak-ng), the golden model and a face model with random weights."""

import json
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import avpgan

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "Tests" / "Fixtures" / "golden" / "avpgan" / "model.safetensors"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed to make the synthetic data set")
    d = tmp_path_factory.mktemp("evaluation") / "data"
    seen = []
    assert avpgan.synth_data(d, speakers=3, utterances=2, faces=2, seed=3,
                             progress=lambda done, total: seen.append((done, total))) == str(d)
    assert seen == [(1, 3), (2, 3), (3, 3)], "progress after each speaker"
    return d


def test_synth_data_matches_the_command(data, tmp_path):
    """The same seed writes the same files as avpgan synth-data."""
    cli = REPO / "build" / "bin" / "avpgan"
    if not cli.exists():
        pytest.skip("the avpgan command is not built")
    r = subprocess.run([str(cli), "synth-data", "-o", str(tmp_path / "cli"), "--speakers", "3", "--utterances", "2",
                        "--faces", "2", "--seed", "3"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ["identities.csv", "test.txt", "faces/id0002/1.png"]:
        assert (tmp_path / "cli" / name).read_bytes() == (data / name).read_bytes(), f"{name} differs from the command's"


def test_synth_data_checks_and_stops(tmp_path):
    with pytest.raises(ValueError, match="speakers"):
        avpgan.synth_data(tmp_path / "x", speakers=1)
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    with pytest.raises(avpgan.AbortedError):
        avpgan.synth_data(tmp_path / "y", speakers=2, utterances=1, faces=1, progress=lambda done, total: False)


def test_pixel_retrieval(data, tmp_path):
    seen = []
    with avpgan.Model(MODEL) as model:
        r = avpgan.pixel_retrieval(model, data / "voices", data / "faces", split="all", cache=tmp_path / "cache",
                                   grid=tmp_path / "grid.png", progress=lambda d, t: seen.append((d, t)))
    assert isinstance(r, avpgan.PixelRetrievalResult)
    assert r.identities == 3 and 1 <= r.recordings <= 6
    assert r.chance == avpgan.RetrievalScores(1 / 3, 1.0, 2.0)
    assert r.real.top1 == 1.0, "a real picture is nearest its own identity's mean picture"
    assert 0 <= r.generated.top1 <= r.generated.top5 <= 1 and 1 <= r.generated.mean_rank <= 3
    assert seen[-1] == (6, 6), seen
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    # A path works as well as a Model, with the same numbers.
    again = avpgan.pixel_retrieval(MODEL, data / "voices", data / "faces", split="all", cache=tmp_path / "cache",
                                   progress=False)
    assert again == r


def test_pixel_retrieval_errors(data, tmp_path):
    with pytest.raises(ValueError, match="split"):
        avpgan.pixel_retrieval(MODEL, data / "voices", data / "faces", split="everyone")
    with pytest.raises(avpgan.InvalidArgumentError, match="at least 2"):
        avpgan.pixel_retrieval(MODEL, data / "voices", data / "faces", split="validation", cache=tmp_path / "c")
    stop = threading.Event()
    stop.set()
    with pytest.raises(avpgan.AbortedError):
        avpgan.pixel_retrieval(MODEL, data / "voices", data / "faces", split="all", cache=tmp_path / "c", stop=stop)


def test_evaluate_faces(data, random_face_model_path, tmp_path):
    seen = []
    result = avpgan.evaluate_faces([MODEL], data / "voices", data / "faces", random_face_model_path, seconds=[2, None],
                                   split="all", out_dir=tmp_path / "eval", progress=lambda d, t: seen.append((d, t)))
    assert isinstance(result, avpgan.FaceEvaluation)
    assert [(r.model, r.seconds) for r in result.rows] == [(0, 2.0), (0, None)]
    assert result.reference.model is None and np.isnan(result.reference.voiced_seconds)
    for row in result.rows:
        assert -1 <= row.own <= 1 and -1 <= row.impostor <= 1 and row.identities == 3
        assert 0 <= row.top1 <= row.top5 <= 1 and row.voiced_seconds > 0
        assert abs(row.difference - (row.own - row.impostor)) < 0.5
    assert seen and seen[-1] == (12, 12), "progress counts 3 identities x 2 recordings x 2 lengths"
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["models"][0]["path"] == str(MODEL), "a model given as a path is labelled by it"
    got = report["models"][0]["lengths"][0]["summary"]
    assert abs(got["own"] - result.rows[0].own) < 1e-9, "the report and the returned rows agree"
    assert (tmp_path / "eval" / "grid.png").exists() and (tmp_path / "eval" / "sweep-1.png").exists()


def test_evaluate_faces_identities_and_errors(data, random_face_model_path):
    with avpgan.FaceModel(random_face_model_path) as fm:
        r = avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", fm, seconds=[2],
                                  identities=["id0000", "id0002"], progress=False)
        assert r.rows[0].identities == 2
        with pytest.raises(avpgan.InvalidArgumentError, match="nobody"):
            avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", fm, identities=["nobody", "id0000"])
        with pytest.raises(ValueError, match="seconds"):
            avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", fm, seconds=[-1])
        with pytest.raises(avpgan.AbortedError):
            avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", fm, seconds=[2], split="all",
                                  stop=type("Set", (), {"is_set": lambda self: True})())


def test_train_voice_encoder_resume_and_stop(data, tmp_path):
    """A run stopped by its progress function and resumed writes the same encoder as a straight
    run (bit-identical resume), and the encoder file embeds."""
    common = dict(widths="tiny", batch_size=4, checkpoint_every=1, cache=tmp_path / "cache", progress=False)
    a = avpgan.train_voice_encoder(data / "voices", tmp_path / "a.safetensors", steps=4,
                                   checkpoint_dir=tmp_path / "A", **common)
    assert not a.stopped and a.first_step == 0 and a.step == 4 and a.output == str(tmp_path / "a.safetensors")
    assert a.speakers >= 2 and 0 <= a.held_out_correct <= a.held_out
    log = [json.loads(line) for line in (tmp_path / "A" / "train-voice.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    steps = []

    def halt_at_two(step, total):
        steps.append(step)
        return step < 2
    b = avpgan.train_voice_encoder(data / "voices", tmp_path / "b.safetensors", steps=4,
                                   checkpoint_dir=tmp_path / "B", **{**common, "progress": halt_at_two})
    assert b.stopped and b.step == 2 and b.output is None and not (tmp_path / "b.safetensors").exists()
    b = avpgan.train_voice_encoder(data / "voices", tmp_path / "b.safetensors", steps=4, resume=True,
                                   checkpoint_dir=tmp_path / "B", **common)
    assert b.first_step == 2 and b.step == 4 and not b.stopped
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes(), "resume is not bit-identical"
    with avpgan.Model(tmp_path / "a.safetensors") as encoder:
        assert encoder.info.embed_dim == a.embed_dim


def test_train_voice_encoder_checks(tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        avpgan.train_voice_encoder(tmp_path, tmp_path / "e.safetensors", batch_size=1)
    with pytest.raises(ValueError, match="widths"):
        avpgan.train_voice_encoder(tmp_path, tmp_path / "e.safetensors", widths="huge")
    with pytest.raises(avpgan.InvalidArgumentError, match="checkpoint_dir"):
        avpgan.train_voice_encoder(tmp_path, tmp_path / "e.safetensors", resume=True)

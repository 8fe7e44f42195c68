"""avpgan.distributed.evaluate_faces and .pixel_retrieval on a Dask LocalCluster of two worker
processes against the one-process functions: the same report bit for bit (rows and report
files), a recording without speech left out alike, a broken recording raising the same error, and a model
file the workers cannot see a clear error rather than a hang. Needs dask[distributed] (the
Makefile installs it) and espeak-ng (the synthetic data set of bindings/python/tests/
test_evaluation.py)."""
import os
import shutil
import subprocess
import sys
import wave

import pytest
from dask.distributed import Client, LocalCluster

import avpgan
from avpgan import distributed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")
SECONDS = [2, None]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """3 speakers x 2 recordings x 2 faces (espeak-ng), plus a silent recording of id0001."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is needed (make deps installs it)")
    d = tmp_path_factory.mktemp("distributed-eval") / "data"
    avpgan.synth_data(d, speakers=3, utterances=2, faces=2, seed=3, progress=False)
    with wave.open(str(d / "voices" / "id0001" / "silence.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000)
    return d


@pytest.fixture(scope="module")
def face_model(tmp_path_factory):
    """A face-recognition model with deterministic random weights (as the bindings' tests')."""
    path = tmp_path_factory.mktemp("face") / "face.safetensors"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "converters", "face_model_file.py"), "--random", "mobilefacenet",
                        "--seed", "2", "-o", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(path)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def test_cluster_report_is_the_one_process_report(data, face_model, client, tmp_path):
    common = dict(seconds=SECONDS, split="all")
    one = avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", face_model, out_dir=tmp_path / "one",
                                progress=False, **common)
    many = distributed.evaluate_faces(MODEL, face_model, data / "voices", data / "faces", client=client,
                                      out_dir=tmp_path / "many", progress=False, **common)
    assert isinstance(many, avpgan.FaceEvaluation)
    # repr shows each float's shortest round trip: equal reprs are equal bits (NaN included).
    assert repr(many.rows) == repr(one.rows) and repr(many.reference) == repr(one.reference)
    assert many.rows[0].recordings == 6, "the silent recording is left out, as in one process"
    for name in ["eval.json", "eval.csv", "eval-recordings.csv", "eval.md", "grid.png", "sweep-1.png"]:
        assert (tmp_path / "many" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_records_are_checked_against_their_recordings(data, face_model):
    recordings = avpgan.face_similarity_recordings(data / "voices", data / "faces", identities=["id0000", "id0002"])
    assert [os.path.basename(os.path.dirname(r)) for r in recordings] == ["id0000"] * 2 + ["id0002"] * 2
    parts = [avpgan.face_similarity_portraits(MODEL, [r], seconds=[1]) for r in recordings]
    assert len({len(p) for p in parts}) == 1, "every record has the same size"
    common = dict(seconds=[1], identities=["id0000", "id0002"])
    good = avpgan.face_similarity_score(MODEL, data / "voices", data / "faces", face_model, [b"".join(parts)], **common)
    assert repr(good) == repr(avpgan.evaluate_faces(MODEL, data / "voices", data / "faces", face_model, progress=False,
                                                    **common))
    with pytest.raises(avpgan.InvalidArgumentError, match="record 0 .*another recording"):
        avpgan.face_similarity_score(MODEL, data / "voices", data / "faces", face_model, [b"".join(parts[::-1])], **common)
    with pytest.raises(avpgan.InvalidArgumentError, match="3 recordings|4 recordings"):
        avpgan.face_similarity_score(MODEL, data / "voices", data / "faces", face_model, [b"".join(parts[:3])], **common)
    with pytest.raises(avpgan.InvalidArgumentError, match="lengths"):
        avpgan.face_similarity_score(MODEL, data / "voices", data / "faces", face_model, [b"".join(parts)],
                                     seconds=[1, 2], identities=["id0000", "id0002"])


def test_a_broken_recording_fails_as_in_one_process(data, face_model, client, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    (broken / "voices" / "id0002" / "broken.wav").write_text("not audio\n")
    common = dict(seconds=[2], split="all")
    with pytest.raises(avpgan.AvpganError) as one:
        avpgan.evaluate_faces(MODEL, broken / "voices", broken / "faces", face_model, progress=False, **common)
    with pytest.raises(avpgan.AvpganError) as many:
        distributed.evaluate_faces(MODEL, face_model, broken / "voices", broken / "faces", client=client, progress=False,
                                   **common)
    assert type(many.value) is type(one.value) and many.value.message == one.value.message, (one.value, many.value)
    assert "broken.wav" in one.value.message


def test_a_model_the_workers_cannot_see_is_a_clear_error(data, face_model, client):
    """/proc/self/fd/N names the model in this process only: the workers have no descriptor N."""
    fd = os.open(MODEL, os.O_RDONLY)
    high = os.dup2(fd, 987)
    os.close(fd)
    try:
        with pytest.raises(FileNotFoundError, match="missing on the Dask worker"):
            distributed.evaluate_faces(f"/proc/self/fd/{high}", face_model, data / "voices", data / "faces",
                                       client=client, seconds=[2], split="all", progress=False)
    finally:
        os.close(high)


def test_cluster_pixel_retrieval_is_the_one_process_result(data, client, tmp_path):
    """Each side with its own feature cache, so the workers compute the features themselves."""
    one = avpgan.pixel_retrieval(MODEL, data / "voices", data / "faces", split="all", cache=tmp_path / "c1",
                                 grid=tmp_path / "one.png", progress=False)
    many = distributed.pixel_retrieval(MODEL, data / "voices", data / "faces", client=client, split="all",
                                       cache=tmp_path / "c2", grid=tmp_path / "many.png", progress=False, chunk=2)
    assert repr(many) == repr(one) and many.recordings == 6, (one, many)
    assert (tmp_path / "many.png").read_bytes() == (tmp_path / "one.png").read_bytes()
    recordings = avpgan.pixel_retrieval_recordings(data / "voices", data / "faces", split="all")
    records = avpgan.pixel_retrieval_embeddings(MODEL, recordings, cache=tmp_path / "c1")
    one_size = len(records) // len(recordings)
    swapped = records[one_size:2 * one_size] + records[:one_size] + records[2 * one_size:]
    with pytest.raises(avpgan.InvalidArgumentError, match="record 0 .*another recording"):
        avpgan.pixel_retrieval_score(MODEL, data / "voices", data / "faces", swapped, split="all")

"""Model.save_portrait: a PNG with provenance from a recording file, the same pixels as
Model.portrait, complete or untouched."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import avpgan
from avpgan import distributed
from conftest import REPO

VOICE = REPO / "examples" / "voices" / "heldout-speaker.flac"
MODEL = REPO / "models" / "default.safetensors"


def test_save_portrait_writes_the_portrait_with_provenance(tmp_path, avpgan_module):
    with avpgan.Model(MODEL) as m:
        info = m.save_portrait(VOICE, tmp_path / "face.png", seconds=2)
        face = m.portrait(str(VOICE), seconds=2)
        m.save_portrait(VOICE, tmp_path / "bare.png", seconds=2, provenance=False)
    assert info.voiced_seconds == pytest.approx(2.0, abs=0.05) and info.n_frames > 0
    assert info.embedding.shape == (m.info.embed_dim,) and abs(np.linalg.norm(info.embedding) - 1) < 1e-4
    assert (tmp_path / "bare.png").read_bytes() == avpgan.encode_png(face), "save_portrait's pixels differ from portrait's"
    chunks = distributed.provenance(tmp_path / "face.png")
    assert chunks is not None and "Synthetic image" in chunks["Description"], chunks
    assert chunks["avpgan:voiced-seconds"].startswith("2")


def test_save_portrait_without_provenance_and_errors(tmp_path, avpgan_module):
    with avpgan.Model(MODEL) as m:
        m.save_portrait(VOICE, tmp_path / "bare.png", provenance=False)
        assert distributed.provenance(tmp_path / "bare.png") == {}
        with pytest.raises(avpgan.AvpganIOError):
            m.save_portrait(tmp_path / "missing.wav", tmp_path / "x.png")
        assert not (tmp_path / "x.png").exists(), "a failed call left an output behind"


@pytest.mark.skipif(shutil.which("cmp") is None, reason="no cmp")
def test_save_portrait_equals_the_command(tmp_path, avpgan_module):
    cli = REPO / "build" / "bin" / "avpgan"
    if not cli.exists():
        pytest.skip("build/bin/avpgan is not built")
    with avpgan.Model(MODEL) as m:
        m.save_portrait(VOICE, tmp_path / "py.png", noise=0.1, seed=2)
    subprocess.run([str(cli), "portrait", "--model", str(MODEL), "--noise", "0.1", "--seed", "2", str(VOICE),
                    "-o", str(tmp_path / "cli.png")], check=True, capture_output=True)
    assert (tmp_path / "py.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_portraits_batch_in_one_process(tmp_path, avpgan_module):
    """avpgan.portraits: the command's names and bytes, a row per file, reruns that skip."""
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "a.flac").write_bytes(VOICE.read_bytes())
    (voices / "broken.wav").write_text("not audio\n")
    rows = avpgan.portraits([voices], tmp_path / "out", model=MODEL, progress=False, seconds=2)
    assert [(r.status, r.output.endswith(name)) for r, name in zip(rows, ["a.png", "broken.png"])] == \
        [("ok", True), ("failed", True)], rows
    assert "broken.wav" in rows[1].error
    with avpgan.Model(MODEL) as m:
        m.save_portrait(voices / "a.flac", tmp_path / "single.png", seconds=2)
    assert (tmp_path / "out" / "a.png").read_bytes() == (tmp_path / "single.png").read_bytes()
    again = avpgan.portraits([voices / "a.flac"], tmp_path / "out", model=MODEL, progress=False, seconds=2)
    assert again[0].status == "skipped" and again[0].voiced_seconds > 1, again

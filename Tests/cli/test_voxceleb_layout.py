"""Training on a corpus in VoxCeleb1/VGGFace's own layout: voices under wav/<VoxCeleb1 ID>/
<video>/<clip>.wav, faces under <VGGFace name>/, joined by vox1_meta.csv (--meta), with no
copying or renaming; and Voice2Face's .npy log-mel files taken as voices."""
import os, shutil, subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")
# VGGFace-style names: with the paper's initial-letter rule, C-E are held out, F-Z trained.
NAMES = ["Eartha_Kitt", "Fanny_Ardant", "Gilles_Marini", "Hugh_Laurie", "Iain_Glen"]


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One synthetic data set in two layouts: the corpus's (ids + meta table) and by name."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed to synthesise the voices")
    root = tmp_path_factory.mktemp("voxceleb")
    synth = root / "synth"
    r = run("synth-data", "-o", str(synth), "--speakers", str(len(NAMES)), "--utterances", "2", "--faces", "2", "--seed", "5")
    assert r.returncode == 0, r.stderr
    speakers = sorted(p.name for p in (synth / "voices").iterdir())
    rows = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    for k, (speaker, name) in enumerate(zip(speakers, NAMES)):
        vox_id = f"id1{k:04d}"
        rows.append(f"{vox_id}\t{name}\tm\tUSA\t{'test' if k in (1, 2) else 'dev'}")
        for clip in sorted((synth / "voices" / speaker).iterdir()):
            for tree, who in (("wav", vox_id), ("by-name", name)):
                video = root / tree / who / "1zcIwhmdeo4"
                video.mkdir(parents=True, exist_ok=True)
                shutil.copy(clip, video / f"0000{clip.stem}.wav")
        shutil.copytree(synth / "faces" / speaker, root / "faces" / name)
    (root / "vox1_meta.csv").write_text("\n".join(rows) + "\n")
    return root


def train(corpus, voices, out, *extra):
    return run("train", "--voices", str(voices), "--faces", str(corpus / "faces"), "--voice-encoder", MODEL,
               "--widths", "tiny", "--batch", "4", "--steps", "2", "--cache", str(corpus / "cache"),
               "--checkpoint-dir", str(out) + ".ckpt", "-o", str(out), *extra)


def test_meta_join_trains_as_if_the_folders_were_renamed(corpus, tmp_path):
    joined = train(corpus, corpus / "wav", tmp_path / "joined.safetensors", "--meta", str(corpus / "vox1_meta.csv"))
    assert joined.returncode == 0, joined.stderr
    named = train(corpus, corpus / "by-name", tmp_path / "named.safetensors", "--split-rule", "initial-letter")
    assert named.returncode == 0, named.stderr
    assert "on 4 identities" in joined.stdout, "Eartha_Kitt (E) is held out by the initial-letter rule: " + joined.stdout
    assert (tmp_path / "joined.safetensors").read_bytes() == (tmp_path / "named.safetensors").read_bytes(), \
        "--meta (with its default, the initial-letter split) must train exactly as the renamed folders do"


def test_corpus_set_split_and_errors(corpus, tmp_path):
    meta = str(corpus / "vox1_meta.csv")
    r = train(corpus, corpus / "wav", tmp_path / "set.safetensors", "--meta", meta, "--split-rule", "corpus-set")
    assert r.returncode == 0 and "on 3 identities" in r.stdout, "the table's two test speakers are held out: " + r.stdout + r.stderr
    r = train(corpus, corpus / "wav", tmp_path / "x.safetensors", "--split-rule", "corpus-set")
    assert r.returncode == 2 and "needs --meta" in r.stderr, r.stderr
    r = train(corpus, corpus / "wav", tmp_path / "x.safetensors")
    assert r.returncode == 1 and "training identities" in r.stderr, \
        "without the table no id folder matches a face folder, and the message says so: " + r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,Name\nid10000,Eartha_Kitt\n")
    r = train(corpus, corpus / "wav", tmp_path / "x.safetensors", "--meta", str(bad))
    assert r.returncode != 0 and "VoxCeleb1 ID" in r.stderr and "bad.csv" in r.stderr, r.stderr


def test_voice2face_feature_files_are_voices(corpus, tmp_path):
    """Voice2Face's preprocessed fbank/<id>/<video>/<clip>.npy files train without audio."""
    fbank = tmp_path / "fbank"
    for wav in sorted((corpus / "wav").rglob("*.wav")):
        out = fbank / wav.relative_to(corpus / "wav").with_suffix(".npy")
        out.parent.mkdir(parents=True, exist_ok=True)
        r = run("features", str(wav), "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert np.load(out).shape[1] == 64
    r = train(corpus, fbank, tmp_path / "fbank.safetensors", "--meta", str(corpus / "vox1_meta.csv"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fbank.safetensors").stat().st_size > 0
    np.save(next(fbank.rglob("*.npy")), np.zeros((10, 32), np.float32))
    r = train(corpus, fbank, tmp_path / "broken.safetensors", "--meta", str(corpus / "vox1_meta.csv"))
    assert r.returncode != 0 and "[frames, 64]" in r.stderr, "a malformed feature file is named: " + r.stderr

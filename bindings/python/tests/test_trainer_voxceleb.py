"""avpgan.Trainer on a corpus in VoxCeleb1/VGGFace's own layout: meta= joins the id folders to
the VGGFace names, split="corpus-set" holds out the table's test speakers."""
import shutil

import pytest

import avpgan
from conftest import GOLDEN

MODEL = GOLDEN / "avpgan" / "model.safetensors"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed")
    root = tmp_path_factory.mktemp("vox")
    avpgan.synth_data(root / "s", speakers=4, utterances=2, faces=1, seed=2)
    names = ["Fanny_Ardant", "Gilles_Marini", "Hugh_Laurie", "Iain_Glen"]
    rows = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    for k, (speaker, name) in enumerate(zip(sorted(p.name for p in (root / "s" / "voices").iterdir()), names)):
        rows.append(f"id1{k:04d}\t{name}\tm\tUK\t{'test' if k == 3 else 'dev'}")
        shutil.copytree(root / "s" / "voices" / speaker, root / "wav" / f"id1{k:04d}" / "video")
        shutil.copytree(root / "s" / "faces" / speaker, root / "faces" / name)
    (root / "vox1_meta.csv").write_text("\n".join(rows) + "\n")
    return root


def test_meta_and_corpus_split(corpus):
    common = dict(voices=corpus / "wav", faces=corpus / "faces", cache=corpus / "cache", voice_encoder=MODEL,
                  widths="tiny", batch_size=4)
    with avpgan.Trainer.create(**common, meta=corpus / "vox1_meta.csv", split="initial-letter") as t:
        assert t.info.n_identities == 4, "all four names start with F-I: trained"
    with avpgan.Trainer.create(**common, meta=corpus / "vox1_meta.csv", split="corpus-set") as t:
        assert t.info.n_identities == 3, "Iain_Glen is the table's test speaker"
        t.step()
    with pytest.raises(ValueError, match="needs meta="):
        avpgan.Trainer.create(**common, split="corpus-set")
    with pytest.raises(avpgan.InvalidArgumentError, match="training identities"):
        avpgan.Trainer.create(**common)  # without the table no id folder matches a face folder

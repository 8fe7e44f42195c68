"""Trainer.create holds out the data set's own test list (voices/../test.txt) when given none,
as the avpgan command does, so a notebook does not train on the held-out speakers."""

from __future__ import annotations

import pytest

from conftest import REPO, synth_dataset

MODEL = REPO / "Tests" / "Fixtures" / "golden" / "avpgan" / "model.safetensors"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synth_dataset(tmp_path_factory.mktemp("heldout"), speakers=6, utterances=1, faces=1, seed=5)


def test_default_holds_out_the_bundled_test_list(avpgan_module, data):
    held = [line for line in (data / "data" / "test.txt").read_text().split() if line]
    assert held, "synth-data of 6 speakers should hold some out"
    args = dict(voices=data / "data" / "voices", faces=data / "data" / "faces", cache=data / "cache",
                voice_encoder=MODEL, widths="tiny", batch_size=2)
    with avpgan_module.Trainer.create(**args) as t:
        assert t.info.n_identities == 6 - len(held), "held-out speakers were trained on"
    empty = data / "none.txt"
    empty.write_text("")
    with avpgan_module.Trainer.create(test_list=empty, **args) as t:
        assert t.info.n_identities == 6, "an explicit (empty) test list must win over the bundled one"

"""avpgan.EnhancerTrainer at tiny widths on drawn 32 px faces: steps and runs whose losses come
back under upstream's names, a resumed run equal to the straight one bit for bit, export to an
enhancer that loads, validation against bicubic, a stop from the progress callback and Ctrl-C
that keep the checkpoint, one call at a time, refusals with clear errors, and two threads as
data-parallel ranks equal to one process on the whole batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from face_trainer_checks import (ThreadRanks, draw_face, faces, maker, stop_and_ctrl_c_keep_the_checkpoint,
                                 train_on_two_ranks, worst_relative_difference)

REPO = Path(__file__).resolve().parents[3]
VGG = REPO / "Tests" / "Fixtures" / "enhancer-step" / "vgg19-w32.safetensors"
CHECKPOINT = "enhancer-checkpoint.safetensors"


@pytest.fixture
def tiny(avpgan_module, tmp_path):
    """create(...) of a tiny run on 8 faces (2 held out), batch 2, checkpoints into tmp/ck."""
    data = faces(avpgan_module, tmp_path / "faces")

    return maker(avpgan_module.EnhancerTrainer.create, data, widths="tiny", batch_size=2, seed=3,
                 validation_fraction=0.25, checkpoint_dir=tmp_path / "ck"), data


def test_steps_resume_export_and_validate(avpgan_module, tiny, tmp_path):
    make, data = tiny
    with make() as t:
        info = t.info
        assert (info.step, info.size, info.n_faces, info.n_validation_faces, info.batch_size) == (0, 32, 8, 2, 2)
        assert info.loss_weights["perceptual"] == 0 and info.loss_weights["identity"] == 0, \
            f"without their files the perceptual and identity losses are off: {info.loss_weights}"
        assert info.loss_weights["l1"] == pytest.approx(0.1) and info.losses == {}
        first = t.step()
        assert {"l_g_pix", "l_g_gan", "l_d", "l_g_gan_mouth", "l_d_mouth"} <= set(first), first
        assert "l_g_percep" not in first and "l_identity" not in first, first
        assert all(np.isfinite(v) for v in first.values())
        t.save(tmp_path / "step1.safetensors")
        seen = []
        straight = t.run(2, progress=lambda done, total, losses: seen.append((done, total)))
        assert seen == [(1, 2), (2, 2)] and len(straight) == 2
        assert t.info.losses == straight[-1] and t.step_count == 3
        t.export(tmp_path / "A.safetensors")
        report = t.validate()
        assert (report.step, report.n_faces, report.low_size) == (3, 2, 16)
        assert np.isfinite(report.psnr) and np.isfinite(report.ssim) and report.bicubic_psnr > 10, report
        assert report.gain == pytest.approx(report.psnr - report.bicubic_psnr)
    assert t.closed
    with pytest.raises(avpgan_module.EnhancerTrainerClosedError):
        t.step()

    with avpgan_module.EnhancerTrainer.load(tmp_path / "step1.safetensors", data) as u:
        assert u.step_count == 1
        resumed = u.run(2)
        assert resumed == straight, "the resumed run's losses are not the straight run's"
        u.export(tmp_path / "B.safetensors")
    assert (tmp_path / "A.safetensors").read_bytes() == (tmp_path / "B.safetensors").read_bytes()
    with avpgan_module.Enhancer(tmp_path / "A.safetensors") as e:
        assert e.info.size == 32


def test_stop_and_ctrl_c_keep_the_checkpoint(avpgan_module, tiny, tmp_path):
    stop_and_ctrl_c_keep_the_checkpoint(avpgan_module, tiny[0], tmp_path / "ck" / CHECKPOINT, "l_g_pix")


def test_perceptual_loss_with_its_file(avpgan_module, tiny):
    make, _ = tiny
    with make(perceptual=VGG, losses={"adversarial": 0, "facial_components": 0, "component_style": 0}) as t:
        assert t.info.loss_weights["perceptual"] == 1
        losses = t.step()
        assert set(losses) == {"l_g_pix", "l_g_percep"}, losses


def test_refusals_say_what_is_wrong(avpgan_module, tiny, tmp_path):
    make, data = tiny
    E = avpgan_module
    with pytest.raises(E.AvpganIOError, match="does not exist"):
        E.EnhancerTrainer.create(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="widths"):
        make(widths="huge")
    with pytest.raises(ValueError, match="unknown loss 'pixel'"):
        make(losses={"pixel": 1})
    with pytest.raises(E.InvalidArgumentError, match="batch of 6"):
        make(batch_size=6)
    with pytest.raises(E.InvalidArgumentError, match="loss weight l1"):
        make(losses={"l1": -1})
    with pytest.raises(ValueError, match="batch_size"):
        make(batch_size=0)
    mixed = faces(E, tmp_path / "mixed", count=2)
    E.save_png(mixed / "a" / "big.png", draw_face(9, 64))
    with pytest.raises(E.InvalidArgumentError, match="big.png"):
        E.EnhancerTrainer.create(mixed, widths="tiny")
    with make(checkpoint_dir=None) as t:
        t.save(tmp_path / "c.safetensors")
    other = faces(E, tmp_path / "other", count=7)
    with pytest.raises(E.InvalidArgumentError, match="another face folder"):
        E.EnhancerTrainer.load(tmp_path / "c.safetensors", other)
    with pytest.raises(E.InvalidArgumentError, match="batches of 2"):
        E.EnhancerTrainer.load(tmp_path / "c.safetensors", data, batch_size=4)
    with pytest.raises(TypeError):
        E.EnhancerTrainer(None)


def test_two_ranks_equal_one_process_on_the_whole_batch(avpgan_module, tmp_path):
    """Two threads as ranks, each computing 4 of the 8 faces of every step, report the losses of
    one trainer on the whole batch (relative 1e-4, as Tests/cli/test_mpi_train_enhancer.py), and
    rank 0 alone exports."""
    E = avpgan_module
    data = faces(E, tmp_path / "faces", count=10)
    args = dict(widths="tiny", batch_size=8, seed=5, validation_fraction=0.1, sheet_rows=0)
    with E.EnhancerTrainer.create(data, **args) as alone:
        single = alone.run(2)
    ranks = train_on_two_ranks(lambda allreduce, r: E.EnhancerTrainer.create(data, allreduce=allreduce, rank=r, n_ranks=2, **args),
                               2, lambda r: tmp_path / f"rank{r}.safetensors")
    worst = worst_relative_difference(single, ranks)
    assert worst <= 1e-4, f"two ranks differ from one process by {worst} (relative)"
    with pytest.raises(ValueError, match="needs allreduce"):
        E.EnhancerTrainer.create(data, n_ranks=2, **args)
    with pytest.raises(E.InvalidArgumentError, match="at least 8"):
        E.EnhancerTrainer.create(data, allreduce=ThreadRanks(2).allreduce(0), rank=0, n_ranks=2, **dict(args, batch_size=4))

"""avpgan.PriorTrainer at tiny widths on drawn 32 px faces: steps and runs whose losses come back
under upstream's names, a resumed run equal to the straight one bit for bit (losses and exported
prior), a stop from the progress callback and Ctrl-C that keep the checkpoint, one call at a
time, refusals with clear errors, and two data-parallel ranks equal to one process on the whole
batch."""

from __future__ import annotations

import numpy as np
import pytest

from face_trainer_checks import (ThreadRanks, faces, maker, stop_and_ctrl_c_keep_the_checkpoint, train_on_two_ranks,
                                 worst_relative_difference)

CHECKPOINT = "prior-checkpoint.safetensors"


@pytest.fixture
def tiny(avpgan_module, tmp_path):
    """create(...) of a tiny run on 6 faces (1 held out), batch 2, checkpoints into tmp/ck."""
    data = faces(avpgan_module, tmp_path / "faces", count=6)

    return maker(avpgan_module.PriorTrainer.create, data, widths="tiny", batch_size=2, seed=3, samples=4,
                 checkpoint_dir=tmp_path / "ck"), data


def test_steps_resume_and_export(avpgan_module, tiny, tmp_path):
    make, data = tiny
    with make() as t:
        info = t.info
        assert (info.step, info.size, info.n_faces, info.n_training_faces, info.batch_size, info.num_mlp) == (0, 32, 6, 5, 2, 8)
        assert info.losses == {}
        first = t.step()
        assert set(first) == {"l_d", "real_score", "fake_score", "l_g"}, first
        assert all(np.isfinite(v) for v in first.values())
        t.save(tmp_path / "step1.safetensors")
        seen = []
        straight = t.run(3, progress=lambda done, total, losses: seen.append((done, total)))
        assert seen == [(1, 3), (2, 3), (3, 3)] and len(straight) == 3
        assert {"l_g_path", "path_length"} <= set(straight[2]), "step 4 regularises the path length (net_g_reg_every 4)"
        assert t.info.losses == straight[-1] and t.step_count == 4
        t.export(tmp_path / "A.safetensors")
    assert t.closed
    with pytest.raises(avpgan_module.PriorTrainerClosedError):
        t.step()

    with avpgan_module.PriorTrainer.load(tmp_path / "step1.safetensors", data) as u:
        assert u.step_count == 1
        assert u.run(3) == straight, "the resumed run's losses are not the straight run's"
        u.export(tmp_path / "B.safetensors")
    assert (tmp_path / "A.safetensors").read_bytes() == (tmp_path / "B.safetensors").read_bytes()


def test_stop_and_ctrl_c_keep_the_checkpoint(avpgan_module, tiny, tmp_path):
    stop_and_ctrl_c_keep_the_checkpoint(avpgan_module, tiny[0], tmp_path / "ck" / CHECKPOINT, "l_g")


def test_refusals_say_what_is_wrong(avpgan_module, tiny, tmp_path):
    make, data = tiny
    E = avpgan_module
    with pytest.raises(E.AvpganIOError, match="does not exist"):
        E.PriorTrainer.create(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="widths"):
        make(widths="huge")
    with pytest.raises(E.InvalidArgumentError, match="batch of 6"):
        make(batch_size=6)
    with pytest.raises(ValueError, match="samples"):
        make(samples=300)
    with pytest.raises(E.InvalidArgumentError, match="truncation"):
        make(truncation=float("nan"))
    with make(checkpoint_dir=None) as t:
        t.save(tmp_path / "c.safetensors")
        t.export(tmp_path / "prior.safetensors")
    other = faces(E, tmp_path / "other", count=7)
    with pytest.raises(E.InvalidArgumentError, match="another face folder"):
        E.PriorTrainer.load(tmp_path / "c.safetensors", other)
    with pytest.raises(E.InvalidArgumentError, match="batches of 2"):
        E.PriorTrainer.load(tmp_path / "c.safetensors", data, batch_size=4)
    with pytest.raises(E.ModelFormatError, match="prior session checkpoint"):
        E.PriorTrainer.load(tmp_path / "prior.safetensors", data)
    with pytest.raises(TypeError):
        E.PriorTrainer(None)


def test_two_ranks_equal_one_process_on_the_whole_batch(avpgan_module, tmp_path):
    """Two threads as ranks, each computing one discriminator group of 4 of the 8 faces (and half
    of the path-length term's) of every step, report the losses of one trainer on the whole batch
    over 4 steps, the last with the path-length term (relative 1e-4, as
    Tests/cli/test_mpi_train_prior.py), and rank 0 alone exports."""
    E = avpgan_module
    data = faces(E, tmp_path / "faces", count=10)
    args = dict(widths="tiny", batch_size=8, seed=5, samples=0)
    with E.PriorTrainer.create(data, **args) as alone:
        single = alone.run(4)
    assert "l_g_path" in single[3], single[3]
    ranks = train_on_two_ranks(lambda allreduce, r: E.PriorTrainer.create(data, allreduce=allreduce, rank=r, n_ranks=2, **args),
                               4, lambda r: tmp_path / f"rank{r}.safetensors")
    worst = worst_relative_difference(single, ranks)
    print(f"PriorTrainer on 2 thread ranks against one process: losses within {worst:.3g} relative")
    assert worst <= 1e-4, f"two ranks differ from one process by {worst} (relative)"
    with pytest.raises(ValueError, match="needs allreduce"):
        E.PriorTrainer.create(data, n_ranks=2, **args)
    with pytest.raises(E.InvalidArgumentError, match="at least 8"):
        E.PriorTrainer.create(data, allreduce=ThreadRanks(2).allreduce(0), rank=0, n_ranks=2, **dict(args, batch_size=4))

"""avpgan.Trainer: the reference's gan_step reproduced through the bindings, checkpoints that
continue bit-identically, export, layouts checked with clear errors, and runs on a data set with
progress, abort and Ctrl-C.

The parity fixtures are Tests/Fixtures/training (tools/fixtures/make_training_golden.py): three steps of
the reference's gan_step at TINY widths for each architecture. Their initial networks become a
training checkpoint the way tools/converters/convert_torch.py --training makes one (its numpy half:
avpgan_model_file.model_tensors + training_checkpoint), so no torch is needed here."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "converters"))
import avpgan_model_file as amf  # noqa: E402
import convert_torch  # noqa: E402  (torch is imported only inside its functions that need it)
import safetensors_io  # noqa: E402
from conftest import synth_dataset  # noqa: E402

TRAINING = REPO / "Tests" / "Fixtures" / "training"
ARCHS = ["voice2face", "avpgan", "avpgan-nocbam"]
MODEL = REPO / "Tests" / "Fixtures" / "golden" / "avpgan" / "model.safetensors"
NAMES = ("d_real", "d_fake", "c_real", "g_fake", "g_class")


def make_checkpoint(arch: str, path: Path) -> None:
    """The fixture's initial networks as a training checkpoint (tools/converters/convert_torch.py --training)."""
    initial, _ = safetensors_io.read(str(TRAINING / arch / "initial.safetensors"))
    nets: dict = {}
    for key, value in initial.items():
        net, rest = key.split(".", 1)
        nets.setdefault(net, {})[rest] = value
    tensors, meta = amf.model_tensors(arch, nets, spectral_norm="stored")
    tensors, meta = convert_torch.training_checkpoint(tensors, meta, seed=1)
    safetensors_io.write(str(path), tensors, meta)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("checkpoints")
    out = {}
    for arch in ARCHS:
        out[arch] = d / f"{arch}.safetensors"
        make_checkpoint(arch, out[arch])
    return out


@pytest.fixture(scope="module")
def steps():
    return {arch: safetensors_io.read(str(TRAINING / arch / "steps.safetensors"))[0] for arch in ARCHS}


def batch(s, k):
    """Fixture step k in the reference's own layouts: voice [N, 64, T], int64 labels, face NCHW,
    noise [N, E, 1, 1]."""
    return (s[f"voice_{k}"], s[f"voice_label_{k}"], s[f"face_{k}"], s[f"face_label_{k}"], s[f"noise_{k}"])


@pytest.mark.parametrize("arch", ARCHS)
def test_gan_step_matches_reference(avpgan_module, checkpoints, steps, arch):
    s = steps[arch]
    with avpgan_module.Trainer.load(checkpoints[arch]) as t:
        info = t.info
        assert (info.arch, info.step, info.n_identities, info.embed_dim, info.has_dataset) == (arch, 0, 4, 16, False)
        assert info.generator_widths == (128, 64, 32, 16, 16) and info.face_widths == (8, 16, 32, 32, 64)
        for k in range(3):
            voice, vl, face, fl, noise = batch(s, k)
            assert voice.shape == (4, 64, 48) and vl.dtype == np.int64 and noise.shape == (4, 16, 1, 1)
            if k == 1:
                noise = noise.reshape(4, 16)  # [N, E] is taken too
            losses = t.gan_step(voice, vl, face, fl, noise)
            assert isinstance(losses, avpgan_module.Losses) and losses._fields == NAMES
            assert all(type(v) is float for v in losses)
            expected = s[f"losses_{k}"]
            tolerance = 1e-5 if k == 0 else 1e-4
            for name, got, want in zip(NAMES, losses, expected):
                assert abs(got - want) <= tolerance * abs(want), f"{arch} step {k} {name}: {got} vs reference {want}"
        assert t.step_count == 3


def test_save_load_continues_bit_identically(avpgan_module, checkpoints, steps, tmp_path):
    s = steps["avpgan"]
    saved = tmp_path / "after-1.safetensors"
    with avpgan_module.Trainer.load(checkpoints["avpgan"]) as t:
        t.gan_step(*batch(s, 0))
        t.save(saved)
        straight = [t.gan_step(*batch(s, k)) for k in (1, 2)]
    with avpgan_module.Trainer.load(saved) as u:
        assert u.step_count == 1
        resumed = [u.gan_step(*batch(s, k)) for k in (1, 2)]
        assert u.step_count == 3
    assert resumed == straight, "losses after save -> load differ from a straight run"


def test_export_is_a_model(avpgan_module, checkpoints, steps, tmp_path):
    with avpgan_module.Trainer.load(checkpoints["avpgan-nocbam"]) as t:
        t.gan_step(*batch(steps["avpgan-nocbam"], 0))
        t.export(tmp_path / "model.safetensors")
    with avpgan_module.Model(tmp_path / "model.safetensors") as m:
        assert m.info.arch == "avpgan-nocbam" and m.info.embed_dim == 16
        assert m.generate(np.full(16, 0.25, np.float32)).shape == (64, 64, 3)


def test_layouts_are_checked(avpgan_module, checkpoints, steps):
    voice, vl, face, fl, noise = batch(steps["voice2face"], 0)
    with avpgan_module.Trainer.load(checkpoints["voice2face"]) as t:
        bad = [
            ((voice[0], vl, face, fl, noise), "voice must be \\[N, n_mels=64, T\\]"),
            ((voice.transpose(0, 2, 1), vl, face, fl, noise), "voice must be"),
            ((voice, vl, face[:, :, :32], fl, noise), "face must be \\[N=4, 3, 64, 64\\]"),
            ((voice, vl, face[:3], fl, noise), "face must be"),
            ((voice, vl, face, fl, noise[:, :8]), "noise must be"),
            ((voice, vl.astype(np.float32), face, fl, noise), "voice_label must hold integers"),
            ((voice, vl[:3], face, fl, noise), "voice_label must have shape"),
            ((voice, vl, face, fl + 1, noise), "face_label\\[.\\] is 4; labels must be in 0...3"),
            ((voice, vl - 1, face, fl, noise), "voice_label\\[.\\] is -1"),
        ]
        for args, message in bad:
            with pytest.raises(ValueError, match=message):
                t.gan_step(*args)
        nan = voice.copy()
        nan[1, 2, 3] = np.nan
        with pytest.raises(avpgan_module.InvalidArgumentError, match="finite"):
            t.gan_step(nan, vl, face, fl, noise)
        assert t.step_count == 0, "refused batches take no step"
        with pytest.raises(avpgan_module.InvalidArgumentError, match="no data set"):
            t.step()
        with pytest.raises(avpgan_module.InvalidArgumentError, match="no data set"):
            t.run(2)
        with pytest.raises(ValueError):
            t.run(0)

        class FakeTensor:  # what torch tensors offer: detach().cpu().numpy()
            def __init__(self, a):
                self.a = a

            def detach(self):
                return self

            def cpu(self):
                return self

            def numpy(self):
                return self.a

        ref = t.gan_step(*(FakeTensor(x) for x in (voice, vl, face, fl, noise)))
        assert t.step_count == 1 and ref[0] > 0
    with pytest.raises(avpgan_module.TrainerClosedError):
        t.gan_step(voice, vl, face, fl, noise)
    t.close()  # idempotent
    with pytest.raises(avpgan_module.ModelFormatError, match="checkpoint"):
        avpgan_module.Trainer.load(MODEL)
    with pytest.raises(avpgan_module.ModelFormatError, match="not a training checkpoint"):
        avpgan_module.Trainer.load(MODEL.parent / "model-sn-stored.safetensors")
    with pytest.raises(avpgan_module.AvpganIOError):
        avpgan_module.Trainer.load("/nonexistent-avpgan-dir/c.safetensors")
    with pytest.raises(TypeError):
        avpgan_module.Trainer(None)


# -- a data set --------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synth_dataset(tmp_path_factory.mktemp("trainset"), speakers=3, utterances=2, faces=2, seed=3)


def create(avpgan_module, d):
    return avpgan_module.Trainer.create(voices=d / "data" / "voices", faces=d / "data" / "faces",
                                        cache=d / "cache", voice_encoder=MODEL, widths="tiny", batch_size=2, seed=4)


def test_run_progress_stop_and_resume(avpgan_module, dataset, tmp_path):
    with create(avpgan_module, dataset) as t:
        info = t.info
        assert (info.arch, info.n_identities, info.batch_size, info.has_dataset) == ("avpgan", 3, 2, True)
        seen = []
        history = t.run(3, progress=lambda done, total, losses: seen.append((done, total, losses)))
        assert history.shape == (3, 5) and history.dtype == np.float32
        assert [(d, n) for d, n, _ in seen] == [(1, 3), (2, 3), (3, 3)]
        assert np.array_equal(history, np.array([l for _, _, l in seen], np.float32))
        assert all(0 < v < 10 for v in history.ravel())
        assert t.step_count == 3
        single = t.step()
        assert isinstance(single, avpgan_module.Losses) and t.step_count == 4

        # progress returning False stops after that step, without an error
        assert t.run(10, progress=lambda d, n, l: d < 2).shape == (2, 5)
        assert t.step_count == 6
        # a set stop event stops before the first step
        stop = threading.Event()
        stop.set()
        assert t.run(5, stop=stop).shape == (0, 5) and t.step_count == 6

        # an exception in progress stops the run and propagates
        def boom(done, total, losses):
            raise RuntimeError("from progress")
        with pytest.raises(RuntimeError, match="from progress"):
            t.run(5, progress=boom)
        assert t.step_count == 7

        # Ctrl-C (SIGINT) during a run: the run stops cleanly, KeyboardInterrupt reaches the caller.
        # A process started in the background by a non-interactive shell inherits SIGINT ignored
        # (and the trainer rightly leaves an ignored SIGINT alone), so give this test Python's own
        # handler for its duration.
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            def interrupt(done, total, losses):
                signal.raise_signal(signal.SIGINT)
            with pytest.raises(KeyboardInterrupt):
                t.run(5, progress=interrupt)
            assert t.step_count == 8, "stopped after the step in progress"
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the SIGINT handler is restored"
        finally:
            signal.signal(signal.SIGINT, inherited)

        # another thread calling the trainer during a run is refused, not a crash
        errors = []

        def other(done, total, losses):
            def call():
                try:
                    t.step()
                except avpgan_module.InvalidArgumentError as e:
                    errors.append(str(e))
            th = threading.Thread(target=call)
            th.start()
            th.join()
        t.run(1, progress=other)
        assert len(errors) == 1 and "busy" in errors[0], errors
        assert t.step_count == 9

        t.save(tmp_path / "ckpt.safetensors")
        straight = t.run(2)
    with avpgan_module.Trainer.load(tmp_path / "ckpt.safetensors", dataset / "data" / "voices",
                                    dataset / "data" / "faces", cache=dataset / "cache", batch_size=2) as u:
        assert u.info.has_dataset and u.step_count == 9
        assert np.array_equal(u.run(2), straight), "resumed on the data set: not bit-identical"
    with pytest.raises(ValueError, match="cache"):
        avpgan_module.Trainer.load(tmp_path / "ckpt.safetensors", dataset / "data" / "voices", dataset / "data" / "faces")
    with pytest.raises(ValueError, match="arch"):
        avpgan_module.Trainer.create(voices="v", faces="f", cache="c", voice_encoder=MODEL, arch="gan")
    # The paper's initial-letter split: synth-data's identities (id0000...) all start with i, so
    # every identity trains, as in the checkpoint; a split with a test list is refused.
    with avpgan_module.Trainer.load(tmp_path / "ckpt.safetensors", dataset / "data" / "voices", dataset / "data" / "faces",
                                    cache=dataset / "cache", split="initial-letter", batch_size=2) as v:
        assert v.info.n_identities == 3 and v.info.has_dataset
    with pytest.raises(ValueError, match="test_list"):
        avpgan_module.Trainer.load(tmp_path / "ckpt.safetensors", dataset / "data" / "voices", dataset / "data" / "faces",
                                   cache=dataset / "cache", split="initial-letter", test_list="t.txt")
    with pytest.raises(ValueError, match="split"):
        avpgan_module.Trainer.load(tmp_path / "ckpt.safetensors", dataset / "data" / "voices", dataset / "data" / "faces",
                                   cache=dataset / "cache", split="by-name")


def test_recipe_options_and_health(avpgan_module, dataset, tmp_path):
    """generator_spectral_norm reaches the networks (default on, as the reference);
    stop_on_collapse stops a run after the step that raises a warning, with a message naming it;
    the health warnings survive a checkpoint."""
    kw = dict(voices=dataset / "data" / "voices", faces=dataset / "data" / "faces", cache=dataset / "cache",
              voice_encoder=MODEL, widths="tiny", batch_size=2, seed=4)
    with avpgan_module.Trainer.create(**kw) as t:
        info = t.info
        assert info.generator_spectral_norm is True and info.health == () and info.health_step == 0
        t.run(2)
        assert 0 <= t.info.batch_spread < 1
    with avpgan_module.Trainer.create(generator_spectral_norm=False, **kw) as t:
        assert t.info.generator_spectral_norm is False
    with avpgan_module.Trainer.create(arch="voice2face", generator_spectral_norm=False, **kw) as t:
        assert t.info.generator_spectral_norm is False
    with pytest.raises(TypeError, match="generator_spectral_norm"):
        avpgan_module.Trainer.create(generator_spectral_norm=1, **kw)
    with pytest.raises(TypeError, match="stop_on_collapse"):
        avpgan_module.Trainer.create(stop_on_collapse="yes", **kw)
    with avpgan_module.Trainer.create(generator_cbam=False, cbam_reduction=4, **kw) as t:
        assert (t.info.generator_cbam, t.info.cbam_reduction) == (False, 4), "the CBAM options reach the trainer"
    with avpgan_module.Trainer.create(**kw) as t:
        assert (t.info.generator_cbam, t.info.cbam_reduction) == (True, 16), "CBAM defaults: the reference's"
    with pytest.raises(TypeError, match="generator_cbam"):
        avpgan_module.Trainer.create(generator_cbam=0, **kw)
    with pytest.raises(ValueError, match="cbam_reduction"):
        avpgan_module.Trainer.create(cbam_reduction=0, **kw)
    with avpgan_module.Trainer.create(cbam_gate="residual", **kw) as t:
        assert t.info.cbam_gate == "residual", "the residual CBAM gate reaches the trainer"
        t.save(tmp_path / "residual.safetensors")
    with avpgan_module.Trainer.load(tmp_path / "residual.safetensors") as t:
        assert t.info.cbam_gate == "residual", "the checkpoint keeps the CBAM gate, so a resumed run uses it"
    with avpgan_module.Trainer.create(**kw) as t:
        assert t.info.cbam_gate == "residual", "the default CBAM gate is the residual one (issue 11)"
    with avpgan_module.Trainer.create(cbam_gate="sigmoid", **kw) as t:
        assert t.info.cbam_gate == "sigmoid", "the reference's sigmoid CBAM gate can still be chosen"
    with pytest.raises(ValueError, match="cbam_gate"):
        avpgan_module.Trainer.create(cbam_gate="softmax", **kw)
    with pytest.raises(ValueError, match="health_warm_up"):
        avpgan_module.Trainer.create(health_warm_up=0, **kw)

    # Judged from the first step, a fresh generator's faces are all alike: a collapse warning.
    with avpgan_module.Trainer.create(stop_on_collapse=True, health_warm_up=1, **kw) as t:
        with pytest.raises(avpgan_module.AbortedError, match="collapse"):
            t.run(5)
        info = t.info
        assert info.step == 1 and "collapse" in info.health and info.health_step == 1
        t.save(tmp_path / "unhealthy.safetensors")
        assert t.run(1).shape == (1, 5), "running on is allowed; only a new warning stops it"
    with avpgan_module.Trainer.load(tmp_path / "unhealthy.safetensors") as u:
        assert "collapse" in u.info.health and u.info.health_step == 1
    # Without stop_on_collapse the same run only warns.
    with avpgan_module.Trainer.create(health_warm_up=1, **kw) as t:
        assert t.run(3).shape == (3, 5) and "collapse" in t.info.health

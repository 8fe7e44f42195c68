"""Hostile input through the bindings (issue 13): every case here once crashed the process or
returned a non-finite result with status OK. Each now fails with the status and a message that
names the cause, or succeeds with a finite result."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "converters"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import safetensors_io  # noqa: E402
from test_trainer import TRAINING, batch, make_checkpoint  # noqa: E402

MODEL = REPO / "Tests" / "Fixtures" / "golden" / "avpgan" / "model.safetensors"


def speech(seconds: float = 1.5, rate: int = 16000) -> np.ndarray:
    """A voiced-looking signal (harmonics with a syllable envelope) in [-1, 1]."""
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 560), 1))
    return (0.3 * envelope * x).astype(np.float32)


def with_tensor(path: Path, out: Path, name: str, value: float, meta_update=None) -> Path:
    tensors, meta = safetensors_io.read(str(path))
    tensors[name] = np.full_like(tensors[name], value)
    if meta_update:
        meta = meta_update(dict(meta))
    safetensors_io.write(str(out), tensors, meta)
    return out


@pytest.mark.parametrize("value", [1e30, -3e38, 2.9e14 / 32768, 70000.0])
def test_huge_finite_samples_are_an_error_not_a_crash(avpgan_module, value):
    x = speech()
    x[100:110] = value
    with pytest.raises(avpgan_module.InvalidArgumentError, match=r"sample 10\d .*beyond"):
        avpgan_module.features(x, sample_rate=16000)
    with avpgan_module.Model(MODEL) as m, pytest.raises(avpgan_module.InvalidArgumentError, match="damaged float audio"):
        m.portrait(x, sample_rate=16000)


def test_huge_samples_in_a_float_wav_are_an_audio_format_error(avpgan_module, tmp_path):
    # Written by hand: the wave module has no float format.
    x = speech()
    x[2000:2010] = 1e30
    data = x.tobytes()
    header = (b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
              + (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")
              + (64000).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
              + b"data" + len(data).to_bytes(4, "little"))
    wav = tmp_path / "loud.wav"
    wav.write_bytes(header + data)
    with pytest.raises(avpgan_module.AudioFormatError, match="sample 2000 .*beyond"):
        avpgan_module.features(str(wav))


def test_samples_slightly_over_full_scale_are_kept(avpgan_module):
    x = speech() * 4  # clipping float audio, well within the limit
    f = avpgan_module.features(x, sample_rate=16000)
    assert np.all(np.isfinite(f)) and f.shape[1] == 64


@pytest.mark.parametrize("seconds", [1e15, 1e300, float(2**63)])
def test_huge_seconds_means_all_of_it(avpgan_module, seconds):
    x = speech()
    everything = avpgan_module.features(x, sample_rate=16000)
    np.testing.assert_array_equal(avpgan_module.features(x, sample_rate=16000, seconds=seconds), everything)


def test_extreme_finite_weight_fails_instead_of_nan(avpgan_module, tmp_path):
    bad = with_tensor(MODEL, tmp_path / "extreme.safetensors", "voice_encoder.model.12.bias", 3e38)
    with avpgan_module.Model(bad) as m:
        features = np.random.default_rng(0).standard_normal((300, 64)).astype(np.float32)
        with pytest.raises(avpgan_module.ModelFormatError, match="voice embedding overflowed float32"):
            m.embed(features)
        with pytest.raises(avpgan_module.ModelFormatError, match="extreme weights"):
            m.portrait(speech(), sample_rate=16000)


def test_negative_running_variance_is_rejected_at_load(avpgan_module, tmp_path):
    bad = with_tensor(MODEL, tmp_path / "negvar.safetensors", "voice_encoder.model.1.running_var", -1.0)
    with pytest.raises(avpgan_module.ModelFormatError, match=r"voice_encoder.model.1.running_var .*negative"):
        avpgan_module.Model(bad)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "avpgan.safetensors"
    make_checkpoint("avpgan", path)
    return path


def adam_update(**changes):
    def update(meta):
        state = json.loads(meta["avpgan.checkpoint"])
        state.update(changes)
        meta["avpgan.checkpoint"] = json.dumps(state)
        return meta
    return update


@pytest.mark.parametrize("name, value, message", [
    ("adam.exp_avg.generator.model.0.bias", float("nan"), "non-finite"),
    ("adam.exp_avg_sq.generator.model.0.bias", float("inf"), "non-finite"),
    ("adam.exp_avg_sq.generator.model.0.bias", -1e-3, "negative"),
    ("generator.model.0.bias", float("-inf"), "non-finite"),
    ("voice_encoder.model.1.running_var", -2.0, "negative"),
])
def test_bad_checkpoint_values_are_rejected_at_load(avpgan_module, checkpoint, tmp_path, name, value, message):
    bad = with_tensor(checkpoint, tmp_path / "bad.safetensors", name, value)
    with pytest.raises(avpgan_module.ModelFormatError, match=f"{name} .*{message}"):
        avpgan_module.Trainer.load(bad)


@pytest.mark.parametrize("change, message", [
    ({"lr": -1.0}, "lr is -1.0"), ({"beta2": 1.5}, "beta2 is 1.5"), ({"eps": 0}, "eps is 0"),
])
def test_bad_adam_state_is_rejected_at_load(avpgan_module, checkpoint, tmp_path, change, message):
    tensors, meta = safetensors_io.read(str(checkpoint))
    safetensors_io.write(str(tmp_path / "bad.safetensors"), tensors, adam_update(**change)(dict(meta)))
    with pytest.raises(avpgan_module.ModelFormatError, match=message):
        avpgan_module.Trainer.load(tmp_path / "bad.safetensors")


def test_gan_step_with_overflowing_weights_fails_instead_of_nan_losses(avpgan_module, checkpoint, tmp_path):
    bad = with_tensor(checkpoint, tmp_path / "extreme.safetensors", "face_encoder.model.0.bias", 3e38)
    steps = safetensors_io.read(str(TRAINING / "avpgan" / "steps.safetensors"))[0]
    with avpgan_module.Trainer.load(bad) as t:
        with pytest.raises(avpgan_module.ModelFormatError, match="non-finite losses"):
            t.gan_step(*batch(steps, 0))


@pytest.mark.skipif(not os.access("/dev/null", os.W_OK), reason="/dev/null is not writable here")
def test_saving_over_a_device_is_an_error_and_leaves_it(avpgan_module, checkpoint):
    before = os.stat("/dev/null")
    with avpgan_module.Trainer.load(checkpoint) as t:
        with pytest.raises(avpgan_module.AvpganIOError, match="'/dev/null'.*character device, not a regular file"):
            t.save("/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev, "/dev/null was replaced"
    assert not [p for p in os.listdir("/dev") if p.startswith("null.tmp")], "a temporary file was left in /dev"


def test_saving_over_a_fifo_is_an_error(avpgan_module, checkpoint, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with avpgan_module.Trainer.load(checkpoint) as t:
        with pytest.raises(avpgan_module.AvpganIOError, match="FIFO, not a regular file"):
            t.export(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"], "a temporary file was left"


def test_damaged_ogg_found_by_the_fuzzer_is_an_audio_format_error(avpgan_module):
    # Fuzz/regressions/fuzz-audio/damaged-ogg-vorbis-header: 11 option bytes, then the file.
    data = (REPO / "Fuzz" / "regressions" / "fuzz-audio" / "damaged-ogg-vorbis-header").read_bytes()[11:]
    for _ in range(3):
        with pytest.raises(avpgan_module.AudioFormatError, match="not decodable audio"):
            avpgan_module.decode(data)

"""The front end and portraits through the bindings, on speech made with espeak-ng: the same
face from a path, bytes and samples; features of resampled, re-encoded and stereo copies close
to the 16 kHz original; silence and empty input as NoSpeechError; hostile inputs refused."""
import os, shutil, subprocess, wave

import numpy as np
import pytest

import avpgan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")
ESPEAK, SOX = shutil.which("espeak-ng"), shutil.which("sox")
needs_tools = pytest.mark.skipif(ESPEAK is None or SOX is None, reason="espeak-ng and sox are needed (make deps)")


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """~3 s of English speech at 16 kHz mono, with half a second of silence either side."""
    d = tmp_path_factory.mktemp("speech")
    raw = d / "raw.wav"
    subprocess.run([ESPEAK, "-v", "en-us", "-w", str(raw), "The quick brown fox jumps over the lazy dog, twice."], check=True)
    out = d / "speech16k.wav"
    subprocess.run([SOX, str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), "pad", "0.5", "0.5"], check=True)
    return out


@pytest.fixture(scope="module")
def model():
    with avpgan.Model(MODEL) as m:
        yield m


@needs_tools
def test_features_shape_and_normalisation(speech):
    f = avpgan.features(speech)
    assert f.shape[1] == 64 and f.shape[0] >= 1000, f.shape
    assert f.dtype == np.float32
    assert np.all(np.isfinite(f))
    # Per-band normalised over the computed frames (then repeated): mean ~0 over the bands.
    assert abs(float(f.mean())) < 0.05, f.mean()


@needs_tools
def test_vad_removes_silence(speech):
    audio = avpgan.decode(speech)
    with_vad = avpgan.features(speech)
    without = avpgan.features(speech, vad=False)
    assert with_vad.shape == without.shape == (1000, 64), "both short clips repeat to 1000 frames"
    assert not np.allclose(with_vad, without), "VAD made no difference on padded speech"
    assert audio.seconds > 3


@needs_tools
def test_seconds_option(speech):
    a = avpgan.features(speech, seconds=1.0)
    b = avpgan.features(speech, seconds=2.0)
    assert a.shape == b.shape == (1000, 64)
    assert not np.allclose(a, b)
    with pytest.raises(avpgan.InvalidArgumentError):
        avpgan.features(speech, seconds=-1.0)


@needs_tools
def test_portrait_same_from_path_bytes_and_samples(speech, model):
    a = model.portrait(speech)
    b = model.portrait(speech.read_bytes())
    with wave.open(str(speech)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    c = model.portrait(pcm, sample_rate=16000)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b), "path and bytes differ"
    assert np.array_equal(a, c), "int16 samples differ from the file"
    noisy = model.portrait(speech, noise=0.05, seed=3)
    assert np.array_equal(noisy, model.portrait(speech, noise=0.05, seed=3)), "noise is not repeatable by seed"


@needs_tools
@pytest.mark.parametrize("rate, channels, ext", [(8000, 1, "wav"), (22050, 2, "wav"), (44100, 2, "flac"),
                                                 (48000, 1, "wav"), (44100, 1, "ogg"), (44100, 2, "mp3")])
def test_resampled_and_reencoded_copies_give_close_features(speech, tmp_path, rate, channels, ext):
    copy = tmp_path / f"copy.{ext}"
    r = subprocess.run([SOX, str(speech), "-r", str(rate), "-c", str(channels), str(copy)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"sox cannot write {ext}: {r.stderr.strip()}")
    ref = avpgan.features(speech, vad=False)
    got = avpgan.features(copy, vad=False)
    # 8 kHz loses everything above 4 kHz (the top ~20 bands); compare the bands both carry.
    bands = 40 if rate == 8000 else 64
    # Lossy codecs add an encoder delay (MP3: ~1100 samples, ~7 frames): align by the best shift.
    def corr_at(shift):
        a, b = (ref, got[shift:]) if shift >= 0 else (ref[-shift:], got)
        n = min(len(a), len(b)) - 10
        return np.corrcoef(a[:n, :bands].ravel(), b[:n, :bands].ravel())[0, 1]
    corr = max(corr_at(k) for k in range(-3, 12))
    assert corr > (0.80 if ext in ("ogg", "mp3") or rate == 8000 else 0.95), f"{rate} Hz {channels} ch {ext}: correlation {corr:.3f}"


def test_no_speech(model, tmp_path):
    silence = np.zeros(32000, np.int16)
    with pytest.raises(avpgan.NoSpeechError, match="no speech"):
        avpgan.features(silence, sample_rate=16000)
    with pytest.raises(avpgan.NoSpeechError):
        model.portrait(silence, sample_rate=16000)
    with pytest.raises(avpgan.NoSpeechError, match="no samples"):
        avpgan.features(np.zeros(0, np.float32), sample_rate=16000)
    p = tmp_path / "empty.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(b"")
    with pytest.raises(avpgan.NoSpeechError):
        avpgan.features(p)


def test_hostile_samples(model):
    x = np.zeros(16000, np.float32)
    x[100] = np.nan
    with pytest.raises(avpgan.InvalidArgumentError, match="sample 100"):
        avpgan.features(x, sample_rate=16000)
    x[100] = np.inf
    with pytest.raises(avpgan.InvalidArgumentError):
        model.portrait(x, sample_rate=16000)
    with pytest.raises(ValueError):
        avpgan.features(np.zeros(10, np.float32))  # an array needs sample_rate
    with pytest.raises(avpgan.InvalidArgumentError, match="sample_rate"):
        avpgan.features(np.zeros(100, np.float32), sample_rate=10)

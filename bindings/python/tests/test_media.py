"""avpgan.decode (path and bytes, formats, rates, channels, hostile inputs) and PNG encoding."""
import os, shutil, subprocess, wave, zlib

import numpy as np
import pytest

import avpgan

SOX = shutil.which("sox")


def write_wav(path, samples_int16, rate=16000, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples_int16, np.int16).tobytes())


def tone(seconds, rate, freqs=(220, 660, 1500)):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs) * 32767).astype(np.int16)


def test_decode_path_and_bytes_agree(tmp_path):
    x = tone(0.5, 16000)
    write_wav(tmp_path / "a.wav", x)
    a = avpgan.decode(tmp_path / "a.wav")
    b = avpgan.decode((tmp_path / "a.wav").read_bytes())
    assert a.sample_rate == 16000 and a.channels == 1 and "WAV" in a.format, a
    assert np.array_equal(a.samples, b.samples), "path and bytes decode differently"
    assert np.array_equal(np.round(a.samples * 32768).astype(np.int16), x), "16-bit WAV is not exact"


def test_decode_resamples_and_downmixes(tmp_path):
    x = tone(1, 44100)
    write_wav(tmp_path / "s.wav", np.stack([x, x], 1).ravel(), rate=44100, channels=2)
    a = avpgan.decode(tmp_path / "s.wav")
    assert (a.sample_rate, a.original_rate, a.channels) == (16000, 44100, 2), a
    assert abs(len(a.samples) - 16000) <= 2, len(a.samples)
    ref = tone(1, 16000) / 32768
    n = min(len(ref), len(a.samples)) - 200
    err = np.sqrt(np.mean((a.samples[200:n] - ref[200:n]) ** 2) / np.mean(ref[200:n] ** 2))
    assert err < 0.01, f"44.1 kHz stereo -> 16 kHz mono relative error {err}"
    keep = avpgan.decode(tmp_path / "s.wav", target_rate=0)
    assert keep.sample_rate == 44100 and len(keep.samples) == 44100


@pytest.mark.skipif(SOX is None, reason="sox not installed")
@pytest.mark.parametrize("ext, rate, tol", [("flac", 16000, 1e-3), ("ogg", 22050, 0.15), ("mp3", 48000, 0.15),
                                            ("wav", 8000, 0.02)])
def test_decode_formats_made_by_sox(tmp_path, ext, rate, tol):
    write_wav(tmp_path / "src.wav", tone(1, 16000))
    out = tmp_path / f"x.{ext}"
    r = subprocess.run([SOX, str(tmp_path / "src.wav"), "-r", str(rate), "-c", "2", str(out)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"this sox cannot write {ext}: {r.stderr.strip()}")
    a = avpgan.decode(out)
    assert a.sample_rate == 16000 and a.channels == 2, a
    ref = tone(1, 16000) / 32768
    # Lossy codecs shift by their delay; compare spectra (band energies) rather than samples.
    def bands(s):
        spec = np.abs(np.fft.rfft(s[:15000]))
        return np.array([spec[i:i + 100].sum() for i in range(0, 7000, 100)])
    be, br = bands(a.samples), bands(ref)
    err = np.abs(be - br).sum() / br.sum()
    assert err < max(tol, 0.05) * 3, f"{ext} at {rate} Hz: spectral error {err}"


@pytest.mark.parametrize("content, status", [
    (b"", avpgan.AudioFormatError), (b"just some text\n", avpgan.AudioFormatError),
    (bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8)), avpgan.AudioFormatError),
])
def test_decode_refuses_garbage(tmp_path, content, status):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    for src in (p, content):
        with pytest.raises(status) as e:
            avpgan.decode(src)
        assert e.value.message, "the error has no message"


def test_decode_missing_and_directory(tmp_path):
    with pytest.raises(avpgan.AvpganIOError, match="No such file"):
        avpgan.decode(tmp_path / "missing.wav")
    with pytest.raises(avpgan.AvpganIOError, match="directory"):
        avpgan.decode(tmp_path)


def test_png_round_trip(tmp_path):
    img = (np.arange(6 * 5 * 3) * 37 % 256).astype(np.uint8).reshape(6, 5, 3)
    data = avpgan.encode_png(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data == avpgan.encode_png(img), "PNG not deterministic"
    avpgan.save_png(tmp_path / "x.png", img)
    assert (tmp_path / "x.png").read_bytes() == data
    with pytest.raises(ValueError):
        avpgan.encode_png(np.zeros((4, 4), np.uint8))


def test_png_text_entries_are_stored(avpgan_module, tmp_path):
    """encode_png / save_png carry a caller's provenance (avpgan_png_encode_text)."""
    from avpgan import distributed
    img = np.zeros((4, 5, 3), dtype=np.uint8)
    avpgan.save_png(tmp_path / "x.png", img, text={"case": "2026-017", "Description": "synthetique \u00e9"})
    assert distributed.provenance(tmp_path / "x.png") == {"case": "2026-017", "Description": "synthetique \u00e9"}
    assert avpgan.encode_png(img, {}) == avpgan.encode_png(img)
    with pytest.raises(avpgan.InvalidArgumentError):
        avpgan.encode_png(img, {" bad key": "x"})

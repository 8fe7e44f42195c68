"""Issue 13: a portrait's memory is bounded by the features it keeps, not by the recording.
A 10-minute recording that is silent after 3 s of voice must peak (resident set of the
`avpgan portrait` process) where a 10-second one with the same voice does: the samples are
never all held (holding them would add 38 MB). And --seconds stops the reading: on the long
file, features of the first 2 s come much faster than those of all of it. Needs sox and build/bin/avpgan."""
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "build", "bin", "avpgan")
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan", "model.safetensors")

pytestmark = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is needed to make the recordings (make deps)")


def voice_then_silence(path, total_seconds):
    """16 kHz mono 16-bit WAV: a 3 s tremolo tone (which the VAD keeps) padded with silence."""
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(path), "synth", "3", "sine", "200-800",
                    "tremolo", "3", "60", "vol", "0.3", "pad", "0", str(total_seconds - 3)], check=True)


def peak_mb_and_seconds(*args):
    """Runs avpgan in a fresh Python (so that RUSAGE_CHILDREN is this run's alone): (peak RSS in MB, wall seconds)."""
    code = ("import resource,subprocess,sys,time; t=time.monotonic(); r=subprocess.run(sys.argv[1:], capture_output=True); "
            "t=time.monotonic()-t; sys.stderr.write(r.stderr.decode()); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, t); sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", code, CLI, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"avpgan {' '.join(map(str, args))} failed: {r.stderr}"
    kb, seconds = r.stdout.split()
    return int(kb) / 1024, float(seconds)


def test_peak_memory_does_not_grow_with_the_recording(tmp_path):
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    voice_then_silence(short, 10)
    voice_then_silence(long, 600)
    out = tmp_path / "p.png"
    short_mb, _ = peak_mb_and_seconds("portrait", short, "-o", out, "--model", MODEL, "--overwrite")
    long_mb, _ = peak_mb_and_seconds("portrait", long, "-o", out, "--model", MODEL, "--overwrite")
    # 600 s at 16 kHz is 38 MB of float samples: a path that held them would exceed this margin.
    assert long_mb < short_mb + 12, (f"a 10-minute recording peaked at {long_mb:.0f} MB, a 10-second one with the same "
                                     f"voice at {short_mb:.0f} MB: memory grows with the recording")


def test_seconds_stops_reading(tmp_path):
    long = tmp_path / "long.wav"
    voice_then_silence(long, 600)
    out = tmp_path / "f.npy"
    # `features` (a portrait also hashes the whole file for its provenance): reading all 600 s
    # costs what stopping once the first 2 s of voice are in saves.
    _, all_s = peak_mb_and_seconds("features", long, "-o", out, "--overwrite")
    first_s = min(peak_mb_and_seconds("features", long, "-o", out, "--overwrite", "--seconds", "2")[1] for _ in range(2))
    assert first_s < all_s / 4, f"--seconds 2 took {first_s:.2f} s, all 600 s took {all_s:.2f} s: the reading did not stop early"

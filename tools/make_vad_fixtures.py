#!/usr/bin/env python3
"""Make the VAD fixtures under Tests/Fixtures/vad/ (run by hand; the outputs are committed).

Needs numpy and webrtcvad (webrtcvad-wheels), plus the espeak-ng and sox programs:

    /work/venv-torch/bin/python tools/make_vad_fixtures.py

Each clip is synthetic speech (espeak-ng, several voices, languages, pitches and speeds)
placed between silences and mixed with white or pink noise at a chosen SNR, sometimes with
music-like tones (sums of sines). Written per clip:

    <name>.s16   the samples, int16 little-endian, mono
    <name>.vad   webrtcvad's per-frame decisions: one line per (mode, frame ms),
                 "<mode> <frame_ms> <decisions as 0/1 characters>", frames taken in order,
                 the tail shorter than a frame dropped, one Vad instance per line
and manifest.txt: "<name> <sample rate> <sample count> <vad_keep kept samples or -1>",
where the kept count is the normative front end's vad_keep (mode 2, 20 ms, 50 ms ring),
given for the 16 kHz clips only.
"""
import os, subprocess, sys, tempfile, wave
import numpy as np
import webrtcvad

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "vad")
sys.path.insert(0, "/work/shared/reference")
from voice_frontend import vad_keep  # noqa: E402

RNG = np.random.default_rng(20261125)

TEXTS = {
    "en-us": "The quick brown fox jumps over the lazy dog near the river bank.",
    "en-gb": "She sells sea shells by the sea shore, and the shells are surely real.",
    "de": "Der schnelle braune Fuchs springt heute über den faulen Hund.",
    "fr": "Le vif renard brun saute par dessus le chien paresseux ce matin.",
    "es": "El rápido zorro marrón salta sobre el perro perezoso en el campo.",
}


def speak(voice, text, rate, pitch=50, speed=160):
    """espeak-ng speech resampled by sox to `rate`, as float64 on the int16 scale."""
    with tempfile.TemporaryDirectory() as d:
        raw, out = os.path.join(d, "a.wav"), os.path.join(d, "b.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", raw, text],
                       check=True, capture_output=True)
        subprocess.run(["sox", "-D", raw, "-r", str(rate), "-b", "16", "-c", "1", out], check=True)
        with wave.open(out) as w:
            return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)


def white(n):
    return RNG.standard_normal(n)


def pink(n):
    spec = np.fft.rfft(RNG.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / (x.std() + 1e-12)


def tones(n, rate, freqs, level):
    t = np.arange(n) / rate
    x = sum(np.sin(2 * np.pi * f * t + RNG.uniform(0, 2 * np.pi)) for f in freqs)
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t)  # slow tremolo, like a held chord
    return level * x * env / len(freqs)


def silence(seconds, rate):
    return np.zeros(int(seconds * rate))


def clip(parts, rate, seconds, noise=None, snr_db=None, music=None):
    """Concatenate parts, pad/cut to `seconds`, add noise at snr_db relative to the speech power."""
    x = np.concatenate(parts)
    n = int(seconds * rate)
    x = np.pad(x, (0, max(0, n - len(x))))[:n]
    if noise is not None:
        voiced = x[np.abs(x) > 1]
        p = np.mean(voiced ** 2) if len(voiced) else 1e6
        z = white(n) if noise == "white" else pink(n)
        x = x + z * np.sqrt(p / 10 ** (snr_db / 10))
    if music is not None:
        x = x + music
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def build():
    clips = []
    r = 16000
    clips.append(("en_us_clean", r, clip([silence(0.5, r), speak("en-us", TEXTS["en-us"], r), silence(0.6, r)], r, 4.5)))
    clips.append(("en_gb_white20", r, clip([silence(0.3, r), speak("en-gb", TEXTS["en-gb"], r, pitch=30, speed=190),
                                            silence(0.4, r)], r, 4.5, "white", 20)))
    clips.append(("de_pink10", r, clip([silence(0.7, r), speak("de", TEXTS["de"], r, pitch=70, speed=150)], r, 4.5,
                                       "pink", 10)))
    clips.append(("fr_white5", r, clip([silence(0.2, r), speak("fr", TEXTS["fr"], r, pitch=45, speed=175)], r, 4.0,
                                       "white", 5)))
    es = speak("es", TEXTS["es"], r, pitch=80, speed=140)
    clips.append(("es_music", r, clip([silence(0.4, r), es[: int(2.2 * r)], silence(0.8, r)], r, 4.0, "pink", 25,
                                      music=tones(int(4.0 * r), r, [220, 277.2, 329.6, 440], 1500))))
    mix = [silence(0.4, r), speak("en-us", "Hello there.", r, pitch=20, speed=200), silence(0.9, r),
           speak("de", "Guten Morgen, wie geht es?", r, pitch=60, speed=170), silence(0.5, r)]
    clips.append(("mixed_gaps_pink0", r, clip(mix, r, 4.5, "pink", 0)))
    music_only = tones(int(3.0 * r), r, [196, 246.9, 293.7, 392, 523.3], 4000)
    clips.append(("music_silence", r, clip([silence(0.8, r), music_only[: int(1.5 * r)], silence(0.7, r)], r, 3.0,
                                           "white", 30)))
    clips.append(("loud_en_us", r, clip([4.0 * speak("en-us", "Speak up, the line is very noisy today!", r,
                                                     pitch=55, speed=165)], r, 3.5, "white", 15)))
    r = 8000
    clips.append(("en_us_8k_white15", r, clip([silence(0.4, r), speak("en-us", TEXTS["en-us"], r, pitch=40)], r, 4.0,
                                              "white", 15)))
    r = 32000
    clips.append(("fr_32k_pink20", r, clip([silence(0.5, r), speak("fr", TEXTS["fr"], r, pitch=60, speed=170)], r,
                                           3.5, "pink", 20)))
    r = 48000
    clips.append(("de_48k_white10", r, clip([silence(0.3, r), speak("de", TEXTS["de"], r, pitch=35, speed=180)], r, 3.0,
                                            "white", 10)))
    return clips


def decisions(x, rate, mode, frame_ms):
    vad = webrtcvad.Vad(mode)
    n = rate * frame_ms // 1000
    return "".join("1" if vad.is_speech(x[i:i + n].tobytes(), rate) else "0"
                   for i in range(0, len(x) - n + 1, n))


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for name, rate, x in build():
        x.astype("<i2").tofile(os.path.join(OUT, name + ".s16"))
        with open(os.path.join(OUT, name + ".vad"), "w") as f:
            for mode in range(4):
                for ms in (10, 20, 30):
                    f.write(f"{mode} {ms} {decisions(x, rate, mode, ms)}\n")
        kept = len(vad_keep(x, sr=rate)) if rate == 16000 else -1
        manifest.append(f"{name} {rate} {len(x)} {kept}")
        print(manifest[-1])
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()

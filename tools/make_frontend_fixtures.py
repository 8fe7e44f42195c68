#!/usr/bin/env python3
"""Makes the log-mel front-end fixtures in Tests/Fixtures/frontend from generated speech.

Run by hand (needs numpy, webrtcvad-wheels, espeak-ng and sox):
    /work/venv-torch/bin/python tools/make_frontend_fixtures.py [path/to/voice_frontend.py]

The normative reference voice_frontend.py is imported from its path (default:
<repo root>/../shared/reference/voice_frontend.py); it is not copied into the repository.
For every clip NAME it writes
    NAME.samples.npy   int16 (n,)        16 kHz mono samples, the input
    NAME.logspec.npy   float32 (t, 64)   reference logspec(samples) (float64, stored as float32)
    NAME.fbank.npy     float32 (t, 64)   reference fbank(samples), first t rows; the full
                                         output is these rows repeated to max(t, 1000) rows
                                         (checked here)
plus en.first2s.fbank.npy (fbank of the first 2 s of en, same storage rule) and, as
end-to-end data for the VAD: vad.input.npy (int16, speech with silences), vad.kept.npy
(int16, the reference vad_keep of it) and vad.fbank.npy (fbank of the kept samples).
"""
import importlib.util, os, subprocess, sys, tempfile
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "frontend")

CLIPS = [  # name, espeak-ng voice, text
    ("en", "en", "The quick brown fox jumps over the lazy dog near the river bank."),
    ("de", "de", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich."),
    ("fr", "fr", "Portez ce vieux whisky au juge blond qui fume."),
    ("es", "es+f3", "El veloz murciélago hindú comía feliz cardillo y kiwi."),
]
LONG_TEXT = ("This recording is longer than one thousand frames, so the features are not repeated. "
             "It keeps talking for a little more than ten seconds about nothing in particular, "
             "like the weather, the time of day, and the colour of the sky over the sea.")


def load_reference(path):
    spec = importlib.util.spec_from_file_location("voice_frontend", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def speak(voice, text, tmp):
    raw, wav = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "16k.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", raw, text], check=True)
    # -D: no dither, so the output is deterministic for a given espeak-ng/sox.
    subprocess.run(["sox", "-D", raw, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", wav], check=True)
    import wave
    with wave.open(wav) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).copy()


def save(name, kind, array):
    np.save(os.path.join(OUT, f"{name}.{kind}.npy"), np.ascontiguousarray(array))


def store_fbank(ref, name, pcm):
    fb = ref.fbank(pcm)
    t = int(len(pcm) / 160 + 1)
    assert fb.shape == (max(t, 1000), 64) and fb.dtype == np.float32, fb.shape
    assert np.array_equal(fb, np.resize(fb[:t], fb.shape)), "fbank is not a cyclic repeat"
    save(name, "fbank", fb[:t].astype(np.float32))
    # Diagnostic: how far numpy's float32 statistics are from float64 ones.
    ls = ref.logspec(pcm).astype(np.float32).astype(np.float64)
    f64 = (ls - ls.mean(0)) / (ls.std(0) + np.finfo(np.float32).eps)
    return t, float(np.abs(f64 - fb[:t]).max())


def clip(ref, name, pcm):
    pcm = np.asarray(pcm, np.int16)
    save(name, "samples", pcm)
    ls = ref.logspec(pcm)
    save(name, "logspec", ls.astype(np.float32))
    t, d = store_fbank(ref, name, pcm)
    print(f"{name:10s} {len(pcm):7d} samples {t:5d} frames  |fbank - float64 stats| = {d:.2e}")


def main():
    ref_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "reference", "voice_frontend.py")
    ref = load_reference(os.path.abspath(ref_path))
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"): os.remove(os.path.join(OUT, f))
    with tempfile.TemporaryDirectory() as tmp:
        speech = {name: speak(voice, text, tmp) for name, voice, text in CLIPS}
        long = speak("en-us", LONG_TEXT, tmp)
    for name, pcm in speech.items():
        clip(ref, name, pcm[:48000])  # at most 3 s each, to keep the fixtures small
    en = speech["en"]
    t, d = store_fbank(ref, "en.first2s", en[:32000])
    print(f"en.first2s  {32000:7d} samples {t:5d} frames  |fbank - float64 stats| = {d:.2e}")
    # Edge lengths, cut from the middle of the English clip (so the samples are not silent).
    mid = len(en) // 3
    for n in (1, 399, 400, 401, 1600, 160 * 37):
        clip(ref, f"len{n}", en[mid:mid + n])
    assert len(long) >= 1001 * 160, f"long clip only {len(long)} samples"
    clip(ref, "long", long[:163_300])  # 1021 frames, the last one partial
    # VAD end-to-end data: speech with leading, middle and trailing silence (low noise).
    rng = np.random.default_rng(7)
    def quiet(n): return np.round(rng.normal(0, 3, n)).astype(np.int16)
    vin = np.concatenate([quiet(8000), speech["fr"][:24000], quiet(12000), speech["de"][:24000], quiet(8000)])
    kept = ref.vad_keep(vin)
    save("vad", "input", vin)
    save("vad", "kept", kept)
    t, d = store_fbank(ref, "vad", kept)
    print(f"vad        {len(vin):7d} samples -> kept {len(kept)} -> {t} frames  |fbank - float64 stats| = {d:.2e}")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()

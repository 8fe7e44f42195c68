"""Front-end timings of the normative Python reference for `make bench` (run by tools/benchmarks/bench.py):
../shared/reference/voice_frontend.py (numpy + webrtcvad) on a WAV's int16 samples, and, for
comparison, the library through the Python bindings (avpgan.features on the path, and
Model.portrait + encode_png). The library's own in-process figures come from `avpgan bench
--voice`. Prints one JSON object; medians over repeated calls."""
import argparse, json, os, sys, wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
from timing import load_module, median_seconds  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--wav", required=True, help="a 16 kHz mono 16-bit WAV")
    p.add_argument("--model", required=True)
    p.add_argument("--reference", default=os.path.join(ROOT, "..", "shared", "reference", "voice_frontend.py"))
    p.add_argument("--seconds", type=float, default=2)
    a = p.parse_args()
    out = {}
    out["bindings_frontend"] = median_seconds(lambda: avpgan.features(a.wav), a.seconds)
    with avpgan.Model(a.model) as m:
        out["bindings_portrait_png"] = median_seconds(lambda: avpgan.encode_png(m.portrait(a.wav)), a.seconds)
    try:
        ref = load_module("voice_frontend", a.reference)
        def reference():
            with wave.open(a.wav) as w:
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
            return ref.fbank(ref.vad_keep(pcm))
        out["reference_frontend"] = median_seconds(reference, a.seconds)
    except (ImportError, FileNotFoundError, OSError) as e:
        out["reference_missing"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

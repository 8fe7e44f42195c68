"""Times the PyTorch reference networks (../shared/reference/avpgan_torch.py) at full widths, the
same measurements as `avpgan bench`: voice encoder on N frames, generator at given batch sizes.
Prints one JSON object per architecture. Run by tools/benchmarks/bench.py; needs torch."""
import argparse, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tools", room) for room in ("converters", "fixtures", "benchmarks")]
from timing import load_module, median_seconds  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reference", default=os.path.join(ROOT, "..", "shared", "reference", "avpgan_torch.py"))
    p.add_argument("--arch", action="append", required=True)
    p.add_argument("--batch", default="1,64")
    p.add_argument("--frames", type=int, default=800)
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--portrait-wav", help="also time WAV -> PNG bytes with the reference front end and networks")
    p.add_argument("--frontend", default=os.path.join(ROOT, "..", "shared", "reference", "voice_frontend.py"))
    a = p.parse_args()
    import torch
    ref = load_module("avpgan_reference", a.reference)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for arch in a.arch:
        nets = ref.build(arch, ref.FULL)
        for n in nets.values():
            n.eval()
        out = {"arch": arch, "threads": a.threads, "torch": torch.__version__}
        with torch.inference_mode():
            x = torch.randn(1, 64, a.frames)
            out[f"voice_encoder_{a.frames}_frames"] = median_seconds(lambda: nets["e"](x), a.seconds)
            for b in (int(s) for s in a.batch.split(",")):
                z = torch.nn.functional.normalize(torch.randn(b, 64)).view(b, 64, 1, 1)
                out[f"generator_batch_{b}"] = median_seconds(lambda: nets["g"](z), a.seconds)
            if a.portrait_wav:
                out["portrait_png"] = median_seconds(lambda: portrait_png(a.portrait_wav, a.frontend, nets, torch), a.seconds)
        print(json.dumps(out), flush=True)


_FRONTEND = {}


def portrait_png(path, frontend, nets, torch):
    """The PyTorch pipeline: wave read, reference front end, voice encoder, generator, clamp
    mapping, PNG (zlib, the same filter-free encoding for every row)."""
    import wave, zlib, struct
    import numpy as np
    if "ref" not in _FRONTEND:
        _FRONTEND["ref"] = load_module("voice_frontend", frontend)
    ref = _FRONTEND["ref"]
    with wave.open(path) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    fb = ref.fbank(ref.vad_keep(pcm))
    x = torch.from_numpy(np.ascontiguousarray(fb.T[None]))
    img = nets["g"](nets["e"](x))[0].clamp(-1, 1)
    px = ((img + 1) / 2 * 255 + 0.5).floor().byte().permute(1, 2, 0).numpy()
    raw = b"".join(b"\0" + row.tobytes() for row in px)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    h, w = px.shape[:2]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()

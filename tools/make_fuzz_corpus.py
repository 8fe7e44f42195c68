"""Writes the seed corpora of the fuzz targets (Fuzz/corpus/<target>/, committed; `make fuzz`
and `make test-fuzz` start from them). Each seed is small (at most a few KB) and valid, so that
libFuzzer starts inside the formats: tiny model files of each architecture and a training
checkpoint, the safetensors header of a face model, WAV/FLAC/Ogg/AIFF clips, PCM frames, PNG
and JPEG images, and C-API call sequences. The first byte of each seed is the target's selector
(see the target's source in Fuzz/).

    python3 tools/make_fuzz_corpus.py [--out Fuzz/corpus]

Needs numpy; sox (a Debian package the Makefile installs) for FLAC, Ogg and AIFF; Pillow for the
JPEG seed (skipped with a note when it is not importable).
"""
import argparse
import io
import json
import math
import struct
import subprocess
import sys
import tempfile
import wave
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import avpgan_model_file as amf  # noqa: E402
import safetensors_io  # noqa: E402


def tiny_model(arch, networks, spectral_norm="folded", seed=0):
    """A model file of `arch` at the smallest widths the format allows (8x8 images)."""
    rng = np.random.default_rng(seed)
    config = {"n_mels": 64, "embed_dim": 2, "voice_widths": [2], "generator_widths": [16, 16],
              "face_widths": [2, 16], "identities": 2}
    sn = "stored" if spectral_norm == "stored" else "torch"
    nets = {}
    for net in networks:
        sd = {}
        for key, shape in amf.network_layout(net, arch, config, sn):
            a = rng.standard_normal(shape).astype(np.float32) * 0.1
            if key.endswith("running_var"):
                a = np.abs(a) + 1
            sd[key] = a
        nets[net] = sd
    return amf.model_tensors(arch, nets, spectral_norm=spectral_norm)


def safetensors_bytes(tensors, meta):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.safetensors"
        safetensors_io.write(str(path), tensors, meta)
        return path.read_bytes()


def model_seeds(out):
    all_nets = ["voice_encoder", "generator", "face_encoder", "discriminator", "classifier"]
    seeds = {}
    for arch in ("voice2face", "avpgan", "avpgan-nocbam"):
        seeds[f"model-{arch}"] = bytes([0]) + safetensors_bytes(*tiny_model(arch, ["voice_encoder", "generator"]))
        seeds[f"full-{arch}"] = bytes([1]) + safetensors_bytes(*tiny_model(arch, all_nets))
    # A training checkpoint: stored spectral norm, Adam moments, the avpgan.checkpoint state.
    import convert_torch  # noqa: E402  (numpy half only)
    tensors, meta = tiny_model("avpgan", all_nets, spectral_norm="stored")
    tensors, meta = convert_torch.training_checkpoint(tensors, meta, seed=1)
    seeds["checkpoint-avpgan"] = bytes([3]) + safetensors_bytes(tensors, meta)
    # A face model: the header of a random MobileFaceNet and its first tensor bytes (the whole
    # file is megabytes).
    with tempfile.TemporaryDirectory() as d:
        face = Path(d) / "face.safetensors"
        subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "face_model_file.py"), "--random",
                        "mobilefacenet", "--seed", "1", "-o", str(face)], check=True)
        raw = face.read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        seeds["face-header"] = bytes([2]) + raw[: 8 + n + 256]
    seeds["voice-checkpoint-header"] = bytes([4]) + struct.pack("<Q", 2) + b"{}"
    write(out / "fuzz-model-files", seeds)


def speech(n, rate=16000):
    t = np.arange(n) / rate
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420), 1))
    return (0.3 * env * x).astype(np.float32)


def wav_bytes(x, rate, channels=1):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def sox(data, ext):
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.wav", Path(d) / f"out.{ext}"
        src.write_bytes(data)
        subprocess.run(["sox", str(src), str(dst)], check=True)
        return dst.read_bytes()


def audio_seeds(out):
    # Options bytes as FuzzAudio reads them: mode, seconds (8 bytes), vad, vad mode.
    def opts(mode, seconds_bits=0, vad=0, vad_mode=2):
        return bytes([mode]) + struct.pack("<Q", seconds_bits) + bytes([vad, vad_mode])
    clip = wav_bytes(speech(4000, 8000), 8000)
    seeds = {"wav": opts(0) + clip, "wav-novad": opts(0, vad=1) + clip,
             "wav-stereo": opts(0) + wav_bytes(np.repeat(speech(3000, 8000), 2), 8000, channels=2),
             "wav-seconds": opts(0, seconds_bits=(800 << 2) | 2) + clip}
    for ext in ("flac", "ogg", "aiff"):
        seeds[ext] = opts(0) + sox(clip, ext)
    pcm = speech(1600)
    seeds["pcm-16k"] = opts(1) + bytes([0, 1]) + pcm.tobytes()
    seeds["pcm-stereo-48k"] = opts(1) + bytes([1, 4]) + np.repeat(speech(800, 48000), 2).tobytes()
    loud = pcm.copy()
    loud[10:20] = 1e30
    seeds["pcm-huge"] = opts(1) + bytes([0, 1]) + loud.tobytes()
    write(out / "fuzz-audio", seeds)


def png_bytes(w, h, rgb):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Software\x00libavpgan") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_seeds(out):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    seeds = {"png": bytes([0]) + png_bytes(8, 8, rgb), "png-text": bytes([2]) + png_bytes(2, 2, rgb[:2, :2])}
    try:
        from PIL import Image
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=80)
        seeds["jpeg"] = bytes([1]) + buf.getvalue()
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", progressive=True)
        seeds["jpeg-progressive"] = bytes([1]) + buf.getvalue()
    except ImportError:
        print("Pillow is not importable: no JPEG seed (run with /work/torchenv's python or pip install pillow)")
    write(out / "fuzz-images", seeds)


def abi_seeds(out):
    # One call per seed: selector, model-or-NULL byte, output-or-NULL byte, then the call's bytes.
    pcm = speech(400).tobytes()
    seeds = {}
    for which in range(9):
        seeds[f"call-{which}"] = bytes([which, 1, 1]) + pcm[: 64 + 64 * which] + bytes(range(64))
    write(out / "fuzz-c-abi", seeds)


def write(directory, seeds):
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    for name, data in seeds.items():
        (directory / name).write_bytes(data)
    print(f"{directory}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "Fuzz" / "corpus"))
    out = Path(p.parse_args().out)
    model_seeds(out)
    audio_seeds(out)
    image_seeds(out)
    abi_seeds(out)


if __name__ == "__main__":
    main()

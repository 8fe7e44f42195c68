"""A face portrait from a voice recording, with libavpgan's Python bindings.

    PYTHONPATH=bindings/python python3 examples/python/portrait.py MODEL.safetensors VOICE OUT.png

Shows the three ways in: a file path, the bytes of an encoded file, and an array of
samples; plus the features on their own.
"""
import sys

import numpy as np

import avpgan


def main(model_path: str, voice: str, out: str) -> None:
    with avpgan.Model(model_path) as model:
        print(f"model: {model.info.arch}, embeddings of {model.info.embed_dim}, "
              f"{model.info.image_size}x{model.info.image_size} faces")

        # 1. From a path: the library decodes, resamples, keeps the voiced parts.
        face = model.portrait(voice)
        avpgan.save_png(out, face)
        print(f"wrote {out}")

        # 2. The same from bytes (e.g. read from a database or a network message).
        with open(voice, "rb") as f:
            same = model.portrait(f.read())
        print("bytes give the same face:", np.array_equal(face, same))

        # 3. From samples you already hold: any rate, int16 or float in [-1, 1].
        audio = avpgan.decode(voice, target_rate=0)  # the file's own rate
        from_samples = model.portrait(audio.samples, sample_rate=audio.sample_rate)
        print(f"samples at {audio.sample_rate} Hz give a face differing by at most "
              f"{np.abs(face.astype(int) - from_samples.astype(int)).max()} levels")

        # The paper's duration experiments: the first N seconds of voiced audio.
        for seconds in (2, 4, 8):
            f = avpgan.features(voice, seconds=seconds)
            print(f"first {seconds} s: features {f.shape}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])

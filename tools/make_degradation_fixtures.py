#!/usr/bin/env python3
"""Writes Tests/Fixtures/degradation/stages.safetensors: the stages of GFPGAN's training
degradation computed by upstream basicsr and OpenCV, for the Swift pipeline to match.

    /work/torchenv/bin/python tools/make_degradation_fixtures.py [--out DIR]

Needs numpy, opencv-python-headless and basicsr (PyPI; basicsr with --no-deps, its
torchvision import shimmed as in tools/make_enhancer_fixtures.py). Arrays, float32:
  image              [3, 40, 36] a seeded smooth random RGB picture in [0, 1] (planar)
  kernel_iso         [21, 21] basicsr bivariate_Gaussian(21, 2.3, 2.3, 0, isotropic=True)
  kernel_aniso       [41, 41] basicsr bivariate_Gaussian(41, 3.1, 0.7, 0.6, isotropic=False)
  blur_iso, blur_aniso  [3, 40, 36] cv2.filter2D(image, -1, kernel) (BORDER_REFLECT_101)
  down_2.7           [3, 14, 13] cv2.resize to (int(36 // 2.7), int(40 // 2.7)), INTER_LINEAR
  up_0.8             [3, 49, 44] cv2.resize to (int(36 // 0.8), int(40 // 0.8)): Python's float floor
                     division makes 36 // 0.8 = 44, not 45
  back_2.7           [3, 40, 36] down_2.7 resized back to 36 x 40, INTER_LINEAR
  jpeg_75            [3, 40, 36] basicsr add_jpg_compression(image, 75) (OpenCV's libjpeg)
"""
import argparse
import os
import sys

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import safetensors_io  # noqa: E402
from make_enhancer_fixtures import import_upstream  # noqa: E402


def smooth_image(seed, h, w):
    """Low-frequency colour blobs plus a little texture, like a face's range of detail."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = []
    for _ in range(3):
        v = 0.5 + 0.25 * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * x + rng.uniform(0, 1)))
        v = v + 0.2 * np.cos(2 * np.pi * (rng.uniform(0.5, 2) * y + rng.uniform(0, 1)))
        planes.append(v + 0.05 * rng.standard_normal((h, w)))
    return np.clip(np.stack(planes), 0, 1).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "degradation"))
    args = parser.parse_args(argv)
    import_upstream()
    import cv2
    from basicsr.data import degradations

    image = smooth_image(7, 40, 36)
    hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
    planar = lambda a: np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32)  # noqa: E731
    arrays = {"image": image}
    arrays["kernel_iso"] = degradations.bivariate_Gaussian(21, 2.3, 2.3, 0, isotropic=True).astype(np.float32)
    arrays["kernel_aniso"] = degradations.bivariate_Gaussian(41, 3.1, 0.7, 0.6, isotropic=False).astype(np.float32)
    for name in ("iso", "aniso"):
        kernel = degradations.bivariate_Gaussian(*((21, 2.3, 2.3, 0) if name == "iso" else (41, 3.1, 0.7, 0.6)),
                                                 isotropic=name == "iso")
        arrays[f"blur_{name}"] = planar(cv2.filter2D(hwc, -1, kernel))
    h, w = image.shape[1:]
    for scale in (2.7, 0.8):
        size = (int(w // scale), int(h // scale))
        small = cv2.resize(hwc, size, interpolation=cv2.INTER_LINEAR)
        arrays[f"{'down' if scale > 1 else 'up'}_{scale}"] = planar(small)
        if scale > 1:
            arrays[f"back_{scale}"] = planar(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    arrays["jpeg_75"] = planar(degradations.add_jpg_compression(hwc[:, :, ::-1].copy(), 75)[:, :, ::-1])
    os.makedirs(args.out, exist_ok=True)
    safetensors_io.write(os.path.join(args.out, "stages.safetensors"), arrays)
    print(", ".join(f"{k} {list(v.shape)}" for k, v in arrays.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

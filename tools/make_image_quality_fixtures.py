#!/usr/bin/env python3
"""Writes Tests/Fixtures/image-quality/quality.safetensors: PSNR and SSIM by basicsr's metrics
(and SSIM by scikit-image as a second, independent implementation), and bicubic enlarging by
torch, for the Swift image-quality measures to match.

    /work/torchenv/bin/python tools/make_image_quality_fixtures.py [--out DIR]

Needs numpy, torch, opencv-python-headless, scikit-image and basicsr (PyPI; basicsr with
--no-deps, its torchvision import shimmed as in tools/make_enhancer_fixtures.py). Arrays:
  truth, test        [3, 40, 36] float32 planar RGB in [0, 1], multiples of 1/255 (8-bit
                     pictures): a seeded smooth picture and a blurred, noisy copy of it
  psnr_rgb, psnr_y   [1] float32 basicsr calculate_psnr(crop_border=0) on the 8-bit BGR
                     pictures, over all channels / the Y channel (test_y_channel=True)
  ssim_rgb, ssim_y   [1] float64 basicsr calculate_ssim, likewise
  ssim_rgb_skimage   [1] float32 skimage structural_similarity(gaussian_weights=True, sigma 1.5,
                     use_sample_covariance=False, data_range 255), channel mean
  small              [3, 20, 18] float32 a picture in [0, 1]
  bicubic_x2         [3, 40, 36] float32 torch F.interpolate(small, size=(40, 36), mode="bicubic",
                     align_corners=False) (Keys' kernel, a = -0.75)
  bicubic_to_64      [3, 64, 64] float32 the same from `small` to 64 x 64 (factors 3.2 and 3.56)
"""
import argparse
import os
import sys

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import safetensors_io  # noqa: E402
from make_degradation_fixtures import smooth_image  # noqa: E402
from make_enhancer_fixtures import import_upstream  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "image-quality"))
    args = parser.parse_args(argv)
    import_upstream()
    import cv2
    import torch
    import torch.nn.functional as F
    from basicsr.metrics.psnr_ssim import calculate_psnr, calculate_ssim
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(3)
    truth = np.round(smooth_image(11, 40, 36) * 255) / 255
    blurred = cv2.GaussianBlur(np.ascontiguousarray(truth.transpose(1, 2, 0)), (5, 5), 1.2).transpose(2, 0, 1)
    test = np.round(np.clip(blurred + 0.03 * rng.standard_normal(truth.shape), 0, 1) * 255) / 255
    bgr8 = lambda a: np.ascontiguousarray((a.transpose(1, 2, 0)[:, :, ::-1] * 255).round().astype(np.uint8))  # noqa: E731
    t8, x8 = bgr8(truth), bgr8(test)
    arrays = {"truth": truth.astype(np.float32), "test": test.astype(np.float32)}
    arrays["psnr_rgb"] = np.array([calculate_psnr(t8, x8, crop_border=0)])
    arrays["psnr_y"] = np.array([calculate_psnr(t8, x8, crop_border=0, test_y_channel=True)])
    arrays["ssim_rgb"] = np.array([calculate_ssim(t8, x8, crop_border=0)])
    arrays["ssim_y"] = np.array([calculate_ssim(t8, x8, crop_border=0, test_y_channel=True)])
    arrays["ssim_rgb_skimage"] = np.array([structural_similarity(
        t8.astype(np.float64), x8.astype(np.float64), channel_axis=2, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=255)])
    for k in [k for k in arrays if k.startswith(("psnr", "ssim"))]:
        arrays[k] = arrays[k].astype(np.float32)  # the Swift fixture reader takes float32
    small = rng.uniform(0, 1, size=(3, 20, 18)).astype(np.float32)
    arrays["small"] = small
    for name, size in (("bicubic_x2", (40, 36)), ("bicubic_to_64", (64, 64))):
        arrays[name] = F.interpolate(torch.from_numpy(small)[None], size=size, mode="bicubic",
                                     align_corners=False)[0].numpy()
    os.makedirs(args.out, exist_ok=True)
    safetensors_io.write(os.path.join(args.out, "quality.safetensors"), arrays)
    for k, v in arrays.items():
        print(k, list(v.shape), v.ravel()[0] if v.size == 1 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())

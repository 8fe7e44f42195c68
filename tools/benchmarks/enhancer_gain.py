#!/usr/bin/env python3
"""Does an enhancer restore faces it never trained on better than bicubic upscaling? Each face
of a folder is shrunk to --low px, enlarged again by the enhancer and by bicubic, and both are
measured against it (PSNR, SSIM): the measure `avpgan train-enhancer` logs at its checkpoints
(EnhancerValidation), here on a whole folder of other faces, e.g. synthetic speakers of another
seed than the enhancer's training set.

    avpgan synth-data -o heldout --speakers 50 --utterances 1 --face-size 128 --seed 99
    python3 tools/benchmarks/enhancer_gain.py models/default-enhancer.safetensors heldout/faces
"""
import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("enhancer")
    p.add_argument("faces", help="a folder of square faces of the enhancer's size")
    p.add_argument("--low", type=int, default=64, help="side of the shrunk input (default: the portraits', 64)")
    p.add_argument("--json", help="write the result here")
    a = p.parse_args()
    # A trainer that fine-tunes the enhancer, holding out all faces but one, and takes no step:
    # its EMA generator is the enhancer itself, and validate() measures it on the held-out faces.
    with tempfile.TemporaryDirectory() as work, \
            avpgan.EnhancerTrainer.create(a.faces, init=a.enhancer, checkpoint_dir=work, validation_fraction=0.999,
                                          validation_low_size=a.low) as trainer:
        v = trainer.validate()
    result = {"enhancer": a.enhancer, "faces": v.n_faces, "low_size": v.low_size, "psnr": v.psnr, "ssim": v.ssim,
              "bicubic_psnr": v.bicubic_psnr, "bicubic_ssim": v.bicubic_ssim, "gain_db": v.gain}
    print(f"{v.n_faces} faces, {v.low_size} px -> {avpgan.Enhancer(a.enhancer).info.size} px: enhancer {v.psnr:.2f} dB "
          f"(SSIM {v.ssim:.4f}), bicubic {v.bicubic_psnr:.2f} dB (SSIM {v.bicubic_ssim:.4f}), gain {v.gain:+.2f} dB")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

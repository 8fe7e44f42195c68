#!/usr/bin/env python3
"""Full-width parity check of libavpgan against the reference PyTorch networks.

    python3 tools/check_parity.py [--archs voice2face avpgan avpgan-nocbam]
        [--features a.npy b.npy ...] [--reference ../shared/reference/avpgan_torch.py]
        [--bindings bindings/python] [--keep DIR] [--seed N]

Not part of the test suite (it needs torch and takes a while); run it by hand
and from the benchmarks. For each architecture it
  1. builds the reference networks at FULL widths with random weights made
     non-trivial as tools/make_golden.py does (BatchNorm statistics, spectral
     norm power-iterated, biases and final layers calibrated), in eval mode;
  2. saves the five state_dicts as .pth files and converts them with
     `tools/convert_torch.py` run as a subprocess, through its command line;
  3. loads the model with the Python bindings (`import avpgan` from
     bindings/python: avpgan.Model(path).embed(features[T, 64]) -> [E] and
     .generate_raw(emb[N, E]) -> [N, 3, 64, 64]) and compares with the reference:
     embeddings of each feature matrix (--features: frame-major [T, 64] .npy
     files, normalised as the front end does; default: random normalised
     features of 1000, 400 and 37 frames), and images generated from those
     reference embeddings plus two random unit vectors.
It prints the maximum absolute differences per architecture, and, for scale,
how far the float32 reference itself is from a float64 run of it.
Exit status: 0 when every embedding is within 1e-4 and every image within 1e-3,
1 when one is not, 2 on a usage or conversion error, 3 when the bindings cannot
be imported (after the conversions, which are then still checked).
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import avpgan_model_file as amf  # noqa: E402
import convert_torch  # noqa: E402
import make_golden  # noqa: E402

REPO_ROOT = convert_torch.REPO_ROOT
EMBED_TOL = 1e-4
IMAGE_TOL = 1e-3
IDENTITIES = 10


def _random_features(seed):
    rng = np.random.default_rng(seed)
    return [(f"random T={t}", make_golden.normalise_features(rng.standard_normal((t, 64)).astype(np.float32)))
            for t in (1000, 400, 37)]


def _load_features(paths, n_mels):
    out = []
    for p in paths:
        a = np.load(p)
        if a.ndim != 2 or a.shape[1] != n_mels or a.shape[0] < 1:
            print(f"check_parity.py: error: {p}: expected frame-major features [T, {n_mels}], got {list(a.shape)}",
                  file=sys.stderr)
            raise SystemExit(2)
        out.append((os.path.basename(p), np.ascontiguousarray(a, dtype=np.float32)))
    return out


def _convert(arch, nets, tmp, reference, torch):
    paths = {}
    for k, name in make_golden.NET_NAMES.items():
        paths[name] = os.path.join(tmp, f"{arch}-{name}.pth")
        torch.save(nets[k].state_dict(), paths[name])
    out = os.path.join(tmp, f"{arch}.safetensors")
    cmd = [sys.executable, os.path.join(REPO_ROOT, "tools", "convert_torch.py"), "--arch", arch,
           "--voice-encoder", paths["voice_encoder"], "--generator", paths["generator"],
           "--face-encoder", paths["face_encoder"], "--discriminator", paths["discriminator"],
           "--classifier", paths["classifier"], "--reference", reference, "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"check_parity.py: error: convert_torch.py failed for {arch}: {r.stderr.strip()}", file=sys.stderr)
        raise SystemExit(2)
    print(f"  converted: {r.stdout.strip()}")
    return out


def _reference_outputs(nets, features, extra, torch, dtype):
    """Embeddings of each feature matrix, and images of (those embeddings + extra unit vectors)."""
    e_net, g_net = nets["e"].to(dtype), nets["g"].to(dtype)
    t0 = time.perf_counter()
    embs = [e_net(torch.from_numpy(f.T.copy()).to(dtype)[None]).reshape(-1).numpy() for _, f in features]
    t_embed = time.perf_counter() - t0
    gen_in = np.concatenate([np.stack(embs).astype(np.float32), extra]).astype(np.float32)
    t0 = time.perf_counter()
    images = g_net(torch.from_numpy(gen_in).to(dtype).view(len(gen_in), -1, 1, 1)).numpy()
    t_gen = time.perf_counter() - t0
    return embs, gen_in, images, (t_embed, t_gen)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--archs", nargs="+", default=list(amf.ARCHS), choices=list(amf.ARCHS))
    p.add_argument("--features", nargs="+", default=[], metavar="NPY", help="frame-major [T, 64] float features")
    p.add_argument("--reference", default=convert_torch.DEFAULT_REFERENCE, help="avpgan_torch.py (default: %(default)s)")
    p.add_argument("--bindings", default=os.path.join(REPO_ROOT, "bindings", "python"),
                   help="directory holding the avpgan package (default: %(default)s)")
    p.add_argument("--keep", metavar="DIR", help="write the .pth and converted model files here and keep them")
    p.add_argument("--seed", type=int, default=7, help="seed of the weights and random inputs (default: %(default)s)")
    p.add_argument("--no-float64", action="store_true", help="skip the float64 run of the reference")
    a = p.parse_args(argv)

    import torch
    torch.set_grad_enabled(False)
    ref = convert_torch.load_reference(a.reference)
    features = _load_features(a.features, 64) if a.features else _random_features(a.seed)

    sys.path.insert(0, os.path.abspath(a.bindings))
    try:
        import avpgan
        bindings_error = None
    except Exception as e:  # noqa: BLE001 - any failure to import means no end-to-end check
        avpgan, bindings_error = None, f"{type(e).__name__}: {e}"

    tmp_ctx = None
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        tmp = a.keep
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="avpgan-parity-")
        tmp = tmp_ctx.name
    failed = False
    try:
        for arch in a.archs:
            i = list(amf.ARCHS).index(arch)  # the seeds do not depend on which archs are selected
            print(f"{arch} (FULL widths, seed {a.seed + i})")
            nets, scales = make_golden.build_networks(ref, arch, torch, widths=ref.FULL, identities=IDENTITIES,
                                                      seed=a.seed + i)
            path = _convert(arch, nets, tmp, a.reference, torch)
            rng = np.random.default_rng(a.seed + 100 + i)
            extra = rng.standard_normal((2, ref.FULL["embed"])).astype(np.float32)
            extra /= np.linalg.norm(extra, axis=1, keepdims=True)
            embs, gen_in, images, (t_e, t_g) = _reference_outputs(nets, features, extra, torch, torch.float32)
            print(f"  reference: embed {t_e * 1e3 / len(features):.1f} ms/utterance, "
                  f"generate {t_g * 1e3 / len(gen_in):.1f} ms/image ({torch.get_num_threads()} threads); "
                  f"images std {images.std():.3f}, max |x| {np.abs(images).max():.2f}")
            if not a.no_float64:
                e64, _, i64, _ = _reference_outputs(copy.deepcopy(nets), features, extra, torch, torch.float64)
                print(f"  reference float32 vs float64: embeddings {max(np.abs(x - y).max() for x, y in zip(embs, e64)):.2e}, "
                      f"images {np.abs(images - i64).max():.2e}")
            if avpgan is None:
                continue
            model = avpgan.Model(path)
            t0 = time.perf_counter()
            lib_embs = [np.asarray(model.embed(f)) for _, f in features]
            t_le = time.perf_counter() - t0
            t0 = time.perf_counter()
            lib_images = np.asarray(model.generate_raw(gen_in))
            t_lg = time.perf_counter() - t0
            if lib_images.shape != images.shape:
                print(f"  FAIL: generate_raw returned shape {list(lib_images.shape)}, expected {list(images.shape)}")
                failed = True
                continue
            for (name, _), x, y in zip(features, lib_embs, embs):
                d = float(np.abs(x.reshape(-1) - y).max())
                bad = d > EMBED_TOL
                failed |= bad
                print(f"  embedding {name}: max abs diff {d:.2e}{'  FAIL (> 1e-4)' if bad else ''}")
            d = np.abs(lib_images - images).reshape(len(images), -1).max(1)
            bad = bool((d > IMAGE_TOL).any())
            failed |= bad
            print(f"  images: max abs diff {d.max():.2e} (per image {' '.join(f'{x:.1e}' for x in d)})"
                  f"{'  FAIL (> 1e-3)' if bad else ''}")
            print(f"  libavpgan: embed {t_le * 1e3 / len(features):.1f} ms/utterance, "
                  f"generate {t_lg * 1e3 / len(gen_in):.1f} ms/image")
            del model
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    if avpgan is None:
        print(f"check_parity.py: the bindings could not be imported from {a.bindings} ({bindings_error}); "
              "conversions checked, outputs not compared", file=sys.stderr)
        return 3
    print("parity: FAIL" if failed else f"parity: OK (embeddings <= {EMBED_TOL:g}, images <= {IMAGE_TOL:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

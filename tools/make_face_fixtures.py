#!/usr/bin/env python3
"""Writes the face-recognition fixtures of Tests/Fixtures/face/ (see its README.md).

    /work/venv-torch/bin/python tools/make_face_fixtures.py [--weights DIR] [--out DIR]

Needs torch, onnxruntime, scikit-image (for its astronaut() photo) and Pillow. DIR defaults to
<repo>/../shared/models/mobilefacenet (env AVPGAN_FACE_WEIGHTS_DIR overrides): its
mobilefacenet.onnx gives the expected MobileFaceNet embeddings, and its mobilefacenet.pt is
checked against it through tools/face_torch.py. No weights are written to the output: only
images, network inputs, embeddings (outputs) and two tiny synthetic torch.save files.

Besides writing, the script checks and prints: the .pt state dict through face_torch's
MobileFaceNet against onnxruntime on the ONNX file, the files tools/convert_face.py makes from
both against onnxruntime, and the cosine of an image and its mirror image.
"""
import argparse
import collections
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import face_model_file as fmf  # noqa: E402

SIZE = fmf.INPUT_SIZE
SEED = 7
IRESNETS = ("iresnet18", "iresnet34")
# name -> how it is made (the README repeats this)
IMAGES = ("astronaut", "astronaut_mirror", "heldout64", "astronaut_90x130", "noise112")


def default_weights_dir():
    return os.environ.get("AVPGAN_FACE_WEIGHTS_DIR",
                          os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "mobilefacenet")))


def write_png(path, rgb):
    """An RGB8 [h, w, 3] array as a PNG (colour type 2, 8 bits, filter 0 on every row)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as fh:
        fh.write(png)


def make_images():
    from PIL import Image
    from skimage import data
    astronaut = data.astronaut()  # 512 x 512 RGB8, public-domain NASA portrait
    face = astronaut[36:180, 152:296]  # 144 x 144 around the face
    held = np.asarray(Image.open(os.path.join(ROOT, "examples", "voices", "heldout-speaker-face.png")).convert("RGB"))
    if held.shape != (64, 64, 3):
        raise SystemExit(f"heldout-speaker-face.png is {held.shape}, expected 64 x 64 RGB")
    noise = np.random.default_rng(SEED).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return collections.OrderedDict([
        ("astronaut", face),
        ("astronaut_mirror", face[:, ::-1]),
        ("heldout64", held),
        ("astronaut_90x130", astronaut[40:170, 180:270]),  # 130 high, 90 wide
        ("noise112", noise),
    ])


def resized(rgb):
    """float32 [3, S, S], pixels 0..255: torch's antialiased bilinear resize (as the spec says)."""
    import torch
    import torch.nn.functional as F
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32))[None]
    if rgb.shape[:2] != (SIZE, SIZE):
        x = F.interpolate(x, (SIZE, SIZE), mode="bilinear", align_corners=False, antialias=True)
    return x[0].numpy().astype(np.float32)


def normalise(pixels, mean, std):
    """(pixels - mean) / std in float32: what the expected outputs were computed from."""
    return (pixels.astype(np.float32) - np.float32(mean)) / np.float32(std)


def cosine(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def onnx_embeddings(onnx_path, inputs):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[None]})[0].reshape(1, -1) for x in inputs]).astype(np.float32)


def torch_embeddings(net, inputs):
    import torch
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(inputs))).numpy().astype(np.float32)


def load_numpy_weights(net, tensors):
    """Loads a {name: numpy} state dict (no num_batches_tracked) into `net`, strictly."""
    import torch
    state = net.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith("num_batches_tracked")]
    extra = [k for k in tensors if k not in state]
    if missing or extra:
        raise SystemExit(f"state dict mismatch: missing {missing[:3]}, unexpected {extra[:3]}")
    state.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()})
    net.load_state_dict(state, strict=True)
    return net.eval()


def tiny_checkpoints(out):
    """Two small torch.save files (legacy and zip format) and the arrays they hold (tiny.npz)."""
    import torch
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1, bias=False), torch.nn.BatchNorm2d(3))
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-1, 1)
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 1.5)
    net[1].num_batches_tracked.fill_(12345)
    sd = net.state_dict()  # an OrderedDict with _metadata, as torch.save(model.state_dict()) writes it
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
    sd["extra.column"] = base[:, 1]             # a strided view with a storage offset
    sd["extra.block"] = base[1:, 2:]            # shares the storage with extra.column
    sd["extra.half"] = torch.tensor([0.5, -1.25, 3.0], dtype=torch.float16)
    sd["extra.bfloat16"] = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    sd["extra.double"] = torch.tensor([[1.0 / 3.0]], dtype=torch.float64)
    sd["extra.scalar"] = torch.tensor(2.5)
    torch.save(sd, os.path.join(out, "tiny_legacy.pt"), _use_new_zipfile_serialization=False)
    wrapped = {"epoch": 3, "model_state_dict": collections.OrderedDict((f"module.{k}", v) for k, v in sd.items()),
               "optimizer": {"lr": 0.1, "betas": (0.9, 0.999)}}
    torch.save(wrapped, os.path.join(out, "tiny_zip.pt"))
    expected = {k: (v.float() if v.dtype == torch.bfloat16 else v).numpy() for k, v in sd.items()}
    np.savez(os.path.join(out, "tiny.npz"), **expected)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default=default_weights_dir(), help="directory of mobilefacenet.onnx and .pt")
    p.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "face"))
    a = p.parse_args(argv)
    import torch
    import face_torch
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    onnx_path = os.path.join(a.weights, "mobilefacenet.onnx")
    pt_path = os.path.join(a.weights, "mobilefacenet.pt")
    for f in (onnx_path, pt_path):
        if not os.path.isfile(f):
            raise SystemExit(f"{f} not found (--weights or AVPGAN_FACE_WEIGHTS_DIR)")
    faces = os.path.join(a.out, "faces")
    os.makedirs(faces, exist_ok=True)

    pixels = []
    for name, rgb in make_images().items():
        write_png(os.path.join(faces, f"{name}.png"), rgb)
        r = resized(rgb)
        np.save(os.path.join(faces, f"{name}.resized.npy"), r)
        pixels.append(r)
        print(f"faces/{name}.png: {rgb.shape[1]}x{rgb.shape[0]}")
    pixels = np.stack(pixels)
    # torch's own normalisation of the same tensor is bitwise numpy's (the tests redo it with numpy)
    t = torch.from_numpy(pixels)
    assert np.array_equal(((t - 127.5) / 128.0).numpy(), normalise(pixels, 127.5, 128.0))
    assert np.array_equal(((t - 127.5) / 127.5).numpy(), normalise(pixels, 127.5, 127.5))

    mfn_in = normalise(pixels, *fmf.default_normalisation("mobilefacenet"))
    onnx_emb = onnx_embeddings(onnx_path, mfn_in)
    np.save(os.path.join(a.out, "mobilefacenet_onnx.npy"), onnx_emb)

    # The legacy .pt through the spec's definition against onnxruntime on the ONNX file.
    sd = torch.load(pt_path, map_location="cpu", weights_only=True)
    mfn = face_torch.MobileFaceNet()
    mfn.load_state_dict(sd, strict=True)
    mfn.eval()
    pt_emb = torch_embeddings(mfn, mfn_in)
    print(f"mobilefacenet .pt through face_torch vs onnxruntime: max abs diff {np.abs(pt_emb - onnx_emb).max():.3g} "
          f"(max |embedding| {np.abs(onnx_emb).max():.3g}), 1 - min cosine {1 - cosine(pt_emb, onnx_emb).min():.2g}")
    rng = np.random.default_rng(SEED)
    noise_in = rng.uniform(-1, 1, (8, 3, SIZE, SIZE)).astype(np.float32)
    d = np.abs(torch_embeddings(mfn, noise_in) - onnx_embeddings(onnx_path, noise_in)).max()
    print(f"  same on 8 uniform(-1, 1) inputs: max abs diff {d:.3g}")
    # ... and the files tools/convert_face.py makes (numpy only) from both.
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in (("ONNX", ["--onnx", onnx_path]), (".pt stored", ["--torch", pt_path, "--arch", "mobilefacenet"]),
                            (".pt --fold", ["--torch", pt_path, "--arch", "mobilefacenet", "--fold"])):
            out = os.path.join(tmp, "face.safetensors")
            subprocess.run([sys.executable, os.path.join(TOOLS, "convert_face.py"), *args, "-o", out], check=True,
                           stdout=subprocess.DEVNULL)
            net, _ = face_torch.load_face_model(out)
            emb = torch_embeddings(net, mfn_in)
            print(f"convert_face.py {label} -> face_torch vs onnxruntime: max abs diff {np.abs(emb - onnx_emb).max():.3g}, "
                  f"1 - min cosine {1 - cosine(emb, onnx_emb).min():.2g}")
    print(f"mobilefacenet cosine astronaut / mirror {cosine(onnx_emb[0], onnx_emb[1]):.3f}, "
          f"astronaut / 90x130 crop {cosine(onnx_emb[0], onnx_emb[3]):.3f}, astronaut / heldout64 "
          f"{cosine(onnx_emb[0], onnx_emb[2]):.3f}, astronaut / noise {cosine(onnx_emb[0], onnx_emb[4]):.3f}")

    # IResNets with deterministic numpy weights (tools/face_model_file.py), stored BatchNorm.
    ir_in = normalise(pixels, *fmf.default_normalisation("iresnet18"))
    for arch in IRESNETS:
        net = load_numpy_weights(face_torch.build(arch), fmf.random_iresnet_state_dict(arch, SEED))
        emb = torch_embeddings(net, ir_in)
        np.save(os.path.join(a.out, f"{arch}_seed{SEED}.npy"), emb)
        folded = load_numpy_weights(face_torch.build(arch, folded=True),
                                    fmf.fold_state_dict(arch, fmf.random_iresnet_state_dict(arch, SEED)))
        femb = torch_embeddings(folded, ir_in)
        print(f"{arch} seed {SEED}: max |embedding| {np.abs(emb).max():.3g}, folded vs stored max abs diff "
              f"{np.abs(femb - emb).max():.3g}, cosine astronaut / mirror {cosine(emb[0], emb[1]):.3f}")

    tiny_checkpoints(a.out)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.out) for f in fs)
    print(f"wrote {a.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

"""The issue's check, repeatable: real face images that are not in the repository, through
tools/convert_face.py and the library, against onnxruntime on the original ONNX file.

    TORCH_PYTHON-like env: python3 tools/check_face_parity.py --onnx mobilefacenet.onnx \\
        [--images DIR] [--limit 100]

Images: every PNG/JPEG under --images (decoded with Pillow), or else the 100 LFW faces of
scikit-image's `data.lfw_subset()` (25 x 25 grey, replicated to RGB) plus its `astronaut()`.
The ONNX side gets the image resized as the spec says (torch's antialiased bilinear
interpolate), normalised with the converted file's input_mean/input_std. Prints the worst
cosine and absolute difference; exits 1 if any cosine is below --min-cosine (0.9999).
Needs numpy, onnxruntime, torch (for the resize) and Pillow or scikit-image."""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def images_from(args):
    if args.images:
        from PIL import Image
        paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.images) for f in fs
                       if f.lower().endswith((".png", ".jpg", ".jpeg")))
        return [(p, np.asarray(Image.open(p).convert("RGB"))) for p in paths[:args.limit]]
    import skimage.data
    faces = skimage.data.lfw_subset()[:100]
    out = [(f"lfw_subset[{i}]", np.repeat((f * 255).round().astype(np.uint8)[..., None], 3, axis=2)) for i, f in enumerate(faces)]
    out.append(("astronaut", skimage.data.astronaut()[30:190, 140:300]))
    return out[:args.limit]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--onnx", required=True)
    p.add_argument("--images")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--min-cosine", type=float, default=0.9999)
    a = p.parse_args()
    import avpgan
    import onnxruntime as ort
    import torch
    import torch.nn.functional as F

    out = os.path.join(tempfile.mkdtemp(prefix="avpgan-parity-"), "face.safetensors")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_face.py"), "--onnx", a.onnx, "-o", out], check=True)
    fm = avpgan.FaceModel(out)
    info = fm.info
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    session = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    worst_cos, worst_abs, rows = 1.0, 0.0, []
    for label, image in images_from(a):
        x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
        if image.shape[:2] != (info.input_size, info.input_size):
            x = F.interpolate(x, (info.input_size, info.input_size), mode="bilinear", align_corners=False, antialias=True)
        x = ((x - info.input_mean) / info.input_std).numpy()
        if info.bgr:
            x = x[:, ::-1].copy()
        want = session.run(None, {name: x})[0][0]
        got = fm.embed(image)
        cos = float(np.dot(got, want) / (np.linalg.norm(got) * np.linalg.norm(want)))
        worst_cos, worst_abs = min(worst_cos, cos), max(worst_abs, float(np.abs(got - want).max()))
        rows.append((label, image.shape, cos))
    print(json.dumps(dict(images=len(rows), arch=info.arch, min_cosine=worst_cos, max_abs_difference=worst_abs)))
    bad = [r for r in rows if r[2] < a.min_cosine]
    for label, shape, cos in bad:
        print(f"below {a.min_cosine}: {label} {shape}: cosine {cos:.6f}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

"""avpgan train-enhancer on small drawn faces (32 px, tiny widths): a run stopped and resumed
writes the same enhancer as a straight run (at another thread count), with its log, sample
sheets and validation lines; Ctrl-C checkpoints and exits 130; the enhancer it writes loads in
avpgan enhance; bad faces and landmarks are refused by name with nothing written; a loss that
is not finite stops with exit 3 keeping the last checkpoint; a checkpoint write that fails (a
file size limit, as a full disk) leaves the previous checkpoint whole. Needs numpy and
build/bin/avpgan."""
import json
import os
import resource
import signal
import subprocess
import zlib

import numpy as np

from cli_helpers import CLI, ROOT, interrupt_after_checkpoint, run, safetensors_metadata, straight_and_resumed

VGG = os.path.join(ROOT, "Tests", "Fixtures", "enhancer-step", "vgg19-w32.safetensors")
CHECKPOINT = "enhancer-checkpoint.safetensors"


def write_png(path, rgb):
    """An 8-bit RGB PNG of `rgb` [H, W, 3] uint8, with the stdlib's zlib."""
    h, w, _ = rgb.shape
    def chunk(kind, body):
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
    raw = b"".join(b"\0" + rgb[y].tobytes() for y in range(h))
    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def face(seed, size=32, height=None):
    """A drawn face: a skin-coloured ellipse, two eyes and a mouth where the aligned template
    puts them, colours and sizes varied by `seed`."""
    r = np.random.default_rng(seed)
    height = height or size
    y, x = np.mgrid[0:height, 0:size] * (32 / size)
    img = np.zeros((height, size, 3)) + r.uniform(40, 200, 3)
    inside = ((x - 16) / r.uniform(9, 12)) ** 2 + ((y - 17) / r.uniform(12, 14)) ** 2 < 1
    img[inside] = r.uniform([150, 100, 80], [240, 190, 160])
    for cx in (12.75, 19.25):
        img[(x - cx) ** 2 + (y - 15) ** 2 < r.uniform(1.5, 3)] = r.uniform(0, 60, 3)
    img[(abs(x - 16) < r.uniform(2.5, 4)) & (abs(y - 22) < 1)] = r.uniform([120, 20, 20], [200, 70, 70])
    return np.clip(img + r.normal(0, 4, img.shape), 0, 255).astype(np.uint8)


def faces(folder, count=8, seed=0):
    for k in range(count):
        write_png(os.path.join(folder, "a", f"{k}.png"), face(seed + k))
    return str(folder)


def test_train_enhancer_resume_interrupt_and_enhance(tmp_path):
    data = faces(tmp_path / "faces")
    common = ["train-enhancer", "--faces", data, "--widths", "tiny", "--perceptual", VGG, "--batch", "4",
              "--checkpoint-every", "2", "--validation-fraction", "0.25"]
    a, b2 = straight_and_resumed(common, tmp_path, straight=["--threads", "1"], resumed=["--threads", "2"])
    assert "note: the identity loss is off" in a.stdout, a.stdout
    assert a.stdout.count("held-out PSNR") == 2, f"one validation line per checkpoint:\n{a.stdout}"
    assert "keeps its checkpoint's" in b2.stdout, "the recipe options given again are said to be the checkpoint's: " + b2.stdout
    log = [json.loads(line) for line in (tmp_path / "B" / "train-enhancer.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in log if "validation" not in r]
    assert steps == [1, 2, 3, 4], f"the log continues across the resume: {steps}"
    assert all(np.isfinite(r["l_g_pix"]) and np.isfinite(r["l_g_percep"]) and np.isfinite(r["l_d"]) for r in log if "l_g_pix" in r)
    validations = [r for r in log if "validation" in r]
    assert [r["step"] for r in validations] == [2, 4]
    assert all(r["validation"]["faces"] == 2 and r["validation"]["bicubic_psnr"] > 10 for r in validations), validations
    sheets = sorted(p.name for p in (tmp_path / "A" / "samples").iterdir())
    assert sheets == ["step-000002.png", "step-000004.png"], sheets
    meta = safetensors_metadata(tmp_path / "A.safetensors")
    assert meta["avpgan.arch"] == "gfpgan-v1-clean" and json.loads(meta["avpgan.config"])["out_size"] == 32
    info = run("info", str(tmp_path / "A.safetensors"))
    assert info.returncode == 0 and "face enhancer" in info.stdout, info.stderr
    write_png(str(tmp_path / "small.png"), face(99, size=16))
    e = run("enhance", "--enhancer", str(tmp_path / "A.safetensors"), str(tmp_path / "small.png"), "-o", str(tmp_path / "big.png"))
    assert e.returncode == 0 and (tmp_path / "big.png").exists(), e.stderr
    # --init fine-tunes the written enhancer (discriminators fresh); its shape options are refused.
    tuned = run("train-enhancer", "--faces", data, "--init", str(tmp_path / "A.safetensors"), "--steps", "1", "--losses", "perceptual=0",
                "-o", str(tmp_path / "T.safetensors"))
    assert tuned.returncode == 0 and "from " in tuned.stdout, tuned.stdout + tuned.stderr
    clash = run("train-enhancer", "--faces", data, "--init", str(tmp_path / "A.safetensors"), "--widths", "small", "-o", str(tmp_path / "X.safetensors"))
    assert clash.returncode == 2 and "--widths" in clash.stderr, clash.stderr

    # Ctrl-C: a long run stops at the end of a step, checkpoints, exits 130, writes no enhancer.
    interrupt_after_checkpoint([*common, "--steps", "100000"], tmp_path, CHECKPOINT, timeout=60)


def test_train_enhancer_refuses_bad_faces_by_name(tmp_path):
    def refused(folder, *words, extra=()):
        out = tmp_path / "out.safetensors"
        r = run("train-enhancer", "--faces", str(folder), "--widths", "tiny", "--steps", "1", *extra, "-o", str(out))
        assert r.returncode != 0 and not out.exists(), (r.returncode, r.stdout)
        for w in words:
            assert w in r.stderr, f"'{w}' not in: {r.stderr}"
        return r

    mixed = faces(tmp_path / "mixed", count=3)
    write_png(os.path.join(mixed, "b", "big.png"), face(7, size=64))
    refused(mixed, "b/big.png", "64 x 64", "32 x 32", "[AVPGAN_E_INVALID_ARGUMENT]")
    oblong = faces(tmp_path / "oblong", count=3)
    write_png(os.path.join(oblong, "b", "tall.png"), face(7, height=40))
    refused(oblong, "tall.png", "square")
    refused(faces(tmp_path / "one", count=1), "at least 2")
    marks = faces(tmp_path / "marks", count=3)
    good = {"left_eye": [12.75, 15, 2], "right_eye": [19.25, 15, 2], "mouth": [16, 22, 3]}
    with open(os.path.join(marks, "landmarks.json"), "w") as f:
        json.dump({"a/0.png": good, "a/1.png": good}, f)
    refused(marks, "landmarks.json", "no landmarks", "a/2.png")
    with open(os.path.join(marks, "landmarks.json"), "w") as f:
        json.dump({"a/0.png": good, "a/1.png": good, "a/2.png": dict(good, mouth=[40, 22, 3])}, f)
    refused(marks, "a/2.png", "mouth", "outside")
    fine = faces(tmp_path / "fine", count=4)
    refused(fine, "--resume needs --checkpoint-dir", extra=["--resume"])
    refused(fine, "--resume needs", extra=["--resume", "--seed", "3", "--checkpoint-dir", str(tmp_path / "none")])
    refused(fine, "groups", extra=["--batch", "6"])
    refused(fine, "--widths takes", extra=["--widths", "huge"])


def test_train_enhancer_non_finite_loss_keeps_the_last_checkpoint(tmp_path):
    data = faces(tmp_path / "faces")
    r = run("train-enhancer", "--faces", data, "--widths", "tiny", "--lr", "1e30", "--steps", "6", "--checkpoint-every", "1",
            "--checkpoint-dir", str(tmp_path / "N"), "-o", str(tmp_path / "N.safetensors"))
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "not finite" in r.stderr and "is kept" in r.stderr, r.stderr
    assert not (tmp_path / "N.safetensors").exists(), "a diverged run must not write an enhancer"
    step = int(r.stderr.split("stopped at step ")[1].split(":")[0])
    kept = safetensors_metadata(tmp_path / "N" / CHECKPOINT)
    assert int(kept["avpgan.enhancer_training.step"]) == step - 1, (kept["avpgan.enhancer_training.step"], r.stderr)


def test_train_enhancer_failed_checkpoint_write_keeps_the_previous(tmp_path):
    data = faces(tmp_path / "faces")
    common = ["train-enhancer", "--faces", data, "--widths", "tiny", "--checkpoint-every", "1", "--checkpoint-dir", str(tmp_path / "F"),
              "-o", str(tmp_path / "F.safetensors")]
    assert run(*common, "--steps", "1").returncode == 0
    before = (tmp_path / "F" / CHECKPOINT).read_bytes()

    def small_files():
        # Files may grow to half the checkpoint: its next write fails with EFBIG, as a full disk fails with ENOSPC.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 2, resource.RLIM_INFINITY))

    r = subprocess.run([CLI, *common, "--steps", "2", "--resume"], capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "saving the checkpoint of step 2 failed" in r.stderr and "step 1 is left as it was" in r.stderr, r.stderr
    assert (tmp_path / "F" / CHECKPOINT).read_bytes() == before, "the failed write changed the previous checkpoint"
    assert not [p for p in os.listdir(tmp_path / "F") if ".tmp-" in p], "temporary files left behind"


def test_train_enhancer_identity_loss_with_a_face_model(tmp_path):
    """--face-model turns the identity loss on (a MobileFaceNet of random weights, written by
    the converters' face-model writer): l_identity is logged and no note says it is off."""
    import face_model_file as fmf  # tools/converters is on sys.path (cli_helpers puts it there)
    from face_weights import random_mobilefacenet
    model = str(tmp_path / "face.safetensors")
    fmf.write_face_model(model, "mobilefacenet", random_mobilefacenet(), "stored", source="unit test")
    data = faces(tmp_path / "faces")
    r = run("train-enhancer", "--faces", data, "--widths", "tiny", "--face-model", model, "--steps", "2", "--checkpoint-every", "2",
            "--checkpoint-dir", str(tmp_path / "I"), "-o", str(tmp_path / "I.safetensors"))
    assert r.returncode == 0, r.stderr
    assert "identity loss is off" not in r.stdout and "identity 10" in r.stdout, r.stdout
    log = [json.loads(line) for line in (tmp_path / "I" / "train-enhancer.jsonl").read_text().splitlines()]
    values = [row["l_identity"] for row in log if "validation" not in row]
    assert len(values) == 2 and all(np.isfinite(v) and v >= 0 for v in values), log

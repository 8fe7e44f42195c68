"""PIL images where a user hands a picture (FaceModel.embed, Enhancer.enhance) and out of any
RGB8 result (avpgan.to_pil), with Pillow optional: nothing imports it for numpy input."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import avpgan

REPO = Path(__file__).resolve().parents[3]
ENHANCER = REPO / "Tests" / "Fixtures" / "enhancer" / "enhancer-s32-half-latent.safetensors"
Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (make venv installs it)")


@pytest.fixture(scope="module")
def picture():
    rng = np.random.default_rng(5)
    return rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)


def test_face_model_embeds_a_pil_image_as_its_array(random_face_model_path, picture):
    with avpgan.FaceModel(random_face_model_path) as fm:
        want = fm.embed(picture)
        assert np.array_equal(fm.embed(Image.fromarray(picture)), want)
        # Another mode is converted to RGB first, as PIL's convert("RGB") does.
        rgba = Image.fromarray(picture).convert("RGBA")
        assert np.array_equal(fm.embed(rgba), want)
        gray = Image.fromarray(picture).convert("L")
        assert np.array_equal(fm.embed(gray), fm.embed(np.asarray(gray.convert("RGB"))))


def test_enhancer_takes_a_pil_image_and_to_pil_gives_one_back(picture):
    with avpgan.Enhancer(ENHANCER) as enhancer:
        out = enhancer.enhance(Image.fromarray(picture))
        assert np.array_equal(out, enhancer.enhance(picture))
    image = avpgan.to_pil(out)
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (out.shape[1], out.shape[0])
    assert np.array_equal(np.asarray(image), out)


def test_to_pil_checks_its_input():
    with pytest.raises(TypeError, match="uint8"):
        avpgan.to_pil(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        avpgan.to_pil(np.zeros((4, 4), dtype=np.uint8))


def test_numpy_input_never_imports_pillow():
    code = ("import sys, numpy as np, avpgan; from avpgan._images import rgb8; "
            "rgb8(np.zeros((2, 2, 3), np.uint8), 'x'); print('PIL' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stdout + r.stderr

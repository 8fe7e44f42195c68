"""tools/converters/convert_vgg.py on numpy alone: a narrow torchvision-layout VGG-19 state dict written as
torch.save files (test_convert_face.py's writer) converts to the perceptual network file the
library reads, and a wrong state dict fails with one line on stderr and exit status 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
sys.path.insert(0, HERE)
import convert_vgg  # noqa: E402
import safetensors_io  # noqa: E402
from test_convert_face import torch_save_bytes  # noqa: E402

CONVERT = os.path.join(ROOT, "tools", "converters", "convert_vgg.py")


def narrow_state(divisor=32, seed=5):
    """features.N of a VGG-19 with widths / divisor, and a classifier the converter drops."""
    rng = np.random.default_rng(seed)
    state, previous = {}, 3
    widths = [v // divisor for v in convert_vgg.CONFIG_E if v != "M"]
    for n, width in zip(convert_vgg.conv_indices(), widths):
        state[f"features.{n}.weight"] = rng.standard_normal((width, previous, 3, 3)).astype(np.float32)
        state[f"features.{n}.bias"] = rng.standard_normal(width).astype(np.float32)
        previous = width
    state["classifier.0.weight"] = rng.standard_normal((4, 7)).astype(np.float32)
    return state


def run(tmp_path, state, fmt="zip"):
    src = tmp_path / "vgg19.pth"
    src.write_bytes(torch_save_bytes(state, fmt))
    out = tmp_path / "vgg.safetensors"
    r = subprocess.run([sys.executable, CONVERT, str(src), "-o", str(out)], capture_output=True, text=True)
    return r, out


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_converts_the_features_and_drops_the_classifier(tmp_path, fmt):
    state = narrow_state()
    r, out = run(tmp_path, state, fmt)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"vgg19 features, widths [2, 4, 8, 16, 16], 19774 parameters -> {out}"
    tensors, metadata = safetensors_io.read(str(out))
    assert metadata == {"avpgan.format": "1", "avpgan.arch": "vgg19-features", "avpgan.source": "vgg19.pth"}
    assert len(tensors) == 32 and "classifier.0.weight" not in tensors
    for name, a in tensors.items():
        assert np.array_equal(a, state[name]), name


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("features.34.bias"), "features.34.bias is missing"),
    (lambda s: s.update({"features.2.weight": np.zeros((2, 3, 3, 3), np.float32)}), "features.2.weight has shape [2, 3, 3, 3]"),
    (lambda s: s.update({"features.0.bias": np.full(2, np.nan, np.float32)}), "features.0.bias has non-finite values"),
    (lambda s: s.update({"features.1.running_mean": np.zeros(2, np.float32)}), "BatchNorm statistics (vgg19_bn?)"),
    (lambda s: s.update({"features.36.weight": np.zeros((2, 2, 3, 3), np.float32)}), "features.36.weight is not a tensor"),
])
def test_wrong_state_dicts_fail_with_the_cause(tmp_path, edit, message):
    state = narrow_state()
    edit(state)
    r, out = run(tmp_path, state)
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("convert_vgg.py: error: ") and message in r.stderr, r.stderr
    assert not out.exists()

"""avpgan.default_model() and Model() without a path: the library's own lookup
(avpgan_default_model_path), the same as the avpgan command's."""

from __future__ import annotations

import os

import pytest

import avpgan
from conftest import INSTALLED, REPO


def test_missing_environment_model_is_an_oserror_naming_it(monkeypatch, avpgan_module):
    monkeypatch.setenv("AVPGAN_MODEL", "/no/such/model.safetensors")
    with pytest.raises(OSError) as info:
        avpgan.default_model()
    assert isinstance(info.value, avpgan.AvpganIOError)
    assert "$AVPGAN_MODEL (/no/such/model.safetensors)" in str(info.value)
    with pytest.raises(avpgan.AvpganIOError):
        avpgan.Model()


def test_environment_model_is_the_default(monkeypatch, avpgan_module):
    model = str(REPO / "models" / "default.safetensors")
    monkeypatch.setenv("AVPGAN_MODEL", model)
    assert avpgan.default_model() == model
    with avpgan.Model() as m:
        assert m.info.image_size == 64


@pytest.mark.skipif(INSTALLED, reason="the library beside the package is not the checkout's build")
def test_checkout_build_finds_the_checkouts_model(monkeypatch, avpgan_module):
    monkeypatch.delenv("AVPGAN_MODEL", raising=False)
    if os.environ.get("AVPGAN_LIBRARY", str(REPO)).startswith(str(REPO)):
        assert avpgan.default_model() == str((REPO / "models" / "default.safetensors").resolve())


def test_io_errors_are_oserrors():
    assert issubclass(avpgan.AvpganIOError, OSError)
    assert issubclass(avpgan.AvpganIOError, avpgan.AvpganError)


def test_missing_environment_enhancer_is_an_oserror_naming_it(monkeypatch, avpgan_module):
    monkeypatch.setenv("AVPGAN_ENHANCER", "/no/such/enhancer.safetensors")
    with pytest.raises(avpgan.AvpganIOError) as info:
        avpgan.default_enhancer()
    assert "$AVPGAN_ENHANCER (/no/such/enhancer.safetensors)" in str(info.value)
    assert "no default enhancer" in str(info.value)
    with pytest.raises(avpgan.AvpganIOError):
        avpgan.Enhancer()


@pytest.mark.skipif(INSTALLED, reason="the library beside the package is not the checkout's build")
def test_checkout_build_finds_the_checkouts_enhancer(monkeypatch, avpgan_module):
    monkeypatch.delenv("AVPGAN_ENHANCER", raising=False)
    if os.environ.get("AVPGAN_LIBRARY", str(REPO)).startswith(str(REPO)):
        assert avpgan.default_enhancer() == str((REPO / "models" / "default-enhancer.safetensors").resolve())
    with avpgan.Enhancer() as e:
        assert e.info.size == 128, f"the default enhancer is {e.info.size} px, models/README.md says 128"

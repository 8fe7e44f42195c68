"""The package as shipped: which copy is under test, py.typed, docstrings and annotations of the
public API. With AVPGAN_TEST_INSTALLED=1 (conftest.py), the copy under test is the installed one."""

from __future__ import annotations

import enum
import inspect
import re
from pathlib import Path

import pytest

import avpgan
from avpgan import _lib
from conftest import INSTALLED, REPO, SOURCE_PACKAGE, installed_package_problem

PACKAGE = Path(avpgan.__file__).resolve().parent
#: Every public name: the main entry points (__all__) and the rest (exceptions, enums, results).
PUBLIC = list(avpgan.__all__) + list(avpgan._PUBLIC_TOO)


def test_the_intended_copy_is_under_test(monkeypatch):
    if INSTALLED:
        assert installed_package_problem() == ""
        assert PACKAGE != SOURCE_PACKAGE.resolve()
        assert _lib.checkout_root() is None, "an installed package is not the checkout's copy"
        monkeypatch.delenv("AVPGAN_LIBRARY", raising=False)
        repo_candidates = [c for c in _lib.candidates() if c.startswith(str(REPO))]
        if _lib._installed_from() is None:
            # A wheel or the Debian package: nothing of the checkout it was built in.
            assert repo_candidates == []
        else:
            # pip install ./bindings/python: that checkout's build, and nothing else of it.
            assert _lib._installed_from() == REPO.resolve()
            assert repo_candidates == [str(REPO.resolve() / "build" / "lib" / "libavpgan.so.0")]
    else:
        assert PACKAGE == SOURCE_PACKAGE.resolve()
        assert _lib.checkout_root() == REPO.resolve()


def test_py_typed_ships():
    assert (PACKAGE / "py.typed").is_file()


def test_version_matches_library(avpgan_module):
    assert avpgan.__version__ == avpgan.version()


def test_version_is_the_same_everywhere():
    """pyproject.toml, avpgan.__version__, the Makefile's VERSION and, when installed, the
    distribution's metadata all say the same version."""
    pyproject = re.search(r'(?m)^version = "([^"]+)"', (SOURCE_PACKAGE.parent / "pyproject.toml").read_text())
    makefile = re.search(r"(?m)^VERSION := (\S+)", (REPO / "Makefile").read_text())
    assert pyproject and makefile
    assert avpgan.__version__ == pyproject.group(1) == makefile.group(1)
    if INSTALLED:
        from importlib.metadata import PackageNotFoundError, version

        try:
            assert version("avpgan") == avpgan.__version__
        except PackageNotFoundError:
            # pip always writes the metadata; Debian's python3-avpgan (packaging/build-deb.sh)
            # ships the bare package in dist-packages.
            assert PACKAGE.parent.name == "dist-packages", f"{PACKAGE} has no distribution metadata"


def _public_functions():
    """(qualified name, function) for every public function, method and property of avpgan."""
    for name in PUBLIC:
        obj = getattr(avpgan, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj) and not issubclass(obj, (BaseException, enum.Enum)):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, property):
                    member = member.fget
                elif isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def test_public_api_has_docstrings():
    missing = [name for name in PUBLIC
               if (inspect.isclass(getattr(avpgan, name)) or inspect.isfunction(getattr(avpgan, name)))
               and not (getattr(avpgan, name).__doc__ or "").strip()]
    missing += [name for name, fn in _public_functions()
                if not name.endswith(".__init__") and not (fn.__doc__ or "").strip()]
    assert missing == []
    assert "Model" in (avpgan.__doc__ or "")


def test_public_api_is_annotated():
    missing = []
    for name, fn in _public_functions():
        sig = inspect.signature(fn)
        if sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{name} -> ?")
        missing += [f"{name}({p})" for p, param in sig.parameters.items()
                    if p not in ("self", "cls") and param.annotation is inspect.Parameter.empty
                    and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)]
    assert missing == []


@pytest.mark.parametrize("name", ["Model", "FaceModel", "Trainer"])
def test_help_shows_docstrings(name):
    text = inspect.getdoc(getattr(avpgan, name)) or ""
    assert len(text) > 40
    methods = [m for m in ("embed", "generate", "portrait", "close") if hasattr(getattr(avpgan, name), m)]
    for m in methods:
        assert (inspect.getdoc(getattr(getattr(avpgan, name), m)) or "").strip(), f"{name}.{m}"


def test_help_is_readable():
    """help(avpgan) shows the main entry points and names the rest, not every inherited method."""
    import pydoc
    text = pydoc.render_doc(avpgan, renderer=pydoc.plaintext)
    assert len(text.splitlines()) < 1200, f"help(avpgan) is {len(text.splitlines())} lines"
    for name in ("class Model", "class Enhancer", "portraits(", "NoSpeechError"):
        assert name in text, name
    for name in PUBLIC:
        assert hasattr(avpgan, name), name


def test_portrait_source_is_typed_precisely():
    """portrait(source) says what it takes (paths, encoded bytes, sample arrays), not Any."""
    import typing
    hint = typing.get_type_hints(avpgan.Model.portrait)["source"]
    assert hint is not typing.Any
    args = set(typing.get_args(hint))
    assert {str, bytes} <= args and any("ndarray" in repr(a) for a in args), hint

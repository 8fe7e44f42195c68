"""Where avpgan looks for libavpgan (avpgan._lib.candidates / load), without a system install:
the package's directory, the environment and find_library are monkeypatched. None of these
tests needs the library itself."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pytest

from avpgan import _lib


def make_checkout(root: Path, built: bool = True) -> Path:
    """A skeleton source checkout under root: include/avpgan.h, bindings/python/avpgan and,
    when built, build/lib/libavpgan.so.0. Returns the package directory."""
    (root / "include").mkdir(parents=True)
    (root / "include" / "avpgan.h").write_text("/* avpgan.h */\n")
    pkg = root / "bindings" / "python" / "avpgan"
    pkg.mkdir(parents=True)
    if built:
        (root / "build" / "lib").mkdir(parents=True)
        (root / "build" / "lib" / "libavpgan.so.0").write_bytes(b"not a library")
    return pkg


def site_packages(prefix: Path) -> Path:
    pkg = prefix / "lib" / "python3.11" / "site-packages" / "avpgan"
    pkg.mkdir(parents=True)
    return pkg


@pytest.fixture
def lookup(monkeypatch):
    """Sets the package directory and what find_library answers; returns candidates()."""
    monkeypatch.delenv("AVPGAN_LIBRARY", raising=False)
    calls: List[str] = []

    def configure(package_dir: Path, found: Optional[str] = None) -> List[str]:
        def fake_find_library(name: str) -> Optional[str]:
            calls.append(name)
            return found

        monkeypatch.setattr(_lib, "_PACKAGE_DIR", package_dir)
        monkeypatch.setattr(_lib, "_find_library", fake_find_library)
        return _lib.candidates()

    configure.calls = calls  # type: ignore[attr-defined]
    return configure


def test_checkout_build_comes_before_the_system(tmp_path, lookup):
    repo = tmp_path / "repo"
    pkg = make_checkout(repo)
    assert _lib.checkout_root(pkg) == repo
    assert lookup(pkg, found="libavpgan.so.0") == [str(repo / "build" / "lib" / "libavpgan.so.0"), "libavpgan.so.0"]


def test_unbuilt_checkout_is_still_listed(tmp_path, lookup):
    """An unbuilt checkout is tried (load() reports "no such file" and moves on to the system),
    so the error message says where the build was expected."""
    repo = tmp_path / "repo"
    pkg = make_checkout(repo, built=False)
    assert lookup(pkg) == [str(repo / "build" / "lib" / "libavpgan.so.0"), "libavpgan.so.0"]


def test_installed_package_uses_the_system_only(tmp_path, lookup):
    pkg = site_packages(tmp_path / "venv")
    assert _lib.checkout_root(pkg) is None
    assert lookup(pkg) == ["libavpgan.so.0"]


def test_venv_inside_a_checkout_is_not_the_checkout(tmp_path, lookup):
    """An installed copy never picks up a build just because its venv sits inside a checkout."""
    repo = tmp_path / "repo"
    make_checkout(repo)
    pkg = site_packages(repo / ".venv")
    assert _lib.checkout_root(pkg) is None
    assert lookup(pkg) == ["libavpgan.so.0"]


def test_lookalike_directory_without_header_is_not_a_checkout(tmp_path, lookup):
    pkg = tmp_path / "other" / "bindings" / "python" / "avpgan"
    pkg.mkdir(parents=True)
    (tmp_path / "other" / "build" / "lib").mkdir(parents=True)
    assert _lib.checkout_root(pkg) is None
    assert lookup(pkg) == ["libavpgan.so.0"]


def test_find_library_result_comes_last_and_once(tmp_path, lookup):
    pkg = site_packages(tmp_path / "venv")
    assert lookup(pkg, found="/opt/avpgan/lib/libavpgan.so.0") == ["libavpgan.so.0", "/opt/avpgan/lib/libavpgan.so.0"]
    assert lookup(pkg, found="libavpgan.so.0") == ["libavpgan.so.0"]
    assert lookup(pkg, found=None) == ["libavpgan.so.0"]


def test_environment_variable_is_the_only_candidate(tmp_path, lookup, monkeypatch):
    pkg = make_checkout(tmp_path / "repo")
    monkeypatch.setenv("AVPGAN_LIBRARY", "/somewhere/libavpgan.so.0")
    assert lookup(pkg, found="libavpgan.so.0") == ["/somewhere/libavpgan.so.0"]
    assert lookup.calls == []  # type: ignore[attr-defined]


def test_empty_environment_variable_is_ignored(tmp_path, lookup, monkeypatch):
    monkeypatch.setenv("AVPGAN_LIBRARY", "")
    assert lookup(site_packages(tmp_path / "venv")) == ["libavpgan.so.0"]


def test_load_reports_everything_it_tried(tmp_path, monkeypatch):
    """Nothing loadable: the error lists each candidate with its reason, in order."""
    repo = tmp_path / "repo"
    pkg = make_checkout(repo, built=False)
    monkeypatch.delenv("AVPGAN_LIBRARY", raising=False)
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", pkg)
    monkeypatch.setattr(_lib, "SONAME", "libavpgan-test-absent.so.0")
    bogus = tmp_path / "libbogus.so"
    bogus.write_bytes(b"not an ELF file")
    monkeypatch.setattr(_lib, "_find_library", lambda name: str(bogus))
    with pytest.raises(_lib.LibraryNotFound) as info:
        _lib.load()
    tried = [c for c, _ in info.value.tried]
    assert tried == [str(repo / "build" / "lib" / "libavpgan-test-absent.so.0"), "libavpgan-test-absent.so.0", str(bogus)]
    assert info.value.tried[0][1] == "no such file"
    message = str(info.value)
    for cand in tried:
        assert cand in message
    assert "AVPGAN_LIBRARY" in message and "libavpgan0" in message


def test_load_with_missing_environment_library_does_not_fall_back(tmp_path, monkeypatch):
    pkg = make_checkout(tmp_path / "repo")
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", pkg)
    missing = str(tmp_path / "nowhere" / "libavpgan.so.0")
    monkeypatch.setenv("AVPGAN_LIBRARY", missing)
    with pytest.raises(_lib.LibraryNotFound) as info:
        _lib.load()
    assert info.value.tried == [(missing, "no such file")]


def loaded_library_path(lib) -> Path:
    """The file of a loaded library: its path, or when it was loaded by SONAME, what
    /proc/self/maps says."""
    if "/" in lib._name:
        return Path(lib._name).resolve()
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and Path(fields[5]).name.startswith("libavpgan.so"):
            return Path(fields[5])
    pytest.fail(f"cannot tell where {lib._name} was loaded from")


def test_first_loadable_candidate_wins_and_find_library_is_not_asked(tmp_path, monkeypatch, avpgan_module):
    """load() stops at the first candidate that loads (here a checkout's build, a link to the
    library under test); find_library, which may spawn ldconfig, is never consulted then."""
    repo = tmp_path / "repo"
    pkg = make_checkout(repo, built=False)
    (repo / "build" / "lib").mkdir(parents=True)
    (repo / "build" / "lib" / "libavpgan.so.0").symlink_to(loaded_library_path(_lib.get()))
    calls: List[str] = []
    monkeypatch.delenv("AVPGAN_LIBRARY", raising=False)
    monkeypatch.setattr(_lib, "_PACKAGE_DIR", pkg)
    monkeypatch.setattr(_lib, "_find_library", lambda name: calls.append(name))
    lib = _lib.load()
    assert lib._name == str(repo / "build" / "lib" / "libavpgan.so.0")
    assert calls == []


def test_library_inside_the_package_comes_first(tmp_path, lookup):
    """A wheel from `make wheel` carries avpgan/_libs/libavpgan.so.0: it wins over everything
    but $AVPGAN_LIBRARY."""
    pkg = site_packages(tmp_path / "venv")
    (pkg / "_libs").mkdir()
    (pkg / "_libs" / "libavpgan.so.0").write_bytes(b"not a library")
    assert lookup(pkg) == [str(pkg / "_libs" / "libavpgan.so.0"), "libavpgan.so.0"]


def test_pip_install_from_a_checkout_finds_that_checkouts_build(tmp_path, lookup):
    """pip install ./bindings/python records the checkout (setup.py); the installed copy then
    tries <checkout>/build/lib before the system, even when make build comes later."""
    repo = tmp_path / "repo"
    make_checkout(repo, built=False)
    pkg = site_packages(tmp_path / "venv")
    (pkg / "_checkout_root.txt").write_text(str(repo) + "\n")
    assert _lib.checkout_root(pkg) is None
    assert lookup(pkg) == [str(repo / "build" / "lib" / "libavpgan.so.0"), "libavpgan.so.0"]


def test_empty_checkout_record_is_ignored(tmp_path, lookup):
    pkg = site_packages(tmp_path / "venv")
    (pkg / "_checkout_root.txt").write_text("\n")
    assert lookup(pkg) == ["libavpgan.so.0"]

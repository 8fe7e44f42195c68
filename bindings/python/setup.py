"""setuptools hook of the avpgan package (the metadata is in pyproject.toml).

When the package is built from a source checkout (``pip install ./bindings/python``), the
installed copy records the checkout's root in ``avpgan/_checkout_root.txt``, so that it finds
the library ``make build`` writes to ``<checkout>/build/lib`` even when that build comes after
the install. A build from anywhere else (``make wheel`` stages a copy under build/) records
nothing.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyRecordingCheckout(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent.parent.parent
        if (root / "include" / "avpgan.h").is_file() and (root / "bindings" / "python" / "avpgan").is_dir():
            target = Path(self.build_lib) / "avpgan" / "_checkout_root.txt"
            target.write_text(str(root) + "\n", encoding="utf-8")


setup(cmdclass={"build_py": BuildPyRecordingCheckout})

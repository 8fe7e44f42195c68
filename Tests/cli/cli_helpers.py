"""What the command-line tests share: where the command and the golden model are, running the
command, the speech tools that synthetic data needs. Imported by name (pytest puts Tests/cli
on sys.path for the tests of this folder)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "converters"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import safetensors_io  # noqa: E402

CLI = os.path.join(ROOT, "build", "bin", "avpgan")
GOLDEN = os.path.join(ROOT, "Tests", "Fixtures", "golden", "avpgan")
MODEL = os.path.join(GOLDEN, "model.safetensors")
ESPEAK, SOX = shutil.which("espeak-ng"), shutil.which("sox")


def run(*args):
    """The finished `avpgan args...`, output captured as text."""
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def safetensors_metadata(path):
    """The metadata of a safetensors file."""
    return safetensors_io.read(str(path))[1]

"""What the command-line tests share: where the command and the golden model are, running the
command, the speech tools that synthetic data needs, and the checks every training command
passes (a stopped and resumed run writes what a straight run writes; Ctrl-C checkpoints). Imported by name (pytest puts Tests/cli
on sys.path for the tests of this folder)."""
import os
import shutil
import signal
import subprocess
import sys
import time

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


def straight_and_resumed(common, tmp_path, steps=4, straight=(), resumed=()):
    """Trains `avpgan common...` `steps` steps straight into tmp_path/A (adding `straight`), and
    half of them then resumed to `steps` into tmp_path/B (adding `resumed` to both); checks that
    every run succeeds and that the resumed run writes the same file as the straight one.
    Returns the straight run and the resuming one."""
    a = run(*common, "--steps", str(steps), *straight, "--checkpoint-dir", str(tmp_path / "A"), "-o", str(tmp_path / "A.safetensors"))
    assert a.returncode == 0, a.stderr
    b1 = run(*common, "--steps", str(steps // 2), *resumed, "--checkpoint-dir", str(tmp_path / "B"), "-o", str(tmp_path / "B1.safetensors"))
    b2 = run(*common, "--steps", str(steps), "--resume", *resumed, "--checkpoint-dir", str(tmp_path / "B"),
             "-o", str(tmp_path / "B.safetensors"))
    assert b1.returncode == 0 and b2.returncode == 0, b1.stderr + b2.stderr
    assert (tmp_path / "A.safetensors").read_bytes() == (tmp_path / "B.safetensors").read_bytes(), \
        f"stopped at step {steps // 2} and resumed ({' '.join(resumed) or 'same options'}) is not the straight run ({' '.join(straight) or 'same options'})"
    return a, b2


def interrupt_after_checkpoint(args, tmp_path, checkpoint, timeout=30):
    """Runs `avpgan args` with --checkpoint-dir tmp_path/C, sends Ctrl-C once its first
    `checkpoint` is written (waiting up to `timeout` seconds), and checks that it exits 130,
    says how to resume and writes nothing to -o tmp_path/C.safetensors."""
    p = subprocess.Popen([CLI, *args, "--checkpoint-dir", str(tmp_path / "C"), "-o", str(tmp_path / "C.safetensors")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while not (tmp_path / "C" / checkpoint).exists() and time.time() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 130, (p.returncode, err)
    assert "resume with --resume" in out, out
    assert not (tmp_path / "C.safetensors").exists(), f"an interrupted {args[0]} must not write its output"

"""Running one benchmark process and reading what it cost: its JSON lines and its peak memory.
Shared by the `make bench` scripts, which print every timing beside the issue-18 goal."""
import json, os, subprocess, tempfile


def run_json_rss(cmd):
    """Runs `cmd`, returns (the JSON objects of its stdout lines that start with `{`, the
    process's peak resident set in bytes, from its own rusage). Raises CalledProcessError
    (with its stderr) when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so that its rusage is its own
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd, out.read(), err.read())
        lines = [json.loads(line) for line in out.read().splitlines() if line.startswith("{")]
    return lines, usage.ru_maxrss * 1024  # Linux reports KiB


def mib(n):
    return f"{n / 2**20:.0f} MiB"


def ratio_and_goal(lib, ref, goal):
    """Cells for `lib / ref` (with ✓ or ✗ against `goal`, a ratio at most) and for the goal."""
    goal_cell = f"≤ {goal}x" if goal else "-"
    if ref is None:
        return "-", goal_cell
    r = lib / ref
    return f"{r:.2f}x" + ("" if goal is None else (" ✓" if r <= goal else " ✗")), goal_cell

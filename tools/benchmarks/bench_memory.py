"""Peak memory of a portrait against the length of the recording (issue 13): makes 48 kHz
stereo 16-bit WAV files of the given lengths with sox (a tremolo tone the VAD keeps almost
whole, the worst case), and runs `avpgan portrait` on each, with and without --seconds 10,
reporting the peak resident set size of the process (getrusage of the child).

    python3 tools/benchmarks/bench_memory.py [--minutes 15 60] [--workdir build/bench-memory]

The WAV files are large (10.5 MB per minute); they are kept in --workdir for reruns.
"""
import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def peak_mb(cmd):
    """Runs cmd in a fresh process; returns (peak RSS in MB, seconds)."""
    start = time.monotonic()
    # A fresh python per run so that RUSAGE_CHILDREN's maximum is this run's alone.
    code = ("import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return int(out.stdout.split()[-1]) / 1024, time.monotonic() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, nargs="+", default=[15, 60])
    p.add_argument("--workdir", default=str(ROOT / "build" / "bench-memory"))
    p.add_argument("--model", default=str(ROOT / "Tests" / "Fixtures" / "golden" / "avpgan" / "model.safetensors"))
    p.add_argument("--cli", default=str(ROOT / "build" / "bin" / "avpgan"))
    a = p.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print("| recording | options | peak RSS | time |")
    print("|---|---|---|---|")
    for minutes in a.minutes:
        wav = work / f"{minutes:g}min-48k-stereo.wav"
        if not wav.exists():
            subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", str(wav), "synth", str(minutes * 60),
                            "sine", "200-800", "tremolo", "3", "60", "vol", "0.3"], check=True)
        for options in ([], ["--seconds", "10"]):
            mb, seconds = peak_mb([a.cli, "portrait", str(wav), "-o", str(work / "portrait.png"), "--model", a.model, "--overwrite", *options])
            print(f"| {minutes:g} min, 48 kHz stereo WAV ({wav.stat().st_size / 1e6:.0f} MB) | {' '.join(options) or 'all'} "
                  f"| {mb:.0f} MB | {seconds:.1f} s |")


if __name__ == "__main__":
    main()

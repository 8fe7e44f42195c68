"""GFLOP/s of single-precision GEMM on the shapes libavpgan's networks run, for each CBLAS
library given, one thread per call as the library calls it (its own pool splits the rows).

The shapes are the full-width generator at batch 64 (each transposed convolution is GEMMs
`cols[out*taps, images*h*w] = Wᵀ x` over as many images as the GEMM block holds, half of
its rows per thread) and the voice encoder on 800
frames (im2col GEMM `[out, in*3] x [in*3, frames/2]`). Each library runs in its own process
(their thread pools and environment never mix). Times are the calling thread's CPU time, so
that other processes on a loaded machine, which steal the core, do not count; they still
share its caches. Example:

    python3 tools/benchmarks/bench_gemm.py --lib /usr/lib/x86_64-linux-gnu/libopenblas.so.0 \\
        --lib /usr/lib/x86_64-linux-gnu/libblis.so.4 --env OPENBLAS_CORETYPE=Zen
Needs numpy only."""
import argparse, ctypes, json, os, subprocess, sys, time

import numpy as np

# (name, transA, m, n, k): C[m, n] = op(A)[m, k] B[k, n], row-major.
GENERATOR_64 = [  # n = the images one layer's 16 MB GEMM block holds (ConvStack, Scratch.cols)
    ("gen convT 64->1024 4x4, 64 images", True, 8192, 64, 64),
    ("gen convT 1024->512 s2, 32 images", True, 4096, 512, 1024),
    ("gen convT 512->256 s2, 16 images", True, 2048, 1024, 512),
    ("gen convT 256->128 s2, 8 images", True, 1024, 2048, 256),
    ("gen convT 128->64 s2, 4 images", True, 512, 4096, 128),
]
VOICE_800 = [
    ("voice conv 64->256", False, 128, 400, 192),
    ("voice conv 256->384", False, 192, 200, 768),
    ("voice conv 384->576", False, 288, 100, 1152),
    ("voice conv 576->864", False, 432, 50, 1728),
    ("voice conv 864->64", False, 32, 25, 2592),
]
PEAK = [("square, the GEMM peak reference", False, 1536, 1536, 1536)]
SHAPES = GENERATOR_64 + VOICE_800 + PEAK


def kernel_name(lib):
    """Which kernel set the library picked on this CPU (OpenBLAS core, BLIS sub-configuration)."""
    if hasattr(lib, "openblas_get_corename"):
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return "OpenBLAS core " + lib.openblas_get_corename().decode()
    if hasattr(lib, "bli_arch_query_id"):
        lib.bli_arch_string.restype = ctypes.c_char_p
        return "BLIS configuration " + lib.bli_arch_string(lib.bli_arch_query_id()).decode()
    return "unknown kernels"


def cpu_summary():
    model, flags = "?", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    family = "AVX-512" if "avx512f" in flags else "AVX2 + FMA (no AVX-512)" if "avx2" in flags else "no AVX2"
    return f"{model}, {os.cpu_count()} cores, {family}"


def measure(lib_path, seconds):
    lib = ctypes.CDLL(lib_path)
    for setter in ("openblas_set_num_threads", "bli_thread_set_num_threads"):
        if hasattr(lib, setter):
            getattr(lib, setter)(ctypes.c_int(1))
    sgemm = lib.cblas_sgemm
    f, i, p = ctypes.c_float, ctypes.c_int, ctypes.c_void_p
    sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
    rng = np.random.default_rng(0)
    rows = []
    for name, trans_a, m, n, k in SHAPES:
        a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.zeros((m, n), np.float32)
        lda = m if trans_a else k

        def call():
            sgemm(101, 112 if trans_a else 111, 111, m, n, k, 1.0, a.ctypes.data, lda,
                  b.ctypes.data, n, 0.0, c.ctypes.data, n)
        call()
        best, start, count = float("inf"), time.perf_counter(), 0
        while count < 3 or (time.perf_counter() - start < seconds and count < 500):
            t = time.thread_time()
            call()
            best = min(best, time.thread_time() - t)
            count += 1
        ref = (a.T if trans_a else a)[:4].astype(np.float64) @ b.astype(np.float64)
        err = float(np.abs(c[:4] - ref).max() / (np.abs(ref).max() + 1e-30))
        rows.append(dict(name=name, m=m, n=n, k=k, seconds=best, gflops=2 * m * n * k / best / 1e9, rel_err=err))
    return dict(kernels=kernel_name(lib), rows=rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lib", action="append", help="a shared library exporting cblas_sgemm (repeatable)")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for an extra run of the first --lib")
    p.add_argument("--seconds", type=float, default=0.5, help="time per shape (minimum of the calls)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.seconds)))
        return
    libs = a.lib or ["/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]
    runs = [(lib, {}) for lib in libs] + [(libs[0], dict([e.split("=", 1)])) for e in a.env]
    results = []
    for lib, env in runs:
        proc = subprocess.run([sys.executable, __file__, "--child", lib, "--seconds", str(a.seconds)],
                              env=dict(os.environ, OPENBLAS_NUM_THREADS="1", **env), capture_output=True, text=True)
        label = os.path.basename(lib) + "".join(f" {k}={v}" for k, v in env.items())
        if proc.returncode != 0:
            # A kernel for an instruction set this CPU lacks dies of SIGILL (-4): say so, go on.
            print(f"{label}: failed (exit {proc.returncode}){' - illegal instruction' if proc.returncode == -4 else ''}")
            continue
        out = json.loads(proc.stdout)
        print(f"{label}: {out['kernels']}")
        results.append((label, out["rows"]))
    print(f"\n{cpu_summary()}; GFLOP/s, one thread, minimum thread CPU time over repeated calls\n")
    print("| shape (m x n x k) | " + " | ".join(label for label, _ in results) + " |")
    print("|---|" + "---|" * len(results))
    for r, row in enumerate(results[0][1]):
        cells = [f"{res[r]['gflops']:.1f}" for _, res in results]
        print(f"| {row['name']} ({row['m']}x{row['n']}x{row['k']}) | " + " | ".join(cells) + " |")
    for label, res in results:
        # Per 64 images: each shape runs 64 / images times.
        reps = [64 // int(name.split(", ")[1].split()[0]) for name, *_ in GENERATOR_64]
        total = sum(r * 2 * x["m"] * x["n"] * x["k"] for r, x in zip(reps, res))
        t = sum(r * x["seconds"] for r, x in zip(reps, res))
        worst = max(x["rel_err"] for x in res)
        print(f"{label}: generator GEMMs at batch 64 {t * 1e3:.1f} ms per thread ({total / t / 1e9:.1f} GFLOP/s), "
              f"largest relative error {worst:.1e}")


if __name__ == "__main__":
    main()

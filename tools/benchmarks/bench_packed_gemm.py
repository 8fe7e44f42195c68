"""The packed-weights experiment of docs/performance.md: on the GEMM shapes of one portrait
(generator at batch 1), OpenBLAS (which packs the weights on every call) against a 16 x 6
AVX2 kernel reading weights packed once (tools/benchmarks/packed_gemm_probe.c), and the same kernel
reading the weights where they lie. One thread, minimum thread CPU time (with --cold, after evicting the caches), largest
difference from a float64 product.
Builds the probe with cc into build/; needs numpy and a CPU with AVX2 and FMA."""
import argparse, ctypes, os, subprocess, time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# (layer, m = out * taps, n = h * w at batch 1, k = in, lda = the weight's full row)
SHAPES = [("convT 64->1024, 1x1 in", 16384, 1, 64, 16384), ("convT 1024->512, 4x4 in", 8192, 16, 1024, 8192),
          ("convT 512->256, 8x8 in", 4096, 64, 512, 4096), ("convT 256->128, 16x16 in", 2048, 256, 256, 2048),
          ("convT 128->64, 32x32 in", 1024, 1024, 128, 1024), ("edge: odd sizes", 1003, 7, 129, 1030)]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--cold", action="store_true",
                   help="evict the caches before each call (write 128 MiB), as a portrait finds them after the previous layer")
    a = p.parse_args()
    evict = np.zeros(32 << 20, np.float32) if a.cold else None
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    so = os.path.join(ROOT, "build", "packed_gemm_probe.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", so, os.path.join(ROOT, "tools", "benchmarks", "packed_gemm_probe.c")], check=True)
    probe = ctypes.CDLL(so)
    blas = ctypes.CDLL("/usr/lib/x86_64-linux-gnu/libopenblas.so.0")
    blas.openblas_set_num_threads(1)
    f, i, ptr = ctypes.c_float, ctypes.c_int, ctypes.c_void_p
    blas.cblas_sgemm.argtypes = [i, i, i, i, i, i, f, ptr, i, ptr, i, f, ptr, i]
    probe.probe_pack.argtypes = [i, i, ptr, i, ptr]
    probe.probe_gemm_packed.argtypes = [i, i, i, ptr, ptr, i, ptr, i]
    probe.probe_gemm_unpacked.argtypes = [i, i, i, ptr, i, ptr, i, ptr, i]

    def best(fn):
        t_min = float("inf")
        for _ in range(a.repeat):
            if evict is not None:
                np.add(evict, 1, out=evict)
            t = time.thread_time()
            fn()
            t_min = min(t_min, time.thread_time() - t)
        return t_min

    rng = np.random.default_rng(0)
    print("| layer (m x n x k) | OpenBLAS | packed once | unpacked | packed / OpenBLAS | max |difference| |\n|---|---|---|---|---|---|")
    for name, m, n, k, lda in SHAPES:
        w = rng.standard_normal((k, lda), dtype=np.float32) * (2 / k) ** 0.5
        x = rng.standard_normal((k, n), dtype=np.float32)
        packed = np.zeros(((m + 15) // 16) * 16 * k, np.float32)
        probe.probe_pack(m, k, w.ctypes.data, lda, packed.ctypes.data)
        c0, c1, c2 = (np.zeros((m, n), np.float32) for _ in range(3))
        t0 = best(lambda: blas.cblas_sgemm(101, 112, 111, m, n, k, 1.0, w.ctypes.data, lda, x.ctypes.data, n, 0.0, c0.ctypes.data, n))
        t1 = best(lambda: probe.probe_gemm_packed(m, n, k, packed.ctypes.data, x.ctypes.data, n, c1.ctypes.data, n))
        unpacked = m % 16 == 0
        if unpacked:
            t2 = best(lambda: probe.probe_gemm_unpacked(m, n, k, w.ctypes.data, lda, x.ctypes.data, n, c2.ctypes.data, n))
        exact = w[:, :m].T.astype(np.float64) @ x.astype(np.float64)
        diff = max(np.abs(c0 - exact).max(), np.abs(c1 - exact).max())
        print(f"| {name} ({m}x{n}x{k}) | {t0 * 1e3:.2f} ms | {t1 * 1e3:.2f} ms | "
              f"{f'{t2 * 1e3:.2f} ms' if unpacked else '-'} | {t1 / t0:.2f} | {diff:.1e} |")


if __name__ == "__main__":
    main()

"""The generator's load cost and memory with the sub-pixel weights transformed lazily (issue 18,
docs/performance.md "Sub-pixel Winograd"). For each full-width model, in fresh processes, one
computation thread, CPU time of the calling thread (minimum over --repeat calls unless said;
the SHA-256 of the file, on its own thread after a load, is not counted):

- model load: CPU time of the calling thread against reading the file;
- the resident set after one load, and the peak RSS of a process that loads the model once and
  makes 8 s portraits (batch 1) or batch-64 generations, against one that only imports the
  bindings (the file's bytes, read during the load, count in every peak);
- the first batch-1 and batch-64 generation (which transform the layers that take the sub-pixel
  way for the first time) against the later ones.

Run after `make build` (models: tools/benchmarks/bench.py writes random full-width ones into
build/bench; AVPGAN_LIBRARY=path/libavpgan.so measures another build):

    PYTHONPATH=bindings/python python3 tools/benchmarks/bench_generator_footprint.py build/bench/*-full.safetensors
"""
import argparse, json, os, resource, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def resident():
    """This process's resident set now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(mode, path, repeat):
    """One measurement in this (fresh) process; prints a JSON line."""
    import numpy as np
    import avpgan
    from bench_scaling import speech_like
    from timing import min_seconds
    avpgan.set_num_threads(1)
    out = {}
    if mode == "load":
        out["read"] = min_seconds(lambda: open(path, "rb").read(), repeat, time.thread_time)
        out["load"] = min_seconds(lambda: avpgan.Model(path), repeat, time.thread_time)
    elif mode != "import":
        model = avpgan.Model(path)
        out["rss_loaded"] = resident()
        if mode == "portrait":
            pcm = speech_like(8.0)
            t = time.thread_time()
            model.portrait(pcm, sample_rate=16000)
            out["first"] = time.thread_time() - t
            out["later"] = min_seconds(lambda: model.portrait(pcm, sample_rate=16000), repeat, time.thread_time)
        elif mode.startswith("batch"):
            n = int(mode[len("batch"):])
            z = np.random.default_rng(n).standard_normal((n, model.info.embed_dim)).astype(np.float32)
            z /= np.linalg.norm(z, axis=1, keepdims=True)
            t = time.thread_time()
            model.generate_raw(z)
            out["first"] = time.thread_time() - t
            out["later"] = min_seconds(lambda: model.generate_raw(z), repeat, time.thread_time)
    out["rss_end"] = resident()
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out))


def measure(mode, path, repeat):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, "--repeat", str(repeat), path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(a.child, a.models[0], a.repeat)
    mib = lambda b: f"{b / 2**20:.0f} MiB"
    ms = lambda s: f"{s * 1e3:.1f} ms"
    base = measure("import", a.models[0], a.repeat)["peak_rss"]
    print(f"library: {os.environ.get('AVPGAN_LIBRARY', 'build/lib (default)')}; peak RSS of the import alone {mib(base)}\n")
    print("| model | load CPU | reading the file | RSS after load | peak RSS: portraits | after them | batch 64 | after them "
          "| portrait: first / later CPU | batch 64: first / later CPU |\n|---|---|---|---|---|---|---|---|---|---|")
    for path in a.models:
        load, portrait, batch = (measure(m, path, a.repeat) for m in ("load", "portrait", "batch64"))
        print(f"| {os.path.basename(path)} | {ms(load['load'])} | {ms(load['read'])} | {mib(portrait['rss_loaded'])} "
              f"| {mib(portrait['peak_rss'])} | {mib(portrait['rss_end'])} | {mib(batch['peak_rss'])} | {mib(batch['rss_end'])} "
              f"| {ms(portrait['first'])} / {ms(portrait['later'])} | {ms(batch['first'])} / {ms(batch['later'])} |")


if __name__ == "__main__":
    main()

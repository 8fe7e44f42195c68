"""What the benchmark scripts share: timing, and importing the reference's modules from a path."""
import importlib.util
import statistics
import time


def median_seconds(fn, seconds, minimum=5, maximum=2000):
    """Median wall time of `fn()` over repeated calls for about `seconds` (after one warm-up
    call; at least `minimum` and at most `maximum` calls)."""
    fn()
    samples, start = [], time.perf_counter()
    while len(samples) < minimum or (time.perf_counter() - start < seconds and len(samples) < maximum):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def min_seconds(fn, repeat, clock=time.process_time):
    """The least time `clock` (process CPU time by default; `time.thread_time` for this thread
    alone) advances over one of `repeat` calls of `fn()`."""
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def load_module(name, path):
    """The Python file at `path` imported as a module called `name` (the normative reference's
    avpgan_torch.py and voice_frontend.py are read from ../shared/reference, not copied)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

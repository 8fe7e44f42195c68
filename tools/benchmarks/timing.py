"""Timing shared by the benchmark scripts."""
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

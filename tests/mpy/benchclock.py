# The benchmark drivers' clock and allocation counter, the same under MicroPython and CPython
# (bench/nmea_stream.py, bench/gnss_framer_stream.py, tests/mpy/zones_bench.py).
#   ticks() microseconds on a counter; diff(a, b) a - b on it (MicroPython's wraps)
#   mem()   bytes allocated on MicroPython's GC heap (0 on CPython: no such counter)
import gc
import time

try:
    ticks = time.ticks_us  # type: ignore[attr-defined]
    diff = time.ticks_diff  # type: ignore[attr-defined]
except AttributeError:  # CPython

    def ticks():
        return time.perf_counter_ns() // 1000

    def diff(a, b):
        return a - b


def mem():
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0

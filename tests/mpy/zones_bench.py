# Benchmark driver (bench/bench_zones.py runs it under MicroPython and CPython): per-fix cost
# of ZoneMonitor.on_fix against a naive check of every zone, and bytes allocated per fix.
# Usage: zones_bench.py BLOB_FILE FAR_LAT FAR_LON NEAR_LAT NEAR_LON N
# Prints "key value" lines.
import gc
import sys

from benchclock import diff, mem, ticks
from tagcore.fix import Fix
from tagcore.zones.monitor import ZoneMonitor, depth


def naive(zones, lat, lon):
    # Every zone, exactly: project, full signed distance (no bounding boxes, no edge pruning).
    n = 0
    for z in zones:
        z.cap = 1 << 29
        if depth(z, lat, lon) > 0:
            n += 1
    return n


def main():
    a = sys.argv
    with open(a[1], "rb") as f:
        blob = f.read()
    far = (int(a[2]), int(a[3]))
    near = (int(a[4]), int(a[5]))
    n = int(a[6])
    gc.collect()
    m0 = mem()
    m = ZoneMonitor(blob)
    gc.collect()
    print("monitor_bytes", mem() - m0)
    print("zones", len(m.zones), m.error)
    t = 848000000
    for name, (lat, lon) in (("far", far), ("near", near)):
        for _ in range(5):  # settle states (approach warnings, breaches) before measuring
            t += 15
            m.on_fix(t, Fix(t, 0, lat, lon, 0, 100, 0, 50, 100, 8, 1, 3, 0))
        fixes = [
            Fix(t + 15 * (k + 1), 0, lat, lon, 0, 100, 0, 50, 100, 8, 1, 3, 0) for k in range(n)
        ]
        e0 = m.counts.get("exact", 0)
        gc.collect()
        gc.disable()
        b0 = mem()
        # Timed in batches of 10 and the fastest batch kept: the machine is shared, and a
        # batch the scheduler interrupted says nothing about the code.
        best = 1 << 30
        for j in range(0, n, 10):
            t0 = ticks()
            for k in range(j, j + 10):
                m.on_fix(fixes[k].t, fixes[k])
            best = min(best, diff(ticks(), t0))
        b1 = mem()
        gc.enable()
        t = fixes[-1].t
        print(name + "_us", best / 10)
        print(name + "_alloc", (b1 - b0) // n)
        print(name + "_exact", (m.counts.get("exact", 0) - e0) // n)
        print(name + "_state", sum(1 for s in m.zstate if s))
        zs = [z for z in m.zones]
        caps = [z.cap for z in zs]
        best = 1 << 30
        for _ in range(max(3, n // 20)):
            t0 = ticks()
            naive(zs, lat, lon)
            best = min(best, diff(ticks(), t0))
        print(name + "_naive_us", best)
        for i in range(len(zs)):
            zs[i].cap = caps[i]


main()

# Uplink encoder figures inside MicroPython (and CPython, for the same numbers side by side).
# Usage: uplink_bench.py N_FIXES
# Prints: IMPORT_BYTES (heap the uplink package takes when imported, MicroPython only),
# BODY60 (bytes of a 60-fix batch at 1 fix/min), BATCH_US (one full 4 KB batch built, us),
# BATCH_FIXES, BATCH_ALLOC (bytes allocated while building it, MicroPython only),
# JSON_US (the same fixes as OwnTracks-style JSON with the runtime's json, us), JSON_BYTES.
import gc
import json
import sys
import time

gc.collect()
_a = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
from tagcore.uplink.client import UplinkClient  # noqa: E402

gc.collect()
IMPORT_BYTES = (gc.mem_alloc() - _a) if hasattr(gc, "mem_alloc") else -1

from tagcore.compat import UNIX_2000  # noqa: E402
from tagcore.fix import Fix  # noqa: E402
from tagcore.store.log import Store  # noqa: E402
from tagkit.memfs import MemFs  # noqa: E402

KEY = bytes(range(32))
TID = b"TAGBENCH"
T0 = 850000000


class Rng:
    def __init__(self, s):
        self.s = s

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


def track(n):
    """A wearer at 1 fix/min: walking (about 1.3 m/s) with turns, GNSS noise on every field."""
    r = Rng(11)
    lat = 51500000
    lon = -120000
    course = 9000
    out = []
    for k in range(n):
        course = (course + r.next(3001) - 1500) % 36000
        step = 700 + r.next(200)  # microdegrees of latitude per minute: about 80-100 m
        # integer cos/sin approximations are enough for a track: quarter-turn tables
        q = course // 9000
        f = course % 9000
        a = step * (9000 - f) // 9000
        b = step * f // 9000
        dlat, dlon = ((a, b), (-b, a), (-a, -b), (b, -a))[q]
        lat += dlat
        lon += dlon * 16 // 10  # a degree of longitude is shorter at 51 N
        out.append(
            Fix(
                T0 + 60 * k,
                r.next(1000),
                lat,
                lon,
                300 + r.next(60),
                120 + r.next(60),
                course,
                40 + r.next(60),
                80 + r.next(120),
                6 + r.next(7),
                1,
                3,
                2,
            )
        )
    return out


def batch_of(fixes, max_bytes):
    st = Store(MemFs(), T0, max_segments=10000)  # the store's RAM filesystem (tagkit.memfs)
    for f in fixes:
        st.append_fix(f.t, f)
    c = UplinkClient(st, TID, KEY, max_bytes=max_bytes)
    return st, c


def owntracks(f):
    return {
        "_type": "location",
        "tid": "OT",
        "tst": f.t + UNIX_2000,
        "lat": f.lat / 1e6,
        "lon": f.lon / 1e6,
        "alt": f.alt_dm // 10,
        "vel": f.speed_cms * 36 // 1000,
        "cog": f.course_cd // 100,
        "acc": f.acc_dm // 10,
        "batt": 80,
        "conn": "m",
    }


def main():
    n = int(sys.argv[1])
    fixes = track(n)
    c = batch_of(fixes[:60], 4096)[1]
    body60 = c.request(fixes[59].t + 1)
    print("IMPORT_BYTES", IMPORT_BYTES)
    print("BODY60", len(body60), c.last_fixes)
    _st, c = batch_of(fixes, 4096)
    now = fixes[-1].t + 1
    best = 1 << 60
    for _ in range(5):
        t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
        body = c.request(now)
        t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
        best = min(best, t1 - t0)
        c.on_failure(now)
    print("BATCH_US", best)
    print("BATCH_FIXES", c.last_fixes, len(body))
    if hasattr(gc, "mem_alloc"):
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        c.request(now)
        print("BATCH_ALLOC", gc.mem_alloc() - a)
        gc.enable()
        c.on_failure(now)
    k = c.last_fixes
    best = 1 << 60
    for _ in range(5):
        t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
        total = 0
        for f in fixes[:k]:
            total += len(json.dumps(owntracks(f)))
        t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
        best = min(best, t1 - t0)
    print("JSON_US", best)
    print("JSON_BYTES", total, k)


if __name__ == "__main__":
    main()

# Identifier table cost inside MicroPython (or CPython): heap for a 48 h table, lookups per
# second for the hashed index, a dict keyed by identifier bytes and a linear search (the naive
# reference), and scan results per second through Proximity.on_scan.
# Usage: beacon_bench.py N_IDS
import gc
import sys
import time

from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import HEADER, IdTable
from tagcore.proximity.monitor import Proximity
from tagkit.beaconwindow import window_blob

IS_MPY = sys.implementation.name == "micropython"


def ms():
    return time.ticks_ms() if IS_MPY else int(time.perf_counter() * 1000)


def alloc():
    gc.collect()
    return gc.mem_alloc() if IS_MPY else 0


N = int(sys.argv[1])
SECRET = b"bench-secret-0123"
K0 = 922222
blob = window_blob(SECRET, 0, K0, N)
probes = [beaconid.rolling_id(SECRET, K0 + (j * 7) % N) for j in range(64)]
probes += [beaconid.rolling_id(SECRET, K0 + N + j) for j in range(64)]  # misses

a0 = alloc()
tab = IdTable()
tab.load(blob)
a1 = alloc()
d = {}
for j in range(N):
    d[bytes(blob[HEADER + 8 * j : HEADER + 8 * j + 8])] = K0 + j
a2 = alloc()
lst = list(d)
a3 = alloc()
print("heap_index", a1 - a0)
print("heap_dict", a2 - a1)
print("heap_list", a3 - a2)


def rate(fn):
    # Calls per second, timed over at least 300 ms.
    n = 0
    t = ms()
    while True:
        for p in probes:
            fn(p)
        n += len(probes)
        dt = ms() - t
        if dt >= 300:
            return n * 1000 // dt


def linear(p):
    for j in range(len(lst)):
        if lst[j] == p:
            return j
    return -1


print("lookups_index", rate(tab.lookup))
print("lookups_dict", rate(d.get))
print("lookups_linear", rate(linear))
prox = Proximity(tab)
advs = {p: build_adv(p) for p in probes}
addr = b"\x00" * 6
now = [K0 * 900]


def scan(p):
    now[0] += 1
    prox.on_scan(now[0] // 100, addr, -70, advs[p])


print("on_scan_per_s", rate(scan))

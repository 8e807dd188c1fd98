# Replays a scan stream through tagcore.proximity.monitor and prints every decision, so that CPython
# and MicroPython can be held to the same output byte for byte.
# Usage: proximity_replay.py STREAM TABLE
# Stream lines:  S t rssi advhex | E t | N t | V t lat lon acc | F t lat lon acc [speed_cms]
#                | L t lost (the scanner's ring lost that many beacon frames)
import sys
from binascii import unhexlify

from tagcore.fix import Fix
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import Proximity, encode_event

with open(sys.argv[2], "rb") as f:
    tab = IdTable()
    tab.load(f.read())
prox = Proximity(tab)
with open(sys.argv[1]) as f:
    for line in f:
        w = line.split()
        t = int(w[1])
        op = w[0]
        if op == "S":
            r = prox.on_scan(t, b"\x00" * 6, int(w[2]), unhexlify(w[3]) if len(w) > 3 else b"")
            print("S", t, r)
        elif op == "E":
            prox.on_scan_end(t)
        elif op == "N":
            print("N", t, prox.next_scan(t), prox.urgent())
        elif op == "L":
            prox.on_lost(t, int(w[2]))
        elif op == "V":
            prox.on_victim_position(t, int(w[2]), int(w[3]), int(w[4]))
        elif op == "F":
            sp = int(w[5]) if len(w) > 5 else None
            fix = Fix(t, 0, int(w[2]), int(w[3]), None, sp, None, int(w[4]), 100, 7, 1, 3, 0)
            prox.on_fix(t, fix)
        while True:
            e = prox.pop_event()
            if e is None:
                break
            print("ev", e.t, e.kind, e.beacon, e.flags, e.rssi, e.dist_dm, encode_event(e).hex())
print("counts", sorted(prox.counts.items()))
print("skew", [(b, prox.tracks[b].skew, prox.tracks[b].state) for b in sorted(prox.tracks)])

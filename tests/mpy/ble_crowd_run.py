# The tag's scanner in a crowd, in MicroPython: per second, RATE foreign advertisements and the
# beacon's two, in random order, handed to the IRQ handler as the stack does (a memoryview into
# one buffer, scribbled once the handler returns), the ring drained once a second. The handler
# runs with the heap locked: any allocation in it fails and is counted. A third run floods the
# ring with frames of the beacon's format (other beacons, or a jammer) to show the loss is told
# to the core. Prints: crowd RATE kept SENT dropped foreign lost alloc_fail
import sys

import micropython
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagdevice.blescan import BleScanner

SECRET = bytes(range(16))
FOREIGN = (
    bytes.fromhex("0201061aff4c000215") + bytes(21),  # an iBeacon
    bytes.fromhex("02011a0aff4c0010050118000000"),  # a phone's Apple manufacturer data
    bytes.fromhex("03039ffe1716") + bytes(10),  # service data, 0xFE9F
    bytes.fromhex("020106") + bytes.fromhex("0cffffff02") + bytes(8),  # 0xFFFF, format 2
    bytes.fromhex("1eff0600010920") + bytes(24),  # Microsoft swift pair
)
_seed = [7]


def rand(n):
    _seed[0] = (_seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return (_seed[0] >> 8) % n


class Ble:
    def irq(self, h):
        pass


class Prox:
    def __init__(self):
        self.beacon = 0
        self.lost = 0

    def on_scan(self, now, addr, rssi, adv):
        if bytes(adv) == OURS:
            self.beacon += 1

    def on_lost(self, now, n):
        self.lost += n

    def on_scan_end(self, now):
        pass


OURS = build_adv(beaconid.rolling_id(SECRET, 922222))
buf = bytearray(40)
mv = memoryview(buf)
addr = memoryview(bytearray(6))


def run(rate, ours_rate, seconds):
    sc = BleScanner(Ble())
    prox = Prox()
    sent = 0
    fail = 0
    for s in range(seconds):
        n = rate + 2 + ours_rate
        beacon_at = (rand(n), rand(n))
        for j in range(n):
            if j in beacon_at:
                p = OURS
                sent += 1
            elif j >= rate + 2 - (beacon_at[0] == beacon_at[1]):
                p = build_adv(bytes(rand(256) for _ in range(8)))  # someone else's beacon
            else:
                p = FOREIGN[rand(len(FOREIGN))]
            m = len(p)
            buf[:m] = p
            data = (1, addr, 3, -60 - rand(30), mv[:m])
            micropython.heap_lock()
            try:
                sc.irq(5, data)
            except MemoryError:
                fail += 1
            micropython.heap_unlock()
            for i in range(m):
                buf[i] = 0xA5  # the stack reuses its buffer
        sc.drain(prox, s)
    print("crowd", rate, ours_rate, prox.beacon, sent, sc.dropped, sc.foreign, prox.lost, fail)


run(int(sys.argv[1]), 0, 10)
run(int(sys.argv[2]), 0, 10)
run(50, 40, 10)

# A beacon and a tag on one simulated air (tests/mpy/fake_bluetooth): the beacon app advertises
# with a drifting clock, the tag's BleScanner copies scan results out of the IRQ and the core
# decides. Runs unchanged in MicroPython and CPython; prints every decision.
# Usage: ble_pair_run.py FAKE_DIR [accept_mac]
import gc
import sys
from binascii import hexlify

sys.path.insert(0, sys.argv[1])
import bluetooth  # the fake, found through the path above

bluetooth.ACCEPT_MAC = len(sys.argv) > 2 and sys.argv[2] == "1"

from beacon.app import Beacon  # noqa: E402
from tagcore.proximity.idtable import IdTable  # noqa: E402
from tagcore.proximity.monitor import Proximity  # noqa: E402
from tagdevice.blescan import BleScanner  # noqa: E402
from tagkit.beaconwindow import window_blob  # noqa: E402

SECRET = b"victim-beacon-secret-0123456789a"
T0 = 830000000
IVS = 900

ble_b = bluetooth.BLE()
ble_b.active(True)
ble_t = bluetooth.BLE()
ble_t.active(True)
phone = bluetooth.BLE()
phone.active(True)
phone.config(addr_mode=3)
phone.gap_advertise(100000, b"\x02\x01\x1a\x0a\xff\x4c\x00\x10\x05\x01\x18\x00\x00\x00")
phone.rssi = -45

# A handler that keeps the memoryviews instead of copying them sees the stack's buffer reused.
kept = []
ble_n = bluetooth.BLE()
ble_n.active(True)
ble_n.irq(lambda ev, data: kept.append(data[4]) if ev == 5 else None)
ble_n.gap_scan(2000, 30000, 30000)
bluetooth.air_run(0, 2000)
print("naive", len(kept) > 0 and all(bytes(m) == b"\xa5" * len(m) for m in kept))
bluetooth.AIR.remove(ble_n)
kept = ble_n = None
gc.collect()

tab = IdTable()
tab.load(window_blob(SECRET, 0, T0 // IVS - 8, 48 * 4 + 16))
prox = Proximity(tab)
scanner = BleScanner(ble_t)
beacon = None


def beacon_clock(t):
    return t + 300 + (t - T0) // 50  # 5 min ahead, gaining 2 %


def rssi_of(tx, rx):
    return tx.rssi


# 0-20 min: only the phone; 20-40 min: the beacon close; 40-55 min: weak (far, in range);
# then gone for 30 min; then close again 10 min.
plan = ((1200, None), (2400, -58), (3300, -96), (5100, None), (5700, -60), (6600, None))
scan_until = -1
next_start, dur = prox.next_scan(T0)
t = T0
for end, rssi in plan:
    while t < T0 + end:
        if rssi is None:
            if beacon is not None:
                ble_b.gap_advertise(None)
                beacon.k = -1  # switched off: rotates again when back
        else:
            if beacon is None:
                beacon = Beacon(ble_b, SECRET, IVS, 500)
            beacon.update(beacon_clock(t))
            ble_b.rssi = rssi
        if t >= next_start and scan_until < t:
            scanner.start(dur)
            scan_until = t + dur // 1000
        bluetooth.air_run((t - T0) * 1000, (t - T0 + 1) * 1000, rssi_of)
        t += 1
        scanner.drain(prox, t)
        if scan_until < t:
            next_start, dur = prox.next_scan(t)
        while True:
            e = prox.pop_event()
            if e is None:
                break
            print("event", e[0] - T0, e[1], e[2], e[3], e[4], len(e[7]))
print("counts", sorted(prox.counts.items()))
print("scanner", scanner.dropped, scanner.too_long, scanner.foreign)
print("skew", prox.tracks[0].skew)
print("tx_ok", beacon.tx_ok, "mac_settable", beacon.mac_settable)
for addr, payload, conn, iv in ble_b.history:
    print("adv", hexlify(addr).decode(), hexlify(payload).decode(), conn, iv)

"""The beacon app and the tag's Bluetooth scanner, in MicroPython, on a simulated air whose
`bluetooth` stand-in hands scan results over as the real IRQ does (memoryviews into a buffer
reused after the handler returns). Beacon and tag must agree, and both runtimes must decide
the same."""

from __future__ import annotations

import ast
from functools import cache

from micropython_runner import MPY_TESTS, run_cpython, run_micropython
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.monitor import K_GONE, K_NEAR, K_NEAR_EXIT, K_NEARBY

FAKE = MPY_TESTS / "fake_bluetooth"
DRIVER = MPY_TESTS / "ble_pair_run.py"
SECRET = b"victim-beacon-secret-0123456789a"


@cache
def on_micropython(accept_mac: bool) -> str:
    # Two boards (beacon and tag) and a phone share this one heap; each has its own on the air.
    return run_micropython(
        script=DRIVER, args=(str(FAKE), "1" if accept_mac else "0"), heap=80 * 1024
    )


def lines(out: str, tag: str) -> list[list[str]]:
    return [ln.split()[1:] for ln in out.splitlines() if ln.startswith(tag + " ")]


def test_the_fake_stack_reuses_its_buffer_like_the_real_one() -> None:
    # A handler that keeps the memoryviews sees garbage: the scanner under test must copy.
    assert lines(on_micropython(False), "naive") == [["True"]]


def test_tag_sees_the_beacon_through_the_irq_and_decides() -> None:
    out = on_micropython(False)
    kinds = [int(e[1]) for e in lines(out, "event")]
    assert kinds == [K_NEARBY, K_NEAR, K_NEAR_EXIT, K_GONE] * 2
    counts = dict(ast.literal_eval(out.split("counts ", 1)[1].split("\n")[0]))
    assert counts["sightings"] > 1000
    assert set(counts) == {"sightings"}  # nothing garbled by the IRQ hand-over
    ((dropped, too_long, foreign),) = lines(out, "scanner")
    assert dropped == too_long == "0" and int(foreign) > 1000  # the phone, left in the IRQ
    # The beacon's clock ran 5 min ahead and gained 2 %: every report was accepted (no
    # outside_window above); over these 2 h the skew moves at most one interval (it learns no
    # faster than a clock can drift, 6 % a day, so a replay cannot drag it).
    assert int(lines(out, "skew")[0][0]) in (0, 1)


def test_beacon_advertises_rolling_identifiers_non_connectable_with_rotating_addresses() -> None:
    out = on_micropython(False)
    advs = lines(out, "adv")
    assert len(advs) >= 5
    k_of = {}
    base = 830000000 // 900
    for k in range(base - 4, base + 12):
        k_of[build_adv(beaconid.rolling_id(SECRET, k)).hex()] = k
    ks = []
    for addr, payload, connectable, interval in advs:
        assert len(bytes.fromhex(payload)) <= 31
        assert connectable == "False" and interval == "500000"
        assert int(addr[:2], 16) >> 6 == 0  # non-resolvable private address
        ks.append(k_of[payload])  # every payload is the identifier of some interval
    assert ks == sorted(ks) and len(set(ks)) == len(ks)
    assert len({a[0] for a in advs}) == len(advs)  # a new address with every identifier
    # The stock stack refuses a chosen address and TX power: the app falls back and says so.
    assert lines(out, "tx_ok") == [["False", "mac_settable", "False"]]


def test_where_the_stack_takes_an_address_it_is_the_derived_one() -> None:
    out = on_micropython(True)
    base = 830000000 // 900
    derived = {}
    for k in range(base - 4, base + 12):
        ident, addr = beaconid.id_and_addr(SECRET, k)
        derived[build_adv(ident).hex()] = addr.hex()
    for addr, payload, *_ in lines(out, "adv"):
        assert derived[payload] == addr


def test_both_runtimes_decide_the_same() -> None:
    cp = run_cpython(script=DRIVER, args=(str(FAKE), "0"))
    assert cp == on_micropython(False)


RING_CHECK = """
from tagdevice.blescan import BleScanner, SLOTS

class Ble:
    def irq(self, h):
        pass

def frame(k):  # the beacon's frame, its last byte numbering the report
    return memoryview(bytes((2, 1, 4, 12, 255, 255, 255, 1, 0, 0, 0, 0, 0, 0, 0, k & 255)))

class Prox:  # checks order as results come: nothing kept, the heap is ESP32-sized
    def __init__(self):
        self.k = 0
        self.ok = True
    def on_scan(self, now, addr, rssi, adv):
        k = self.k
        self.ok = self.ok and rssi == -(k % 100) and adv[15] == k & 255
        self.k = k + 1
    def on_lost(self, now, n):
        pass
    def on_scan_end(self, now):
        pass

sc = BleScanner(Ble())
p = Prox()
k = 0
small = True
for rnd in range(3000):  # many times round the ring: the indices must stay small
    for j in range(rnd % (SLOTS + 1)):
        sc.irq(5, (0, memoryview(bytes(6)), 0, -(k % 100), frame(k)))
        k += 1
    sc.drain(p, rnd)
    small = small and sc.w < 2 * SLOTS and sc.r == sc.w
ok = p.ok and p.k == k and small
p = Prox()
for i in range(SLOTS + 3):  # a full ring drops the newest and keeps the rest in order
    sc.irq(5, (0, memoryview(bytes(6)), 0, -i, frame(i)))
sc.drain(p, 0)
print("RING", ok, k, sc.dropped, p.ok and p.k == SLOTS)
"""


def test_scan_ring_wraps_without_growing_and_drops_when_full() -> None:
    out = run_micropython(code=RING_CHECK, path=(FAKE,))
    _, ok, fed, dropped, order = out.split()
    assert ok == "True" and int(fed) > 20_000 and dropped == "3" and order == "True"

# Shared by the beacon tests on both runtimes: a beacon secret, its table and advertisements.
import gc

from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import IdTable
from tagkit.beaconwindow import window_blob

SECRET = b"\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10"
T0 = 830000000  # 2026-04-20T00:53:20Z in seconds since 2000-01-01
IVS = 900


def unhex(s):
    return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))


def table_for(t, hours=48, margin=8, secret=SECRET, beacon=0):
    k0 = t // IVS
    tab = IdTable()
    n = tab.load(window_blob(secret, beacon, k0 - margin, hours * 3600 // IVS + 2 * margin))
    assert n == hours * 4 + 2 * margin
    gc.collect()  # the blob's garbage, before the test allocates on a 64 KB heap
    return tab


def adv_at(t, secret=SECRET):
    return build_adv(beaconid.rolling_id(secret, t // IVS))


def scanned(prox, t0, seconds, rssi_at):
    # The tag scans as next_scan says, hearing every advertisement (one each 500 ms) while
    # rssi_at(s) (s: seconds from t0) is not None. Returns the seconds spent scanning.
    t = t0
    busy = 0
    while t < t0 + seconds:
        start, dur = prox.next_scan(t)
        for j in range(dur // 500):
            s = start + j // 2
            r = rssi_at(s - t0)
            if r is not None:
                prox.on_scan(s, b"", r, adv_at(s))
        busy += dur
        t = start + dur // 1000
        prox.on_scan_end(t)
    return busy / 1000

# A week without coverage, then the whole backlog sent: the store on real files (OsFs), the
# uplink client and a server double in one ESP32-sized heap (both runtimes).
# Usage: uplink_backlog.py DIR DAYS
# Prints FIXES, RECORDS, BATCHES, MAX_BODY, MISSING, DUPLICATES, ACKED, SEGMENTS_LEFT.
import gc
import sys

from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs
from tagcore.uplink.client import ACKED, UplinkClient
from uplinkserver import ServerDouble

KEY = bytes(range(32))
TID = b"TAGWEEK1"
T0 = 850000000


def main():
    root = sys.argv[1]
    days = int(sys.argv[2])
    st = Store(OsFs(root), T0)
    # At boot, as on the device: buffers are allocated while the heap is whole.
    c = UplinkClient(st, TID, KEY)
    srv = ServerDouble(KEY, TID, keep=False, max_seq=days * 1500)
    written = bytearray(days * 1500 // 8 + 64)  # one bit per seq handed out
    written[st.boot_seq >> 3] |= 1 << (st.boot_seq & 7)
    t = T0
    lat = 51500000
    lon = -120000
    n = 0
    for k in range(days * 1440):
        lat += 300 + (k * 37) % 200 - 100
        lon += 200 - (k * 53) % 400
        f = Fix(t, 0, lat, lon, 300 + k % 11, 120 + k % 40, (k * 7) % 36000, 50, 90, 9, 1, 3, 2)
        seq = st.append_fix(t, f)[0]
        written[seq >> 3] |= 1 << (seq & 7)
        n += 1
        if k % 360 == 359:
            seq = st.append_event(R.EV_STATUS, t, b"\x55\x10")[0]
            written[seq >> 3] |= 1 << (seq & 7)
        t += 60
    top = st.next_seq - 1
    batches = 0
    max_body = 0
    while True:
        gc.collect()
        body = c.request(t)
        if body is None:
            break
        max_body = max(max_body, len(body))
        reply = srv.handle(body, t)
        body = None
        if c.on_reply(t, reply) != ACKED:
            print("FAIL refused", c.counts)
            return
        batches += 1
        t += 5
    missing = 0
    for s in range(1, top + 1):
        if written[s >> 3] & (1 << (s & 7)) and not srv._seen(s):
            missing += 1
    print("FIXES", n)
    print("RECORDS", srv.inserted)
    print("BATCHES", batches)
    print("MAX_BODY", max_body)
    print("MISSING", missing)
    print("DUPLICATES", srv.duplicates)
    print("ACKED", srv.acked(), top)
    print("SEGMENTS_LEFT", len(st.segs))


main()

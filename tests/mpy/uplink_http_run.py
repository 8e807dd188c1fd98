# The tag's side over real sockets: the store on files, the uplink client and the HTTP
# transport (tagdevice.uplink_http) against a server on loopback, until nothing is due.
# Usage: uplink_http_run.py PORT DIR HOURS TIMEOUT_S [HOST CA_DER_FILE]  (the last two: TLS,
# verifying the server's certificate against that CA)
# Gives up after FAILS_IN_A_ROW failed exchanges in a row (a server that never answers).
# Prints RECORDS (handed out), EXCHANGES, one line per exchange (code status verdict), the
# client's and the link's counters, ACKED and TOP, SEGMENTS_LEFT.
import gc
import sys

from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs
from tagcore.uplink.client import UplinkClient
from tagdevice.uplink_http import NAMES, Link, upload

KEY = bytes(range(32))
TID = b"TAGHTTP1"
T0 = 850000000
FAILS_IN_A_ROW = 20


def main():
    port = int(sys.argv[1])
    root = sys.argv[2]
    hours = int(sys.argv[3])
    timeout_s = float(sys.argv[4])
    st = Store(OsFs(root), T0)
    # Allocated at boot, while the heap is whole.
    c = UplinkClient(st, TID, KEY)
    if len(sys.argv) > 6:
        with open(sys.argv[6], "rb") as f:
            ca = f.read()
        link = Link(sys.argv[5], port, timeout_s=timeout_s, use_tls=True, cadata=ca)
    else:
        link = Link("127.0.0.1", port, timeout_s=timeout_s)
    t = T0
    lat = 51500000
    lon = -120000
    n = 1  # the boot record
    for k in range(hours * 60):
        lat += 300 + (k * 37) % 200 - 100
        lon += 200 - (k * 53) % 400
        f = Fix(t, 0, lat, lon, 300 + k % 11, 120 + k % 40, (k * 7) % 36000, 50, 90, 9, 1, 3, 2)
        st.append_fix(t, f)
        n += 1
        if k % 360 == 359:
            st.append_event(R.EV_STATUS, t, b"\x55\x10")
            n += 1
        t += 60
    seq = st.append_event(R.EV_TAMPER, t, b"\x01")[0]  # an alert, behind the whole backlog
    n += 1
    c.alert(seq)
    print("RECORDS", n)
    ex = 0
    fails = 0
    for _ in range(600):
        gc.collect()
        r = upload(c, link, t)
        if r is None:
            if c.due():  # the heap was short (counted nomem): try again
                t += 5
                continue
            break
        ex += 1
        print("X", NAMES[r[0]], r[1], r[2])
        t += 5
        fails = 0 if r[2] == "acked" else fails + 1
        if fails >= FAILS_IN_A_ROW:  # a server that never answers: give up, keep everything
            break
    print("EXCHANGES", ex)
    for k in sorted(c.counts):
        print("CLIENT", k, c.counts[k])
    for k in sorted(link.counts):
        print("LINK", k, link.counts[k])
    print("ACKED", c.acked, st.next_seq - 1)
    print("SEGMENTS_LEFT", len(st.segs))


main()

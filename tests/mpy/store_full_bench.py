# Benchmark driver (bench/bench_store.py runs it inside MicroPython): a partition full of
# segments that each hold an alert, on littlefs over a RAM block device of 4 KB blocks.
# 1 fix/min, a status event every 30 min, an alert every ALERT_MIN minutes: every segment
# (about 4 h of fixes) holds one, so none can be given up whole. Runs until an alert is refused
# or DAYS have passed. With COMPACT 0 compaction is switched off (the store as it was).
# Usage: micropython store_full_bench.py PARTITION_BYTES ALERT_MIN DAYS COMPACT
# Prints "key value" lines.
import sys

import vfs
from store_bench import BS, CountingBdev, walk
from tagcore.store import full
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs


def main():
    part = int(sys.argv[1])
    alert_min = int(sys.argv[2])
    days = int(sys.argv[3])
    if sys.argv[4] == "0":
        full.compact = lambda st, k: False
    dev = CountingBdev(part // BS)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), "/f")
    st = Store(OsFs("/f"), 0, max_segments=100000)  # no budget: the partition is the limit
    t = 0
    k = 0
    full_at = None
    alerts = 0
    status = 0
    refused = 0
    while t < days * 86400:
        t += 60
        k += 1
        st.append_fix(t, walk(k, t))
        if k % 30 == 0:
            status += 1
            st.append_event(R.EV_STATUS, t, b"status ok")
        if k % alert_min == 0:
            d = st.append_event(R.EV_TAMPER, t, b"\x01")[1]
            if not d:
                refused += 1
                break
            alerts += 1
        if full_at is None and (st.counts.get("compacted") or st.counts.get("nospace")):
            full_at = t
    st.flush()
    c = st.counts
    print("days_to_full", (full_at or t) / 86400)
    print("days_stored", t / 86400)
    print("alert_refused", refused)
    print("alerts", alerts)
    print("fixes", k)
    print("status", status)
    print("compactions", c.get("compacted", 0))
    print("dropped", c.get("dropped", 0))
    print("segments", len(st.segs))
    # what the partition holds at the end
    kept = {}
    nxt = 0
    while True:
        recs = st.read(nxt, 64)[0]
        if not recs:
            break
        for r in recs:
            kept[r[1]] = kept.get(r[1], 0) + 1
        nxt = recs[-1][0] + 1
    print("kept_fixes", kept.get(R.KIND_FIXES, 0))
    print("kept_status", kept.get(R.EV_STATUS, 0))
    print("kept_alerts", kept.get(R.EV_TAMPER, 0))
    vfs.umount("/f")


main()

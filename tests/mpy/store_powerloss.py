# Power-loss driver: the store on real littlefs (vfs.VfsLfs2) over a RAM block device that
# stops at its Nth program/erase. For each crash point N in [FIRST, LAST) the workload runs from a
# freshly formatted device until power is cut at op N, then the image is remounted, recovered and
# checked. With THIN=1 the log has a small segment budget and nothing is acknowledged, so the
# store thins (merge to a temporary file, rename, remove) on littlefs while power is cut.
# Usage: micropython store_powerloss.py FIRST LAST STEP PARTIAL(0|1) [THIN(0|1)]
# Prints "OPS n" (ops a full run takes), "CHECKED k" and "FAIL ..." lines.
import sys

import vfs
from cutdev import BS, Cut, RamBdev
from cutdev import umount as _umount
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs

NBLK = 160
PHASES = 16


MNT = "/pl"
THIN = len(sys.argv) > 5 and sys.argv[5] == "1"
# FULL: a 16 KB partition that fills up (a budget larger than the partition, no acks, events
# with 120 B of data): the store gives up segments without an alert and then its reserve, and
# never raises anything but the power cut
FULL = len(sys.argv) > 6 and sys.argv[6] != "0"
# FULL 2: an alert every third event (small), so that every segment holds one and the store
# makes room by compacting alert segments (intent, temporary file, rename, remove) instead
ALERTS = FULL and sys.argv[6] == "2"
if FULL:
    NBLK = 32


def mount(dev):
    vfs.mount(vfs.VfsLfs2(dev), MNT)
    if FULL:
        st = Store(OsFs(MNT), 0, max_segments=100, seg_bytes=1024, max_fixes=8, reserve=1024)
    elif THIN:
        st = Store(OsFs(MNT), 0, max_segments=4, seg_bytes=512, max_fixes=8, max_age=120)
    else:
        st = Store(OsFs(MNT), 0, max_segments=40, seg_bytes=1024, max_fixes=8, max_age=120)
    OPEN.append(st)
    return st


OPEN = []  # the store whose file may be open on the mounted filesystem


def umount():
    _umount(OPEN, MNT)


def mkfix(k, t):
    return Fix(
        t,
        (k * 37) % 1000,
        51500000 + k * 13,
        -120000 + k * 7,
        300 + k % 5,
        k % 400,
        (k * 91) % 36000,
        40 + k % 9,
        90 + k % 30,
        4 + k % 9,
        1,
        3,
        k % 3,
    )


def workload(dev, model):
    # model: issued {seq: record}, durable [seqs promised], acked; updated as the run goes.
    st = mount(dev)
    model["reboots"] = 0
    durable = model["durable"]
    pend = []
    t = 1000
    k = 0
    for phase in range(PHASES):
        rate = 1 if phase % 2 == 0 else 60
        for i in range(20):
            t += rate
            k += 1
            f = mkfix(k, t)
            model["inflight"] = (st.next_seq, f)  # may reach flash even if the cut beats the return
            seq, d = st.append_fix(t, f)
            if seq == 0:  # full: not stored, no seq handed out
                continue
            model["issued"][seq] = f
            pend.append(seq)
            if d:
                durable.extend(pend)  # this and the fixes buffered before it
                pend = []
            if i % 7 == 3 or (FULL and i % 2):
                data = bytes((k & 255, phase)) + (bytes(118) if FULL else b"")
                kind = R.EV_ZONE + (k % 7)
                if FULL:  # mostly events that may be given up, an alert now and then
                    kind = R.EV_TAMPER if k % 10 == 0 else R.EV_STATUS
                if ALERTS:
                    kind = R.EV_TAMPER if k % 3 == 0 else R.EV_STATUS
                    if kind == R.EV_TAMPER:
                        data = data[:2]
                model["inflight"] = (st.next_seq, (t, data))
                seq, d = st.append_event(kind, t, data)
                if seq == 0:  # full: not stored, no seq handed out
                    continue
                model["issued"][seq] = (t, data)
                model["kinds"][seq] = kind
                pend.append(seq)
                if d:
                    durable.extend(pend)
                pend = []
            if i == 12 and not THIN and not FULL:
                ack = st.durable_seq() - 5
                if ack > 0:
                    # acknowledged once ack() is called: a cut inside it may leave its removes
                    # done (a littlefs remove can take more than one program)
                    model["acked"] = ack
                    st.ack(ack)
        # a reset without warning: RAM lost, recover from flash
        model["thinned"] = model.get("thinned", 0) + st.thinned
        model["dropcount"] = model.get("dropcount", 0) + st.counts.get("dropped", 0)
        model["compacted"] = model.get("compacted", 0) + st.counts.get("compacted", 0)
        model["counts"] = st.counts
        dev = reset(dev)
        pend = []  # buffered fixes never promised durable: lost with the RAM
        st = mount(dev)
        model["reboots"] += 1
    reset(dev)
    return dev


def reset(dev):
    dev.alive = False
    umount()
    nd = RamBdev(dev.data, dev.cut_at, dev.partial)
    nd.ops = dev.ops
    return nd


def check(data, model, partial):
    dev = RamBdev(data, None, partial)
    st = mount(dev)
    recs = st.read(0, 100000)[0]
    issued = model["issued"]
    durable = model["durable"]
    prev = 0
    err = None
    got = set()
    for seq, kind, val in recs:
        if seq <= prev:
            err = "order " + str(seq) + " after " + str(prev)
            break
        prev = seq
        got.add(seq)
        if kind == R.EV_BOOT:
            continue
        if kind == R.EV_THINNED:
            d = val[1]
            n = R.get_varint(d, 0, len(d))[0]
            model["claimed"] = model.get("claimed", 0) + n
            continue
        if kind == R.EV_DROPPED:
            d = val[1]
            n, i = R.get_varint(d, 0, len(d))
            for _ in range(3):
                c, i = R.get_varint(d, i, len(d))
            model["dropped"] = model.get("dropped", 0) + n + c
            continue
        want = issued.get(seq)
        # the in-flight record may land above the guess: an EV_THINNED logged first takes it
        if want is None and model["inflight"] and model["inflight"][0] <= seq:
            want = model["inflight"][1]
        if want is None:
            err = "unknown seq " + str(seq)
            break
        if want != val:
            err = "content seq " + str(seq)
            break
    missing = 0
    if err is None:
        first_fix = min([r[0] for r in recs if r[1] == R.KIND_FIXES] or [0])
        for s in durable:
            if s > model["acked"] and s not in got:
                # only a fix may go, and only by thinning, which keeps the first of each batch
                if THIN and len(issued[s]) != 2 and 0 < first_fix < s:
                    missing += 1
                    continue
                # a full partition gives up whole segments without an alert (EV_DROPPED)
                if FULL and not R.kept_kind(model["kinds"].get(s, R.KIND_FIXES)):
                    missing += 1
                    continue
                err = "lost durable seq " + str(s)
                break
    if err is None and FULL and model.get("claimed", 0) + model.get("dropped", 0) < missing:
        err = "unaccounted: " + str(missing) + " missing"
    if err is None and not FULL and model.get("claimed", 0) > missing:
        err = "EV_THINNED claims " + str(model["claimed"]) + " > missing " + str(missing)
    # every durable fix that went is accounted for, whenever the power went (recovery logs the
    # EV_THINNED a cut kept the store from logging)
    if err is None and THIN and model.get("claimed", 0) != missing:
        err = "EV_THINNED claims " + str(model.get("claimed", 0)) + " != missing " + str(missing)
    if err is None:
        seq = st.boot_seq
        top = max(max(issued) if issued else 0, model["inflight"][0] if model["inflight"] else 0)
        if seq and seq <= top:  # 0: a full partition took no boot record, so no seq either
            err = "seq reused " + str(seq)
    dev.alive = False
    umount()
    return err


def fresh():
    data = bytearray(b"\xff" * (BS * NBLK))
    vfs.VfsLfs2.mkfs(RamBdev(data, None, 0))
    return data


def main():
    first, last, step, partial = (int(a) for a in sys.argv[1:5])
    base = fresh()
    model = {"issued": {}, "durable": [], "acked": 0, "inflight": None, "kinds": {}}
    # Two disk images reused for every crash point: allocating 80 KB afresh each time fails on a
    # fragmented heap, depending on nothing but the heap's layout.
    img = bytearray(base)
    chk = bytearray(len(base))
    dev = workload(RamBdev(img, None, 0), model)
    print("OPS", dev.ops)
    print("THINNED", model.get("thinned", 0))
    print("DROPPED", model.get("dropcount", 0))
    print("COMPACTED", model.get("compacted", 0))
    print("COUNTS", model.get("counts"))
    last = min(last, dev.ops)
    checked = 0
    for n in range(first, last, step):
        model = {"issued": {}, "durable": [], "acked": 0, "inflight": None, "kinds": {}}
        img[:] = base
        dev = RamBdev(img, n, partial)
        try:
            workload(dev, model)
        except Cut:
            pass
        dev.alive = False
        umount()
        chk[:] = dev.data
        err = check(chk, model, partial)
        checked += 1
        if err:
            print("FAIL", n, err)
    print("CHECKED", checked)


main()

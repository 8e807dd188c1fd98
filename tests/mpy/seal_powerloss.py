# Power-loss driver for the sealed store on real littlefs (vfs.VfsLfs2) over a RAM block device
# of 512 B blocks that stops at its Nth program or erase. For each crash point N the workload
# runs on a fresh image until the cut, the image is remounted (recovery, the sealer's boot: its
# key slot may be one step behind the newest seal, or half written), and the workload goes on
# for 40 more fixes; then every file of the image is printed for the host to verify.
# A 4-segment budget of 512 B segments with no acks: merges (rename, remove) happen under cuts.
# Usage: micropython seal_powerloss.py FIRST LAST STEP
# Prints "OPS n", then per crash point "CUT n", "COUNTS nokey slot_failed", "file NAME HEX".
import sys

import vfs
from cutdev import BS, Cut, RamBdev
from cutdev import umount as _umount
from seal_flash_walk import walk
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs

NBLK = 96
MNT = "/sp"
KID = b"\x07" * 8
K0 = bytes(range(32))


OPEN = []


def mount(dev, t):
    vfs.mount(vfs.VfsLfs2(dev), MNT)
    fs = OsFs(MNT)
    st = Store(
        fs,
        t,
        max_segments=4,
        seg_bytes=1024,
        max_fixes=8,
        max_age=120,
        sealer=S.Sealer(S.FileSlot(fs), KID, every=300, max_recs=24),
    )
    OPEN.append(st)
    return st


def umount():
    _umount(OPEN, MNT)


def run(st, k0, n, t):
    for k in range(k0, k0 + n):
        t += 30
        st.append_fix(t, walk(k, t))
        if k % 13 == 5:
            st.append_event(R.EV_ZONE if k & 1 else R.EV_STATUS, t, bytes((k & 0xFF, 1)))
    st.flush()
    return t


def fresh():
    data = bytearray(b"\xff" * (BS * NBLK))
    dev = RamBdev(data, None)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MNT)
    S.provision(S.FileSlot(OsFs(MNT)), K0)
    vfs.umount(MNT)
    return data


def dump(dev):
    vfs.mount(vfs.VfsLfs2(dev), MNT)
    for name in sorted(vfs_listdir()):
        with open(MNT + "/" + name, "rb") as f:
            print("file", name, f.read().hex())
    vfs.umount(MNT)


def vfs_listdir():
    import os

    return os.listdir(MNT)


def main():
    first, last, step = (int(a) for a in sys.argv[1:4])
    base = fresh()
    img = bytearray(base)
    dev = RamBdev(img, None)
    st = mount(dev, 0)
    run(st, 0, 200, 0)
    c = st.counts
    umount()
    print("OPS", dev.ops)
    print("RUN", st.thinned, c.get("seals", 0), c.get("full", 0), c.get("merge_nomem", 0))
    last = min(last, dev.ops)
    for n in range(first, last, step):
        img[:] = base
        dev = RamBdev(img, n)

        try:
            st = mount(dev, 0)
            run(st, 0, 200, 0)
        except Cut:
            pass
        dev.alive = False
        umount()
        dev = RamBdev(img, None)
        st = mount(dev, 100000)
        run(st, 1000, 40, 100000)
        print("CUT", n)
        print("COUNTS", st.counts.get("seal_nokey", 0), st.counts.get("seal_slot_failed", 0))
        umount()
        dump(RamBdev(img, None))


main()

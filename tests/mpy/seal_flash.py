# Benchmark driver (bench/bench_evidence.py runs it inside MicroPython): one day of fixes into
# the store on littlefs over a RAM block device of 4 KB blocks that counts programs and erases,
# with or without the sealer (key slot file beside the segments).
# Usage: micropython seal_flash.py INTERVAL_S SEALED(0|1) [DAYS]
# Prints "key value" lines.
import sys
import time

import vfs
from seal_flash_walk import walk
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs

BS = 4096
NBLK = 512  # 2 MB


class CountingBdev:
    def __init__(self, nblk):
        self.nblk = nblk
        self.data = bytearray(b"\xff" * (BS * nblk))
        self.prog_bytes = 0
        self.erases = 0

    def readblocks(self, n, buf, off=0):
        a = n * BS + off
        buf[:] = memoryview(self.data)[a : a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        a = n * BS + (off or 0)
        self.data[a : a + len(buf)] = buf
        self.prog_bytes += len(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.nblk
        if op == 5:
            return BS
        if op == 6:
            self.erases += 1
        return 0


def main():
    step = int(sys.argv[1])
    sealed = sys.argv[2] == "1"
    days = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    dev = CountingBdev(NBLK)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), "/b")
    fs = OsFs("/b")
    sealer = None
    if sealed:
        slot = S.FileSlot(fs)
        S.provision(slot, bytes(range(32)))
        sealer = S.Sealer(slot, b"\x07" * 8)
    st = Store(fs, 0, max_segments=NBLK - NBLK // 10, sealer=sealer)
    dev.prog_bytes = 0
    dev.erases = 0
    n = int(days * 86400 / step)
    t = 0
    recs = 0
    t0 = time.ticks_us()
    for k in range(n):
        t += step
        st.append_fix(t, walk(k, t))
        recs += 1
        if t % 7200 < step:  # an alert every two hours (a zone event: sealed at once)
            st.append_event(R.EV_ZONE, t, b"\x05\x01")
            recs += 1
    st.flush()
    dt = time.ticks_diff(time.ticks_us(), t0)
    stored = sum(s[3] for s in st.segs)
    per = recs if recs else 1  # days 0: the start-up reference run
    days = days if days else 1
    print("records", recs)
    print("stored_bytes", stored)
    print("bytes_per_record", stored / per)
    print("prog_bytes_per_day", dev.prog_bytes / days)
    print("erases_per_day", dev.erases / days)
    print("us_per_record", dt / per)
    print("seals_per_day", st.counts.get("seals", 0) / days)
    vfs.umount("/b")


main()

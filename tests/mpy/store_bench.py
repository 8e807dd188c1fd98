# Benchmark driver (bench/bench_store.py runs it inside MicroPython): the store on littlefs over
# a RAM block device of 4 KB blocks (the ESP32 flash geometry) that counts programs and erases.
# Usage: micropython store_bench.py PARTITION_BYTES INTERVAL_S
# Prints "key value" lines.
import sys
import time

import vfs
from tagcore.fix import Fix
from tagcore.store.log import SEG_SIZE, Store
from tagcore.store.osfs import OsFs

BS = 4096


class CountingBdev:
    def __init__(self, nblk):
        self.nblk = nblk
        self.data = bytearray(b"\xff" * (BS * nblk))
        self.prog_bytes = 0
        self.erases = 0

    def readblocks(self, n, buf, off=0):
        a = n * BS + off
        mv = memoryview(self.data)
        buf[:] = mv[a : a + len(buf)]

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
        return 0


def walk(k, t):
    # a person walking about a town: small steps, varying speed and satellites
    return Fix(
        t,
        0,
        51500000 + (k * 7) % 900 + k // 3,
        -120000 + (k * 5) % 700,
        312 + k % 4,
        (k * 13) % 180,
        (k * 2711) % 36000,
        45 + k % 20,
        95 + k % 40,
        6 + k % 6,
        1,
        3,
        1,
    )


def main():
    part = int(sys.argv[1])
    step = int(sys.argv[2])
    nblk = part // BS
    dev = CountingBdev(nblk)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), "/b")
    max_segs = nblk - nblk // 10  # littlefs needs room for its directory of ~500 files
    st = Store(OsFs("/b"), 0, max_segments=max_segs)
    dev.prog_bytes = 0
    dev.erases = 0
    t = 0
    k = 0
    t0 = time.ticks_us()
    while st.thinned == 0 and k < 400000:
        t += step
        k += 1
        st.append_fix(t, walk(k, t))
    st.flush()
    dt = time.ticks_diff(time.ticks_us(), t0)
    fixes = k - st.thinned
    print("fixes_before_thinning", k)
    print("days_before_thinning", k * step / 86400)
    print("stored_bytes", sum(s[SEG_SIZE] for s in st.segs))
    print("bytes_per_fix", sum(s[SEG_SIZE] for s in st.segs) / fixes)
    print("prog_bytes_per_fix", dev.prog_bytes / k)
    print("erases_per_fix", dev.erases / k)
    print("append_us_per_fix", dt / k)
    vfs.umount("/b")
    vfs.mount(vfs.VfsLfs2(dev), "/b")
    t0 = time.ticks_us()
    st = Store(OsFs("/b"), t + 1, max_segments=max_segs)
    print("recovery_ms_full", time.ticks_diff(time.ticks_us(), t0) / 1000)
    print("segments", len(st.segs))
    vfs.umount("/b")


if __name__ == "__main__":
    main()

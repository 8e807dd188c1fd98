# The power-cut harness both littlefs campaigns share (store_powerloss.py, seal_powerloss.py): a
# RAM block device whose power goes at its Nth program or erase, and the unmount after a cut.
import gc

import vfs

BS = 512  # block size; the device has len(data) // BS blocks


class Cut(BaseException):  # not caught by the store's "except Exception"
    pass


class RamBdev:
    """data: the flash image (bytearray); cut_at: the program/erase after which power is gone
    (None: never); partial: the cut program writes half its bytes (a torn write)."""

    def __init__(self, data, cut_at, partial=0):
        self.data = data
        self.ops = 0
        self.cut_at = cut_at
        self.partial = partial
        self.alive = True  # a dead device (before a reset) ignores late writes from finalisers

    def _op(self):
        self.ops += 1
        return self.cut_at is not None and self.ops > self.cut_at

    def readblocks(self, n, buf, off=0):
        if not self.alive:
            return  # finalisers of files from before a reset; never allocate here
        a = n * BS + off
        buf[:] = self.data[a : a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        if not self.alive:
            return
        a = n * BS + (off or 0)
        if self._op():
            self.alive = False  # power is off: nothing after this reaches the flash
            if self.partial:
                h = len(buf) // 2
                self.data[a : a + h] = buf[:h]
            raise Cut()
        self.data[a : a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // BS
        if op == 5:
            return BS
        if op == 6:
            if not self.alive:
                return 0
            if self._op():
                self.alive = False
                raise Cut()
            self.data[arg * BS : (arg + 1) * BS] = b"\xff" * BS
        return 0


def umount(stores, mnt):
    # Close what the stores left open before unmounting (the device is already dead, so this
    # writes nothing): a file finalised after its filesystem is gone touches freed littlefs
    # state, which crashed the interpreter now and then.
    for st in stores:
        try:
            if st.file is not None:
                st.file.close()
        except Exception:
            pass
        st.file = None
    del stores[:]
    gc.collect()  # and files of a store whose recovery the cut interrupted: finalised now
    try:
        vfs.umount(mnt)
    except Exception:
        pass

# An in-memory filesystem for tagcore.store.log (listdir, open, remove, rename): the simulator's
# CPython tags and the store tests keep the flash log in RAM on it. budget= cuts the power after
# that many written bytes (the write in progress keeps only its prefix: a torn tail), cap= is
# the partition's size (ENOSPC past it). Portable: CPython and MicroPython.


class PowerCut(BaseException):
    """MemFs(budget=n) raises this when the power goes: a BaseException, so that nothing in
    the store that handles an ordinary error can stand in for the cut."""


class MemFile:
    def __init__(self, fs, name, mode):
        self.fs = fs
        self.name = name
        if "w" in mode:
            fs.files[name] = bytearray()
        elif name not in fs.files:
            if "r" in mode:
                raise OSError(2)
            fs.files[name] = bytearray()
        self.pos = 0

    def read(self):
        d = bytes(self.fs.files[self.name][self.pos :])
        self.pos += len(d)
        return d

    def readinto(self, buf):
        # Through a memoryview: no copy of the file's bytes is allocated, as a real file's
        # readinto (heap figures measured on MemFs, tests/mpy/uplink_bench.py's, are the store's)
        d = self.fs.files[self.name]
        n = min(len(buf), len(d) - self.pos)
        buf[:n] = memoryview(d)[self.pos : self.pos + n]
        self.pos += n
        return n

    def write(self, b):
        fs = self.fs
        n = len(b)
        if fs.cap is not None and fs.size() + n > fs.cap:
            raise OSError(28)  # ENOSPC: nothing written (littlefs keeps the last synced state)
        if fs.budget is not None:
            if fs.budget < n:  # the power goes mid-write: only a prefix lands (a torn tail)
                fs.files[self.name].extend(b[: fs.budget])
                fs.budget = 0
                raise PowerCut()
            fs.budget -= n
        fs.files[self.name].extend(b)
        fs.writes += n
        return n

    def flush(self):
        self.fs.syncs += 1

    def close(self):
        pass


class MemFs:
    """Files in a dict of bytearrays. budget: bytes that may still be written before the power
    is cut (PowerCut; None: never); cap: the partition's size (a write past it is ENOSPC)."""

    def __init__(self, budget=None, cap=None):
        self.files = {}
        self.budget = budget
        self.cap = cap
        self.writes = 0  # bytes written, for flash-wear figures
        self.syncs = 0

    def listdir(self):
        return sorted(self.files)

    def open(self, name, mode):
        return MemFile(self, name, mode)

    def remove(self, name):
        if name not in self.files:
            raise OSError(2)
        del self.files[name]

    def rename(self, a, b):
        if self.budget is not None and self.budget <= 0:
            raise PowerCut()
        self.files[b] = self.files.pop(a)

    def size(self):
        n = 0
        for k in self.files:
            n += len(self.files[k])
        return n

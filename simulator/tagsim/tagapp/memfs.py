# An in-memory filesystem with the interface tagcore.store.log.Store expects (listdir, open, remove,
# rename), so a simulated tag keeps its flash log in RAM. Portable: CPython and MicroPython.


class MemFile:
    def __init__(self, fs, name, mode):
        self.fs = fs
        self.name = name
        self.pos = 0
        if "w" in mode or name not in fs.files:
            fs.files[name] = bytearray()
        if "r" in mode:
            self.data = bytes(fs.files[name])

    def read(self):
        d = self.data[self.pos :]
        self.pos = len(self.data)
        return d

    def readinto(self, buf):
        n = min(len(buf), len(self.data) - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n

    def write(self, b):
        self.fs.files[self.name] += b
        self.fs.written += len(b)
        return len(b)

    def flush(self):
        self.fs.syncs += 1

    def close(self):
        pass


class MemFs:
    def __init__(self):
        self.files = {}
        self.written = 0  # bytes written, for flash-wear figures
        self.syncs = 0

    def listdir(self):
        return sorted(self.files)

    def open(self, name, mode):
        if "r" in mode and name not in self.files:
            raise OSError(2)
        return MemFile(self, name, mode)

    def remove(self, name):
        if name not in self.files:
            raise OSError(2)
        del self.files[name]

    def rename(self, a, b):
        self.files[b] = self.files.pop(a)

    def size(self):
        n = 0
        for k in self.files:
            n += len(self.files[k])
        return n

# A stand-in for the ESP32 port's `esp32` module: the deep-sleep wake sources the tag arms for
# its tamper inputs (RTC GPIOs, ext0 / ext1 as the MicroPython ESP32 docs describe them).
WAKEUP_ALL_LOW = 0
WAKEUP_ANY_HIGH = 1

WAKE = {"ext0": None, "ext1": None}


def wake_on_ext0(pin, level):
    WAKE["ext0"] = None if pin is None else (pin.id, level)


def wake_on_ext1(pins, level):
    WAKE["ext1"] = None if not pins else (tuple(p.id for p in pins), level)


# ---- flash partitions (esp32.Partition) over a NOR-flash model ------------------------------
# As the SPI NOR datasheets (and ESP-IDF's esp_partition_*) have it: erase works on whole 4 KB
# sectors and sets every byte to 0xFF; a program can only clear bits (the cell becomes old AND
# new), so rewriting without an erase mixes old and new. The model also keeps what was
# programmed where, so a test can ask which bytes of a secret are still physically readable on
# the chip (a chip reader sees them until their sector is erased), and it can lose power at
# its Nth program or erase: a cut program leaves a prefix of its bytes, a cut erase only part
# of the sector erased.
SECTOR = 4096
_EINVAL = 22
_ENOENT = 2


class PowerCut(BaseException):  # not an OSError: nothing in the firmware may catch it
    pass


_PIECE = 256  # bytes FileNor erases and programs at a time (its own small buffers)


class NorFlash:
    """track=False keeps no history (readable() then knows nothing): the whole-firmware boards,
    whose heap the firmware shares."""

    def __init__(self, size, track=True):
        if size % SECTOR:
            raise ValueError("a NOR flash is whole sectors")
        self.size = size
        self.mem = bytearray(b"\xff" * size)
        self.track = track
        self.erased_op = [0] * size if track else None  # the op that last erased each byte
        self.programs = []  # (op, address, data meant, bytes that reached the cells)
        self.erases = [0] * (size // SECTOR)  # per sector: wear
        self.ops = 0
        self.cut_at = None  # the program/erase (1-based) in which the power goes
        self.tear = (1, 2)  # how much of the cut program reaches the cells (fraction)
        self.dead = False

    def revive(self):
        """Power back (a reboot): the cells keep whatever the cut left."""
        self.dead = False
        self.cut_at = None

    def _op(self):
        if self.dead:
            raise PowerCut()
        self.ops += 1
        return self.cut_at is not None and self.ops >= self.cut_at

    def program(self, addr, data):
        if addr < 0 or addr + len(data) > self.size:
            raise OSError(_EINVAL)
        cut = self._op()
        n = len(data)
        if cut:
            n = n * self.tear[0] // self.tear[1]
        self._and(addr, data, n)
        if self.track:
            self.programs.append((self.ops, addr, bytes(data), n))
        if cut:
            self.dead = True
            raise PowerCut()

    def erase(self, sector):
        if not 0 <= sector < len(self.erases):
            raise OSError(_EINVAL)
        cut = self._op()
        a = sector * SECTOR
        step = 2 if cut else 1  # a cut erase: every other byte erased, the rest as they were
        self._erase(a, step)
        self.erases[sector] += 1
        if cut:
            self.dead = True
            raise PowerCut()

    def _and(self, addr, data, n):
        mem = self.mem
        for i in range(n):
            mem[addr + i] &= data[i]

    def _erase(self, a, step):
        mem = self.mem
        eo = self.erased_op
        op = self.ops
        for p in range(a, a + SECTOR, step):
            mem[p] = 0xFF
            if eo is not None:
                eo[p] = op

    def read(self, a, buf):
        if self.dead:
            raise PowerCut()
        buf[:] = self.mem[a : a + len(buf)]

    def readable(self, secret):
        """How many bytes of `secret` are still on the chip where a program put them: the most,
        over every program whose data held it, of its bytes whose cells were not erased since
        and still hold them."""
        best = 0
        for op, addr, data, n in self.programs:
            j = data.find(secret)
            while j >= 0:
                got = 0
                for i in range(len(secret)):
                    p = addr + j + i
                    if j + i < n and self.erased_op[p] < op and self.mem[p] == secret[i]:
                        got += 1
                if got > best:
                    best = got
                j = data.find(secret, j + 1)
        return best


class FileNor(NorFlash):
    """The same chip kept in a host file (the virtual board's: it survives its resets), no
    history, nothing of it in the heap but the file."""

    def __init__(self, path, size):
        self.size = size
        self.track = False
        self.erased_op = None
        self.programs = []
        self.erases = [0] * (size // SECTOR)
        self.ops = 0
        self.cut_at = None
        self.tear = (1, 2)
        self.dead = False
        # The chip's own buffers, taken here (before the board's heap is counted, HEAP_WORLD):
        # an ESP32 erases and programs in C, outside MicroPython's heap, so an erase or a
        # program must not allocate in the heap the firmware is measured by (a 4 KB blank per
        # erase made every key-slot save fail in a fragmented heap: seal_nomem).
        self.blank = b"\xff" * _PIECE
        self.scratch = bytearray(_PIECE)
        try:
            self.f = open(path, "r+b")
        except OSError:
            self.f = open(path, "w+b")
        self.f.seek(0, 2)
        while self.f.tell() < size:  # factory-blank
            self.f.write(b"\xff" * SECTOR)
        self.f.flush()

    def _and(self, addr, data, n):
        f = self.f
        buf = self.scratch
        mv = memoryview(buf)
        while n > 0:  # a piece at a time through the chip's scratch: nothing allocated
            k = n if n < _PIECE else _PIECE
            f.seek(addr)
            f.readinto(mv[:k])
            for i in range(k):
                buf[i] &= data[i]
            f.seek(addr)
            f.write(mv[:k])
            addr += k
            data = memoryview(data)[k:]
            n -= k
        f.flush()

    def _erase(self, a, step):
        f = self.f
        if step == 1:
            f.seek(a)
            for _ in range(SECTOR // _PIECE):
                f.write(self.blank)
        else:
            for p in range(a, a + SECTOR, step):
                f.seek(p)
                f.write(b"\xff")
        f.flush()

    def read(self, a, buf):
        if self.dead:
            raise PowerCut()
        self.f.seek(a)
        self.f.readinto(buf)


TABLE = {}  # label -> (type, subtype, NorFlash): the partition table the board was flashed with


def add_partition(label, size, ptype=1, subtype=0x40, track=True, path=None):
    """A partition in the fake's table (test set-up); returns its chip: a NorFlash in RAM, or
    kept in the host file `path`."""
    fl = NorFlash(size, track) if path is None else FileNor(path, size)
    TABLE[label] = (ptype, subtype, fl)
    return fl


class Partition:
    BOOT = 0
    RUNNING = 1
    TYPE_APP = 0
    TYPE_DATA = 1

    def __init__(self, ident, block_size=4096):
        if ident not in TABLE:
            raise OSError(_ENOENT)
        self.label = ident
        self.ptype, self.subtype, self.flash = TABLE[ident]
        self.bs = block_size

    @staticmethod
    def find(type=TYPE_APP, subtype=0xFF, label=None, block_size=4096):  # the port's keywords
        out = []
        for name in sorted(TABLE):
            t, s, _ = TABLE[name]
            if t == type and (subtype == 0xFF or s == subtype) and label in (None, name):
                out.append(Partition(name, block_size))
        return out

    def info(self):
        return (self.ptype, self.subtype, 0, self.flash.size, self.label, False)

    def readblocks(self, block, buf, offset=0):
        a = block * self.bs + offset
        if a < 0 or a + len(buf) > self.flash.size:
            raise OSError(_EINVAL)
        self.flash.read(a, buf)

    def writeblocks(self, block, buf, offset=None):
        a = block * self.bs
        if offset is None:  # the simple protocol: the port erases the range first
            if a % SECTOR or len(buf) % SECTOR:
                raise OSError(_EINVAL)  # esp_partition_erase_range: sector-aligned only
            for s in range(a // SECTOR, (a + len(buf)) // SECTOR):
                self.flash.erase(s)
            self.flash.program(a, buf)
        else:  # the extended protocol: no erase, the caller erased
            self.flash.program(a + offset, buf)

    def ioctl(self, cmd, arg):
        if cmd == 4:
            return self.flash.size // self.bs
        if cmd == 5:
            return self.bs
        if cmd == 6:
            a = arg * self.bs
            if a % SECTOR or self.bs % SECTOR:
                raise OSError(_EINVAL)
            for s in range(a // SECTOR, (a + self.bs) // SECTOR):
                self.flash.erase(s)
            return 0
        return 0


try:  # on the virtual board (taghost.vboard): its partitions, in host files beside its image
    import virtualboard

    for _label, _size in getattr(virtualboard, "PARTITIONS", ()):
        add_partition(_label, _size, path="/_vboard/" + _label)
except ImportError:
    pass

# The seal's key slot on a raw flash partition (docs/evidence.md): the same load()/save(bytes)
# seam as tagcore.store.seal.FileSlot, but an old key is erased for real. On littlefs a
# replaced file's blocks are only released and stay readable on the chip until reused; here the
# sector that held k_e is erased once k_{e+1} is durable.
#
# The partition is the esp32.Partition block protocol (readblocks/writeblocks with an offset,
# ioctl 4 block count, 5 block size, 6 erase one block), one record per erase block (4 KB on
# NOR flash: erase sets every byte to 0xFF, programming can only clear bits):
#
#   "KP" | seq u32 | n u8 | payload (n) | crc32 of all before (u32), at the block's start
#
# save() writes the next block of the ring (erased first if anything is in it), reads it back,
# then erases every other block that holds anything. A power cut at any point leaves at most
# one valid newest record plus, at worst, the one before it or a torn one; load() takes the
# highest valid seq and erases the rest before it returns, so after a boot or a completed save
# only the newest key is on the chip. Two blocks are enough; more spread the erases (each save
# erases one block: a ring of n blocks erases each once per n saves).
#
# Sans-I/O in the store's sense: it writes only through the partition object it is given.
import binascii

from tagcore.compat import const

MAGIC = b"KP"
_HEAD = const(7)  # magic, seq, length
_CRC = const(4)
REGION = const(128)  # bytes read and written at a block's start: a record fits one flash page
MAX_PAYLOAD = const(117)  # REGION - _HEAD - _CRC
_IOCTL_COUNT = const(4)
_IOCTL_SIZE = const(5)
_IOCTL_ERASE = const(6)


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


def record(seq, payload, out=None):
    """The bytes of one record (into `out`, a bytearray of at least REGION bytes, if given:
    returns a memoryview of it): what save() writes, and what `opentag deploy` writes to a new
    tag's partition. Raises ValueError for a payload longer than MAX_PAYLOAD."""
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise ValueError("key slot payload too long")
    b = bytearray(REGION) if out is None else out
    b[0:2] = MAGIC
    for k in range(4):
        b[2 + k] = (seq >> (8 * k)) & 0xFF
    b[6] = n
    b[_HEAD : _HEAD + n] = payload
    c = binascii.crc32(memoryview(b)[: _HEAD + n]) & 0xFFFFFFFF
    for k in range(4):
        b[_HEAD + n + k] = (c >> (8 * k)) & 0xFF
    return memoryview(b)[: _HEAD + n + _CRC]


class PartSlot:
    """The key slot over `part` (an esp32.Partition, or the tests' NOR-flash fake) of two or more
    erase blocks. `damaged` after load(): no valid record but something written (a torn first
    write, or a record whose CRC fails), which the caller reports rather than takes as empty."""

    def __init__(self, part):
        self.part = part
        self.nblocks = part.ioctl(_IOCTL_COUNT, 0)
        self.block_size = part.ioctl(_IOCTL_SIZE, 0)
        if self.nblocks < 2 or self.block_size < REGION:
            raise ValueError("a key slot needs two erase blocks")  # a board profile error
        self.buf = bytearray(REGION)  # one record, reused
        self.cur = -1  # the block holding the newest valid record; -1: none (or not loaded)
        self.seq = 0
        self.damaged = False
        self.loaded = False

    def _read(self, blk):
        """The seq of a valid record at `blk` (its payload is then in self.buf), -1 if the
        region is blank (all 0xFF), -2 if it holds anything else. Raises OSError."""
        b = self.buf
        self.part.readblocks(blk, b, 0)
        n = b[6]
        if b[0:2] == MAGIC and n <= MAX_PAYLOAD:
            end = _HEAD + n
            if binascii.crc32(memoryview(b)[:end]) & 0xFFFFFFFF == _u32(b, end):
                return _u32(b, 2)
        for x in b:
            if x != 0xFF:
                return -2
        return -1

    def _newest(self):
        best = -1
        bseq = -1
        junk = False
        for blk in range(self.nblocks):
            s = self._read(blk)
            if s >= 0 and s > bseq:
                best = blk
                bseq = s
            elif s == -2:
                junk = True
        return best, bseq, junk

    def _scrub(self, keep):
        # Erase every block but `keep` that holds anything: the record a save replaced (a cut
        # before its erase), a torn write, a half-done erase.
        for blk in range(self.nblocks):
            if blk != keep and self._read(blk) != -1:
                self.part.ioctl(_IOCTL_ERASE, blk)

    def load(self):
        """The newest valid record's payload (bytes), or None if there is none or the flash
        cannot be read (`damaged` says whether anything was written). Erases every older or torn
        record first when there is a valid one."""
        self.loaded = True
        self.damaged = False
        try:
            best, bseq, junk = self._newest()
            if best < 0:
                self.cur = -1
                self.seq = 0
                self.damaged = junk
                return None
            self.cur = best
            self.seq = bseq
            try:
                self._scrub(best)
            except OSError:
                pass  # the key still loads; the next save or boot erases them
            self._read(best)
            return bytes(self.buf[_HEAD : _HEAD + self.buf[6]])
        except OSError:
            self.damaged = True
            return None

    def save(self, payload):
        """Write `payload` (at most MAX_PAYLOAD bytes) as the newest record, then erase the one
        before it. True once it is written and read back; False if the flash refused (the old
        record then stays the newest). Raises ValueError for a payload that is too long."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError("key slot payload too long")
        if not self.loaded:
            self.load()
        seq = self.seq + 1
        blk = self.cur + 1 if self.cur + 1 < self.nblocks else 0
        try:
            if self._read(blk) != -1:
                self.part.ioctl(_IOCTL_ERASE, blk)
            self.part.writeblocks(blk, record(seq, payload, self.buf), 0)
            if self._read(blk) != seq:
                return False
        except OSError:
            return False
        self.cur = blk
        self.seq = seq
        try:
            self._scrub(blk)
        except OSError:
            pass  # written: the old record goes at the next save or boot
        return True

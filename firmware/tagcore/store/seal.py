# Forward-secure sealing of the store's log (docs/evidence.md).
#
# Epoch e has its own key k_e; k_{e+1} = SHA-256("opentag/evolve/v1" | k_e) and k_e is then
# overwritten (Bellare-Yee forward-secure MAC; systemd-journald's FSS does the same per
# interval). At the end of an epoch the store writes one EV_SEAL record:
#
#   data = ver 2 | kid (8) | epoch | first seq | last seq | fixes | events (varints)
#          | event digest (16) | prev mac (16) | mac (16) | entries: (d varint, tag (4))...
#
# d = (seq gap << 1) | is_fix, one entry per record written since the previous seal, tag =
# SHA-256(0x01 | k_e | canon(record))[:4] (the 32-byte state is never shown: no length
# extension); event digest = SHA-256 of the event entries (seq varint | tag)...[:16]; mac =
# HMAC-SHA256(k_e, "opentag/seal/v1" | data before mac)[:16] covers the head (range, counts,
# the events, the previous seal's mac: the chain), not the fix entries: each entry's tag is
# itself keyed by k_e. So thinning, long after k_e is gone, can take the entries of the fixes
# it drops out of the seal (compact(), in the merge) and the seal still verifies: the signed
# fix count says how many went, the signed events that none did. Per-record tags and not one
# hash over the epoch: each surviving fix still verifies on its own.
#
# What survives power loss: the key slot (epoch, last sealed seq, k_e, prev mac; written whole
# by the slot object, atomically) and the seals in the log. A cut between a seal's write and the
# slot's update leaves the slot one epoch behind its newest seal: boot() finishes the step.
import binascii
import hashlib
from collections import namedtuple

from tagcore.compat import const
from tagcore.mac import Hmac
from tagcore.store import record as R

VERSION = const(2)
TAG_LEN = const(4)
MAC_LEN = const(16)
KEY_LEN = const(32)
KID_LEN = const(8)
SEAL_EVERY = const(900)  # s: the longest a synced record waits unsealed (the exposure window)
SEAL_MAX = const(128)  # records per epoch: bounds its seal's frame (5 B each)
CHUNK = const(16)  # records read back at a time to build a seal (bounds its RAM)
_HEAD = const(112)  # room before the entries: frame header, time, the seal's head, macs
_ROOM = const(16)  # after them: one more entry and the CRC
EVOLVE = b"opentag/evolve/v1"
SEAL_AAD = b"opentag/seal/v1"
SLOT_MAGIC = b"K1"
_SLOT_LEN = const(2 + 4 + 4 + 32 + 16 + 4)


def evolve(k):
    """k_{e+1} from k_e (one way)."""
    h = hashlib.sha256(EVOLVE)
    h.update(k)
    return h.digest()


def key_at(k0, e):
    k = k0
    for _ in range(e):
        k = evolve(k)
    return k


def canon(seq, kind, v, out):
    """Append the canonical bytes of a record (independent of how frames or batches pack it)."""
    R.put_varint(out, seq)
    out.append(kind)
    if kind == R.KIND_FIXES:
        R.encode_fix(out, v, None, 0)
    else:
        R.put_varint(out, R.zz(v[0]))
        out.extend(v[1])
    return out


def record_tag(k, seq, kind, v):
    h = hashlib.sha256(b"\x01")
    h.update(k)
    h.update(canon(seq, kind, v, bytearray()))
    return h.digest()[:TAG_LEN]


def seal_mac(k, body):
    h = Hmac(k)
    h.update(SEAL_AAD)
    h.update(body)
    return h.digest()[:MAC_LEN]


# A seal's data, named (parse; tagcore.events.decode(EV_SEAL) answers it too): entries
# [(seq, is_fix, tag)], `signed` the length of the bytes the mac covers.
Seal = namedtuple(
    "Seal",
    (
        "kid",
        "epoch",
        "first",
        "last",
        "fixes",
        "events",
        "digest",
        "prev",
        "mac",
        "signed",
        "entries",
    ),
)


def parse(data):
    """The Seal in a seal's data, or None."""
    try:
        end = len(data)
        if end < 1 + KID_LEN + 5 + 2 * MAC_LEN or data[0] != VERSION:
            return None
        kid = bytes(data[1 : 1 + KID_LEN])
        i = 1 + KID_LEN
        epoch, i = R.get_varint(data, i, end)
        first, i = R.get_varint(data, i, end)
        last, i = R.get_varint(data, i, end)
        nfix, i = R.get_varint(data, i, end)
        nev, i = R.get_varint(data, i, end)
        if i + 3 * MAC_LEN > end:
            return None
        evd = bytes(data[i : i + MAC_LEN])
        i += MAC_LEN
        prev = bytes(data[i : i + MAC_LEN])
        signed = i + MAC_LEN
        mac = bytes(data[signed : signed + MAC_LEN])
        i = signed + MAC_LEN
        lst = []  # type: list
        seq = first
        while i < end:
            d, i = R.get_varint(data, i, end)
            if lst and not d >> 1:
                return None  # entries strictly ascend
            seq += d >> 1
            if i + TAG_LEN > end or seq > last:
                return None
            lst.append((seq, d & 1, bytes(data[i : i + TAG_LEN])))
            i += TAG_LEN
        return Seal(kid, epoch, first, last, nfix, nev, evd, prev, mac, signed, lst)
    except (ValueError, IndexError):
        return None


class FileSlot:
    """The key slot as a small file of the store's filesystem, replaced by write + rename.
    On littlefs the rename is atomic, but the old block is only released, not erased: a device
    that must erase k_e for real keeps the slot in a raw flash sector (docs/evidence.md)."""

    def __init__(self, fs, name="k"):
        self.fs = fs
        self.name = name

    def load(self):
        try:
            f = self.fs.open(self.name, "rb")
        except OSError:
            return None
        try:
            return f.read()
        except OSError:
            return None
        finally:
            f.close()

    def save(self, b):
        tmp = self.name + "n"
        try:
            f = self.fs.open(tmp, "wb")
            try:
                f.write(b)
            finally:
                f.close()
            self.fs.rename(tmp, self.name)
            return True
        except OSError:
            return False


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


def _put32(b, v):
    for _ in range(4):
        b.append(v & 0xFF)
        v >>= 8


def pack_slot(epoch, hi, k, prev):
    b = bytearray(SLOT_MAGIC)
    _put32(b, epoch)
    _put32(b, hi)
    b.extend(k)
    b.extend(prev)
    _put32(b, binascii.crc32(b) & 0xFFFFFFFF)
    return b


def unpack_slot(b):
    """(epoch, last sealed seq, k_e, prev mac), or None if absent or damaged."""
    if b is None or len(b) != _SLOT_LEN or bytes(b[0:2]) != SLOT_MAGIC:
        return None
    if binascii.crc32(memoryview(b)[: _SLOT_LEN - 4]) & 0xFFFFFFFF != _u32(b, _SLOT_LEN - 4):
        return None
    return _u32(b, 2), _u32(b, 6), bytes(b[10:42]), bytes(b[42:58])


def provision(slot, k0):
    """A new tag's slot: epoch 0, nothing sealed, the initial key (the server keeps k0)."""
    return slot.save(pack_slot(0, 0, k0, bytes(MAC_LEN)))


class Sealer:
    """Given to Store(..., sealer=Sealer(slot, kid)); the store calls boot() in recovery and
    after_write() after each synced frame. Counts go to the store's `counts`."""

    def __init__(self, slot, kid, every=SEAL_EVERY, max_recs=SEAL_MAX):
        self.slot = slot
        self.kid = bytes(kid)
        self.every = every
        self.max_recs = max_recs
        self.key = None  # k_e; None: no usable slot, nothing is sealed (counted)
        self.epoch = 0
        self.hi = 0  # highest seq sealed
        self.prev = bytes(MAC_LEN)
        self.t0 = None  # when the open epoch's first unsealed record was seen
        self.due = False
        self.busy = False
        self.ready = False
        self.acc = 0  # the store's thinning and drop totals at the last seal
        self.body = bytearray(0)  # the seal frame being built (allocated at boot, then reused)
        self.canon = bytearray(64)  # one record's canonical bytes (reused)
        self.canon[:] = b""
        self.v = [0] * 13  # type: list  # one fix's fields, decoded in place
        self._evh = hashlib.sha256()
        self._n = 0  # the seal being built: entries, fix entries, first and last seq
        self._nfix = 0
        self._first = 0
        self._last = 0

    def boot(self, now, st):
        st_ = unpack_slot(self.slot.load())
        self.ready = True
        self.t0 = now
        if not self.body:  # while the heap is whole: a seal's frame is built in it
            n = _HEAD + 2 * self.max_recs * 6 + _ROOM
            self.body = bytearray(n if n < st.seg_bytes else st.seg_bytes)
        self.acc = st.thin_total + st.counts.get("dropped", 0)
        if st_ is None:
            st._count("seal_nokey")
            self.key = None
            return
        self.epoch, self.hi, self.key, self.prev = st_
        if st.seal_seq:  # the newest seal on flash: a cut may have kept the slot from moving
            recs, _ = st.read(st.seal_seq, 1)
            if recs and recs[0][0] == st.seal_seq and recs[0][1] == R.EV_SEAL:
                # the open epoch began at the newest seal: a wake from deep sleep (RAM lost,
                # no epoch end) keeps counting its SEAL_EVERY from there, not from the wake
                self.t0 = recs[0][2][0]
                p = parse(recs[0][2][1])
                if p is not None and p.epoch >= self.epoch:
                    d = p.epoch - self.epoch
                    k = key_at(self.key, d) if d < 64 else None
                    if k is None or seal_mac(k, recs[0][2][1][: p.signed]) != p.mac:
                        # a slot the log's seals are not of (made anew from k0 after the log
                        # sealed past it, or lagging too far): sealing on from it would fork
                        # the chain the server holds and have every batch refused. Unsealed.
                        st._count("seal_slot_behind")
                        self.key = None
                        return
                    self.key = k
                    self.epoch = p.epoch
                    self._step(p.last, p.mac)
        self.due = True  # a boot ends the epoch: the previous run's tail is sealed now

    def _step(self, hi, mac):
        # The seal for epoch e is on flash: move to e+1 and forget k_e.
        self.key = evolve(self.key)
        self.epoch += 1
        self.hi = hi
        self.prev = mac
        if not self.slot.save(pack_slot(self.epoch, self.hi, self.key, self.prev)):
            return False
        return True

    def after_write(self, st, kind):
        if not self.ready or self.busy or self.key is None:
            return
        if self.t0 is None:
            self.t0 = st.now
        # An account of what thinning or a full partition took is sealed at once: the verifier
        # takes only sealed accounts for records a seal lists and the log lacks.
        acc = st.thin_total + st.counts.get("dropped", 0)
        if (
            self.due
            or acc != self.acc
            or R.kept_kind(kind)
            or st.durable_seq() - self.hi >= self.max_recs
            or st.now - self.t0 >= self.every
            or st.now < self.t0
        ):
            self.seal(st)

    def _body(self, st):
        """Gather the entries of the records on flash after the last seal into self.body
        (after _HEAD bytes of room); (last seq listed, more to seal), or None if there are
        none. Walks the segments' frames as read() does (Store.frames), but tags records
        straight from the frame bytes: fixes are decoded into one reused list, events tagged
        over their payload bytes, so a seal allocates no record objects (decoding 32-fix
        frames into Fix tuples made 1 Hz sealing need ~13 KB more heap)."""
        b = self.body
        b[:] = b""  # MicroPython keeps the capacity
        for _ in range(_HEAD):
            b.append(0)
        self._n = 0
        self._nfix = 0
        self._first = 0
        self._last = 0
        self._evh = hashlib.sha256()
        nxt = self.hi + 1
        more = False
        from tagcore.store.log import _segname

        for sg in st.segs:
            if sg[2] < nxt or sg[3] == 0:
                continue
            if sg[3] < 0:
                break  # a segment it cannot read: seal what comes before it
            data = st._load(_segname(sg[0]))
            if data is None:
                break
            for i in st.frames(data, sg[1] - 1, nxt):
                kind = data[i + 1]
                if kind == R.KIND_FIXES:
                    more = self._fixes(st, data, i, R.frame_len(data, i), nxt)
                elif kind != R.KIND_MARK and kind != R.EV_SEAL:
                    s = R.frame_seq(data, i)
                    c = self.canon
                    c[:] = b""
                    R.put_varint(c, s)
                    c.append(kind)
                    c.extend(memoryview(data)[i + R.HEADER : i + R.frame_len(data, i) - 4])
                    more = not self._add(st, s, 0)
                if more:
                    break
            data = None
            if more:
                break
        if not self._n:
            return None
        return self._last, more

    def _frame(self, st, seq):
        """Write the head before the entries in self.body and close the frame: a memoryview of
        the complete EV_SEAL frame, and the mac."""
        b = self.body
        h = bytearray()
        R.put_varint(h, R.zz(st.now))
        p0 = len(h)
        h.append(VERSION)
        h.extend(self.kid)
        R.put_varint(h, self.epoch)
        R.put_varint(h, self._first)
        R.put_varint(h, self._last)
        R.put_varint(h, self._nfix)
        R.put_varint(h, self._n - self._nfix)
        h.extend(self._evh.digest()[:MAC_LEN])
        h.extend(self.prev)
        mac = seal_mac(self.key, memoryview(h)[p0:])
        h.extend(mac)
        start = _HEAD - len(h) - R.HEADER
        b[start + R.HEADER : _HEAD] = h
        n = len(b) - start - R.HEADER
        b[start] = R.MAGIC
        b[start + 1] = R.EV_SEAL
        b[start + 2] = n & 0xFF
        b[start + 3] = n >> 8
        for k in range(4):
            b[start + 4 + k] = (seq >> (8 * k)) & 0xFF
        c = binascii.crc32(memoryview(b)[start + 1 :]) & 0xFFFFFFFF
        for _ in range(4):
            b.append(c & 0xFF)
            c >>= 8
        return memoryview(b)[start:], mac

    def _fixes(self, st, data, i, ln, nxt):
        # Tag each fix of the frame with seq >= nxt; True if the seal is full before the end.
        v = self.v
        p = i + R.HEADER
        end = i + ln - 4
        count = data[p]
        stride = data[p + 1]
        p += 2
        seq = R.frame_seq(data, i)
        pmisc = 0
        for k in range(count):
            p, pmisc = R.fix_into(v, data, p, end, k, pmisc)
            if seq >= nxt:
                c = self.canon
                c[:] = b""
                canon(seq, R.KIND_FIXES, v, c)
                if not self._add(st, seq, 1):
                    return True
            seq += stride
        return False

    def _add(self, st, seq, is_fix):
        # One entry for the record whose canonical bytes are in self.canon; False if full.
        b = self.body
        if self._n >= 2 * self.max_recs or len(b) + _ROOM > st.seg_bytes:
            return False
        if not self._n:
            self._first = seq
            self._last = seq
        R.put_varint(b, ((seq - self._last) << 1) | is_fix)
        self._last = seq
        h = hashlib.sha256(b"\x01")
        h.update(self.key)
        h.update(self.canon)
        tag = h.digest()[:TAG_LEN]
        b.extend(tag)
        if not is_fix:  # events are bound into the signed head: thinning never takes one
            c = self.canon
            c[:] = b""
            R.put_varint(c, seq)
            c.extend(tag)
            self._evh.update(c)
        self._n += 1
        self._nfix += is_fix
        return True

    def seal(self, st):
        """Seal every record on flash after the last seal (several seals if they do not fit
        one). Returns the number of seals written. Never raises for lack of memory (counted
        seal_nomem: the records wait for the next seal)."""
        if self.key is None or self.busy:
            return 0
        self.busy = True
        self.acc = st.thin_total + st.counts.get("dropped", 0)
        n = 0
        try:
            while True:
                got = self._body(st)
                if got is None:
                    break
                last, more = got
                got = None
                seq = st._take()
                if not seq:
                    st._count("seal_nospace")
                    break
                fr, mac = self._frame(st, seq)
                ok = st._write(fr, seq, seq)
                fr = None  # a view of self.body: released before the body is rebuilt
                if not ok:
                    st.next_seq = seq
                    st._count("seal_nospace")
                    break
                if not st.buf:
                    st.buf_seq = st.next_seq
                n += 1
                st._count("seals")
                if not self._step(last, mac):
                    st._count("seal_slot_failed")
                acc = st.thin_total + st.counts.get("dropped", 0)
                if not more and acc == self.acc:
                    break
                self.acc = acc  # the seal's own write thinned or dropped: seal that account too
        except MemoryError:
            st._count("seal_nomem")
        finally:
            self.busy = False
        self.due = False
        self.t0 = st.now
        return n


# ---- thinning: taking thinned fixes out of their seals (called by tagcore.store.thin) -------
def _entries_at(b, q, end):
    """(first seq, offset of the first entry) of the seal data at b[q:end], or None."""
    try:
        if end - q < 1 + KID_LEN + 5 + 3 * MAC_LEN or b[q] != VERSION:
            return None
        i = q + 1 + KID_LEN
        i = R.skip_varint(b, i, end)
        if i < 0:
            return None
        first, i = R.get_varint(b, i, end)
        for _ in range(3):
            i = R.skip_varint(b, i, end)
            if i < 0:
                return None
        i += 3 * MAC_LEN
        return (first, i) if i <= end else None
    except (ValueError, IndexError):
        return None


def _gone(b, i, lo, hi):
    # Entries of the seal frame at b[i] to take out: fixes in [lo, hi] no fix frame before it
    # holds (fix frames and entries are both in seq order: one walk over the frames).
    # Returns (count, first seq, entries offset, payload end) or None.
    end = i + R.frame_len(b, i) - 4
    q = R.skip_varint(b, i + R.HEADER, end)
    at = _entries_at(b, q, end) if q >= 0 else None
    if at is None:
        return None
    seq, j = at
    first = seq
    f = 0
    gone = 0
    while j < end:
        try:
            d, j = R.get_varint(b, j, end)
        except ValueError:
            return None
        seq += d >> 1
        j += TAG_LEN
        if not (d & 1) or seq < lo or seq > hi:
            continue
        # advance to the first frame before the seal whose last seq reaches this one
        while f < i and R.frame_last_seq(b, f) < seq:
            f += R.frame_len(b, f)
        held = False
        if f < i and b[f + 1] == R.KIND_FIXES:
            s0 = R.frame_seq(b, f)
            stride = b[f + R.HEADER + 1]
            held = s0 <= seq and (seq - s0) % stride == 0
        if not held:
            gone += 1
    return gone, first, at[1], end


def compact(data, out, lo, hi):
    """Copy a merge's thinned output (`data`: whole valid frames, in seq order) into `out` (a
    storethin._Out), taking out of each seal the entries of fixes with seqs in [lo, hi] (the
    merged segments' range) that it no longer holds: thinned. Returns how many went. The
    signed head is copied as it was: its fix count says how many there were."""
    from tagcore.store import thin as T

    i = 0
    end = len(data)
    took = 0
    # By header alone (no CRC, no seqs to judge): the merge's own output, frames it just made.
    while i < end:
        ln = R.frame_len(data, i)
        g = _gone(data, i, lo, hi) if data[i + 1] == R.EV_SEAL else None
        if g is None or not g[0]:
            out.put(data[i : i + ln])
            i += ln
            continue
        n, seq, j, pend = g
        w0 = out.w
        for _ in range(R.HEADER):
            out.append(0)
        out.put(data[i + R.HEADER : j])  # time, head, macs: unchanged
        last = seq
        f = 0
        while j < pend:
            d, j = R.get_varint(data, j, pend)
            seq += d >> 1
            keep = True
            if d & 1 and lo <= seq <= hi:
                while f < i and R.frame_last_seq(data, f) < seq:
                    f += R.frame_len(data, f)
                keep = False
                if f < i and data[f + 1] == R.KIND_FIXES:
                    s0 = R.frame_seq(data, f)
                    keep = s0 <= seq and (seq - s0) % data[f + R.HEADER + 1] == 0
            if keep:
                R.put_varint(out, ((seq - last) << 1) | (d & 1))
                last = seq
                out.put(data[j : j + TAG_LEN])
            j += TAG_LEN
        T.seal_frame(out.buf, w0, R.EV_SEAL, R.frame_seq(data, i), out.w - w0 - R.HEADER)
        c = T.frame_crc(out.buf, w0, out.w)
        for _ in range(4):
            out.append(c & 0xFF)
            c >>= 8
        took += n
        i += ln
    return took

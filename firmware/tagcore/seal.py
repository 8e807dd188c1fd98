# Forward-secure sealing of the store's log (docs/evidence.md).
#
# Epoch e has its own key k_e; k_{e+1} = SHA-256("opentag/evolve/v1" | k_e) and k_e is then
# overwritten (Bellare-Yee forward-secure MAC; systemd-journald's FSS does the same per
# interval). At the end of an epoch the store writes one EV_SEAL record:
#
#   data = ver 1 | kid (8) | epoch varint | first seq varint | n varint
#          | n x (d varint, tag (4)) | prev mac (16) | mac (16)
#
# listing every record written since the previous seal: d = (seq gap << 1) | is_fix, tag =
# SHA-256(0x01 | k_e | canon(record))[:4] (the 32-byte state is never shown: no length
# extension); mac = HMAC-SHA256(k_e, "opentag/seal/v1" | data before mac)[:16] chains the
# previous seal's mac. Per-record tags and not one hash over the epoch: thinning later drops
# every other fix, with no old key left to seal what remains; each survivor still verifies on
# its own and the seal still lists (as fixes) what thinning took.
#
# What survives power loss: the key slot (epoch, last sealed seq, k_e, prev mac; written whole
# by the slot object, atomically) and the seals in the log. A cut between a seal's write and the
# slot's update leaves the slot one epoch behind its newest seal: boot() finishes the step.
import hashlib

from tagcore import record as R
from tagcore.compat import const
from tagcore.uplink.cose import Hmac

VERSION = const(1)
TAG_LEN = const(4)
MAC_LEN = const(16)
KEY_LEN = const(32)
KID_LEN = const(8)
SEAL_EVERY = const(900)  # s: the longest a synced record waits unsealed (the exposure window)
SEAL_MAX = const(128)  # records per seal: bounds its frame (5 B each) and the RAM to build it
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


def seal_body(kid, epoch, recs, prev, k):
    """The seal's data up to its mac, for records [(seq, kind, value)] in seq order."""
    b = bytearray()
    b.append(VERSION)
    b.extend(kid)
    R.put_varint(b, epoch)
    R.put_varint(b, recs[0][0] if recs else 0)
    R.put_varint(b, len(recs))
    last = recs[0][0] if recs else 0
    for r in recs:
        R.put_varint(b, ((r[0] - last) << 1) | (1 if r[1] == R.KIND_FIXES else 0))
        last = r[0]
        b.extend(record_tag(k, r[0], r[1], r[2]))
    b.extend(prev)
    return b


def parse(data):
    """(kid, epoch, [(seq, is_fix, tag)], prev, mac, body length) of a seal's data, or None."""
    try:
        end = len(data)
        if end < 1 + KID_LEN + 3 + 2 * MAC_LEN or data[0] != VERSION:
            return None
        kid = bytes(data[1 : 1 + KID_LEN])
        i = 1 + KID_LEN
        epoch, i = R.get_varint(data, i, end)
        seq, i = R.get_varint(data, i, end)
        n, i = R.get_varint(data, i, end)
        lst = []
        for _ in range(n):
            d, i = R.get_varint(data, i, end)
            seq += d >> 1
            if i + TAG_LEN > end:
                return None
            lst.append((seq, d & 1, bytes(data[i : i + TAG_LEN])))
            i += TAG_LEN
        if i + 2 * MAC_LEN != end:
            return None
        prev = bytes(data[i : i + MAC_LEN])
        return kid, epoch, lst, prev, bytes(data[i + MAC_LEN :]), i + MAC_LEN
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
    import binascii

    b = bytearray(SLOT_MAGIC)
    _put32(b, epoch)
    _put32(b, hi)
    b.extend(k)
    b.extend(prev)
    _put32(b, binascii.crc32(b) & 0xFFFFFFFF)
    return b


def unpack_slot(b):
    """(epoch, last sealed seq, k_e, prev mac), or None if absent or damaged."""
    import binascii

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

    def boot(self, st, now):
        st_ = unpack_slot(self.slot.load())
        self.ready = True
        self.t0 = now
        self.acc = st.thin_total + st.counts.get("dropped", 0)
        if st_ is None:
            st._count("seal_nokey")
            self.key = None
            return
        self.epoch, self.hi, self.key, self.prev = st_
        if st.seal_seq:  # the newest seal on flash: a cut may have kept the slot from moving
            recs, _ = st.read(st.seal_seq, 1)
            if recs and recs[0][0] == st.seal_seq and recs[0][1] == R.EV_SEAL:
                p = parse(recs[0][2][1])
                if p is not None and p[1] >= self.epoch and p[1] - self.epoch < 64 and p[2]:
                    k = key_at(self.key, p[1] - self.epoch)
                    if seal_mac(k, recs[0][2][1][: p[5]]) == p[4]:
                        self.key = k
                        self.epoch = p[1]
                        self._step(p[2][-1][0], p[4])
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

    def seal(self, st):
        """Seal every record on flash after the last seal (several seals if there are more
        than max_recs). Returns the number of seals written."""
        if self.key is None or self.busy:
            return 0
        self.busy = True
        self.acc = st.thin_total + st.counts.get("dropped", 0)
        n = 0
        try:
            while True:
                # up to twice max_recs: the check runs per synced frame, so an epoch ends with
                # a little over max_recs (a seal per 128 and another for the few left over
                # doubled the seals at 1 Hz). A failed read seals the prefix it got.
                lim = 2 * self.max_recs
                got, _ = st.read(self.hi + 1, lim)
                more = len(got) >= lim
                recs = [r for r in got if r[1] != R.EV_SEAL]
                got = None
                if not recs:
                    break
                body = seal_body(self.kid, self.epoch, recs, self.prev, self.key)
                while len(body) + MAC_LEN + 16 > st.seg_bytes and len(recs) > 1:
                    recs = recs[: len(recs) // 2]  # the seal's frame must fit a segment
                    more = True
                    body = seal_body(self.kid, self.epoch, recs, self.prev, self.key)
                mac = seal_mac(self.key, body)
                body.extend(mac)
                seq = st.next_seq
                st.next_seq += 1
                if not st._write(R.frame(R.EV_SEAL, seq, R.event_payload(st.now, body)), seq, seq):
                    st.next_seq = seq
                    st._count("seal_nospace")
                    break
                if not st.buf:
                    st.buf_seq = st.next_seq
                n += 1
                st._count("seals")
                if not self._step(recs[-1][0], mac):
                    st._count("seal_slot_failed")
                acc = st.thin_total + st.counts.get("dropped", 0)
                if not more and acc == self.acc:
                    break
                self.acc = acc  # the seal's own write thinned or dropped: seal that account too
        finally:
            self.busy = False
        self.due = False
        self.t0 = st.now
        return n

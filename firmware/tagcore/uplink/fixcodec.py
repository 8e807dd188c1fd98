# The uplink's packed fix run (record kind 1 in a batch, docs/uplink.md): the run's first fix
# in full (tagcore.store.record's varints), then for every later fix ten channels of differences,
# each bit-packed at one width for the whole run:
#
#   first fix (record.encode_fix, prev None) | if count > 1: zz(base dt) varint |
#   width u8 x 10 | bits, LSB first, zero-padded to a byte
#   channels: 0 t: zz(dt - previous dt, the first step's previous being base dt)
#             1 ms: zz(d ms)    2 lat: zz(d)    3 lon: zz(d)
#             4 misc XOR previous misc (presence, sats, quality, mode, flags)
#             5..9 alt, speed, course, acc, hdop: zz(d) if present in both fixes, zz(value)
#             if present only in this one, nothing if absent (misc says which)
#
# Why: a varint costs at least a byte per field, ten bytes a fix however still the wearer is;
# at 1 fix/min the store's codec takes 13-15 B a fix. With one width per channel per run a
# constant interval costs 0 bits, a small change a few, so a 60-fix run is about 8-10 B a fix.
# Its reader (decode) is tagcore.uplink.fixdecode: the server's and the tests', never loaded on
# the tag (about 3 KB of heap a board without PSRAM keeps for the upload's TLS handshake).
from tagcore.compat import const
from tagcore.store import record as R

CHANNELS = const(10)
MAX_WIDTH = const(64)
_NULLABLE = (4, 5, 6, 7, 8)


class Packer:
    """Collects a run's fixes (at most `cap`) and writes the packed run into a bytearray.
    The differences wait in one list allocated here: small ints, no allocation per fix."""

    def __init__(self, cap):
        self.cap = cap
        self.vals = [0] * (cap * CHANNELS)
        self.widths = [0] * CHANNELS
        self.n = 0
        # The previous fix's fields, copied (a caller may hand the same list, refilled, for
        # every fix: tagcore.uplink.batch decodes each fix of a frame into `cur`).
        self.prev = [0, 0, 0, 0, None, None, None, None, None, 0, 0, 0, 0]  # set by start
        self.cur = [0, 0, 0, 0, None, None, None, None, None, 0, 0, 0, 0]
        self.pmisc = 0
        self.pdt = 0
        self.base = 0

    def start(self, out, f):
        """Begin a run with fix f, written in full into `out`."""
        for j in range(CHANNELS):
            self.widths[j] = 0
        self.n = 1
        self.pmisc = R.encode_fix(out, f, None, 0)
        self._keep(f)
        self.pdt = 0

    def _keep(self, f):
        p = self.prev
        for j in range(13):
            p[j] = f[j]

    def full(self):
        return self.n >= self.cap

    def add(self, f):
        p = self.prev
        vals = self.vals
        w = self.widths
        o = (self.n - 1) * CHANNELS
        dt = f[0] - p[0]
        if self.n == 1:  # the run's interval: the prediction for its first step
            self.base = dt
            self.pdt = dt
        misc = R._misc(f)
        vals[o] = R.zz(dt - self.pdt)
        vals[o + 1] = R.zz(f[1] - p[1])
        vals[o + 2] = R.zz(f[2] - p[2])
        vals[o + 3] = R.zz(f[3] - p[3])
        vals[o + 4] = misc ^ self.pmisc
        for k in range(5):
            v = f[_NULLABLE[k]]
            if v is None:
                vals[o + 5 + k] = -1
            else:
                q = p[_NULLABLE[k]]
                vals[o + 5 + k] = R.zz(v - q) if q is not None else R.zz(v)
        for j in range(CHANNELS):
            v = vals[o + j]
            wj = w[j]
            while v >> wj > 0:  # -1 >> n stays -1: an absent field never widens
                wj += 1
            w[j] = wj
        self.pdt = dt
        self.pmisc = misc
        self._keep(f)
        self.n += 1

    def finish(self, out):
        """Append the widths and the packed differences of fixes 2..n to `out` (nothing for a
        run of one fix)."""
        if self.n < 2:
            return
        R.put_varint(out, R.zz(self.base))
        w = self.widths
        for j in range(CHANNELS):
            out.append(w[j])
        vals = self.vals
        acc = 0
        nb = 0
        for i in range((self.n - 1) * CHANNELS):
            v = vals[i]
            if v < 0:
                continue
            k = w[i % CHANNELS]
            while k > 0:  # at most 16 bits at a time: acc stays a small int on the ESP32
                c = k if k < 16 else 16
                acc |= (v & ((1 << c) - 1)) << nb
                v >>= c
                k -= c
                nb += c
                while nb >= 8:
                    out.append(acc & 0xFF)
                    acc >>= 8
                    nb -= 8
        if nb:
            out.append(acc)

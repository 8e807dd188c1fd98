# The uplink's packed fix runs (tagcore.uplink.fixcodec), both runtimes: every run decodes to
# the fixes packed, and anything that is not exactly one run is refused with ValueError.
from tagcore.fix import Fix
from tagcore.uplink import fixcodec, fixdecode

T0 = 800000000


class Lcg:
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


# One packer, made at import while the heap is whole, as the client keeps one (64 x 10 slots).
PK = fixcodec.Packer(64)


def pack(fixes):
    pk = PK
    out = bytearray()
    pk.start(out, fixes[0])
    for f in fixes[1:]:
        assert not pk.full()
        pk.add(f)
    pk.finish(out)
    return bytes(out)


def varied(n, seed):
    r = Lcg(seed)
    out = []
    t = T0
    for _ in range(n):
        t += [60, 60, 61, 1, 3600, 0][r.next(6)]
        nul = r.next(7)
        out.append(
            Fix(
                t,
                r.next(1000) if nul == 3 else 0,
                r.next(180000001) - 90000000,
                r.next(360000001) - 180000000,
                None if nul == 0 else r.next(20000) - 5000,
                None if nul == 1 else r.next(5000),
                None if nul == 2 else r.next(36000),
                None if nul == 4 else r.next(2000),
                None if nul == 5 else r.next(3000),
                r.next(128),
                r.next(16),
                r.next(4),
                r.next(0x10000),
            )
        )
    return out


def check(fixes):
    assert fixdecode.decode(pack(fixes), len(fixes)) == fixes


def test_runs_round_trip():
    for n in (1, 2, 3, 17, 63, 64):  # one at a time: a 64 KB heap
        check(varied(n, n))
    still = [
        Fix(T0 + 60 * k, 0, 51500000, -120000, 300, 0, 0, 50, 90, 9, 1, 3, 2) for k in range(60)
    ]
    check(still)
    # A wearer standing still: the differences take no bits at all.
    assert len(pack(still)) < 40
    check(
        [
            Fix(
                2**31 - 1, 999, 90000000, 180000000, -(2**31), 2**31 - 1, 0, 0, 0, 127, 15, 3, 65535
            ),
            Fix(-(2**31), 0, -90000000, -180000000, None, None, None, None, None, 0, 0, 0, 0),
            Fix(0, 500, 0, 0, 2**31 - 1, None, 35999, None, 1, 1, 1, 1, 1),
        ]
    )


def refused(b, n):
    try:
        fixdecode.decode(b, n)
    except ValueError:
        return True
    return False


def test_anything_but_one_run_is_refused():
    fixes = varied(20, 5)
    b = pack(fixes)
    for k in range(len(b)):
        assert refused(b[:k], 20), k
    assert refused(b + b"\x00", 20)
    assert refused(b, 21)
    assert refused(b, 0)
    assert refused(pack(fixes[:1]) + b"\x00", 1)
    walk = [
        Fix(T0 + 60 * k, 0, 51500000 + 9 * k, -120000, 300, 0, 0, 50, 90, 9, 1, 3, 2)
        for k in range(9)
    ]
    w = pack(walk)
    assert fixdecode.decode(w, 9) == walk
    bad = bytearray(w)
    bad[len(pack(walk[:1])) + 1] = 65  # after the base interval (one byte): a width of 65 bits
    assert refused(bytes(bad), 9)
    if b[-1] != 0xFF:  # padding bits must be zero
        bad = bytearray(b)
        bad[-1] |= 0x80
        assert refused(bytes(bad), 20) or fixdecode.decode(bytes(bad), 20) != fixes


def test_random_bytes_only_ever_raise_value_error():
    r = Lcg(3)
    for _ in range(300):
        n = r.next(40)
        b = bytes(r.next(256) for _ in range(n))
        try:
            fixdecode.decode(b, 1 + r.next(5))
        except ValueError:
            pass

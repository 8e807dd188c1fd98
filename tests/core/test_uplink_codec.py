# The uplink's CBOR subset, HMAC and COSE_Mac0 (both runtimes). Expected bytes come from
# outside the code under test: RFC 4231 (HMAC), RFC 8949 appendix A (CBOR), and messages that
# pycose 1.1 wrote (tests/test_uplink_oracle.py checks the same against pycose live).
from binascii import hexlify, unhexlify

from tagcore.uplink import cbor, cose

KEY = bytes(range(32))
KID = b"TAG00001"
# pycose: Mac0Message(phdr={Algorithm: HMAC25664}, uhdr={KID: KID}, key=KEY), these payloads.
PYCOSE_DOWN = unhexlify(
    "d18443a10104a1044854414730303030315823a5014854414730303030310205031904d2041a2faf08000582"
    "83040240830207427a7a48eecdb1fd29fa09dd"
)
PYCOSE_UP_HELLO = unhexlify("d18443a10104a1044854414730303030314568656c6c6f4879ad4e32142ee297")


def h(b):
    return hexlify(b).decode()


def test_hmac_rfc4231():
    vectors = [
        (
            b"\x0b" * 20,
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ]
    for key, msg, want in vectors:
        m = cose.Hmac(key)
        m.update(msg)
        assert h(m.digest()) == want
        m = cose.Hmac(key)  # fed in pieces: the same
        for i in range(0, len(msg), 5):
            m.update(msg[i : i + 5])
        assert h(m.digest()) == want


def enc_int(v):
    out = bytearray()
    cbor.put_int(out, v)
    return h(out)


def test_cbor_rfc8949_vectors():
    ints = [
        (0, "00"),
        (1, "01"),
        (23, "17"),
        (24, "1818"),
        (25, "1819"),
        (100, "1864"),
        (255, "18ff"),
        (256, "190100"),
        (1000, "1903e8"),
        (65535, "19ffff"),
        (65536, "1a00010000"),
        (1000000, "1a000f4240"),
        (4294967295, "1affffffff"),
        (4294967296, "1b0000000100000000"),
        (1000000000000, "1b000000e8d4a51000"),
        (18446744073709551615, "1bffffffffffffffff"),
        (-1, "20"),
        (-10, "29"),
        (-24, "37"),
        (-25, "3818"),
        (-100, "3863"),
        (-1000, "3903e7"),
    ]
    for v, want in ints:
        assert enc_int(v) == want, (v, enc_int(v))
        assert cbor.decode(unhexlify(want)) == v
        assert cbor.head_len(v if v >= 0 else -1 - v) == len(want) // 2
    for v, want in ((b"", "40"), (b"\x01\x02\x03\x04", "4401020304")):
        out = bytearray()
        cbor.put_bytes(out, v)
        assert h(out) == want
        assert cbor.decode(unhexlify(want)) == v
    assert cbor.decode(unhexlify("6449455446")) == "IETF"
    assert cbor.decode(unhexlify("83010203")) == [1, 2, 3]
    assert cbor.decode(unhexlify("8301820203820405")) == [1, [2, 3], [4, 5]]
    assert cbor.decode(unhexlify("a201020304")) == {1: 2, 3: 4}
    t = cbor.decode(unhexlify("d1456449455446"))
    assert t.tag == 17 and t.value == b"dIETF"
    # Other tags carry semantics (RFC 8949 3.4: dates, bignums, ...): outside the profile.
    for x in ("d818456449455446", "c074323031332d30332d32315432303a30343a30305a", "c11a514b67b0"):
        assert refused(unhexlify(x)), x


def refused(b):
    try:
        cbor.decode(b)
    except ValueError:
        return True
    return False


def test_cbor_refuses_what_is_outside_the_subset():
    for x in (
        "f4",  # false
        "f5",
        "f6",  # null
        "f7",
        "f93c00",  # half float
        "fa47c35000",
        "fb3ff199999999999a",
        "5f42010243030405ff",  # indefinite bstr
        "9fff",  # indefinite array
        "bfff",  # indefinite map
        "1c",  # reserved additional info
        "a2010201",  # duplicate key
        "a1614101",  # text key
        "a18101",  # array key
        "62c328",  # invalid utf-8
        "0000",  # trailing byte
        "",
    ):
        assert refused(unhexlify(x)), x
    deep = b"\x81" * cbor.MAX_DEPTH + b"\x00"
    assert cbor.decode(deep) is not None
    assert refused(b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00")
    # Lengths that promise more than the buffer holds, without allocating them first.
    for x in ("5bffffffffffffffff", "9bffffffffffffffff", "bbffffffffffffffff", "1a0001"):
        assert refused(unhexlify(x)), x


def test_cbor_every_truncation_refused():
    msg = PYCOSE_DOWN
    for n in range(len(msg)):
        assert refused(msg[:n]), n
    assert refused(msg + b"\x00")


def test_cose_writes_what_pycose_writes():
    assert bytes(cose.encode(KEY, KID, cose.AAD_UP, b"hello")) == PYCOSE_UP_HELLO
    assert cose.decode(KEY, KID, cose.AAD_UP, PYCOSE_UP_HELLO) == (b"hello", None)
    p, why = cose.decode(KEY, KID, cose.AAD_DOWN, PYCOSE_DOWN)
    assert why is None
    assert cbor.decode(p)[5] == [[4, 2, b""], [2, 7, b"zz"]]


def test_cose_refuses_wrong_key_aad_kid_and_reflection():
    msg = PYCOSE_DOWN
    assert cose.decode(bytes(32), KID, cose.AAD_DOWN, msg) == (None, cose.FORGED)
    assert cose.decode(KEY[:16], KID, cose.AAD_DOWN, msg) == (None, cose.FORGED)
    # A tag's own message reflected back is never a valid answer (domain separation).
    assert cose.decode(KEY, KID, cose.AAD_DOWN, PYCOSE_UP_HELLO) == (None, cose.FORGED)
    assert cose.decode(KEY, b"TAG00002", cose.AAD_DOWN, msg) == (None, cose.MALFORMED)


def test_cose_every_byte_change_refused():
    msg = PYCOSE_DOWN
    for i in range(len(msg)):
        for x in (0x01, 0x80, 0xFF):
            bad = bytearray(msg)
            bad[i] ^= x
            p, why = cose.decode(KEY, KID, cose.AAD_DOWN, bad)
            assert p is None and why in (cose.FORGED, cose.MALFORMED), (i, x)


def test_cose_refuses_other_shapes():
    good = cbor.decode(PYCOSE_UP_HELLO).value

    def build(tag, items):
        out = bytearray()
        if tag is not None:
            cbor.put_head(out, cbor.TAG, tag)
        cbor.put_head(out, cbor.ARRAY, len(items))
        for it in items:
            if type(it) is bytes:
                cbor.put_bytes(out, it)
            elif type(it) is dict:
                cbor.put_head(out, cbor.MAP, len(it))
                for k in sorted(it):
                    cbor.put_int(out, k)
                    cbor.put_bytes(out, it[k]) if type(it[k]) is bytes else cbor.put_int(out, it[k])
            else:
                cbor.put_int(out, it)
        return out

    prot, unprot, payload, tag = good
    assert cose.decode(KEY, KID, cose.AAD_UP, build(17, good)) == (b"hello", None)
    cases = [
        build(None, good),  # untagged
        build(18, good),  # COSE_Sign1's tag
        build(17, [prot, unprot, payload]),
        build(17, [prot, unprot, payload, tag, b""]),
        build(17, [b"\xa1\x01\x05", unprot, payload, tag]),  # alg HMAC 256/256
        build(17, [b"\xa2\x01\x04\x02\x01", unprot, payload, tag]),  # crit beside alg
        build(17, [b"", unprot, payload, tag]),
        build(17, [prot, {4: KID, 1: 4}, payload, tag]),
        build(17, [prot, {}, payload, tag]),
        build(17, [prot, {4: 7}, payload, tag]),
        build(17, [prot, unprot, 5, tag]),
        build(17, [prot, unprot, payload, tag[:4]]),
        build(17, [prot, unprot, payload, tag + tag]),
    ]
    for c in cases:
        assert cose.decode(KEY, KID, cose.AAD_UP, c)[0] is None, h(c)


def test_bad_bytes_raise_only_valueerror_and_a_wrong_type_raises_typeerror():
    # The decoder's one failure for bad bytes is ValueError (what cose, ack and the server
    # catch); anything else, such as a caller handing it no buffer, is not bad input.
    for i in range(len(PYCOSE_DOWN)):
        for x in (0x01, 0x20, 0x80, 0xFF):
            bad = bytearray(PYCOSE_DOWN)
            bad[i] ^= x
            try:
                cbor.decode(bad)
            except ValueError:
                pass
    for wrong in (None, 12345):
        for call in (
            lambda w: cbor.decode(w),
            lambda w: cose.decode(KEY, KID, cose.AAD_DOWN, w),
        ):
            try:
                call(wrong)
            except TypeError:
                pass
            else:
                raise AssertionError(repr(wrong))  # taken for a malformed message

# The tag configuration loader (tagcore.app.config) on both runtimes: a blob built by hand here
# (the format in config.py's opening comment), never by the code under test.
import binascii
import struct

from tagcore.app import config


def blob(fields, sections=(), version=1, crc_ok=True):
    b = bytearray(b"OTCF")
    b.append(version)
    b.append(len(fields))
    for kid, v in fields:
        b += struct.pack("<Bi", kid, v)
    b.append(len(sections))
    for kind, data in sections:
        b += struct.pack("<BI", kind, len(data))
        b += data
    c = binascii.crc32(b) & 0xFFFFFFFF
    b += struct.pack("<I", c if crc_ok else c ^ 1)
    return bytes(b)


def test_values_and_sections_load():
    cfg, counts = config.load(blob([(1, 30), (9, 1)], [(1, b"zz"), (2, b"bb")]))
    assert counts == {}
    assert cfg.fix_interval_s == 30 and cfg.minimise == 1
    assert cfg.max_search_s == 120  # not given: the default
    assert cfg.zones_blob == b"zz" and cfg.beacon_blob == b"bb"


def test_a_value_out_of_range_keeps_its_default_and_is_counted():
    cfg, counts = config.load(blob([(1, 0), (4, 900000), (2, 60)]))
    assert counts == {"range_fix_interval_s": 1, "range_upload_interval_s": 1}
    assert cfg.fix_interval_s == 60 and cfg.upload_interval_s == 900 and cfg.max_search_s == 60


def test_unknown_keys_and_sections_are_skipped_and_counted():
    cfg, counts = config.load(blob([(200, 5), (1, 45)], [(9, b"x")]))
    assert counts == {"unknown_key": 1, "unknown_section": 1} and cfg.fix_interval_s == 45


def test_a_blob_that_fails_its_checks_gives_the_defaults():
    good = blob([(1, 30)])
    cases = (
        (blob([(1, 30)], crc_ok=False), "bad_crc"),
        (blob([(1, 30)], version=2), "bad_version"),
        (b"XXXX" + good[4:], "bad_magic"),
        (good[:8], "bad_magic"),  # too short to hold a CRC
        (b"", "bad_magic"),
    )
    for b, why in cases:
        cfg, counts = config.load(b)
        assert counts == {why: 1}, (why, counts)
        assert cfg.fix_interval_s == 60


def test_every_truncation_and_bit_flip_is_refused_without_raising():
    good = blob([(1, 30), (6, 100)], [(1, b"zone bytes")])
    for n in range(len(good)):
        cfg, counts = config.load(good[:n])
        assert counts and cfg.fix_interval_s == 60
    for i in range(len(good)):
        for bit in (0, 3, 7):
            b = bytearray(good)
            b[i] ^= 1 << bit
            cfg, counts = config.load(bytes(b))
            assert counts  # a flipped bit never passes the CRC unnoticed


def recrc(b):
    b = bytearray(b[:-4])
    b += struct.pack("<I", binascii.crc32(b) & 0xFFFFFFFF)
    return bytes(b)


def test_a_structure_that_lies_about_its_length_is_refused_under_a_good_crc():
    # What a buggy writer could produce: the CRC holds, the counts and lengths do not. Each is
    # refused whole and counted, never raised, on both runtimes.
    good = blob([(1, 30)], [(1, b"zone bytes")])
    lies = []
    for nfields in (2, 3, 255):  # more fields than the blob holds
        b = bytearray(good)
        b[5] = nfields
        lies.append(b)
    for nsec in (2, 255):  # more sections than the blob holds
        b = bytearray(good)
        b[11] = nsec
        lies.append(b)
    for ln in (11, 12, 0xFFFFFFFF):  # a section longer than what is left
        b = bytearray(good)
        struct.pack_into("<I", b, 13, ln)
        lies.append(b)
    lies.append(blob([(1, 30)])[:11] + bytes(4))  # the section count itself missing
    for b in lies:
        cfg, counts = config.load(recrc(bytes(b)))
        assert counts.get("malformed") == 1, (bytes(b), counts)
        assert cfg.fix_interval_s == 60 and cfg.zones_blob is None


def test_a_blob_that_is_not_bytes_raises_instead_of_being_counted():
    # A caller's mistake is not bad input: it must not become a silent "malformed" and defaults.
    for wrong in (None, 12345, 3.5):
        try:
            config.load(wrong)
        except TypeError:
            pass
        else:
            raise AssertionError(repr(wrong))

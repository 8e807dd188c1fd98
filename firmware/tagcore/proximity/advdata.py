# BLE advertising data of the victim's beacon: built by the beacon, parsed by the tag.
#
# Advertising data is a run of AD structures: length u8 (covering type + data), type u8, data.
# The beacon sends two (16 bytes of the 31 a legacy advertisement allows):
#   02 01 04                        Flags: BR/EDR not supported, not discoverable
#   0C FF FF FF 01 <id: 8 bytes>    Manufacturer specific: company 0xFFFF (the Bluetooth SIG's
#                                   test/unassigned value), format 1, the rolling identifier
# Format 2 is the victim's phone's authenticated time for the beacon (proximity.phonetime).
# Everything the tag parses is untrusted radio input: it never raises, it answers -1 and
# counts why (the counts dict is the caller's).
from tagcore.compat import const

FORMAT = const(1)
AD_FLAGS = const(0x01)
AD_MANUFACTURER = const(0xFF)
COMPANY = const(0xFFFF)
# Legacy advertisements carry 31 bytes, extended ones up to 1650 in chains; a controller hands
# over at most 255 per report. More than that is not a real report.
MAX_ADV = const(255)
_OUR_LEN = const(12)  # type, company (2), format, id (ID_LEN = 8)


def build_adv(ident):
    """The advertising payload carrying identifier `ident` (ID_LEN bytes)."""
    b = bytearray(b"\x02\x01\x04\x00\xff\xff\xff\x00")
    b[3] = _OUR_LEN
    b[7] = FORMAT
    b.extend(ident)
    return bytes(b)


def _count(counts, k):
    counts[k] = counts.get(k, 0) + 1


def find_id(adv, counts):
    """Index in `adv` of the identifier of a beacon frame, or -1 (reason counted).

    `adv` is any bytes-like object (bytes, bytearray, memoryview). A frame is ours when an AD
    structure has type 0xFF, company 0xFFFF and format 1; one of those with the wrong length,
    or an AD structure running past the end, rejects the whole report (counted).
    """
    return find_frame(adv, counts, FORMAT, _OUR_LEN)


def find_frame(adv, counts, fmt, size):
    """Index in `adv` of the data after the format byte of the one AD structure 0xFF | 0xFFFF |
    fmt (its length byte must be `size`), or -1 (reason counted, as find_id says): format 1 is
    the beacon's identifier, format 2 the phone's time (proximity.phonetime)."""
    try:
        n = len(adv)
    except TypeError:
        _count(counts, "adv_type")
        return -1
    if n > MAX_ADV:
        _count(counts, "adv_too_long")
        return -1
    i = 0
    found = -1
    while i < n:
        ln = adv[i]
        if ln == 0:  # zero length: the rest is padding (Core spec vol 3 part C 11)
            break
        if i + 1 + ln > n:
            _count(counts, "ad_overrun")
            return -1
        if adv[i + 1] == AD_MANUFACTURER and ln >= 4:
            if adv[i + 2] | (adv[i + 3] << 8) == COMPANY and adv[i + 4] == fmt:
                if ln != size:
                    _count(counts, "bad_frame")
                    return -1
                if found >= 0:
                    _count(counts, "two_frames")
                    return -1
                found = i + 5
        i += 1 + ln
    if found < 0:
        _count(counts, "not_beacon")
    return found

# A beacon's identifier window for the tag (format: tagcore.proximity.idtable), made from the
# beacon's secret. Host code: the tag holds only the window, never the secret.
from tagcore.proximity.beaconid import DEFAULT_INTERVAL_S, ID_LEN, rolling_id
from tagcore.proximity.idtable import MAGIC


def window_blob(secret, beacon, first, count, interval_s=DEFAULT_INTERVAL_S):
    """The table blob for intervals first .. first + count - 1 (host side; needs the secret)."""
    b = bytearray(MAGIC)
    b.append(ID_LEN)
    b.append(beacon)
    b.append(interval_s & 0xFF)
    b.append(interval_s >> 8)
    for s in (0, 8, 16, 24):
        b.append((first >> s) & 0xFF)
    b.append(count & 0xFF)
    b.append(count >> 8)
    for k in range(first, first + count):
        b.extend(rolling_id(secret, k))
    return bytes(b)

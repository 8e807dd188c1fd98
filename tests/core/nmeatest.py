# Helpers for the NMEA core tests (both runtimes).
from tagcore.gnss.nmea import NmeaReader


def cs(body):
    """'$' + body + '*hh' with the right checksum, as bytes."""
    if isinstance(body, str):
        body = body.encode()
    x = 0
    for c in body:
        x ^= c
    return b"$" + body + b"*" + f"{x:02X}".encode()


def run(data, chunk=0, **kw):
    """Feed data (in chunks of `chunk` bytes if > 0), flush, return (reader, fixes)."""
    r = NmeaReader(**kw)
    fixes = []
    if chunk <= 0:
        chunk = len(data) or 1
    for i in range(0, len(data), chunk):
        r.feed(data[i : i + chunk])
        while True:
            f = r.pop()
            if f is None:
                break
            fixes.append(f)
    r.flush()
    while True:
        f = r.pop()
        if f is None:
            break
        fixes.append(f)
    return r, fixes


def lines(*bodies):
    return b"".join(cs(b) + b"\r\n" for b in bodies)

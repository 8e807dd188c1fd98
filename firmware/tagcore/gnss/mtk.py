# MediaTek (PMTK) and CASIC ($PCAS, Quectel L76K) commands: NMEA-framed text with a checksum.
# The L76K takes $PCAS and some $PMTK; standby is $PCAS12 (a timed standby that any UART byte
# ends early) or $PMTK161,0. These receivers have no backup mode of the u-blox kind: software
# standby keeps ephemeris at about 0.36-1 mA. PCAS commands are never acknowledged; PMTK ones
# answer $PMTK001,<cmd>,<flag> (pmtk_ack parses it).
FAMILY = "mtk"
SOFT_BACKUP = True  # software standby: keeps ephemeris, wakes on a UART byte
CYCLIC = True  # PMTK225 periodic mode (MediaTek); the L76K driver below says False

_HEX = b"0123456789ABCDEF"

WAKE_BYTES = b"\r\n"  # any byte ends standby; a line end is harmless to every parser


def xor(body):
    c = 0
    for b in body:
        c ^= b
    return c


def sentence(body, crlf=True):
    """b'$' + body + b'*' + checksum (+ CRLF): body is the text between '$' and '*'."""
    c = xor(body)
    out = b"$" + body + b"*" + bytes((_HEX[c >> 4], _HEX[c & 15]))
    return out + b"\r\n" if crlf else out


def _n(v):
    return str(v).encode()


def pmtk(cmd, *args):
    body = b"PMTK" + _n(cmd)
    for a in args:
        body += b"," + _n(a)
    return sentence(body)


def pcas(cmd, *args):
    body = b"PCAS" + (b"0" if cmd < 10 else b"") + _n(cmd)
    for a in args:
        body += b"," + (b"" if a is None else _n(a))
    return sentence(body)


# MediaTek
def pmtk_standby():
    return pmtk(161, 0)


def pmtk_normal():
    return pmtk(225, 0)


def pmtk_periodic(run_ms, sleep_ms, run2_ms, sleep2_ms, backup=False):
    """PMTK225 periodic mode: 1 = backup between runs, 2 = standby between runs."""
    return pmtk(225, 1 if backup else 2, run_ms, sleep_ms, run2_ms, sleep2_ms)


def pmtk_rate(ms):
    return pmtk(220, ms)


# CASIC (L76K)
def pcas_standby(seconds):
    """$PCAS12,<s>: standby for s seconds (65535 = until a UART byte)."""
    return pcas(12, seconds)


def pcas_rate(ms):
    return pcas(2, ms)


def pcas_save():
    return pcas(0)


def pmtk_ack(line):
    """A $PMTK001,<cmd>,<flag> line (bytes, checksum checked) as (cmd, ok); None otherwise.
    flag 3 = success; 0 invalid, 1 unsupported, 2 valid but failed."""
    s = line.strip()
    if len(s) < 15 or not s.startswith(b"$PMTK001,") or s[-3] != 0x2A:
        return None
    body = s[1:-3]
    try:
        if int(s[-2:], 16) != xor(body):
            return None
        f = body.split(b",")
        if len(f) < 3:
            return None
        return int(f[1]), f[2] == b"3"
    except ValueError:
        return None


class L76K:
    # The L76K through CASIC: rail and standby; no acknowledged command, no periodic mode the
    # tag relies on.
    FAMILY = "l76k"
    SOFT_BACKUP = True
    CYCLIC = False
    WAKE_BYTES = WAKE_BYTES

    @staticmethod
    def setup():
        # GGA, GSA, RMC on; GLL, GSV, VTG, ZDA... off ($PCAS03 field order: GGA, GLL, GSA, GSV,
        # RMC, VTG, ZDA, ANT, DHV, LPS, -, -, UTC, GST)
        return [(pcas(3, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, None, None, 0, 0), None)]

    @staticmethod
    def continuous():
        return []

    @staticmethod
    def cyclic(period_ms=1000):
        return []

    @staticmethod
    def backup(duration_ms=0):
        s = duration_ms // 1000
        return [(pcas_standby(s if 0 < s < 65535 else 65535), None)]

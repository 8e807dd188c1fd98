"""The C/N0 the integrity hook reads from GSV, held against pynmea2 on every corpus GSV that
pynmea2 accepts, and against the simulator's receiver model (what it put into its GSVs)."""

from __future__ import annotations

import pynmea2
from corpus import sentences
from tagcore.gnss.integrity import Integrity
from tagcore.gnss.nmea import NmeaReader

# Integrity.cn0's slots (tagcore.gnss.integrity._CN0_*: folded by the compiler, no names in RAM)
GSVS, TRACKED, CN0_SUM, SQUARES, CN0_MAX = range(5)


def _cn0_of(line: bytes) -> list[int] | None:
    """The C/N0 pynmea2 reads from one GSV (only the four blocks the hook reads)."""
    try:
        msg = pynmea2.parse(line.decode("ascii"), check=True)
    except (pynmea2.ParseError, UnicodeDecodeError, ValueError, TypeError, AttributeError):
        return None
    out = []
    for i in range(1, 5):
        v = getattr(msg, f"snr_{i}", "") or ""
        if v.strip():
            out.append(int(v))
    return out


def test_gsv_cn0_matches_pynmea2_on_the_corpus() -> None:
    checked = 0
    for _name, line in sentences():
        if line[3:6] != b"GSV" or b"*" not in line:
            continue
        want = _cn0_of(line)
        if want is None:
            continue
        r = NmeaReader(checksum=2)
        g = Integrity()
        g.attach(r)
        r.feed(line + b"\r\n")
        if r.s_type == 0:  # the core refused the sentence (counted): pynmea2 is laxer
            continue
        tracked = [v for v in want if v > 0]
        assert g.cn0[TRACKED] == len(tracked), line
        assert g.cn0[CN0_SUM] == sum(tracked), line
        assert g.cn0[SQUARES] == sum(v * v for v in tracked), line
        assert g.cn0[CN0_MAX] == max(tracked, default=0), line
        checked += 1
    assert checked > 2000, checked

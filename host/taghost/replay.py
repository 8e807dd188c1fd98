"""Replay a field log or receiver capture through the core: NMEA reader, then fix filter.

Streamed: the capture is read in blocks and each fix is handed on as it comes, so memory stays
bounded whatever the file's size (bench/bench_replay.py measures it).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tagcore.fix import Fix
from tagcore.gnss.epoch import GPS_EPOCH_DAYS, days_from_civil, valid_date
from tagcore.gnss.fixfilter import FixFilter
from tagcore.gnss.nmea import DEFAULT_FLOOR_DAYS, NmeaReader
from tagkit.civil import civil_from_days

from taghost.errors import UserError
from taghost.units import iso_ms, to_datetime

BLOCK = 1 << 16  # bytes read from the file at a time (and the longest line piece held)
INFER_BYTES = 16 << 20  # how far into a capture the date floor is looked for
SNIFF_BYTES = 1 << 16  # the head of a file looked at to tell a binary capture


@dataclass
class Verdict:
    fix: Fix
    accepted: bool
    reason: str  # why the filter rejected it ("" when accepted)


@dataclass
class Totals:
    """What a replay counted; complete once its verdicts have all been taken."""

    reader_counts: dict[str, int] = field(default_factory=dict)
    filter_counts: dict[str, int] = field(default_factory=dict)
    sentences: int = 0
    epochs: int = 0
    bytes_in: int = 0

    @property
    def framed(self) -> int:
        """Lines that looked like NMEA sentences, used or not (everything but byte noise)."""
        noise = ("junk_bytes", "nonprintable", "too_long", "truncated")
        return self.sentences + sum(v for k, v in self.reader_counts.items() if k not in noise)


def parse_floor(text: str) -> int:
    """A date floor given as YYYY-MM-DD, as a day number since 2000-01-01."""
    try:
        d = datetime.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--floor wants a date as YYYY-MM-DD, not {text!r}") from None
    return days_from_civil(d.year, d.month, d.day)


def receiver_bytes(fh: BinaryIO, block: int = BLOCK) -> Iterator[bytes]:
    """The receiver's bytes from a capture, in pieces of at most `block` bytes. Lines starting
    with '#' are annotations (the gpsd captures' headers, a tester's notes), not receiver
    output, and are left out. Memory is one block, whatever the file."""
    at_start, skip = True, False  # at a line start; inside an annotation line
    while data := fh.read(block):
        i, n = 0, len(data)
        while i < n:
            if skip or (at_start and data[i] == 0x23):  # '#': an annotation to its line end
                j = data.find(b"\n", i)
                skip, at_start = j < 0, j >= 0
                i = n if j < 0 else j + 1
                continue
            k = data.find(b"\n#", i)  # receiver bytes up to the next annotation, in one piece
            end = n if k < 0 else k + 1
            yield data[i:end] if i or end < n else data
            at_start = data[end - 1] == 0x0A
            i = end


def chunks(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-cut a stream into `size`-byte chunks (the last may be shorter), as a UART hands them."""
    if size < 1:
        raise UserError("chunk size must be at least 1 byte")
    buf = bytearray()
    for p in pieces:
        buf += p
        if len(buf) >= size:
            n = len(buf) - len(buf) % size
            for i in range(0, n, size):
                yield bytes(buf[i : i + size])
            del buf[:n]
    if buf:
        yield bytes(buf)


def replay(
    pieces: Iterable[bytes], totals: Totals, floor_days: int = DEFAULT_FLOOR_DAYS, chunk: int = 256
) -> Iterator[Verdict]:
    """Feed the stream through the reader in `chunk`-byte chunks and the fix filter; yield one
    verdict per fix as it is decided. `totals` is filled in as the stream goes."""
    reader = NmeaReader(floor_days=floor_days)
    ff = FixFilter()

    def drain() -> Iterator[Verdict]:
        while (f := reader.pop()) is not None:
            before = dict(ff.counts)
            ok = ff.check(f)
            why = "" if ok else next(k for k, v in ff.counts.items() if v != before.get(k, 0))
            yield Verdict(f, ok, why)

    for part in chunks(pieces, chunk):
        totals.bytes_in += len(part)
        reader.feed(part)
        yield from drain()
    reader.flush()
    yield from drain()
    totals.reader_counts = dict(reader.counts)
    totals.filter_counts = dict(ff.counts)
    totals.sentences = reader.sentences
    totals.epochs = reader.epochs


def open_capture(path: Path) -> BinaryIO:
    """The capture opened for reading, or a UserError saying why it cannot be replayed."""
    if not path.exists():
        raise UserError(f"no such capture: {path}")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a capture file")
    fh = path.open("rb")
    head = fh.read(SNIFF_BYTES)
    fh.seek(0)
    if why := binary_kind(head):
        fh.close()
        raise UserError(
            f"{path} is not an NMEA text capture: {why}. opentag replay reads NMEA 0183 "
            "sentences as a receiver writes them to its UART (a gpsd .log, a terminal capture)"
        )
    return fh


def binary_kind(head: bytes) -> str:
    """Why the head of a file shows it is not an NMEA capture ("" when it may be one). A capture
    may hold line noise or binary frames between its sentences (a u-blox sends both), so only a
    head without a single sentence start that is not mostly text is refused."""
    if not head or re.search(rb"\$[A-Z]{4,6},", head):
        return ""
    text = sum(1 for b in head if 32 <= b < 127 or b in (9, 10, 13))
    if text >= 0.9 * len(head):
        return ""  # text without sentences: the replay says it found none
    what = f"{100 - 100 * text // len(head)}% of its first {len(head)} bytes are not text"
    if b"\xb5\x62" in head:
        return f"binary data, u-blox UBX frames (sync 0xB5 0x62) and no NMEA sentence ({what})"
    return f"binary data with no NMEA sentence ({what})"


def _rmc_day(line: bytes) -> int | None:
    """The day of a valid-checksum RMC with a fix ('A'), by the core's rule (yy 80-99 = 19yy)."""
    star = line.rfind(b"*")
    if not line.startswith(b"$") or star < 0 or line[3:6] != b"RMC":
        return None
    body = line[1:star]
    cs = 0
    for b in body:
        cs ^= b
    if line[star + 1 : star + 3].upper() != b"%02X" % cs:
        return None
    f = body.split(b",")
    if len(f) < 10 or f[2] != b"A" or len(f[9]) != 6 or not f[9].isdigit():
        return None
    d, m, y = int(f[9][:2]), int(f[9][2:4]), int(f[9][4:])
    y += 1900 if y >= 80 else 2000
    return days_from_civil(y, m, d) if valid_date(y, m, d) else None


def first_date(fh: BinaryIO, limit: int = INFER_BYTES) -> int | None:
    """The first date the receiver reports with a fix (RMC 'A'), as given, in the first `limit`
    bytes; None if there is none. The file is left where it was."""
    pos = fh.tell()
    seen = 0
    try:
        while line := fh.readline(BLOCK):  # a line, or a block of one too long to be NMEA
            seen += len(line)
            if seen > limit:
                return None
            day = _rmc_day(line.strip())
            if day is not None and day >= GPS_EPOCH_DAYS:
                return day
        return None
    finally:
        fh.seek(pos)


def fix_time(f: Fix) -> datetime.datetime:
    return to_datetime(f.t + f.ms / 1000)


def format_fix(v: Verdict) -> str:
    f = v.fix
    when = iso_ms(f.t + f.ms / 1000)
    if f.lat is None:
        where = f"{'(no fix)':>24}"
    else:
        where = f"{f.lat / 1e6:11.6f} {f.lon / 1e6:12.6f}"
    acc = f"{f.acc_dm / 10:6.1f}" if f.acc_dm is not None else "     ?"
    speed = f"{f.speed_cms / 100:6.2f}" if f.speed_cms is not None else "     ?"
    verdict = "ok" if v.accepted else f"REJECTED {v.reason}"
    return f"{when} {where} {acc} {f.sats:4d} {f.quality:2d} {speed}  {verdict}"


HEADER = (
    f"{'UTC time':24} {'lat':>11} {'lon':>12} {'acc m':>6} {'sats':>4} {'q':>2} {'m/s':>6}  filter"
)


def floor_text(days: int) -> str:
    y, m, d = civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}"

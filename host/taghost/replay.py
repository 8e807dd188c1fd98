"""Replay a field log or receiver capture through the core: NMEA reader, then fix filter."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tagcore.civil import civil_from_days
from tagcore.fix import Fix
from tagcore.fixfilter import FixFilter
from tagcore.gnsstime import days_from_civil
from tagcore.nmea import DEFAULT_FLOOR_DAYS, NmeaReader

EPOCH_2000 = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Verdict:
    fix: Fix
    accepted: bool
    reason: str  # why the filter rejected it ("" when accepted)


@dataclass
class Replay:
    source: str
    verdicts: list[Verdict] = field(default_factory=list)
    reader_counts: dict[str, int] = field(default_factory=dict)
    filter_counts: dict[str, int] = field(default_factory=dict)
    sentences: int = 0
    epochs: int = 0
    bytes_in: int = 0

    @property
    def accepted(self) -> list[Fix]:
        return [v.fix for v in self.verdicts if v.accepted]


def parse_floor(text: str) -> int:
    """A date floor given as YYYY-MM-DD, as a day number since 2000-01-01."""
    try:
        d = datetime.date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"--floor wants a date as YYYY-MM-DD, not {text!r}") from e
    return days_from_civil(d.year, d.month, d.day)


def capture_bytes(path: Path) -> bytes:
    """The receiver's bytes from a capture: lines starting with '#' are annotations (the gpsd
    captures' headers, a tester's notes), not receiver output, and are left out."""
    data = path.read_bytes()
    return b"".join(ln for ln in data.splitlines(keepends=True) if not ln.startswith(b"#"))


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def replay_bytes(
    data: bytes, source: str = "-", floor_days: int = DEFAULT_FLOOR_DAYS, chunk: int = 256
) -> Replay:
    if chunk < 1:
        raise ValueError("chunk size must be at least 1 byte")
    reader = NmeaReader(floor_days=floor_days)
    ff = FixFilter()
    out = Replay(source=source, bytes_in=len(data))

    def drain() -> None:
        while (f := reader.pop()) is not None:
            before = dict(ff.counts)
            ok = ff.check(f)
            why = "" if ok else next(k for k, v in ff.counts.items() if v != before.get(k, 0))
            out.verdicts.append(Verdict(f, ok, why))

    for part in chunks(data, chunk):
        reader.feed(part)
        drain()
    reader.flush()
    drain()
    out.reader_counts = dict(reader.counts)
    out.filter_counts = dict(ff.counts)
    out.sentences = reader.sentences
    out.epochs = reader.epochs
    return out


def replay_file(path: Path, floor_days: int = DEFAULT_FLOOR_DAYS, chunk: int = 256) -> Replay:
    if not path.is_file():
        raise FileNotFoundError(f"no such capture: {path}")
    return replay_bytes(capture_bytes(path), str(path), floor_days, chunk)


def fix_time(f: Fix) -> datetime.datetime:
    return EPOCH_2000 + datetime.timedelta(seconds=f.t, milliseconds=f.ms)


def format_fix(v: Verdict) -> str:
    f = v.fix
    when = fix_time(f).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
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

"""The gpsd NMEA captures in ../shared/corpus/gpsd, as the tests use them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

CORPUS = Path(os.environ.get("OPENTAG_CORPUS", Path(__file__).parent.parent.parent / "shared"))
if CORPUS.name != "gpsd":
    CORPUS = CORPUS / "corpus" / "gpsd"


def capture_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.log"))
    if not files:
        raise RuntimeError(f"no gpsd captures in {CORPUS}: ../shared must sit beside the repo")
    return files


def sentences() -> Iterator[tuple[str, bytes]]:
    """(file name, sentence without its line end) for every '$' line of every capture."""
    for path in capture_files():
        for raw in path.read_bytes().split(b"\n"):
            line = raw.rstrip(b"\r")
            if line.startswith(b"$"):
                yield path.name, line


def own_floor(path: Path) -> int | None:
    """The date floor that fits a capture's own dates: the earliest date (days since
    2000-01-01) its receiver gives a valid fix (RMC status A), else its earliest ZDA date of
    1990 or later (receiver defaults such as 1980 are no date); None if it has neither.
    Read with pynmea2, not with the code under test."""
    import datetime

    import pynmea2

    rmc: list[datetime.date] = []
    zda: list[datetime.date] = []
    for raw in path.read_bytes().split(b"\n"):
        line = raw.rstrip(b"\r")
        if not line.startswith(b"$") or b"*" not in line:
            continue
        try:
            msg = pynmea2.parse(line.decode("ascii"), check=True)
            if msg.sentence_type == "RMC" and msg.status == "A" and msg.datestamp:
                rmc.append(msg.datestamp)
            elif msg.sentence_type == "ZDA" and msg.year and int(msg.year) >= 1990:
                zda.append(datetime.date(int(msg.year), int(msg.month), int(msg.day)))
        except (pynmea2.ParseError, UnicodeDecodeError, ValueError, TypeError, AttributeError):
            continue
    dates = rmc or zda
    if not dates:
        return None
    return (min(dates) - datetime.date(2000, 1, 1)).days


UNDATED_FLOOR = -132  # captures without a date of their own give no fix at any floor


@cache
def driver_input() -> bytes:
    """The stdin of the corpus drivers (tests/mpy/nmea_replay.py and friends): one line per
    capture, its path and the date floor that fits it."""
    out = []
    for p in capture_files():
        floor = own_floor(p)
        out.append(f"{p} {UNDATED_FLOOR if floor is None else floor}\n")
    return "".join(out).encode()


def per_capture(out: str) -> dict[str, list[str]]:
    """A corpus driver's output split by capture: its "= NAME" lines open each one's part."""
    files: dict[str, list[str]] = {}
    cur: list[str] = []
    for line in out.splitlines():
        if line.startswith("= "):
            cur = files.setdefault(line[2:], [])
        else:
            cur.append(line)
    return files

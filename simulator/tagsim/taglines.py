"""The tag's event lines as named records.

The core app (tagcore.app.app) hands out what it did as letter-coded tuples; the lockstep driver
(tagapp/driver.py) writes each as one line of fields joined by spaces, and CPython runs record
the same lines (engine.Log.tag_lines: (t, line)). This module is the one reader of them:
metrics, report, story and output ask for records by name instead of splitting by position.
The codes inside (zone alert kinds, proximity kinds) are tagcore's own constants.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, TypeVar, overload

from tagcore.zones import monitor as Z

# "U" status: the upload's outcome (tagcore.app.app.TagApp.upload)
UPLOAD_NO_LINK = 0
UPLOAD_ACKED = 1
UPLOAD_UNREAD = 2  # sent, but a segment was unreadable: not acknowledged


def _int(s: str) -> int | None:
    return None if s == "None" else int(s)


class FixStored(NamedTuple):  # F now t lat lon acc_dm sats seq
    now: int
    t: int
    lat: int
    lon: int
    acc_dm: int | None
    sats: int
    seq: int


class FixRefused(NamedTuple):  # R now t
    now: int
    t: int


class Gnss(NamedTuple):  # G now on
    now: int
    on: int


class Upload(NamedTuple):  # U now status n
    now: int
    status: int  # UPLOAD_*
    n: int

    @property
    def acked(self) -> bool:
        return self.status == UPLOAD_ACKED


class Scan(NamedTuple):  # S now addr rssi
    now: int
    addr: str
    rssi: int


class ZoneAlert(
    NamedTuple
):  # A now zone kind zkind rule t evidence secs (tagcore.zones.monitor.Alert)
    now: int
    zone: int
    kind: int  # tagcore.zones.monitor A_*
    zkind: int
    rule: int
    t: int
    evidence: int  # how many fixes it carries
    secs: int  # seconds without a fix (location alerts)

    @property
    def breach(self) -> bool:
        return self.kind == Z.A_BREACH


class ProximityEvent(
    NamedTuple
):  # P now beacon kind flags rssi dist_dm (tagcore.proximity.monitor)
    now: int
    beacon: int
    kind: int  # tagcore.proximity.monitor K_*
    flags: int
    rssi: int
    dist_dm: int  # -1: unknown


class Tamper(NamedTuple):  # T now code (tagcore.events TAMPER_*)
    now: int
    code: int


class LowBattery(NamedTuple):  # B now pct
    now: int
    pct: int


class LocLost(NamedTuple):  # L now: a fix search timed out
    now: int


class Link(NamedTuple):  # K now up
    now: int
    up: int


class Integrity(NamedTuple):  # I now kind onset (tagcore.gnss.integrity K_*)
    now: int
    kind: int
    onset: int


class PowerLevel(NamedTuple):  # D now level left_min: the budget's level (tagcore.app.budget)
    now: int
    level: int
    left_min: int


class PowerWarning(NamedTuple):  # W now what left_min: a low (2) or critical (3) warning
    now: int
    what: int
    left_min: int


class GnssMode(NamedTuple):  # M now mode: the receiver mode the model plan chose
    now: int
    mode: int


Record = (
    FixStored
    | FixRefused
    | Gnss
    | Upload
    | Scan
    | ZoneAlert
    | ProximityEvent
    | Tamper
    | LowBattery
    | LocLost
    | Link
    | Integrity
    | PowerLevel
    | PowerWarning
    | GnssMode
)
BY_CODE: dict[str, Any] = {  # Any: each value is one NamedTuple class of Record
    "F": FixStored,
    "R": FixRefused,
    "G": Gnss,
    "U": Upload,
    "S": Scan,
    "A": ZoneAlert,
    "P": ProximityEvent,
    "T": Tamper,
    "B": LowBattery,
    "L": LocLost,
    "K": Link,
    "I": Integrity,
    "D": PowerLevel,
    "W": PowerWarning,
    "M": GnssMode,
}
CODE_OF = {cls: code for code, cls in BY_CODE.items()}


def code(rec: Record) -> str:
    """The record's letter (its line's first field)."""
    return CODE_OF[type(rec)]


def parse(line: str) -> Record:
    """The record of one event line; ValueError for a line no record reads."""
    f = line.split()
    cls = BY_CODE.get(f[0]) if f else None
    if cls is None:
        raise ValueError(f"not a tag event line: {line!r}")
    if cls is Scan:
        return Scan(int(f[1]), f[2], int(f[3]))
    # A line without the newest fields (a zone alert before secs) reads them as 0.
    vals = [_int(x) for x in f[1:]] + [0] * (len(cls._fields) - len(f) + 1)
    return cls(*vals[: len(cls._fields)])


R = TypeVar("R", bound=Record)


@overload
def records(lines: Iterable[tuple[int, str]], kind: type[R], /) -> Iterator[tuple[int, R]]: ...
@overload
def records(lines: Iterable[tuple[int, str]], *kinds: type) -> Iterator[tuple[int, Record]]: ...
def records(lines: Iterable[tuple[int, str]], *kinds: type) -> Iterator[tuple[int, Any]]:
    """(t, record) of the lines, only those of `kinds` if any are named (one kind: typed as it)."""
    for t, ln in lines:
        rec = parse(ln)
        if not kinds or type(rec) in kinds:
            yield t, rec


def acked_uploads(lines: Iterable[tuple[int, str]]) -> list[int]:
    """When uploads were acknowledged, in order."""
    return sorted(t for t, u in records(lines, Upload) if u.acked)

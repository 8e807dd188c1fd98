"""Weekly local-time schedules compiled into UTC windows for the tag.

The tag carries no time-zone database: it compares `now` (UTC seconds since 2000-01-01) with
sorted windows. Here each rule ("mon-fri 19:00-07:00 Europe/London") is expanded day by day
over a horizon with zoneinfo (tzdata), so daylight-saving changes land where they should.

Local times that do not exist or happen twice (the hour the clocks skip or repeat) follow one
rule, chosen so that a window is never shorter than the order says:
  - skipped (spring forward): the instant the clocks change (a 01:30 start becomes 02:00 BST);
  - repeated (fall back): a start takes the first occurrence, an end the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taghost.units import seconds_2000, to_datetime

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


@dataclass(frozen=True)
class Rule:
    days: frozenset[int]  # weekday numbers, Monday = 0
    start: time
    end: time  # at or before start: the window ends on the next day


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    rules: tuple[Rule, ...]


def parse_days(spec: object) -> frozenset[int]:
    """'mon-fri', 'sat,sun', 'daily', or a list of day names."""
    if spec in ("daily", "all", None):
        return frozenset(range(7))
    items = spec if isinstance(spec, list) else str(spec).split(",")
    out: set[int] = set()
    for item in items:
        part = str(item).strip().lower()
        if "-" in part:
            a, b = (p.strip()[:3] for p in part.split("-", 1))
            if a not in DAY_NAMES or b not in DAY_NAMES:
                raise ValueError(f"unknown day range {item!r}")
            i, j = DAY_NAMES.index(a), DAY_NAMES.index(b)
            k = i  # a range may wrap: "fri-mon"
            while True:
                out.add(k)
                if k == j:
                    break
                k = (k + 1) % 7
        elif part[:3] in DAY_NAMES:
            out.add(DAY_NAMES.index(part[:3]))
        else:
            raise ValueError(f"unknown day {item!r}")
    if not out:
        raise ValueError("no days given")
    return frozenset(out)


def parse_time(text: object) -> time:
    m = _TIME.match(str(text))
    if not m:
        raise ValueError(f"bad time {text!r} (want HH:MM or HH:MM:SS, 24-hour)")
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_schedule(obj: object) -> Schedule:
    """{"tz": "Europe/London", "rules": [{"days": "mon-fri", "start": "19:00", "end": "07:00"}]}"""
    if not isinstance(obj, dict):
        raise ValueError("schedule must be an object with 'tz' and 'rules'")
    try:
        tz = ZoneInfo(str(obj.get("tz", "")))
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {obj.get('tz')!r} (want an IANA name)") from e
    raw = obj.get("rules")
    if not isinstance(raw, list) or not raw:
        raise ValueError("schedule needs a non-empty 'rules' list")
    rules = []
    for k, r in enumerate(raw):
        if not isinstance(r, dict):
            raise ValueError(f"rule {k} is not an object")
        start, end = parse_time(r.get("start")), parse_time(r.get("end"))
        if start == end:
            raise ValueError(f"rule {k}: start and end are both {start} (empty window)")
        rules.append(Rule(parse_days(r.get("days", "daily")), start, end))
    return Schedule(tz, tuple(rules))


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz).replace(tzinfo=None)


def local_to_utc(naive: datetime, tz: ZoneInfo, latest: bool) -> datetime:
    """The UTC instant of a local wall time (see the module notes for skipped/repeated ones)."""
    a = naive.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)
    b = naive.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)
    lo, hi = min(a, b), max(a, b)
    real = [x for x in (lo, hi) if _local(x, tz) == naive]
    if real:
        return real[-1] if latest else real[0]
    # Skipped: the first instant whose wall time is at or after `naive`, to the second.
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if _local(lo + timedelta(seconds=mid), tz) >= naive:
            hi_s = mid
        else:
            lo_s = mid + 1
    return lo + timedelta(seconds=lo_s)


def windows(sched: Schedule, start: date, weeks: int) -> list[tuple[int, int]]:
    """Sorted, merged UTC windows (seconds since 2000) of the schedule, clipped to the horizon
    [start 00:00 UTC, start + weeks 00:00 UTC)."""
    h0 = seconds_2000(datetime.combine(start, time(), timezone.utc))
    h1 = h0 + weeks * 7 * 86400
    spans = []
    for k in range(-2, weeks * 7 + 2):  # a day either side: windows that cross into the horizon
        day = start + timedelta(days=k)
        for r in sched.rules:
            if day.weekday() not in r.days:
                continue
            end_day = day + timedelta(days=1) if r.end <= r.start else day
            s = local_to_utc(datetime.combine(day, r.start), sched.tz, latest=False)
            e = local_to_utc(datetime.combine(end_day, r.end), sched.tz, latest=True)
            a, b = max(seconds_2000(s), h0), min(seconds_2000(e), h1)
            if a < b:
                spans.append((a, b))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def skipped(sched: Schedule, start: date, weeks: int) -> list[tuple[date, int]]:
    """(day, rule index) of every rule-day in the horizon whose window does not exist: both
    its start and its end fall in the hour the clocks skip (spring forward), so the night
    has no window at all."""
    out = []
    for k in range(weeks * 7):
        day = start + timedelta(days=k)
        for i, r in enumerate(sched.rules):
            if day.weekday() not in r.days:
                continue
            end_day = day + timedelta(days=1) if r.end <= r.start else day
            s = local_to_utc(datetime.combine(day, r.start), sched.tz, latest=False)
            e = local_to_utc(datetime.combine(end_day, r.end), sched.tz, latest=True)
            if e <= s:
                out.append((day, i))
    return out


def day_mask(days: frozenset[int]) -> int:
    """The tag's weekday bit mask (bit 0 Monday .. bit 6 Sunday; tagcore.zones.curfew)."""
    return sum(1 << d for d in days)


def tz_changes(tz: ZoneInfo, t0: int, t1: int) -> tuple[int, list[tuple[int, int]]]:
    """(UTC offset in seconds at t0, [(UTC instant, offset from then on)]) for every change
    of the zone's offset in [t0, t1] (seconds since 2000), to the second: the DST transitions
    the tag needs to turn local rules into UTC (tagcore.zones.curfew)."""

    def off(t: int) -> int:
        return int((to_datetime(t).astimezone(tz).utcoffset() or timedelta()).total_seconds())

    base = off(t0)
    out: list[tuple[int, int]] = []
    prev, cur = t0, base
    t = t0
    while t < t1:
        t = min(t + 86400, t1)
        o = off(t)
        if o != cur:
            lo, hi = prev, t  # the change is in (lo, hi]: bisect to the second
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == cur:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, o))
            cur = o
        prev = t
    return base, out

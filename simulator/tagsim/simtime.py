"""Simulation time: integer seconds since 2000-01-01T00:00:00Z, the core's epoch (Fix.t)."""

from __future__ import annotations

import re
from datetime import datetime

from taghost.units import iso, parse_iso, to_datetime  # noqa: F401 (simtime.iso, .to_datetime)

_DUR = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


def parse_instant(v: object) -> int:
    """A TOML datetime or an ISO 8601 string (UTC unless it says otherwise; units.parse_iso)
    to sim seconds. A TOML local datetime (no offset) is UTC, as a string without one.

    Raises ValueError for a string that is not one, or a value that is neither (a TOML date or
    time of day alone, a number): the scenario loader's message."""
    if isinstance(v, str):
        try:
            return parse_iso(v)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {v!r}") from None
    if not isinstance(v, datetime):
        raise ValueError(f"expected a date-time, got {v!r}")
    return parse_iso(v)


def parse_duration(v: object) -> int:
    """Seconds from a number or a string like '1d2h', '90m', '45s'."""
    if isinstance(v, bool):
        raise ValueError(f"expected a duration, got {v!r}")
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError(f"negative duration {v!r}")
        return int(v)
    m = _DUR.match(v) if isinstance(v, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"expected a duration like '2h30m' or seconds, got {v!r}")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def parse_clock(v: object) -> int:
    """'HH:MM' to seconds after midnight."""
    m = re.match(r"^(\d\d):(\d\d)$", v) if isinstance(v, str) else None
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day 'HH:MM', got {v!r}")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60

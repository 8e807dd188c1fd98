"""What the report tells a probation officer: what happened, when (local time), where, and when
the monitoring centre knew. Facts only, from the run's truth and the tag's event lines; the
report (report.py) draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tagcore.proximity import monitor as P
from tagcore.zones import monitor as Z
from taghost.draw import UTC

from tagsim import metrics
from tagsim import taglines as L
from tagsim.engine import Run
from tagsim.simtime import to_datetime


def local_zone(run: Run) -> ZoneInfo:
    """The time zone the report speaks: the scenario's `timezone`, else its zones' schedule
    zone (the agency's local time), else UTC."""
    sc = run.scenario
    if sc.timezone:
        return ZoneInfo(sc.timezone)
    for z in sc.zones:
        if z.schedule is not None:
            return z.schedule.tz
    return UTC


def local(t: float, tz: ZoneInfo, seconds: bool = True) -> str:
    """'2026-03-29 03:05:10 CEST': the date, the wall clock and the zone's abbreviation."""
    d = to_datetime(int(t)).astimezone(tz)
    return d.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def clock(t: float, tz: ZoneInfo) -> str:
    """'03:05:10 CEST': the wall clock only (the date is in the heading)."""
    return to_datetime(int(t)).astimezone(tz).strftime("%H:%M:%S %Z")


@dataclass(frozen=True)
class Alert:
    """One alert the tag raised (zone breach, proximity, location lost, tamper ...)."""

    t: int  # when the tag raised it
    kind: str  # "breach", "approach", "end", "loc_lost", "proximity", "tamper", ...
    what: str  # in words
    zone: int | None
    at_server: int | None  # the first acknowledged upload at or after t (None: never)
    alerting: bool  # an alert the centre acts on (not a wearer warning or an end)


@dataclass(frozen=True)
class Episode:
    """A true breach (a zone entered, a curfew broken) and what the tag made of it."""

    zone: int
    zone_name: str
    kind: str  # "entry" or "curfew"
    t: int  # the true moment
    until: int | None
    alert: int | None  # the tag's alert matched to it (None: missed)
    at_server: int | None


ZONE_KIND = {
    Z.A_BREACH: "breach",
    Z.A_BREACH_END: "end",
    Z.A_APPROACH: "approach",
    Z.A_LOC_WARN: "wearer_warned",
    Z.A_LOC_LOST: "loc_lost",
    Z.A_LOC_BACK: "back",
}
PROX_ALERTS = (P.K_NEAR, P.K_GNSS_IN)
EVENT_KIND = {L.Tamper: "tamper", L.LowBattery: "low_battery", L.LocLost: "loc_lost"}


def acked_uploads(run: Run) -> list[int]:
    return L.acked_uploads(run.log.tag_lines)


def _at_server(ups: list[int], t: int) -> int | None:
    """The alert is stored at once and goes with the next acknowledged upload (as
    metrics.server_delays counts it)."""
    return next((u for u in ups if u >= t), None)


def alerts(run: Run) -> list[Alert]:
    from tagsim.report import EVENT_NAMES, PROX_KINDS, zone_alert_text

    ups = acked_uploads(run)
    out = []
    for t, r in L.records(run.log.tag_lines):
        c = type(r)
        if isinstance(r, L.ZoneAlert):
            what, detail = zone_alert_text(run, r)
            kind = ZONE_KIND.get(r.kind, "zone")
            alert = r.kind in (Z.A_BREACH, Z.A_LOC_LOST)
            out.append(Alert(t, kind, f"{what}: {detail}", r.zone, _at_server(ups, t), alert))
        elif isinstance(r, L.ProximityEvent):
            what = PROX_KINDS.get(r.kind, f"proximity {r.kind}")
            alert = r.kind in PROX_ALERTS
            out.append(Alert(t, "proximity", what, None, _at_server(ups, t), alert))
        elif c in EVENT_KIND:
            what = EVENT_NAMES[L.code(r)]
            out.append(Alert(t, EVENT_KIND[c], what, None, _at_server(ups, t), c is L.Tamper))
    return out


def episodes(run: Run, m: dict[str, Any]) -> list[Episode]:
    """Each true zone entry or curfew breach with the breach alert matched to it by the
    metrics' own rule (metrics.match_alerts), and when that alert reached the server."""
    names = {z.id: z.name for z in run.scenario.zones}
    truth = [metrics.TruthEvent(**e) for e in m.get("truth_events") or []]
    zone_alerts = [
        (t, a.zone, 1 if a.breach else 0) for t, a in L.records(run.log.tag_lines, L.ZoneAlert)
    ]
    # Per zone, so each pair is found by (zone, true moment): one zone's episodes never start
    # in the same second. An alert for one zone never explains another zone's entry anyway.
    alert_of: dict[tuple[int, int], int] = {}
    for zid in {e.id for e in truth}:
        mine = [e for e in truth if e.id == zid]
        for tt, ta in metrics.match_alerts(mine, [a for a in zone_alerts if a[1] == zid])["pairs"]:
            alert_of[(zid, tt)] = ta
    ups = acked_uploads(run)
    out = []
    for ev in truth:
        alert = alert_of.get((ev.id, ev.t))
        out.append(
            Episode(
                ev.id,
                names.get(ev.id, f"zone {ev.id}"),
                ev.kind,
                ev.t,
                ev.until,
                alert,
                _at_server(ups, alert) if alert is not None else None,
            )
        )
    return out


def coverage_gaps(run: Run) -> list[tuple[int, int]]:
    """Intervals without network coverage, as the world had them (uploads wait)."""
    out, since = [], None
    for w in run.log.world:
        if w["ev"] != "coverage":
            continue
        if not w["up"] and since is None:
            since = w["t"]
        elif w["up"] and since is not None:
            out.append((since, w["t"]))
            since = None
    if since is not None:
        out.append((since, run.log.end))
    return out

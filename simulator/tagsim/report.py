"""The self-contained HTML report: inline SVG map and plots, no scripts, no network.

Read by a probation officer first: the top of the page answers what happened, when (in the
scenario's local time, DST included), where, and when the monitoring centre knew (the server's
receipt of each alert); a timeline shows true breaches, the tag's alerts, their receipt and the
coverage gaps; the map is framed on the walk with a distinct marker for approach, breach and
end. Below: plots of fix error, battery, beacon RSSI and distance, the expectations and metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from tagcore.proximity import monitor as P
from tagcore.zones import monitor as Z
from taghost import alertkinds
from taghost.draw import (
    CSS,
    MARKERS,
    UTC,
    H,
    Proj,
    Timeline,
    W,
    esc,
    marker,
    path,
    plot_svg,
)

from tagsim import story
from tagsim import taglines as L
from tagsim.engine import Run
from tagsim.metrics import fix_error_m
from tagsim.simtime import iso

BADGE = {"pass": "green", "fail": "red", "pending": "pending"}


LEGEND_W = 236


def map_svg(
    run: Run,
    trail: list[tuple[int, float, float]],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    tz: ZoneInfo = UTC,
    episodes: Sequence[story.Episode] = (),
    gaps: Sequence[tuple[int, int]] = (),
) -> str:
    """The walk: framed on the wearer's true trail and fixes (zones and the beacon's trail are
    clipped to it), the stretches without coverage, the true entries and every alert."""
    import shapely
    from shapely.geometry import box

    zones = run.scenario.zones
    pts = [(la, lo) for _, la, lo in trail] + [(f["lat"], f["lon"]) for f in fixes]
    bt = run.beacon_truth
    btrail = []
    if bt is not None and trail:
        step = max(1, (trail[-1][0] - trail[0][0]) // 2000)
        btrail = [(p.lat, p.lon) for p in bt.samples(trail[0][0], trail[-1][0] + 1, step)]
    # The walk fills the map left of the legend (LEGEND_W px on the right).
    pr = Proj(
        pts or [(z.geometry.centroid.y, z.geometry.centroid.x) for z in zones], W - LEGEND_W, H
    )
    # The map's extent in lon/lat, to clip zone labels to what is shown.
    lat_top, lon_left = pr.lat1, pr.lon0 - pr.ox / (pr.k * pr.s)
    lat_top += pr.oy / pr.s
    view = box(lon_left, lat_top - H / pr.s, lon_left + W / (pr.k * pr.s), lat_top)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'id="map" style="background:#eef2f5;border-radius:6px;overflow:hidden">'
    ]
    for z in zones:
        geoms = [z.geometry] if z.geometry.geom_type == "Polygon" else list(z.geometry.geoms)
        col = "#d64545" if z.kind == "exclusion" else "#2b6cb0"
        for g in geoms:
            poly = path([pr(y, x) for x, y in g.exterior.coords])
            out.append(
                f'<polygon class="zone" points="{poly}" fill="{col}" fill-opacity="0.16" '
                f'stroke="{col}" stroke-width="1.5"><title>{esc(z.name)} ({z.kind})</title>'
                "</polygon>"
            )
            seen = g.intersection(view)
            if seen.is_empty:
                continue
            p = shapely.point_on_surface(seen)
            cx, cy = pr(p.y, p.x)
            out.append(
                f'<text x="{cx}" y="{cy}" text-anchor="middle" style="fill:{col};font-weight:600">'
                f"{esc(z.name)}</text>"
            )
    if btrail:
        out.append(
            f'<polyline points="{path([pr(a, b) for a, b in btrail])}" fill="none" '
            'stroke="#8a4baf" stroke-width="2" stroke-dasharray="5 4" opacity="0.8"/>'
        )
    out.append(
        f'<polyline id="trail" points="{path([pr(a, b) for _, a, b in trail])}" fill="none" '
        'stroke="#1d2733" stroke-width="2" opacity="0.75"/>'
    )
    for a, b in gaps:  # the walk while the tag could not reach the server
        seg = [pr(la, lo) for t, la, lo in trail if a <= t < b]
        if len(seg) > 1:
            out.append(
                f'<polyline class="gap" points="{path(seg)}" fill="none" stroke="#f0a020" '
                'stroke-width="7" opacity="0.55" stroke-linecap="round">'
                f"<title>no coverage {esc(story.clock(a, tz))} to {esc(story.clock(b, tz))}"
                "</title></polyline>"
            )
    for f in fixes:
        x, y = pr(f["lat"], f["lon"])
        out.append(f'<circle cx="{x}" cy="{y}" r="2.6" fill="#1f77d0" opacity="0.8"/>')
    for e in episodes:
        p = run.truth.at(e.t)
        x, y = pr(p.lat, p.lon)
        what = "curfew broken" if e.kind == "curfew" else f"entered {e.zone_name}"
        out.append(marker("entry", x, y, f"true: {what} {story.local(e.t, tz)}", big=True))
    for al in alerts:
        x, y = pr(al["lat"], al["lon"])
        kind = al.get("story_kind", al["kind"])
        title = f"{al.get('what', kind)} {story.local(al['t'], tz)}"
        out.append(marker(kind, x, y, title, big=kind == "breach"))
    # scale bar: a round number of metres near 120 px
    mpp = pr.metres_per_px()
    m = 10 ** math.floor(math.log10(max(mpp * 120, 1)))
    m = next(v for v in (m, 2 * m, 5 * m, 10 * m, 20 * m) if v / mpp >= 60)
    px = m / mpp
    out.append(
        f'<line x1="20" y1="{H - 20}" x2="{20 + px:.0f}" y2="{H - 20}" '
        'stroke="#1d2733" stroke-width="3"/>'
        f'<text x="20" y="{H - 27}">{m:g} m</text>'
    )
    lg = [
        ("#1d2733", "true trail"),
        ("#1f77d0", "fixes stored"),
        ("#f0a020", "no coverage"),
        ("#d64545", "exclusion zone"),
        ("#2b6cb0", "inclusion zone"),
    ]
    if btrail:
        lg.append(("#8a4baf", "victim's beacon"))
    y = 14
    out.append(
        f'<rect x="{W - 232}" y="6" width="226" height="{16 * (len(lg) + 6) + 6}" '
        'fill="#fff" opacity="0.85" rx="4"/>'
    )
    for c, name in lg:
        out.append(
            f'<rect x="{W - 224}" y="{y}" width="10" height="10" fill="{c}"/>'
            f'<text x="{W - 208}" y="{y + 9}">{name}</text>'
        )
        y += 16
    for kind in ("entry", "approach", "breach", "end", "proximity", "loc_lost"):
        out.append(marker(kind, W - 219, y + 5, MARKERS[kind][2]))
        out.append(f'<text x="{W - 208}" y="{y + 9}">{MARKERS[kind][2]}</text>')
        y += 16
    out.append("</svg>")
    return "".join(out)


def timeline_svg(
    run: Run,
    tz: ZoneInfo,
    episodes: list[story.Episode],
    alerts: list[story.Alert],
    gaps: list[tuple[int, int]],
) -> str:
    """One strip per question, on the local clock: when was the wearer truly in breach, when
    did the tag alert, when did the server have it, when was there no coverage."""
    rows = ("true breach", "tag alert", "server received", "no coverage")
    tl = Timeline(run.scenario.start, run.log.end, rows, f"Timeline ({tz.key} local time)", tz)
    x, y = tl.x, tl.y
    for e in episodes:
        end = e.until if e.until is not None else tl.t1
        when = f"{story.local(e.t, tz)} to {story.local(end, tz)}"
        tl.band(0, e.t, end, "breach-band", "#d64545", 0.35, f"in breach: {e.zone_name} {when}")
        tl.parts.append(marker("entry", x(e.t), y(0), f"true entry {story.local(e.t, tz)}"))
    for al in alerts:
        if not al.alerting and al.kind not in ("approach", "end"):
            continue
        title = f"{al.what} {story.local(al.t, tz)}"
        tl.parts.append(marker(al.kind, x(al.t), y(1), title, big=al.kind == "breach"))
        if al.alerting and al.at_server is not None:
            tl.parts.append(
                f'<line x1="{x(al.t)}" y1="{y(1)}" x2="{x(al.at_server)}" y2="{y(2)}" '
                'stroke="#1f77d0" stroke-width="1.2"/>'
                f'<circle class="mk mk-server" cx="{x(al.at_server)}" cy="{y(2)}" r="5" '
                f'fill="#1f77d0"><title>server received: {esc(al.what)} '
                f"{esc(story.local(al.at_server, tz))}</title></circle>"
            )
    for a, b in gaps:
        when = f"{story.local(a, tz)} to {story.local(b, tz)}"
        tl.band(3, a, b, "gap", "#f0a020", 0.8, f"no coverage {when}")
    return tl.svg()


def _bands(
    run: Run, ev: str, key: str, col: str, label: str, invert: bool = False
) -> list[tuple[int, int, str, str]]:
    """Intervals where a world on/off event was on (or off, inverted)."""
    out, since = [], None
    for w in run.log.world:
        if w["ev"] != ev:
            continue
        on = bool(w[key]) != invert
        if on and since is None:
            since = w["t"]
        elif not on and since is not None:
            out.append((since, w["t"], col, label))
            since = None
    if since is not None:
        out.append((since, run.log.end, col, label))
    return out


EVENT_NAMES = {
    "T": "tamper",
    "B": "low battery",
    "L": "location lost",
    "A": "zone alert",
    "P": "proximity alert",
}


# The zone monitor's codes as the host's alert vocabulary labels them (taghost.alertkinds), so
# the simulator's report says what the server, the pull and the host's report say.
ZONE_KINDS = {code: alertkinds.label(name) for code, name in alertkinds.ZONE_ALERTS.items()}
ZONE_RULES = {
    Z.RULE_CONSECUTIVE: "consecutive fixes",
    Z.RULE_SUSTAINED: "sustained",
    Z.END_LEFT: "left",
    Z.END_INACTIVE: "window closed",
    Z.END_RELOAD: "reload",
}


def zone_alert_text(run: Run, a: L.ZoneAlert) -> tuple[str, str]:
    """(what, details) of a zone alert the tag raised."""
    what = ZONE_KINDS.get(a.kind, f"zone alert {a.kind}")
    if a.kind in (Z.A_LOC_WARN, Z.A_LOC_LOST, Z.A_LOC_BACK):
        return what, f"{a.secs} s without a fix"
    names = {z.id: z.name for z in run.scenario.zones}
    how = ZONE_RULES.get(a.rule, "") if a.kind in (Z.A_BREACH, Z.A_BREACH_END) else ""
    ev = f", {a.evidence} evidence fixes" if a.evidence else ""
    return what, f"zone {a.zone} {names.get(a.zone, '')}" + (f" ({how})" if how else "") + ev


PROX_KINDS = {
    P.K_NEARBY: "beacon nearby",
    P.K_NEAR: "beacon NEAR (alert)",
    P.K_NEAR_EXIT: "near: exit",
    P.K_GONE: "beacon gone",
    P.K_GNSS_PRE: "GNSS pre-alert ring",
    P.K_GNSS_IN: "GNSS victim zone (alert)",
    P.K_GNSS_EXIT: "GNSS zone: exit",
    P.K_GNSS_OUT: "GNSS ring: exit",
    P.K_CORROBORATED: "corroborated by GNSS",
    P.K_CONTRADICTED: "contradicted by GNSS",
    P.K_FLOODED: "scanner flooded (partly deaf)",
}


def _event_rows(run: Run, tz: ZoneInfo = UTC, limit: int = 40) -> str:
    rows = []
    for t, ln in run.log.tag_lines:
        r = L.parse(ln)
        if type(r) is L.ZoneAlert:
            rows.append((t, "tag", *zone_alert_text(run, r)))
        elif type(r) is L.ProximityEvent:
            what = PROX_KINDS.get(r.kind, f"proximity {r.kind}")
            dist = f", {r.dist_dm / 10:.0f} m by GNSS" if r.dist_dm >= 0 else ""
            rssi = f", {r.rssi} dBm" if r.rssi != 0 else ""
            rows.append((t, "tag", what, f"beacon {r.beacon}{rssi}{dist}"))
        elif L.code(r) in EVENT_NAMES:
            rows.append((t, "tag", EVENT_NAMES[L.code(r)], " ".join(ln.split()[2:])))
    for w in run.log.world:
        if w["ev"] in ("tamper", "battery_empty", "boot"):
            rows.append(
                (
                    w["t"],
                    "world",
                    w["ev"],
                    " ".join(f"{k}={v}" for k, v in w.items() if k not in ("t", "ev")),
                )
            )
    rows.sort()
    more = (
        f"<tr><td colspan=5>... {len(rows) - limit} more in events.jsonl</td></tr>"
        if len(rows) > limit
        else ""
    )
    return (
        "".join(
            f'<tr><td>{esc(story.local(t, tz))}</td><td class="utc">{esc(iso(t))}</td>'
            f"<td>{src}</td><td>{esc(k)}</td><td>{esc(d)}</td></tr>"
            for t, src, k, d in rows[:limit]
        )
        + more
        or "<tr><td>none</td></tr>"
    )


def _delay(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return ""
    d = b - a
    return f"+{d} s" if d < 120 else f"+{d // 60} min {d % 60} s"


def headline(
    tz: ZoneInfo,
    episodes: list[story.Episode],
    alerts: list[story.Alert],
    gaps: list[tuple[int, int]],
) -> str:
    """What happened, when (local time), and when the centre knew: one line each, in words."""
    items = []
    matched = {e.alert for e in episodes if e.alert is not None}
    for e in episodes:
        what = (
            f"Curfew broken: {esc(e.zone_name)}"
            if e.kind == "curfew"
            else f"Entered exclusion zone {esc(e.zone_name)}"
        )
        when = f"at <b>{esc(story.local(e.t, tz))}</b> (true)"
        if e.alert is None:
            items.append(f'<li class="missed">{what} {when}: <b>NO ALERT</b> (missed)</li>')
            continue
        srv = (
            f"server received it <b>{esc(story.clock(e.at_server, tz))}</b> "
            f"({_delay(e.t, e.at_server)} after the true moment)"
            if e.at_server is not None
            else "<b>never reached the server</b> in this run"
        )
        items.append(
            f'<li class="episode">{what} {when}; tag alert <b>{esc(story.clock(e.alert, tz))}'
            f"</b> ({_delay(e.t, e.alert)}); {srv}</li>"
        )
    for al in alerts:
        if al.kind == "breach" and al.t not in matched:
            items.append(
                f'<li class="false">Breach alert with no true entry (false alert): '
                f"{esc(al.what)} at <b>{esc(story.local(al.t, tz))}</b></li>"
            )
        elif al.alerting and al.kind != "breach":
            srv = (
                f"server {esc(story.clock(al.at_server, tz))} ({_delay(al.t, al.at_server)})"
                if al.at_server is not None
                else "never reached the server"
            )
            items.append(
                f'<li class="other">{esc(al.what)} at <b>{esc(story.local(al.t, tz))}</b>; '
                f"{srv}</li>"
            )
    for a, b in gaps[:3]:
        items.append(
            f'<li class="gap">No network coverage {esc(story.local(a, tz))} to '
            f"{esc(story.clock(b, tz))} ({_delay(a, b)[1:]}): alerts waited on the tag</li>"
        )
    if len(gaps) > 3:
        rest = sum(b - a for a, b in gaps[3:])
        items.append(
            f'<li class="gap">{len(gaps) - 3} more coverage gaps ({rest / 3600:.1f} h): '
            "see the timeline</li>"
        )
    if not items:
        items.append("<li>No breach, no alert, no coverage gap.</li>")
    return f'<ul id="what-happened">{"".join(items)}</ul>'


def alert_rows(run: Run, tz: ZoneInfo, alerts: list[story.Alert]) -> str:
    rows = []
    for al in alerts:
        if al.kind in ("low_battery", "wearer_warned", "back"):
            continue
        p = run.truth.at(al.t)
        srv = "(not an alert)" if not al.alerting else "never (in this run)"
        if al.alerting and al.at_server is not None:
            srv = esc(story.clock(al.at_server, tz))
        rows.append(
            f'<tr class="alert-{al.kind}"><td>{esc(al.what)}</td>'
            f"<td>{esc(story.local(al.t, tz))}</td>"
            f"<td>{srv}</td><td>{_delay(al.t, al.at_server) if al.alerting else ''}</td>"
            f"<td>{p.lat:.5f}, {p.lon:.5f}</td></tr>"
        )
    return "".join(rows) or '<tr><td colspan="5">none</td></tr>'


def render(
    run: Run,
    metrics: dict[str, Any],
    checks: list[dict[str, Any]],
    trail: list[tuple[int, float, float]],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
) -> str:
    sc = run.scenario
    tz = story.local_zone(run)
    eps = story.episodes(run, metrics)
    als = story.alerts(run)
    gaps = story.coverage_gaps(run)
    shown = []
    for a in alerts:  # the map: zone events by kind, proximity and tamper alerts
        k = "loc_lost"
        what = EVENT_NAMES.get(a["kind"], a["kind"])
        r = a["record"]
        if type(r) is L.ZoneAlert:
            what = " ".join(zone_alert_text(run, r))
            k = story.ZONE_KIND.get(r.kind, "loc_lost")
            k = k if k in MARKERS else "loc_lost"  # no-fix warning, location back
        elif type(r) is L.ProximityEvent:
            if r.kind not in story.PROX_ALERTS:
                continue
            k, what = "proximity", PROX_KINDS.get(r.kind, "proximity")
        elif a["kind"] == "T":
            k = "tamper"
        elif a["kind"] == "B":
            continue
        shown.append({**a, "story_kind": k, "what": what})
    marks = [(e.t, "#111", f"true entry {story.local(e.t, tz)}") for e in eps]
    red = any(c["status"] == "fail" for c in checks)
    verdict = (
        '<span class="badge red">RED</span>' if red else '<span class="badge green">GREEN</span>'
    )
    errs = [(float(f["t"]), fix_error_m(run.truth, f["t"], f["lat"], f["lon"])) for f in fixes]
    acc = [(float(f["t"]), f["acc_m"]) for f in fixes if f["acc_m"] is not None]
    batt = [(float(t), v) for t, v in run.log.battery]
    rssi = [(float(t), float(r)) for t, _, r in run.log.scans if r is not None]
    t0, t1 = sc.start, run.log.end
    plots = [
        plot_svg(
            "Fix error against truth (m)",
            [("error", errs, "#1f77d0"), ("reported accuracy", acc, "#c98a12")],
            t0,
            "metres",
            t1=t1,
            tz=tz,
            marks=marks,
        ),
        plot_svg(
            "Battery (%): on the charger (green), no coverage (orange)",
            [("battery", batt, "#1f9d55")],
            t0,
            "%",
            line=True,
            t1=t1,
            tz=tz,
            bands=_bands(run, "charger", "on", "#1f9d55", "charging")
            + [(a, b, "#f0a020", "no coverage") for a, b in gaps],
        ),
    ]
    if sc.beacon is not None:
        dist = [(float(t), float(d)) for t, d, _ in run.log.scans]
        plots.append(
            plot_svg(
                "Beacon RSSI at the tag's scans (dBm)",
                [("rssi", rssi, "#8a4baf")],
                t0,
                "dBm",
                t1=t1,
                tz=tz,
            )
        )
        plots.append(
            plot_svg(
                "True distance to the beacon (m, log scale)",
                [("distance", dist, "#5b6675")],
                t0,
                "m",
                t1=t1,
                tz=tz,
                log=True,
            )
        )
    rows = "".join(
        f"<tr><td>{esc(c['key'])}</td><td>{esc(c['want'])}</td><td>{esc(c['got'])}</td>"
        f'<td><span class="badge {BADGE[c["status"]]}">'
        f"{c['status']}</span></td></tr>"
        for c in checks
    )
    keys = [
        "simulated_s",
        "fixes_recorded",
        "fixes_per_hour",
        "fix_error_median_m",
        "fix_error_p95_m",
        "accuracy_covers_error_pct",
        "uploads",
        "uploads_failed",
        "truth_zone_entries",
        "truth_curfew_breaches",
        "truth_encounters",
        "zone_alerts",
        "alerts_matched",
        "false_alerts",
        "missed_entries",
        "repeat_alerts",
        "alert_delay_max_s",
        "server_delay_max_s",
        "loc_lost_alerts",
        "encounters_detected",
        "encounter_delay_max_s",
        "victim_zone_alerts_matched",
        "proximity_false_alerts",
        "proximity_repeat_alerts",
        "battery_end_pct",
        "battery_life_days",
        "energy_total_mah",
        "gnss_on_s",
        "gnss_starts",
        "iterations",
    ]
    mrows = "".join(f"<tr><td>{k}</td><td>{esc(metrics.get(k))}</td></tr>" for k in keys)
    tot = sum(metrics["energy_mah"].values()) or 1.0
    erows = "".join(
        f'<tr><td>{k}</td><td>{v:.2f} mAh</td><td><div style="background:#1f77d0;height:10px;'
        f'width:{200 * v / tot:.0f}px"></div></td></tr>'
        for k, v in metrics["energy_mah"].items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>opentag sim: {esc(sc.name)}</title><style>{CSS}</style></head><body>
<h1>{esc(sc.name)} {verdict}</h1>
<div class="sub">{esc(sc.description)}<br>board {esc(sc.board.name)} · seed {sc.seed} ·
runtime {esc(run.runtime)} · <span id="span">{esc(story.local(sc.start, tz))} to
{esc(story.local(run.log.end, tz))}</span> · times are local ({esc(tz.key)}) unless marked UTC
</div>
<div class="card"><h3>What happened</h3>{headline(tz, eps, als, gaps)}
<table id="alerts"><tr><th>alert</th><th>tag raised it (local)</th><th>server received</th>
<th>delay</th><th>true position</th></tr>{alert_rows(run, tz, als)}</table></div>
<div class="card">{timeline_svg(run, tz, eps, als, gaps)}</div>
<div class="card">{map_svg(run, trail, fixes, shown, tz, eps, gaps)}</div>
<div class="card">{"".join(plots)}</div>
<div class="grid"><div class="card"><h3>Expectations</h3><table>
<tr><th>key</th><th>want</th><th>got</th><th></th></tr>{rows}</table></div>
<div class="card"><h3>Metrics</h3><table>{mrows}</table></div>
<div class="card"><h3>Energy by component</h3><table>{erows}</table></div>
<div class="card"><h3>Events</h3><table><tr><th>local</th><th>UTC</th><th></th><th>event</th>
<th></th></tr>{_event_rows(run, tz)}</table></div></div>
</body></html>
"""

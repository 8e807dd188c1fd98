"""The self-contained HTML report: inline SVG map and plots, no scripts, no network.

A person should want to look at it: the map shows the true trail, the fixes the tag recorded,
the zones and the alerts; the plots show fix error, battery and beacon RSSI over the run.
"""

from __future__ import annotations

import html as htmlesc
import math
from typing import Any

from tagsim.engine import Run
from tagsim.simtime import iso

W, H = 860, 560
PW, PH = 860, 200
CSS = """
body{font:14px system-ui,sans-serif;margin:24px;color:#1d2733;background:#f6f7f9}
h1{margin:0 0 4px;font-size:22px}.sub{color:#5b6675;margin-bottom:16px}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;
 font-weight:600}
.green{background:#1f9d55}.red{background:#d64545}.pending{background:#c98a12}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:12px 16px;
 margin:0 0 16px}
table{border-collapse:collapse}
td,th{padding:3px 10px;text-align:left;border-bottom:1px solid #e6e8eb}
.grid{display:flex;gap:16px;flex-wrap:wrap}
.grid .card{flex:1;min-width:300px}
svg text{font:11px system-ui,sans-serif;fill:#44505e}
"""


BADGE = {"pass": "green", "fail": "red", "pending": "pending"}


def _esc(v: Any) -> str:
    return htmlesc.escape(str(v))


class _Proj:
    def __init__(self, pts: list[tuple[float, float]], w: int, h: int, pad: int = 60) -> None:
        lats = [p[0] for p in pts] or [0.0]
        lons = [p[1] for p in pts] or [0.0]
        self.k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        self.lat1, self.lon0 = max(lats), min(lons)
        span_x = max((max(lons) - self.lon0) * self.k, 1e-6)
        span_y = max(self.lat1 - min(lats), 1e-6)
        self.s = min((w - 2 * pad) / span_x, (h - 2 * pad) / span_y)
        self.ox = pad + ((w - 2 * pad) - span_x * self.s) / 2
        self.oy = pad + ((h - 2 * pad) - span_y * self.s) / 2

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            round(self.ox + (lon - self.lon0) * self.k * self.s, 1),
            round(self.oy + (self.lat1 - lat) * self.s, 1),
        )

    def metres_per_px(self) -> float:
        return 111195.08 / self.s


def _path(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in pts)


def map_svg(
    run: Run,
    trail: list[tuple[int, float, float]],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
) -> str:
    zones = run.scenario.zones
    pts = [(la, lo) for _, la, lo in trail] + [(f["lat"], f["lon"]) for f in fixes]
    for z in zones:
        pts += (
            [(y, x) for x, y in z.geometry.exterior.coords]
            if z.geometry.geom_type == "Polygon"
            else []
        )
    bt = run.beacon_truth
    btrail = []
    if bt is not None:
        step = max(1, len(trail) and (trail[-1][0] - trail[0][0]) // 2000)
        btrail = [(p.lat, p.lon) for p in bt.samples(trail[0][0], trail[-1][0] + 1, step)]
        pts += btrail
    pr = _Proj(pts, W, H)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'style="background:#eef2f5;border-radius:6px">'
    ]
    for z in zones:
        geoms = [z.geometry] if z.geometry.geom_type == "Polygon" else list(z.geometry.geoms)
        col = "#d64545" if z.kind == "exclusion" else "#2b6cb0"
        for g in geoms:
            poly = _path([pr(y, x) for x, y in g.exterior.coords])
            out.append(
                f'<polygon points="{poly}" fill="{col}" fill-opacity="0.18" stroke="{col}" '
                f'stroke-width="1.5"><title>{_esc(z.name)} ({z.kind})</title></polygon>'
            )
            cx, cy = pr(g.centroid.y, g.centroid.x)
            out.append(
                f'<text x="{cx}" y="{cy}" text-anchor="middle" style="fill:{col};font-weight:600">'
                f"{_esc(z.name)}</text>"
            )
    if btrail:
        out.append(
            f'<polyline points="{_path([pr(a, b) for a, b in btrail])}" fill="none" '
            'stroke="#8a4baf" stroke-width="2" stroke-dasharray="5 4" opacity="0.8"/>'
        )
    out.append(
        f'<polyline points="{_path([pr(a, b) for _, a, b in trail])}" fill="none" '
        'stroke="#1d2733" stroke-width="2" opacity="0.75"/>'
    )
    for f in fixes:
        x, y = pr(f["lat"], f["lon"])
        out.append(f'<circle cx="{x}" cy="{y}" r="2.6" fill="#1f77d0" opacity="0.8"/>')
    marks = {"A": "#d64545", "P": "#8a4baf", "T": "#111", "L": "#c98a12", "B": "#c98a12"}
    for a in alerts:
        x, y = pr(a["lat"], a["lon"])
        label = a["kind"]
        if a["kind"] == "A" and len(a["fields"]) >= 6:
            label = " ".join(zone_alert_text(run, ["A", "", *a["fields"]]))
        out.append(
            f'<path d="M{x},{y - 9} l7,12 h-14 z" fill="{marks.get(a["kind"], "#000")}" '
            f'stroke="#fff"><title>{_esc(label)} {_esc(iso(a["t"]))}</title></path>'
        )
    # scale bar: a round number of metres near 120 px
    mpp = pr.metres_per_px()
    m = 10 ** math.floor(math.log10(max(mpp * 120, 1)))
    m = next(v for v in (m, 2 * m, 5 * m, 10 * m) if v / mpp >= 60)
    px = m / mpp
    out.append(
        f'<line x1="20" y1="{H - 20}" x2="{20 + px:.0f}" y2="{H - 20}" '
        'stroke="#1d2733" stroke-width="3"/>'
        f'<text x="20" y="{H - 27}">{m:g} m</text>'
    )
    lg = [
        ("#1d2733", "truth"),
        ("#1f77d0", "fixes"),
        ("#d64545", "zone alert / exclusion"),
        ("#2b6cb0", "inclusion zone"),
        ("#8a4baf", "beacon"),
    ]
    for i, (c, name) in enumerate(lg):
        out.append(
            f'<rect x="{W - 170}" y="{14 + 16 * i}" width="10" height="10" fill="{c}"/>'
            f'<text x="{W - 154}" y="{23 + 16 * i}">{name}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _tick(v: float) -> str:
    return f"{v / 1000:.3g}k" if abs(v) >= 1000 else f"{v:.3g}"


def plot_svg(
    title: str,
    series: list[tuple[str, list[tuple[float, float]], str]],
    t0: int,
    ylabel: str,
    line: bool = False,
    t1: int | None = None,
    bands: list[tuple[int, int, str, str]] = (),  # type: ignore[assignment]
) -> str:
    """A scatter (or line) plot against hours since t0; bands: (from, to, colour, label) shading."""
    allp = [p for _, s, _ in series for p in s]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PW}" height="{PH}" '
        f'viewBox="0 0 {PW} {PH}">'
    ]
    out.append(f'<text x="50" y="14" style="font-weight:600;font-size:13px">{_esc(title)}</text>')
    if not allp:
        out.append('<text x="50" y="100">no data</text></svg>')
        return "".join(out)
    x0, x1 = t0, max(t1 or max(p[0] for p in allp), t0 + 1)
    y0, y1 = min(p[1] for p in allp), max(p[1] for p in allp)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1
    L, R, T, B = 50, PW - 12, 24, PH - 28

    def xy(t: float, v: float) -> tuple[float, float]:
        return (
            round(L + (t - x0) / (x1 - x0) * (R - L), 1),
            round(B - (v - y0) / (y1 - y0) * (B - T), 1),
        )

    out.append(
        f'<rect x="{L}" y="{T}" width="{R - L}" height="{B - T}" fill="#fafbfc" stroke="#d5d9de"/>'
    )
    for i in range(5):
        v = y0 + (y1 - y0) * i / 4
        _, y = xy(x0, v)
        out.append(
            f'<line x1="{L}" y1="{y}" x2="{R}" y2="{y}" stroke="#e6e8eb"/>'
            f'<text x="{L - 6}" y="{y + 4}" text-anchor="end">{_tick(v)}</text>'
        )
    hours = (x1 - x0) / 3600
    step = next(s for s in (0.25, 0.5, 1, 2, 4, 6, 12, 24, 48) if hours / s <= 10)
    h = 0.0
    while h <= hours:
        x, _ = xy(x0 + h * 3600, y0)
        out.append(f'<text x="{x}" y="{PH - 10}" text-anchor="middle">{h:g} h</text>')
        h += step
    out.append(
        f'<text x="12" y="{(T + B) / 2}" transform="rotate(-90 12 {(T + B) / 2})" '
        f'text-anchor="middle">{_esc(ylabel)}</text>'
    )
    for b0, b1, col, label in bands:
        xa, _ = xy(max(b0, x0), y0)
        xb, _ = xy(min(b1, x1), y0)
        out.append(
            f'<rect x="{xa}" y="{T}" width="{max(xb - xa, 0.5)}" height="{B - T}" '
            f'fill="{col}" opacity="0.18"><title>{_esc(label)}</title></rect>'
        )
    for name, s, col in series:
        pts = [xy(t, v) for t, v in s]
        if line:
            out.append(
                f'<polyline points="{_path(pts)}" fill="none" stroke="{col}" stroke-width="2">'
                f"<title>{_esc(name)}</title></polyline>"
            )
        else:
            out += [
                f'<circle cx="{x}" cy="{y}" r="2" fill="{col}" opacity="0.75"/>' for x, y in pts
            ]
    out.append("</svg>")
    return "".join(out)


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


ZONE_KINDS = {  # tagcore.zones A_*
    1: "ZONE BREACH (alert)",
    2: "zone breach over",
    3: "zone approach (wearer warned)",
    4: "no fix: wearer warned",
    5: "LOCATION LOST (alert)",
    6: "location back",
    7: "zone config expired",
}
ZONE_RULES = {1: "consecutive fixes", 2: "sustained", 3: "left", 4: "window closed", 5: "reload"}


def zone_alert_text(run: Run, f: list[str]) -> tuple[str, str]:
    """(what, details) of an "A now zone kind zkind rule t evidence" line."""
    kind, zid, rule = int(f[3]), int(f[2]), int(f[5])
    what = ZONE_KINDS.get(kind, f"zone alert {kind}")
    if kind in (4, 5, 6):
        return what, f"{rule} s without a fix"
    names = {z.id: z.name for z in run.scenario.zones}
    how = ZONE_RULES.get(rule, "") if kind in (1, 2) else ""
    ev = f", {f[7]} evidence fixes" if f[7] != "0" else ""
    return what, f"zone {zid} {names.get(zid, '')}" + (f" ({how})" if how else "") + ev


PROX_KINDS = {
    1: "beacon nearby",
    2: "beacon NEAR (alert)",
    3: "near: exit",
    4: "beacon gone",
    5: "GNSS pre-alert ring",
    6: "GNSS victim zone (alert)",
    7: "GNSS zone: exit",
    8: "GNSS ring: exit",
    9: "corroborated by GNSS",
    10: "contradicted by GNSS",
}


def _event_rows(run: Run, limit: int = 40) -> str:
    rows = []
    for t, ln in run.log.tag_lines:
        f = ln.split()
        if f[0] == "A" and len(f) >= 8:
            rows.append((t, "tag", *zone_alert_text(run, f)))
        elif f[0] == "P":  # beacon kind flags rssi dist_dm
            what = PROX_KINDS.get(int(f[3]), "proximity " + f[3])
            dist = f", {int(f[6]) / 10:.0f} m by GNSS" if int(f[6]) >= 0 else ""
            rssi = f", {f[5]} dBm" if f[5] != "0" else ""
            rows.append((t, "tag", what, f"beacon {f[2]}{rssi}{dist}"))
        elif f[0] in EVENT_NAMES:
            rows.append((t, "tag", EVENT_NAMES[f[0]], " ".join(f[2:])))
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
        f"<tr><td colspan=4>... {len(rows) - limit} more in events.jsonl</td></tr>"
        if len(rows) > limit
        else ""
    )
    return (
        "".join(
            f"<tr><td>{_esc(iso(t))}</td><td>{src}</td><td>{_esc(k)}</td><td>{_esc(d)}</td></tr>"
            for t, src, k, d in rows[:limit]
        )
        + more
        or "<tr><td>none</td></tr>"
    )


def render(
    run: Run,
    metrics: dict[str, Any],
    checks: list[dict[str, Any]],
    trail: list[tuple[int, float, float]],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
) -> str:
    sc = run.scenario
    red = any(c["status"] == "fail" for c in checks)
    verdict = (
        '<span class="badge red">RED</span>' if red else '<span class="badge green">GREEN</span>'
    )
    errs = []
    for f in fixes:
        p = run.truth.at(f["t"])
        e = math.hypot(
            (f["lat"] - p.lat) * 111195.08,
            (f["lon"] - p.lon) * 111195.08 * math.cos(math.radians(p.lat)),
        )
        errs.append((float(f["t"]), e))
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
        ),
        plot_svg(
            "Battery (%): on the charger (green), no coverage (red)",
            [("battery", batt, "#1f9d55")],
            t0,
            "%",
            line=True,
            t1=t1,
            bands=_bands(run, "charger", "on", "#1f9d55", "charging")
            + _bands(run, "coverage", "up", "#d64545", "no coverage", invert=True),
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
            )
        )
        plots.append(
            plot_svg(
                "True distance to the beacon (m)", [("distance", dist, "#5b6675")], t0, "m", t1=t1
            )
        )
    rows = "".join(
        f"<tr><td>{_esc(c['key'])}</td><td>{_esc(c['want'])}</td><td>{_esc(c['got'])}</td>"
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
    mrows = "".join(f"<tr><td>{k}</td><td>{_esc(metrics.get(k))}</td></tr>" for k in keys)
    tot = sum(metrics["energy_mah"].values()) or 1.0
    erows = "".join(
        f'<tr><td>{k}</td><td>{v:.2f} mAh</td><td><div style="background:#1f77d0;height:10px;'
        f'width:{200 * v / tot:.0f}px"></div></td></tr>'
        for k, v in metrics["energy_mah"].items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>opentag sim: {_esc(sc.name)}</title><style>{CSS}</style></head><body>
<h1>{_esc(sc.name)} {verdict}</h1>
<div class="sub">{_esc(sc.description)}<br>board {_esc(sc.board.name)} · seed {sc.seed} ·
runtime {_esc(run.runtime)} ·
{_esc(iso(sc.start))} to {_esc(iso(run.log.end))}</div>
<div class="card">{map_svg(run, trail, fixes, alerts)}</div>
<div class="card">{"".join(plots)}</div>
<div class="grid"><div class="card"><h3>Expectations</h3><table>
<tr><th>key</th><th>want</th><th>got</th><th></th></tr>{rows}</table></div>
<div class="card"><h3>Metrics</h3><table>{mrows}</table></div>
<div class="card"><h3>Energy by component</h3><table>{erows}</table></div>
<div class="card"><h3>Events</h3><table>{_event_rows(run)}</table></div></div>
</body></html>
"""

"""The self-contained HTML report: inline SVG map and plots, no scripts, no network.

Read by a probation officer first: the top of the page answers what happened, when (in the
scenario's local time, DST included), where, and when the monitoring centre knew (the server's
receipt of each alert); a timeline shows true breaches, the tag's alerts, their receipt and the
coverage gaps; the map is framed on the walk with a distinct marker for approach, breach and
end. Below: plots of fix error, battery, beacon RSSI and distance, the expectations and metrics.
"""

from __future__ import annotations

import html as htmlesc
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tagcore.proximity import monitor as P
from tagcore.zones import monitor as Z

from tagsim import story
from tagsim import taglines as L
from tagsim.engine import Run
from tagsim.geo import M_PER_DEG
from tagsim.metrics import fix_error_m
from tagsim.simtime import EPOCH, iso

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
#what-happened{font-size:15px;line-height:1.6;margin:4px 0 10px;padding-left:20px}
#what-happened .missed,#what-happened .false{color:#b02a2a}
.utc{color:#8a949e;font-size:12px}
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
        return M_PER_DEG / self.s


def _path(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in pts)


LEGEND_W = 236
# Marker shapes by what an alert means, so approach, breach and end never look alike.
MARKERS = {
    "breach": ("#d64545", "diamond", "zone breach (alert)"),
    "approach": ("#e08a00", "triangle", "approach ring (wearer warned)"),
    "end": ("#1f9d55", "square", "breach over (left the zone)"),
    "entry": ("#111111", "cross", "true breach (ground truth)"),
    "proximity": ("#8a4baf", "star", "beacon / victim alert"),
    "loc_lost": ("#6b7480", "circle", "location lost / no-fix warning"),
    "tamper": ("#111111", "octagon", "tamper"),
}


def marker(kind: str, x: float, y: float, title: str, big: bool = False) -> str:
    """One map or timeline marker: its shape and colour say what it is (MARKERS)."""
    col, shape, _ = MARKERS.get(kind, MARKERS["loc_lost"])
    r = 9 if big else 6
    t = f"<title>{_esc(title)}</title>"
    cls = f'class="mk mk-{kind}"'
    if shape == "diamond":
        return (
            f'<path {cls} d="M{x},{y - r} l{r},{r} l{-r},{r} l{-r},{-r} z" fill="{col}" '
            f'stroke="#fff" stroke-width="1.5">{t}</path>'
        )
    if shape == "triangle":
        return (
            f'<path {cls} d="M{x},{y - r} l{r},{1.7 * r:.1f} h{-2 * r} z" fill="#fff" '
            f'stroke="{col}" stroke-width="2.5">{t}</path>'
        )
    if shape == "square":
        return (
            f'<rect {cls} x="{x - r * 0.8:.1f}" y="{y - r * 0.8:.1f}" width="{1.6 * r:.1f}" '
            f'height="{1.6 * r:.1f}" fill="{col}" stroke="#fff" stroke-width="1.5">{t}</rect>'
        )
    if shape == "cross":
        return (
            f'<path {cls} d="M{x - r},{y - r} L{x + r},{y + r} M{x - r},{y + r} L{x + r},{y - r}" '
            f'stroke="{col}" stroke-width="3">{t}</path>'
        )
    if shape == "star":
        pts = " ".join(
            f"{x + (r if k % 2 == 0 else r / 2.4) * math.sin(k * math.pi / 5):.1f},"
            f"{y - (r if k % 2 == 0 else r / 2.4) * math.cos(k * math.pi / 5):.1f}"
            for k in range(10)
        )
        return f'<polygon {cls} points="{pts}" fill="{col}" stroke="#fff">{t}</polygon>'
    if shape == "octagon":
        pts = " ".join(
            f"{x + r * math.cos((k + 0.5) * math.pi / 4):.1f},"
            f"{y + r * math.sin((k + 0.5) * math.pi / 4):.1f}"
            for k in range(8)
        )
        return f'<polygon {cls} points="{pts}" fill="{col}" stroke="#fff">{t}</polygon>'
    return (
        f'<circle {cls} cx="{x}" cy="{y}" r="{r * 0.7:.1f}" fill="{col}" stroke="#fff">{t}</circle>'
    )


def map_svg(
    run: Run,
    trail: list[tuple[int, float, float]],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    tz: ZoneInfo = story.UTC,
    episodes: list[story.Episode] = (),  # type: ignore[assignment]
    gaps: list[tuple[int, int]] = (),  # type: ignore[assignment]
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
    pr = _Proj(
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
            poly = _path([pr(y, x) for x, y in g.exterior.coords])
            out.append(
                f'<polygon class="zone" points="{poly}" fill="{col}" fill-opacity="0.16" '
                f'stroke="{col}" stroke-width="1.5"><title>{_esc(z.name)} ({z.kind})</title>'
                "</polygon>"
            )
            seen = g.intersection(view)
            if seen.is_empty:
                continue
            p = shapely.point_on_surface(seen)
            cx, cy = pr(p.y, p.x)
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
        f'<polyline id="trail" points="{_path([pr(a, b) for _, a, b in trail])}" fill="none" '
        'stroke="#1d2733" stroke-width="2" opacity="0.75"/>'
    )
    for a, b in gaps:  # the walk while the tag could not reach the server
        seg = [pr(la, lo) for t, la, lo in trail if a <= t < b]
        if len(seg) > 1:
            out.append(
                f'<polyline class="gap" points="{_path(seg)}" fill="none" stroke="#f0a020" '
                'stroke-width="7" opacity="0.55" stroke-linecap="round">'
                f"<title>no coverage {_esc(story.clock(a, tz))} to {_esc(story.clock(b, tz))}"
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


def _tick(v: float) -> str:
    return f"{v / 1000:.3g}k" if abs(v) >= 1000 else f"{v:.3g}"


# Tick steps for a time axis, seconds; past the last, whole multiples of four weeks.
TIME_STEPS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    28 * 86400,
)


def time_ticks(t0: int, t1: int, tz: ZoneInfo, most: int = 10) -> list[tuple[int, str]]:
    """At most `most` (and at least 2) ticks between t0 and t1 on round local wall-clock times
    (on a DST night 01:00, 03:00, 04:00 local: the wall clock the reader lives by), with
    labels; any span, from a second to years."""
    t1 = max(t1, t0 + 1)
    span = t1 - t0
    step = next((s for s in TIME_STEPS if span / s <= most - 1), 0)
    if not step:
        step = TIME_STEPS[-1] * math.ceil(span / (most - 1) / TIME_STEPS[-1])
    lo = story.to_local(t0, tz).replace(tzinfo=None)
    day0 = datetime(lo.year, lo.month, lo.day)
    if step >= 86400:
        days = step // 86400
        if days % 7 == 0:  # weeks start on Mondays
            day0 -= timedelta(days=day0.weekday())
        walls = (day0 + timedelta(days=days * k) for k in range(10**6))
    else:
        k0 = int((lo - day0).total_seconds()) // step
        walls = (day0 + timedelta(seconds=step * k) for k in range(k0, 10**7))
    out: list[tuple[int, str]] = []
    last_day = None
    for w in walls:
        t = int((w.replace(tzinfo=tz) - EPOCH).total_seconds())
        if t > t1:
            break
        if t < t0 or (out and t <= out[-1][0]):  # before the axis, or a wall time DST skips
            continue
        d = story.to_local(t, tz)
        if step >= 86400:
            label = d.strftime("%a %d %b")
        elif step < 60:
            label = d.strftime("%H:%M:%S")
        else:
            label = d.strftime("%H:%M")
            if last_day != d.date():  # the first tick of each day carries the date
                label = d.strftime("%d %b ") + label
        last_day = d.date()
        out.append((t, label))
    return out


def plot_svg(
    title: str,
    series: list[tuple[str, list[tuple[float, float]], str]],
    t0: int,
    ylabel: str,
    line: bool = False,
    t1: int | None = None,
    bands: list[tuple[int, int, str, str]] = (),  # type: ignore[assignment]
    tz: ZoneInfo = story.UTC,
    log: bool = False,
    marks: list[tuple[int, str, str]] = (),  # type: ignore[assignment]
) -> str:
    """A scatter (or line) plot against local time; bands: (from, to, colour, label) shading;
    marks: (t, colour, label) vertical lines; log: a log10 value axis (values > 0 only)."""
    if log:
        series = [(n, [(t, v) for t, v in s if v > 0], c) for n, s, c in series]
    allp = [p for _, s, _ in series for p in s]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PW}" height="{PH}" '
        f'viewBox="0 0 {PW} {PH}" class="plot">'
    ]
    out.append(f'<text x="50" y="14" style="font-weight:600;font-size:13px">{_esc(title)}</text>')
    if not allp:
        out.append('<text x="50" y="100">no data</text></svg>')
        return "".join(out)
    x0, x1 = t0, max(t1 or max(p[0] for p in allp), t0 + 1)
    f = math.log10 if log else float
    y0, y1 = min(f(p[1]) for p in allp), max(f(p[1]) for p in allp)
    if log:
        y0, y1 = math.floor(y0), math.ceil(y1)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1
    L, R, T, B = 50, PW - 12, 24, PH - 28

    def xy(t: float, v: float) -> tuple[float, float]:
        return (
            round(L + (t - x0) / (x1 - x0) * (R - L), 1),
            round(B - (f(v) - y0) / (y1 - y0) * (B - T), 1),
        )

    out.append(
        f'<rect x="{L}" y="{T}" width="{R - L}" height="{B - T}" fill="#fafbfc" stroke="#d5d9de"/>'
    )
    levels = (
        [
            10.0**k * m
            for k in range(int(y0), int(y1) + 1)
            for m in (1, 2, 5)
            if k + math.log10(m) <= y1
        ]
        if log
        else [y0 + (y1 - y0) * i / 4 for i in range(5)]
    )
    for v in levels:
        y = round(B - ((math.log10(v) if log else v) - y0) / (y1 - y0) * (B - T), 1)
        out.append(
            f'<line x1="{L}" y1="{y}" x2="{R}" y2="{y}" stroke="#e6e8eb"/>'
            f'<text x="{L - 6}" y="{y + 4}" text-anchor="end">{_tick(v)}</text>'
        )
    for t, label in time_ticks(int(x0), int(x1), tz):
        x = round(L + (t - x0) / (x1 - x0) * (R - L), 1)
        out.append(
            f'<line x1="{x}" y1="{B}" x2="{x}" y2="{B + 4}" stroke="#8a949e"/>'
            f'<text class="tick" x="{x}" y="{PH - 10}" text-anchor="middle">{_esc(label)}</text>'
        )
    out.append(
        f'<text x="12" y="{(T + B) / 2}" transform="rotate(-90 12 {(T + B) / 2})" '
        f'text-anchor="middle">{_esc(ylabel)}</text>'
    )
    for b0, b1, col, label in bands:
        xa = round(L + (max(b0, x0) - x0) / (x1 - x0) * (R - L), 1)
        xb = round(L + (min(b1, x1) - x0) / (x1 - x0) * (R - L), 1)
        out.append(
            f'<rect x="{xa}" y="{T}" width="{max(xb - xa, 0.5)}" height="{B - T}" '
            f'fill="{col}" opacity="0.18"><title>{_esc(label)}</title></rect>'
        )
    for t, col, label in marks:
        x = round(L + (t - x0) / (x1 - x0) * (R - L), 1)
        out.append(
            f'<line x1="{x}" y1="{T}" x2="{x}" y2="{B}" stroke="{col}" stroke-width="1.5" '
            f'stroke-dasharray="4 3"><title>{_esc(label)}</title></line>'
        )
    for name, ser, col in series:
        pts = [xy(t, v) for t, v in ser]
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


def timeline_svg(
    run: Run,
    tz: ZoneInfo,
    episodes: list[story.Episode],
    alerts: list[story.Alert],
    gaps: list[tuple[int, int]],
) -> str:
    """One strip per question, on the local clock: when was the wearer truly in breach, when
    did the tag alert, when did the server have it, when was there no coverage."""
    t0, t1 = run.scenario.start, max(run.log.end, run.scenario.start + 1)
    L, R = 150, W - 16
    rows = ("true breach", "tag alert", "server received", "no coverage")
    rh, top = 30, 22
    h = top + rh * len(rows) + 30

    def x(t: float) -> float:
        return round(L + (min(max(t, t0), t1) - t0) / (t1 - t0) * (R - L), 1)

    def y(i: int) -> float:
        return top + rh * i + rh / 2

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" '
        'id="timeline">',
        f'<text x="8" y="14" style="font-weight:600;font-size:13px">Timeline ({_esc(tz.key)} '
        "local time)</text>",
    ]
    for i, name in enumerate(rows):
        out.append(
            f'<rect x="{L}" y="{top + rh * i + 3}" width="{R - L}" height="{rh - 6}" '
            'fill="#fafbfc" stroke="#e6e8eb"/>'
            f'<text x="{L - 8}" y="{y(i) + 4}" text-anchor="end">{name}</text>'
        )
    for e in episodes:
        end = e.until if e.until is not None else t1
        out.append(
            f'<rect class="breach-band" x="{x(e.t)}" y="{top + 5}" '
            f'width="{max(x(end) - x(e.t), 2)}" height="{rh - 10}" fill="#d64545" opacity="0.35">'
            f"<title>in breach: {_esc(e.zone_name)} {_esc(story.local(e.t, tz))} to "
            f"{_esc(story.local(end, tz))}</title></rect>"
        )
        out.append(marker("entry", x(e.t), y(0), f"true entry {story.local(e.t, tz)}"))
    for al in alerts:
        if not al.alerting and al.kind not in ("approach", "end"):
            continue
        title = f"{al.what} {story.local(al.t, tz)}"
        out.append(marker(al.kind, x(al.t), y(1), title, big=al.kind == "breach"))
        if al.alerting and al.at_server is not None:
            out.append(
                f'<line x1="{x(al.t)}" y1="{y(1)}" x2="{x(al.at_server)}" y2="{y(2)}" '
                'stroke="#1f77d0" stroke-width="1.2"/>'
                f'<circle class="mk mk-server" cx="{x(al.at_server)}" cy="{y(2)}" r="5" '
                f'fill="#1f77d0"><title>server received: {_esc(al.what)} '
                f"{_esc(story.local(al.at_server, tz))}</title></circle>"
            )
    for a, b in gaps:
        out.append(
            f'<rect class="gap" x="{x(a)}" y="{top + rh * 3 + 5}" width="{max(x(b) - x(a), 2)}" '
            f'height="{rh - 10}" fill="#f0a020" opacity="0.8"><title>no coverage '
            f"{_esc(story.local(a, tz))} to {_esc(story.local(b, tz))}</title></rect>"
        )
    base = top + rh * len(rows)
    for t, label in time_ticks(t0, t1, tz):
        out.append(
            f'<line x1="{x(t)}" y1="{top}" x2="{x(t)}" y2="{base + 3}" stroke="#e6e8eb"/>'
            f'<text class="tick" x="{x(t)}" y="{base + 16}" text-anchor="middle">'
            f"{_esc(label)}</text>"
        )
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


ZONE_KINDS = {
    Z.A_BREACH: "ZONE BREACH (alert)",
    Z.A_BREACH_END: "zone breach over",
    Z.A_APPROACH: "zone approach (wearer warned)",
    Z.A_LOC_WARN: "no fix: wearer warned",
    Z.A_LOC_LOST: "LOCATION LOST (alert)",
    Z.A_LOC_BACK: "location back",
    Z.A_CONFIG_EXPIRED: "zone config expired",
}
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


def _event_rows(run: Run, tz: ZoneInfo = story.UTC, limit: int = 40) -> str:
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
            f'<tr><td>{_esc(story.local(t, tz))}</td><td class="utc">{_esc(iso(t))}</td>'
            f"<td>{src}</td><td>{_esc(k)}</td><td>{_esc(d)}</td></tr>"
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
            f"Curfew broken: {_esc(e.zone_name)}"
            if e.kind == "curfew"
            else f"Entered exclusion zone {_esc(e.zone_name)}"
        )
        when = f"at <b>{_esc(story.local(e.t, tz))}</b> (true)"
        if e.alert is None:
            items.append(f'<li class="missed">{what} {when}: <b>NO ALERT</b> (missed)</li>')
            continue
        srv = (
            f"server received it <b>{_esc(story.clock(e.at_server, tz))}</b> "
            f"({_delay(e.t, e.at_server)} after the true moment)"
            if e.at_server is not None
            else "<b>never reached the server</b> in this run"
        )
        items.append(
            f'<li class="episode">{what} {when}; tag alert <b>{_esc(story.clock(e.alert, tz))}'
            f"</b> ({_delay(e.t, e.alert)}); {srv}</li>"
        )
    for al in alerts:
        if al.kind == "breach" and al.t not in matched:
            items.append(
                f'<li class="false">Breach alert with no true entry (false alert): '
                f"{_esc(al.what)} at <b>{_esc(story.local(al.t, tz))}</b></li>"
            )
        elif al.alerting and al.kind != "breach":
            srv = (
                f"server {_esc(story.clock(al.at_server, tz))} ({_delay(al.t, al.at_server)})"
                if al.at_server is not None
                else "never reached the server"
            )
            items.append(
                f'<li class="other">{_esc(al.what)} at <b>{_esc(story.local(al.t, tz))}</b>; '
                f"{srv}</li>"
            )
    for a, b in gaps[:3]:
        items.append(
            f'<li class="gap">No network coverage {_esc(story.local(a, tz))} to '
            f"{_esc(story.clock(b, tz))} ({_delay(a, b)[1:]}): alerts waited on the tag</li>"
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
            srv = _esc(story.clock(al.at_server, tz))
        rows.append(
            f'<tr class="alert-{al.kind}"><td>{_esc(al.what)}</td>'
            f"<td>{_esc(story.local(al.t, tz))}</td>"
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
runtime {_esc(run.runtime)} · <span id="span">{_esc(story.local(sc.start, tz))} to
{_esc(story.local(run.log.end, tz))}</span> · times are local ({_esc(tz.key)}) unless marked UTC
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

"""The reports' drawing: inline SVG parts for the simulator's report (tagsim.report) and the
host's (`opentag report`, taghost.report), so both draw markers, maps, plots and timelines the
same way and neither restates the other. Pure functions returning SVG text; CPython only.
"""

from __future__ import annotations

import html as htmlesc
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from taghost.units import EPOCH_2000, M_PER_DEG, to_datetime

UTC = ZoneInfo("UTC")

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


def esc(v: Any) -> str:
    return htmlesc.escape(str(v))


class Proj:
    """Equirectangular lat/lon to SVG pixels, framed on `pts` with `pad` px around."""

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


def path(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in pts)


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
    t = f"<title>{esc(title)}</title>"
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
    lo = to_local(t0, tz).replace(tzinfo=None)
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
        t = int((w.replace(tzinfo=tz) - EPOCH_2000).total_seconds())
        if t > t1:
            break
        if t < t0 or (out and t <= out[-1][0]):  # before the axis, or a wall time DST skips
            continue
        d = to_local(t, tz)
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
    bands: Sequence[tuple[int, int, str, str]] = (),
    tz: ZoneInfo = UTC,
    log: bool = False,
    marks: Sequence[tuple[int, str, str]] = (),
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
    out.append(f'<text x="50" y="14" style="font-weight:600;font-size:13px">{esc(title)}</text>')
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
            f'<text class="tick" x="{x}" y="{PH - 10}" text-anchor="middle">{esc(label)}</text>'
        )
    out.append(
        f'<text x="12" y="{(T + B) / 2}" transform="rotate(-90 12 {(T + B) / 2})" '
        f'text-anchor="middle">{esc(ylabel)}</text>'
    )
    for b0, b1, col, label in bands:
        xa = round(L + (max(b0, x0) - x0) / (x1 - x0) * (R - L), 1)
        xb = round(L + (min(b1, x1) - x0) / (x1 - x0) * (R - L), 1)
        out.append(
            f'<rect x="{xa}" y="{T}" width="{max(xb - xa, 0.5)}" height="{B - T}" '
            f'fill="{col}" opacity="0.18"><title>{esc(label)}</title></rect>'
        )
    for t, col, label in marks:
        x = round(L + (t - x0) / (x1 - x0) * (R - L), 1)
        out.append(
            f'<line x1="{x}" y1="{T}" x2="{x}" y2="{B}" stroke="{col}" stroke-width="1.5" '
            f'stroke-dasharray="4 3"><title>{esc(label)}</title></line>'
        )
    for name, ser, col in series:
        pts = [xy(t, v) for t, v in ser]
        if line:
            out.append(
                f'<polyline points="{path(pts)}" fill="none" stroke="{col}" stroke-width="2">'
                f"<title>{esc(name)}</title></polyline>"
            )
        else:
            out += [
                f'<circle cx="{x}" cy="{y}" r="2" fill="{col}" opacity="0.75"/>' for x, y in pts
            ]
    out.append("</svg>")
    return "".join(out)


def to_local(t: float, tz: ZoneInfo) -> datetime:
    """Core seconds as an aware datetime on `tz`'s wall clock."""
    return to_datetime(int(t)).astimezone(tz)


class Timeline:
    """A strip chart against time, one labelled row per question (both reports' timeline):
    add marks at (x(t), y(row)) and bands in rows to `parts`; svg() frames them with the rows'
    labels and ticks on round wall-clock times of `tz`."""

    ROW_H = 30
    TOP = 22

    def __init__(
        self, t0: int, t1: int, rows: Sequence[str], title: str, tz: ZoneInfo = UTC, left: int = 150
    ) -> None:
        self.t0, self.t1 = t0, max(t1, t0 + 1)
        self.rows, self.title, self.tz = rows, title, tz
        self.left, self.right = left, W - 16
        self.parts: list[str] = []

    def x(self, t: float) -> float:
        """The x of time t, clamped to the axis."""
        t0, t1 = self.t0, self.t1
        return round(
            self.left + (min(max(t, t0), t1) - t0) / (t1 - t0) * (self.right - self.left), 1
        )

    def y(self, row: int) -> float:
        """The y of a row's middle line."""
        return self.TOP + self.ROW_H * row + self.ROW_H / 2

    def band(
        self,
        row: int,
        a: float,
        b: float,
        cls: str,
        fill: str,
        opacity: float,
        title: str,
        inset: int = 5,
    ) -> None:
        """Shade [a, b] in `row` (at least 2 px wide, so a moment still shows)."""
        self.parts.append(
            f'<rect class="{cls}" x="{self.x(a)}" y="{self.TOP + self.ROW_H * row + inset}" '
            f'width="{max(self.x(b) - self.x(a), 2)}" height="{self.ROW_H - 2 * inset}" '
            f'fill="{fill}" opacity="{opacity}"><title>{esc(title)}</title></rect>'
        )

    def svg(self) -> str:
        rh, top, left, right = self.ROW_H, self.TOP, self.left, self.right
        h = top + rh * len(self.rows) + 30
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" '
            f'viewBox="0 0 {W} {h}" id="timeline">',
            f'<text x="8" y="14" style="font-weight:600;font-size:13px">{esc(self.title)}</text>',
        ]
        for i, name in enumerate(self.rows):
            out.append(
                f'<rect x="{left}" y="{top + rh * i + 3}" width="{right - left}" '
                f'height="{rh - 6}" fill="#fafbfc" stroke="#e6e8eb"/>'
                f'<text x="{left - 8}" y="{self.y(i) + 4}" text-anchor="end">{esc(name)}</text>'
            )
        out += self.parts
        base = top + rh * len(self.rows)
        for t, label in time_ticks(self.t0, self.t1, self.tz):
            x = self.x(t)
            out.append(
                f'<line x1="{x}" y1="{top}" x2="{x}" y2="{base + 3}" stroke="#e6e8eb"/>'
                f'<text class="tick" x="{x}" y="{base + 16}" text-anchor="middle">'
                f"{esc(label)}</text>"
            )
        out.append("</svg>")
        return "".join(out)

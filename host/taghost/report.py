"""`opentag report INPUT --out FILE.html`: one self-contained HTML page (inline SVG, no scripts,
no network) for a pulled log, a replay or a server export.

INPUT is one of:
- a directory from `opentag pull` (its log/ segments, decoded by the core's record decoder; the
  zone blob in prov/ gives the alerts the current core raises, besides those the tag logged),
- the JSON of `opentag replay --json` (a capture's fixes; the rejected ones are not drawn),
- a GeoJSON export of fixes (`GET /tags/ID/export?format=geojson` of the server, or a pull's
  fixes.geojson).

The page: what happened (alerts and gaps, UTC), the map (trail, fixes, zones from `--zones
FILE.geojson`, a marker per alert), a timeline (zone and curfew alerts, other alerts, gaps
without a fix, the battery events) and plots of battery and fix quality (accuracy estimate,
satellites, HDOP). The drawing is taghost.draw, which the simulator's report uses too: the
same markers, projection, time axis, timeline and plots.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from taghost import alertkinds as K
from taghost import draw, units
from taghost.draw import H, W, esc
from taghost.errors import EXIT_OK, UserError
from taghost.server.api import iso

GAP_MIN_S = 300  # a gap: no fix for this long (or 5 intervals, if the tag logs more sparsely)
# Alert names, labels, markers and timeline rows: the one vocabulary (taghost.alertkinds), the
# server's names. A replay JSON or events.json written before it is read through K.current().
ALERT_TEXT = {name: k.label for name, k in K.KINDS.items()}


# ---- inputs -----------------------------------------------------------------------------------


def _fix(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "t": int(d["t"]),
        "ms": int(d.get("ms") or 0),
        "lat": int(d["lat"]) / 1e6,
        "lon": int(d["lon"]) / 1e6,
        "acc_m": None if d.get("acc_dm") is None else d["acc_dm"] / 10,
        "sats": d.get("sats"),
        "hdop": None if d.get("hdop_c") is None else d["hdop_c"] / 100,
    }


def _event(e: dict[str, Any], source: str) -> dict[str, Any]:
    # an alert by its name; an event that opens none (a proximity end, a plan change) by its
    # record kind, which is not an alert name: listed in no alert row
    what = K.current(str(e["alert"])) if e.get("alert") else f"event {e.get('kind')}"
    return {
        "t": int(e["t"]),
        "what": what,
        "detail": e.get("detail"),
        "zone": e.get("zone"),
        "battery_pct": e.get("battery_pct"),
        "source": source,
    }


def load(path: Path, zones: Path | None) -> dict[str, Any]:
    """{"kind", "source", "fixes", "events"} from any of the inputs."""
    if path.is_dir():
        from taghost import replaylog as rl
        from taghost.pull import decode_dir

        doc = decode_dir(rl.pulled_log_dir(path))
        fixes = [_fix(f) for f in doc["fixes"]]
        events = [_event(e, "tag") for e in doc["events"] if e["kind"] not in ("thinned",)]
        blob = path / "prov" / "zones.bin"
        if blob.is_file():
            tagged = {(e["what"], e["t"]) for e in events}
            from tagcore.fix import Fix

            raw = [Fix(*(f[k] for k in Fix._fields)) for f in doc["fixes"]]
            for a in rl.zone_alerts(raw, blob.read_bytes()):
                if (a["alert"], a["t"]) not in tagged:
                    events.append(_event(a, "replay"))
        return {"kind": "pulled log", "source": str(path), "fixes": fixes, "events": events}
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{path}: not a pulled log, replay JSON or GeoJSON export: {e}") from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        fixes = []
        for f in doc.get("features", []):
            p = f.get("properties") or {}
            if f.get("geometry", {}).get("type") == "Point" and "t" in p and "lat" in p:
                fixes.append(_fix(p))
        if not fixes:
            raise UserError(f"{path}: a GeoJSON without fix points (t, lat, lon properties)")
        return {"kind": "server export", "source": str(path), "fixes": fixes, "events": []}
    if isinstance(doc, dict) and isinstance(doc.get("fixes"), list):
        fixes = [_fix(f) for f in doc["fixes"] if f.get("accepted", True)]
        events = [_event(a, "replay") for a in doc.get("alerts", [])]
        events += [_event(a, "tag") for a in doc.get("logged_alerts", [])]
        return {
            "kind": "replay",
            "source": doc.get("source", str(path)),
            "fixes": fixes,
            "events": events,
        }
    raise UserError(f"{path}: not a pulled log, replay JSON or GeoJSON export")


def _text(e: dict[str, Any]) -> str:
    """An event's label, with what the tag said of it (a tamper's kind, the GNSS detector)."""
    text = ALERT_TEXT.get(e["what"], e["what"])
    return f"{text}: {e['detail']}" if e.get("detail") else text


def gaps(fixes: list[dict[str, Any]]) -> list[tuple[int, int]]:
    ts = [f["t"] for f in fixes]
    if len(ts) < 3:
        return []
    step = statistics.median(b - a for a, b in pairwise(ts))
    limit = max(GAP_MIN_S, 5 * step) if step > 60 else min(GAP_MIN_S, max(6 * step, 30))
    return [(a, b) for a, b in pairwise(ts) if b - a > limit]


# ---- drawing (taghost.draw's parts) ---------------------------------------------------------


def _zone_shapes(zones: Path | None, pr: Any) -> str:
    if zones is None:
        return ""
    try:
        doc = json.loads(zones.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"--zones {zones}: not readable GeoJSON: {e}") from None
    out = []
    for f in doc.get("features", []):
        g, p = f.get("geometry") or {}, f.get("properties") or {}
        col = "#d64545" if p.get("kind") == "exclusion" else "#1f9d55"
        title = esc(f"{p.get('name', 'zone')} ({p.get('kind', '?')})")
        if g.get("type") == "Point" and p.get("radius_m"):
            lon, lat = g["coordinates"][:2]
            x, y = pr(lat, lon)
            r = p["radius_m"] / pr.metres_per_px()
            out.append(
                f'<circle class="zone" cx="{x}" cy="{y}" r="{r:.1f}" fill="{col}" '
                f'fill-opacity="0.12" stroke="{col}" stroke-width="1.5"><title>{title}</title>'
                "</circle>"
            )
        elif g.get("type") == "Polygon":
            for ring in g["coordinates"]:
                pts = draw.path([pr(la, lo) for lo, la, *_ in ring])
                out.append(
                    f'<polygon class="zone" points="{pts}" fill="{col}" fill-opacity="0.12" '
                    f'stroke="{col}" stroke-width="1.5"><title>{title}</title></polygon>'
                )
    return "".join(out)


def _nearest(fixes: list[dict[str, Any]], t: int) -> dict[str, Any]:
    return min(fixes, key=lambda f: abs(f["t"] - t))


def map_svg(doc: dict[str, Any], zones: Path | None, gap_list: list[tuple[int, int]]) -> str:
    fixes = doc["fixes"]
    pr = draw.Proj([(f["lat"], f["lon"]) for f in fixes], W, H)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" id="map"><rect width="{W}" height="{H}" fill="#fbfcfd"/>'
    ]
    out.append(_zone_shapes(zones, pr))
    # the trail, broken at each gap (drawn dashed orange across it)
    starts = {a for a, _ in gap_list}
    run: list[tuple[float, float]] = []
    for i, f in enumerate(fixes):
        run.append(pr(f["lat"], f["lon"]))
        if f["t"] in starts and i + 1 < len(fixes):
            out.append(
                f'<polyline id="trail" points="{draw.path(run)}" fill="none" '
                'stroke="#1f77d0" stroke-width="2.5"/>'
            )
            nxt = pr(fixes[i + 1]["lat"], fixes[i + 1]["lon"])
            out.append(
                f'<line class="gap" x1="{run[-1][0]}" y1="{run[-1][1]}" x2="{nxt[0]}" '
                f'y2="{nxt[1]}" stroke="#f0a020" stroke-width="3" stroke-dasharray="6 4">'
                f"<title>no fix {iso(f['t'])} to {iso(fixes[i + 1]['t'])}</title></line>"
            )
            run = []
    out.append(
        f'<polyline id="trail" points="{draw.path(run)}" fill="none" '
        'stroke="#1f77d0" stroke-width="2.5"/>'
    )
    for f in fixes:
        x, y = pr(f["lat"], f["lon"])
        out.append(f'<circle cx="{x}" cy="{y}" r="2.2" fill="#1f77d0"/>')
    for e in doc["events"]:
        k = K.KINDS.get(e["what"])
        if k is None or k.mark is None:
            continue
        f = _nearest(fixes, e["t"])
        x, y = pr(f["lat"], f["lon"])
        title = f"{_text(e)} {iso(e['t'])} ({e['source']})"
        out.append(draw.marker(k.mark, x, y, title, big=e["what"] == K.ZONE_BREACH))
    m = 100 / pr.metres_per_px()
    out.append(
        f'<line x1="20" y1="{H - 20}" x2="{20 + m:.1f}" y2="{H - 20}" stroke="#44505e" '
        f'stroke-width="2"/><text x="20" y="{H - 26}">100 m</text></svg>'
    )
    return "".join(out)


def schedule_windows(zones: Path | None, t0: int, t1: int) -> list[tuple[int, int, str, str]]:
    """(from, to, kind, name) of every scheduled zone's windows between t0 and t1: a curfew (an
    inclusion zone's window: the wearer must be inside) or a time-limited exclusion."""
    if zones is None:
        return []
    from datetime import timedelta

    from taghost import zoneschedule as zs

    try:
        doc = json.loads(zones.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"--zones {zones}: not readable GeoJSON: {e}") from None
    start = units.to_datetime(t0).date() - timedelta(days=1)
    weeks = (t1 - t0) // (7 * 86400) + 2
    out = []
    for f in doc.get("features", []):
        p = f.get("properties") or {}
        if not p.get("schedule"):
            continue
        try:
            sched = zs.parse_schedule(p["schedule"])
        except ValueError as e:
            raise UserError(f"--zones {zones}: {p.get('name', 'a zone')}: {e}") from None
        kind = "curfew" if p.get("kind") == "inclusion" else "exclusion window"
        for a, b in zs.windows(sched, start, weeks):
            if b > t0 and a < t1:
                out.append((a, b, kind, str(p.get("name", f"zone {p.get('id')}"))))
    return out


def timeline_svg(
    doc: dict[str, Any],
    gap_list: list[tuple[int, int]],
    windows: Sequence[tuple[int, int, str, str]] = (),
) -> str:
    fixes, events = doc["fixes"], doc["events"]
    t0, t1 = fixes[0]["t"], max(fixes[-1]["t"], fixes[0]["t"] + 1)
    for e in events:
        t0, t1 = min(t0, e["t"]), max(t1, e["t"])
    rows = ("zones & curfews", "other alerts", "no fix (gaps)", "battery")
    tl = draw.Timeline(t0, t1, rows, "Timeline (UTC)", left=170)
    x, y = tl.x, tl.y
    for a, b, kind, name in windows:
        col = "#1f9d55" if kind == "curfew" else "#c98a12"
        cls = "curfew" if kind == "curfew" else "window"
        tl.band(0, a, b, cls, col, 0.18, f"{kind}: {name} {iso(a)} to {iso(b)}", inset=3)
    open_at: dict[Any, int] = {}
    for e in sorted(events, key=lambda e: e["t"]):
        if e["what"] == K.ZONE_BREACH:
            open_at[e["zone"]] = e["t"]
        elif e["what"] == K.ZONE_BREACH_END and e["zone"] in open_at:
            title = f"in breach of zone {e['zone']}"
            tl.band(0, open_at.pop(e["zone"]), e["t"], "breach-band", "#d64545", 0.35, title)
    for e in events:
        k = K.KINDS.get(e["what"])
        if k is None:
            continue
        title = f"{_text(e)} {iso(e['t'])} ({e['source']})"
        if k.row == 0:
            big = e["what"] == K.ZONE_BREACH
            tl.parts.append(draw.marker(k.mark or "loc_lost", x(e["t"]), y(0), title, big=big))
        elif k.mark is not None:
            tl.parts.append(draw.marker(k.mark, x(e["t"]), y(1), title))
        else:  # battery and power: a dot on the battery row
            tl.parts.append(
                f'<circle class="battery" cx="{x(e["t"])}" cy="{y(3)}" r="6" '
                f'fill="#1f9d55"><title>{esc(title)}</title></circle>'
            )
    for a, b in gap_list:
        tl.band(2, a, b, "gap", "#f0a020", 0.8, f"no fix {iso(a)} to {iso(b)}")
    return tl.svg()


def render(doc: dict[str, Any], zones: Path | None = None, title: str | None = None) -> str:
    fixes = doc["fixes"]
    if not fixes:
        raise UserError(f"{doc['source']}: no fixes to report")
    fixes.sort(key=lambda f: (f["t"], f["ms"]))
    gap_list = gaps(fixes)
    t0, t1 = fixes[0]["t"], fixes[-1]["t"]
    alerts = [e for e in doc["events"] if e["what"] in ALERT_TEXT]
    items = [
        (
            e["t"],
            _text(e)
            + (f" (zone {e['zone']})" if e["zone"] else "")
            + (f" at {e['battery_pct']} %" if e.get("battery_pct") is not None else "")
            + f" <span class='utc'>{e['source']}</span>",
        )
        for e in alerts
    ]
    items += [(a, f"no fix for {(b - a) // 60} min {(b - a) % 60} s") for a, b in gap_list]
    acc = [(f["t"], f["acc_m"]) for f in fixes if f["acc_m"] is not None]
    sats = [(f["t"], float(f["sats"])) for f in fixes if f["sats"] is not None]
    hdop = [(f["t"], f["hdop"]) for f in fixes if f["hdop"] is not None]
    batt = [
        (e["t"], float(e["battery_pct"])) for e in doc["events"] if e.get("battery_pct") is not None
    ]
    plots = [
        draw.plot_svg(
            "Battery (%, from the tag's battery events)",
            [("battery", batt, "#1f9d55")],
            t0,
            "%",
            t1=t1,
            tz=draw.UTC,
        ),
        draw.plot_svg(
            "Fix accuracy estimate (m, 1 sigma)",
            [("accuracy", acc, "#1f77d0")],
            t0,
            "m",
            t1=t1,
            tz=draw.UTC,
        ),
        draw.plot_svg(
            "Satellites used and HDOP",
            [("sats", sats, "#8a4baf"), ("hdop", hdop, "#e08a00")],
            t0,
            "sats / HDOP",
            t1=t1,
            tz=draw.UTC,
        ),
    ]
    windows = schedule_windows(zones, t0, t1)
    items += [
        (max(a, t0), f"{kind}: {esc(name)} until {esc(iso(b))[11:16]} UTC")
        for a, b, kind, name in windows
    ]
    happened = (
        "".join(
            f"<li>{esc(iso(t))[:19].replace('T', ' ')} UTC: {text}</li>"
            for t, text in sorted(items)
        )
        or "<li>no alerts, no gaps</li>"
    )
    head = title or f"opentag report: {doc['kind']}"
    period = f"{units.iso(t0)[:19].replace('T', ' ')} to {units.iso(t1)[:19].replace('T', ' ')} UTC"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(head)}</title><style>{draw.CSS}</style></head><body>"
        f"<h1>{esc(head)}</h1><div class='sub'>{esc(doc['source'])} · {esc(period)} · "
        f"{len(fixes)} fixes · {len(alerts)} alerts and events · {len(gap_list)} gaps</div>"
        f"<div class='card'><b>What happened</b><ul id='what-happened'>{happened}</ul></div>"
        f"<div class='card'>{map_svg(doc, zones, gap_list)}</div>"
        f"<div class='card'>{timeline_svg(doc, gap_list, windows)}</div>"
        + "".join(f"<div class='card'>{p}</div>" for p in plots)
        + "</body></html>"
    )


def cmd_report(args: argparse.Namespace) -> int:
    src = Path(args.input)
    if not src.exists():
        raise UserError(f"{src}: no such file or directory")
    zones = Path(args.zones) if args.zones else None
    if zones is None and src.is_dir() and (src / "zones.geojson").is_file():
        zones = src / "zones.geojson"
    doc = load(src, zones)
    html = render(doc, zones, args.title)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html)
    print(f"{out}: {doc['kind']}, {len(doc['fixes'])} fixes, {len(doc['events'])} events")
    return EXIT_OK

"""`opentag zones`: validate GeoJSON zones and compile them into the tag's zone blob.

opentag zones check FILE.geojson [--start YYYY-MM-DD] [--weeks N] [--years N] [--json]
opentag zones compile FILE.geojson --out zones.bin [--start YYYY-MM-DD] [--years N] [--json]
opentag zones show zones.bin [--from YYYY-MM-DD] [--nights N] [--json]

The handlers; their options are wired in `taghost.cli.COMMANDS`. Each builds the facts once
(a dict: what `--json` prints) and the text is written from them. Problems and warnings go to
stderr either way; with `--json` the document holds them too (`valid`, `problems`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from tagcore.zones import blob as B
from tagcore.zones import curfew

from taghost.units import iso
from taghost.zoneconfig import (
    SHAPE_NAMES,
    ZoneConfigError,
    ZoneFileError,
    ZoneSpec,
    compile_blob,
    file_warnings,
    read_file,
)
from taghost.zoneschedule import windows

KIND_NAMES = {B.KIND_EXCLUSION: "exclusion", B.KIND_INCLUSION: "inclusion"}


def _utc(t: int) -> str:
    return iso(t).replace("T", " ")


def _print_json(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=1))


def _facts(z: ZoneSpec, start: date, weeks: int) -> dict[str, Any]:
    """One zone of `zones check`: what its summary line says, as JSON values."""
    n = sum(len(r) for r in z.rings)
    d: dict[str, Any] = {
        "id": z.id,
        "name": z.name,
        "kind": KIND_NAMES[z.kind],
        "shape": SHAPE_NAMES[z.shape],
    }
    if z.shape == B.SHAPE_CIRCLE:
        d["radius_m"] = z.radius_dm / 10
    elif z.shape == B.SHAPE_POLYGON:
        d.update(vertices=n, holes=len(z.rings) - 1)
    else:
        d.update(points=n, width_m=z.radius_dm / 5)
    d.update(
        lat_deg=z.anchor[0] / 1e6,
        lon_deg=z.anchor[1] / 1e6,
        area_m2=round(z.area_m2),
        warning_m=z.warning_m,
        schedule=None,  # always active
    )
    if z.schedule:
        w = windows(z.schedule, start, weeks)
        d["schedule"] = {
            "tz": z.schedule.tz.key,
            "weeks": weeks,
            "windows": [[iso(a), iso(b)] for a, b in w],
        }
    return d


def _summary(z: ZoneSpec, d: dict[str, Any]) -> str:
    size = {
        B.SHAPE_CIRCLE: lambda: f"radius {d['radius_m']:g} m",
        B.SHAPE_POLYGON: lambda: f"{d['vertices']} vertices, {d['holes']} holes",
        B.SHAPE_CORRIDOR: lambda: f"{d['points']} points, width {d['width_m']:g} m",
    }[z.shape]()
    when = "always"
    if d["schedule"]:
        sch = d["schedule"]
        when = f"{len(sch['windows'])} windows in {sch['weeks']} weeks ({sch['tz']})"
    lat, lon = d["lat_deg"], d["lon_deg"]
    where = (
        f"at {abs(lat):.6f} {'N' if lat >= 0 else 'S'}, {abs(lon):.6f} {'E' if lon >= 0 else 'W'}"
    )
    return (
        f"  {z.label():32} {d['kind']:9} {d['shape']:8} {size:26} "
        f"{where}, area {z.area_m2:,.0f} m2, ring {d['warning_m']} m, {when}"
    )


USAGE_ERROR = 2  # the file could not be read at all (a problem in a readable file: 1)


def _refused(args: argparse.Namespace, problems: list[str]) -> int:
    """Exit 1 for a file (or blob) the tag would refuse; with --json also the document."""
    if args.json:
        _print_json({"file": args.file, "valid": False, "problems": problems})
    return 1


def _load(args: argparse.Namespace) -> list[ZoneSpec] | int:
    """The zones, or the exit code after printing why not."""
    path = args.file
    try:
        return read_file(Path(path))
    except ZoneFileError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return USAGE_ERROR
    except ZoneConfigError as e:
        print(f"{path}: {len(e.problems)} problem(s):", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return _refused(args, e.problems)


def _warn(path: str, zones: list[ZoneSpec], start: date, weeks: int) -> list[str]:
    ws = file_warnings(zones, start, weeks)
    for w in ws:
        print(f"{path}: warning: {w}", file=sys.stderr)
    return ws


def cmd_check(args: argparse.Namespace) -> int:
    """`opentag zones check`: 0 valid (a summary of each zone), 1 refused (each problem named,
    on stderr), 2 unreadable. `--json`: `{"file", "valid", "problems", "warnings", "zones"}`."""
    zones = _load(args)
    if isinstance(zones, int):
        return zones
    try:  # everything `compile` would refuse (the device's limits), with the zone named
        compile_blob(zones, args.start, args.years)
    except ZoneConfigError as e:
        print(f"{args.file}: {len(e.problems)} problem(s):", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return _refused(args, e.problems)
    warnings = _warn(args.file, zones, args.start, args.weeks)
    facts = [_facts(z, args.start, args.weeks) for z in zones]
    if args.json:
        _print_json(
            {
                "file": args.file,
                "valid": True,
                "problems": [],
                "warnings": warnings,
                "start": args.start.isoformat(),
                "zones": facts,
            }
        )
        return 0
    print(f"{args.file}: {len(zones)} zones, valid")
    for z, d in zip(zones, facts, strict=True):
        print(_summary(z, d))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    """`opentag zones compile`: writes the blob; 0 written, 1 refused, 2 unreadable or not
    written. `--json`: `{"file", "valid", "out", "bytes", "zones", "valid_from", "valid_until",
    "crc", "warnings"}`."""
    zones = _load(args)
    if isinstance(zones, int):
        return zones
    warnings = _warn(args.file, zones, args.start, args.weeks)
    try:
        blob = compile_blob(zones, args.start, args.years)
    except ZoneConfigError as e:
        for p in e.problems:
            print(f"{args.file}: {p}", file=sys.stderr)
        return _refused(args, e.problems)
    try:
        Path(args.out).write_bytes(blob)
    except OSError as e:
        print(f"{args.out}: cannot be written ({e.strerror or e})", file=sys.stderr)
        return USAGE_ERROR
    h = B.parse_header(blob)
    if args.json:
        _print_json(
            {
                "file": args.file,
                "valid": True,
                "out": args.out,
                "bytes": len(blob),
                "zones": len(zones),
                "valid_from": iso(h.valid_from),
                "valid_until": iso(h.valid_until),
                "crc": f"{h.crc:08x}",
                "warnings": warnings,
            }
        )
        return 0
    print(
        f"{args.out}: {len(blob)} bytes, {len(zones)} zones, valid "
        f"{_utc(h.valid_from)} to {_utc(h.valid_until)}, CRC {h.crc:08x}"
    )
    return 0


def _offset(t: int, tz) -> str:
    off = curfew.offset_at(tz, t)
    sign = "+" if off >= 0 else "-"
    a = abs(off)
    return f"{sign}{a // 3600:02d}:{a // 60 % 60:02d}"


def _local(t: int, tz) -> str:
    return f"{_utc(t + curfew.offset_at(tz, t))[:-4]} (UTC{_offset(t, tz)})"


def _local_iso(t: int, tz) -> str:
    """The zone's local time as ISO 8601 with its offset: 2026-10-19T20:00+01:00."""
    return f"{iso(t + curfew.offset_at(tz, t))[:-4]}{_offset(t, tz)}"


def _nights(z, t0: int, nights: int) -> list[tuple[int, int]]:
    """The zone's windows (UTC from, to) starting in the `nights` days from t0, by the tag's
    own rule code."""
    out: list[tuple[int, int]] = []
    end = t0 + nights * 86400
    on, chg = curfew.state(z.rules, z.tz, t0)
    if on:  # the window holding t0 counts from t0
        a, t = t0, chg
        on, chg = curfew.state(z.rules, z.tz, t)
        while on:
            t = chg
            on, chg = curfew.state(z.rules, z.tz, t)
        out.append((a, t))
    while chg < end and len(out) < 4 * nights:
        t = chg
        on, chg = curfew.state(z.rules, z.tz, t)
        if on:
            a = t
            while on:  # windows that touch merge
                t = chg
                on, chg = curfew.state(z.rules, z.tz, t)
            out.append((a, t))
    return out


def _zone_facts(z: Any, t0: int, nights: int) -> dict[str, Any]:
    """One zone of `zones show`, as the tag's loader reads it, as JSON values."""
    d: dict[str, Any] = {
        "id": z.id,
        "kind": KIND_NAMES[z.kind],
        "shape": SHAPE_NAMES[z.shape],
        "lat_deg": z.lat0 / 1e6,
        "lon_deg": z.lon0 / 1e6,
        "warning_m": z.warn_dm // 10,
        "schedule": "always" if z.win is None and z.rules is None else "windows",
        "windows": len(z.win) // 2 if z.win is not None else 0,
        "first": [iso(z.win[0]), iso(z.win[1])] if z.win is not None else None,
    }
    if z.rules is not None:
        d.update(
            schedule="weekly",
            weekly_rules=len(z.rules) // 3,
            clock_changes=(len(z.tz) - 1) // 2,
            nights=[
                {
                    "from": iso(a),
                    "to": iso(t),
                    "from_local": _local_iso(a, z.tz),
                    "to_local": _local_iso(t, z.tz),
                    "hours": (t - a) / 3600,
                }
                for a, t in _nights(z, t0, nights)
            ],
        )
    return d


def cmd_show(args: argparse.Namespace) -> int:
    """`opentag zones show`: a compiled blob decoded by the tag's own loader; 0 read, 1 refused
    by the loader, 2 unreadable. `--json`: `{"file", "valid", "version", "count", "signed",
    "valid_from", "valid_until", "rules", "from", "zones"}`."""
    try:
        blob = Path(args.file).read_bytes()
    except FileNotFoundError:
        print(f"{args.file}: no such file", file=sys.stderr)
        return USAGE_ERROR
    except OSError as e:
        print(f"{args.file}: cannot be read ({e.strerror or e})", file=sys.stderr)
        return USAGE_ERROR
    try:
        h, zones = B.parse(blob)
    except ValueError as e:
        why = e.args[0]
        hint = " (a version 1 blob: recompile it with this opentag)" if why == "old_version" else ""
        print(f"{args.file}: refused by the tag's loader: {why}{hint}", file=sys.stderr)
        return _refused(args, [f"refused by the tag's loader: {why}{hint}"])
    names = B.Header._fields[B.RULES_AT : B.RULES_AT + B.N_RULES]
    start = args.from_ or datetime.now(timezone.utc).date()
    t0 = (start - date(2000, 1, 1)).days * 86400
    facts = [_zone_facts(z, t0, args.nights) for z in zones]
    signed = "signed" if h.flags & B.FL_SIGNED else "unsigned"
    if args.json:
        _print_json(
            {
                "file": args.file,
                "valid": True,
                "version": h.version,
                "count": h.count,
                "signed": bool(h.flags & B.FL_SIGNED),
                "valid_from": iso(h.valid_from),
                "valid_until": iso(h.valid_until),
                "rules": {n: getattr(h, n) for n in names},
                "from": start.isoformat(),
                "zones": facts,
            }
        )
        return 0
    valid = f"valid {_utc(h.valid_from)} to {_utc(h.valid_until)}"
    print(f"{args.file}: version {h.version}, {h.count} zones, {signed}, {valid}")
    print("  rules: " + ", ".join(f"{n}={getattr(h, n)}" for n in names))
    for z, d in zip(zones, facts, strict=True):
        first = f", first {_utc(z.win[0])}-{_utc(z.win[1])}" if z.win is not None else ""
        if d["schedule"] == "weekly":
            sched = f"{d['weekly_rules']} weekly rules, {d['clock_changes']} clock changes"
        elif d["schedule"] == "windows":
            sched = f"{d['windows'] or 'no'} windows"
        else:
            sched = "always active"
        print(
            f"  zone {z.id:5} {d['kind']:9} {d['shape']:8} "
            f"anchor {z.lat0 / 1e6:.6f},{z.lon0 / 1e6:.6f} ring {d['warning_m']} m, "
            f"{sched}{first}"
        )
        if z.rules is not None:
            print(f"    the {args.nights} nights from {start.isoformat()}, local time:")
            for a, t in _nights(z, t0, args.nights):
                print(f"    {_local(a, z.tz)} to {_local(t, z.tz)}, {(t - a) / 3600:g} h")
    return 0


def main(argv: list[str]) -> int:
    """`opentag zones ARGS`, for callers that hold this module. The options are wired in
    `taghost.cli.COMMANDS`, the one front end."""
    from taghost import cli

    return cli.main(["zones", *argv])

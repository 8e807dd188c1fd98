"""`opentag zones`: validate GeoJSON zones and compile them into the tag's zone blob.

opentag zones check FILE.geojson [--start YYYY-MM-DD] [--weeks N] [--years N]
opentag zones compile FILE.geojson --out zones.bin [--start YYYY-MM-DD] [--years N]
opentag zones show zones.bin [--from YYYY-MM-DD] [--nights N]

The handlers; their options are wired in `taghost.cli.COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

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


def _summary(z: ZoneSpec, start: date, weeks: int) -> str:
    n = sum(len(r) for r in z.rings)
    size = {
        B.SHAPE_CIRCLE: f"radius {z.radius_dm / 10:g} m",
        B.SHAPE_POLYGON: f"{n} vertices, {len(z.rings) - 1} holes",
        B.SHAPE_CORRIDOR: f"{n} points, width {z.radius_dm / 5:g} m",
    }[z.shape]
    when = "always"
    if z.schedule:
        w = windows(z.schedule, start, weeks)
        when = f"{len(w)} windows in {weeks} weeks ({z.schedule.tz.key})"
    lat, lon = z.anchor[0] / 1e6, z.anchor[1] / 1e6
    where = (
        f"at {abs(lat):.6f} {'N' if lat >= 0 else 'S'}, {abs(lon):.6f} {'E' if lon >= 0 else 'W'}"
    )
    return (
        f"  {z.label():32} {KIND_NAMES[z.kind]:9} {SHAPE_NAMES[z.shape]:8} {size:26} "
        f"{where}, area {z.area_m2:,.0f} m2, ring {z.warning_m} m, {when}"
    )


USAGE_ERROR = 2  # the file could not be read at all (a problem in a readable file: 1)


def _load(path: str) -> list[ZoneSpec] | int:
    """The zones, or the exit code after printing why not."""
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
        return 1


def _warn(path: str, zones: list[ZoneSpec], start: date, weeks: int) -> None:
    for w in file_warnings(zones, start, weeks):
        print(f"{path}: warning: {w}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    zones = _load(args.file)
    if isinstance(zones, int):
        return zones
    try:  # everything `compile` would refuse (the device's limits), with the zone named
        compile_blob(zones, args.start, args.years)
    except ZoneConfigError as e:
        print(f"{args.file}: {len(e.problems)} problem(s):", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    _warn(args.file, zones, args.start, args.weeks)
    print(f"{args.file}: {len(zones)} zones, valid")
    for z in zones:
        print(_summary(z, args.start, args.weeks))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    zones = _load(args.file)
    if isinstance(zones, int):
        return zones
    _warn(args.file, zones, args.start, args.weeks)
    try:
        blob = compile_blob(zones, args.start, args.years)
    except ZoneConfigError as e:
        for p in e.problems:
            print(f"{args.file}: {p}", file=sys.stderr)
        return 1
    try:
        Path(args.out).write_bytes(blob)
    except OSError as e:
        print(f"{args.out}: cannot be written ({e.strerror or e})", file=sys.stderr)
        return USAGE_ERROR
    h = B.parse_header(blob)
    print(
        f"{args.out}: {len(blob)} bytes, {len(zones)} zones, valid "
        f"{_utc(h.valid_from)} to {_utc(h.valid_until)}, CRC {h.crc:08x}"
    )
    return 0


def _local(t: int, tz) -> str:
    off = curfew.offset_at(tz, t)
    sign = "+" if off >= 0 else "-"
    a = abs(off)
    return f"{_utc(t + off)[:-4]} (UTC{sign}{a // 3600:02d}:{a // 60 % 60:02d})"


def _nights(z, t0: int, nights: int) -> list[str]:
    """The zone's windows starting in the `nights` days from t0, by the tag's own rule code,
    in the zone's local time."""
    out: list[str] = []
    end = t0 + nights * 86400
    on, chg = curfew.state(z.rules, z.tz, t0)
    if on:  # the window holding t0 counts from t0
        a, t = t0, chg
        on, chg = curfew.state(z.rules, z.tz, t)
        while on:
            t = chg
            on, chg = curfew.state(z.rules, z.tz, t)
        out.append(f"    {_local(a, z.tz)} to {_local(t, z.tz)}, {(t - a) / 3600:g} h")
    while chg < end and len(out) < 4 * nights:
        t = chg
        on, chg = curfew.state(z.rules, z.tz, t)
        if on:
            a = t
            while on:  # windows that touch merge
                t = chg
                on, chg = curfew.state(z.rules, z.tz, t)
            out.append(f"    {_local(a, z.tz)} to {_local(t, z.tz)}, {(t - a) / 3600:g} h")
    return out


def cmd_show(args: argparse.Namespace) -> int:
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
        return 1
    signed = "signed" if h.flags & B.FL_SIGNED else "unsigned"
    valid = f"valid {_utc(h.valid_from)} to {_utc(h.valid_until)}"
    print(f"{args.file}: version {h.version}, {h.count} zones, {signed}, {valid}")
    names = B.Header._fields[B.RULES_AT : B.RULES_AT + B.N_RULES]
    print("  rules: " + ", ".join(f"{n}={getattr(h, n)}" for n in names))
    start = args.from_ or datetime.now(timezone.utc).date()
    t0 = (start - date(2000, 1, 1)).days * 86400
    for z in zones:
        nwin = len(z.win) // 2 if z.win is not None else 0
        first = f", first {_utc(z.win[0])}-{_utc(z.win[1])}" if z.win is not None else ""
        sched = "always active" if z.win is None and z.rules is None else f"{nwin or 'no'} windows"
        if z.rules is not None:
            sched = f"{len(z.rules) // 3} weekly rules, {(len(z.tz) - 1) // 2} clock changes"
        print(
            f"  zone {z.id:5} {KIND_NAMES[z.kind]:9} {SHAPE_NAMES[z.shape]:8} "
            f"anchor {z.lat0 / 1e6:.6f},{z.lon0 / 1e6:.6f} ring {z.warn_dm // 10} m, "
            f"{sched}{first}"
        )
        if z.rules is not None:
            print(f"    the {args.nights} nights from {start.isoformat()}, local time:")
            for line in _nights(z, t0, args.nights):
                print(line)
    return 0


def main(argv: list[str]) -> int:
    """`opentag zones ARGS`, for callers that hold this module. The options are wired in
    `taghost.cli.COMMANDS`, the one front end."""
    from taghost import cli

    return cli.main(["zones", *argv])

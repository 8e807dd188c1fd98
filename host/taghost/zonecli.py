"""`opentag zones`: validate GeoJSON zones and compile them into the tag's zone blob.

opentag zones check FILE.geojson [--start YYYY-MM-DD] [--weeks N]
opentag zones compile FILE.geojson --out zones.bin [--start YYYY-MM-DD] [--weeks N]
opentag zones show zones.bin

The handlers; their options are wired in `taghost.cli.COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from tagcore import zoneblob as B
from tagcore.civil import civil_from_days

from taghost.zoneconfig import SHAPE_NAMES, ZoneConfigError, ZoneSpec, compile_blob, read_file
from taghost.zoneschedule import windows

DEFAULT_WEEKS = 4
KIND_NAMES = {B.KIND_EXCLUSION: "exclusion", B.KIND_INCLUSION: "inclusion"}


def _utc(t: int) -> str:
    y, m, d = civil_from_days(t // 86400)
    s = t % 86400
    return f"{y:04d}-{m:02d}-{d:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"


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
    return (
        f"  {z.label():32} {KIND_NAMES[z.kind]:9} {SHAPE_NAMES[z.shape]:8} {size:26} "
        f"area {z.area_m2:,.0f} m2, ring {z.warning_m} m, {when}"
    )


def _load(path: str) -> list[ZoneSpec] | None:
    try:
        return read_file(Path(path))
    except ZoneConfigError as e:
        print(f"{path}: {len(e.problems)} problem(s):", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    zones = _load(args.file)
    if zones is None:
        return 1
    print(f"{args.file}: {len(zones)} zones, valid")
    for z in zones:
        print(_summary(z, args.start, args.weeks))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    zones = _load(args.file)
    if zones is None:
        return 1
    try:
        blob = compile_blob(zones, args.start, args.weeks)
    except ZoneConfigError as e:
        for p in e.problems:
            print(f"{args.file}: {p}", file=sys.stderr)
        return 1
    Path(args.out).write_bytes(blob)
    h = B.parse_header(blob)
    print(
        f"{args.out}: {len(blob)} bytes, {len(zones)} zones, valid "
        f"{_utc(h[4])} to {_utc(h[5])}, CRC {h[7]:08x}"
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    blob = Path(args.file).read_bytes()
    try:
        h, zones = B.parse(blob)
    except ValueError as e:
        print(f"{args.file}: refused by the tag's loader: {e.args[0]}", file=sys.stderr)
        return 1
    signed = "signed" if h[2] & B.FL_SIGNED else "unsigned"
    valid = f"valid {_utc(h[4])} to {_utc(h[5])}"
    print(f"{args.file}: version {h[1]}, {h[3]} zones, {signed}, {valid}")
    names = ("confirm_n", "exit_n", "confirm_s", "margin_dm", "hyst_dm", "sustain_s")
    names += ("loc_warn_s", "loc_alert_s", "fast_s", "slow_s", "circle_k10", "jump_s")
    rules = h[8 : 8 + B.N_RULES]
    print("  rules: " + ", ".join(f"{n}={v}" for n, v in zip(names, rules, strict=True)))
    for z in zones:
        nwin = len(z.win) // 2 if z.win is not None else 0
        first = f", first {_utc(z.win[0])}-{_utc(z.win[1])}" if z.win is not None else ""
        print(
            f"  zone {z.id:5} {KIND_NAMES[z.kind]:9} {SHAPE_NAMES[z.shape]:8} "
            f"anchor {z.lat0 / 1e6:.6f},{z.lon0 / 1e6:.6f} ring {z.warn_dm // 10} m, "
            f"{nwin or 'no'} windows{first}"
        )
    return 0


def main(argv: list[str]) -> int:
    """`opentag zones ARGS`, for callers that hold this module. The options are wired in
    `taghost.cli.COMMANDS`, the one front end."""
    from taghost import cli

    return cli.main(["zones", *argv])

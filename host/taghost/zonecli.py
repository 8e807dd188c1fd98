"""`opentag zones`: validate GeoJSON zones and compile them into the tag's zone blob.

opentag zones check FILE.geojson [--start YYYY-MM-DD] [--weeks N]
opentag zones compile FILE.geojson --out zones.bin [--start YYYY-MM-DD] [--weeks N]
opentag zones show zones.bin
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from tagcore import zoneblob as B
from tagcore.civil import civil_from_days

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
        compile_blob(zones, args.start, args.weeks)
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
        blob = compile_blob(zones, args.start, args.weeks)
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
        f"{_utc(h[4])} to {_utc(h[5])}, CRC {h[7]:08x}"
    )
    return 0


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


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opentag zones", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    today = datetime.now(timezone.utc).date()
    for name, fn, text in (
        ("check", cmd_check, "validate a GeoJSON zone file and print a summary"),
        ("compile", cmd_compile, "compile a GeoJSON zone file into the tag's zone blob"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("file")
        c.add_argument("--start", type=_date, default=today, help="horizon start (UTC date)")
        c.add_argument("--weeks", type=int, default=DEFAULT_WEEKS, choices=range(1, 27))
        c.set_defaults(func=fn)
        if name == "compile":
            c.add_argument("--out", required=True, help="blob file to write")
    s = sub.add_parser("show", help="decode a compiled zone blob with the tag's own loader")
    s.add_argument("file")
    s.set_defaults(func=cmd_show)
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

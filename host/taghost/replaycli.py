"""`opentag replay`: print a capture's fixes as the core decides them, and what it dropped."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from tagcore.gnss.nmea import DEFAULT_FLOOR_DAYS

from taghost import replay as rp
from taghost import replaylog as rl
from taghost.errors import EXIT_OK, UserError
from taghost.paths import demo_capture

SHOW_FIRST, SHOW_LAST = 20, 5  # without --all: the head and the tail of the fixes
JUNK_HINT = 0.2  # warn when more than this share of the bytes were not NMEA (clean: ~0)


def _floor(args: argparse.Namespace, fh: Any, err: TextIO) -> int:
    """--floor, or the capture's first fix date, never a silent move to the next GPS era."""
    if args.floor:
        return rp.parse_floor(args.floor)
    day = rp.first_date(fh)
    if day is None:
        print(
            f"opentag replay: no --floor and no dated fix in the capture's first "
            f"{rp.INFER_BYTES >> 20} MB: date floor {rp.floor_text(DEFAULT_FLOOR_DAYS)} (the "
            "build date); dates before it are moved forward by 1024-week GPS rollover periods",
            file=err,
        )
        return DEFAULT_FLOOR_DAYS
    if day < DEFAULT_FLOOR_DAYS:
        print(
            f"opentag replay: no --floor: date floor {rp.floor_text(day)}, the capture's first "
            f"fix date (it is older than the build date {rp.floor_text(DEFAULT_FLOOR_DAYS)}); "
            "dates are taken as the receiver gave them. Give --floor if its GPS week counter "
            "rolled over",
            file=err,
        )
        return day
    return DEFAULT_FLOOR_DAYS


def _fix_json(v: rp.Verdict) -> str:
    return json.dumps(dict(v.fix._asdict(), accepted=v.accepted, reason=v.reason))


def _zones_blob(args: argparse.Namespace, pulled: Path | None) -> bytes | None:
    """--zones, else the zone blob a pull copied beside the log (prov/zones.bin)."""
    p = Path(args.zones) if getattr(args, "zones", None) else None
    if p is None and pulled is not None and (pulled / "prov" / "zones.bin").is_file():
        p = pulled / "prov" / "zones.bin"
    if p is None:
        return None
    try:
        return p.read_bytes()
    except OSError as e:
        raise UserError(f"--zones {p}: {e.strerror}") from None


def _extras(args: argparse.Namespace, fixes: list[Any], blob: bytes | None) -> dict[str, Any]:
    """The alerts the current core raises on the fixes, and their error against --truth."""
    doc: dict[str, Any] = {}
    if blob is not None:
        doc["alerts"] = rl.zone_alerts(fixes, blob)
    if getattr(args, "truth", None):
        doc["truth"] = rl.truth_errors(fixes, rl.read_truth(Path(args.truth)))
    return doc


def _print_extras(out: TextIO, args: argparse.Namespace, doc: dict[str, Any]) -> None:
    if "alerts" in doc:
        print(f"alerts the current core raises: {len(doc['alerts'])}", file=out)
        for a in doc["alerts"]:
            print(f"  {a['time']}  {a['alert']:<16} zone {a['zone']}", file=out)
    if "truth" in doc:
        print(rl.truth_text(doc["truth"], args.truth), file=out)


def cmd_replay_pulled(args: argparse.Namespace, path: Path) -> int:
    """`opentag replay PULL_DIR`: a log pulled off a tag (opentag pull)."""
    fixes, events, stats = rl.pulled_fixes(path)
    logged = [e for e in events if "alert" in e]
    doc = {"source": str(path), "fixes": len(fixes), "stats": stats, "logged_alerts": logged}
    doc.update(_extras(args, fixes, _zones_blob(args, path)))
    out = sys.stdout
    if args.json:
        print(json.dumps(doc, indent=1), file=out)
        return EXIT_OK
    print(f"replaying the pulled log {path}: {len(fixes)} fixes, {len(events)} events", file=out)
    if fixes:
        print(
            f"  {rp.fix_time(fixes[0]):%Y-%m-%d %H:%M:%S} to "
            f"{rp.fix_time(fixes[-1]):%Y-%m-%d %H:%M:%S} UTC",
            file=out,
        )
    print(f"alerts the tag logged: {len(logged)}", file=out)
    for e in logged:  # any alert the server would open for it (taghost.alertkinds)
        about = f"zone {e['zone']}" if "zone" in e else e.get("detail", "")
        print(f"  {e['time']}  {e['alert']:<16} {about}".rstrip(), file=out)
    if "alerts" not in doc:
        print("(no zone blob: give --zones FILE for the alerts the current core raises)", file=out)
    _print_extras(out, args, doc)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else demo_capture()
    if path.is_dir():
        return cmd_replay_pulled(args, path)
    out, err = sys.stdout, sys.stderr
    blob = _zones_blob(args, None)
    keep = blob is not None or bool(getattr(args, "truth", None))
    accepted: list[Any] = []  # held only for --zones / --truth
    with rp.open_capture(path) as fh:
        floor_days = _floor(args, fh, err)
        totals = rp.Totals()
        verdicts = rp.replay(rp.receiver_bytes(fh), totals, floor_days, args.chunk)
        if keep:
            verdicts = _tap(verdicts, accepted)
        extras = lambda: _extras(args, accepted, blob) if keep else {}  # noqa: E731
        if args.json:
            _print_json(out, str(path), floor_days, verdicts, totals, extras)
        else:
            _print_text(out, str(path), floor_days, args, verdicts, totals)
            _print_extras(out, args, extras())
    if totals.framed == 0:
        raise UserError(f"{path}: not a single NMEA sentence in {totals.bytes_in} bytes")
    junk = totals.reader_counts.get("junk_bytes", 0) + totals.reader_counts.get("nonprintable", 0)
    if totals.bytes_in and junk > JUNK_HINT * totals.bytes_in:
        print(
            f"opentag replay: {100 * junk // totals.bytes_in}% of {path}'s bytes were not NMEA "
            "(junk_bytes): is it a binary capture (UBX, RTCM) or the wrong baud rate?",
            file=err,
        )
    return EXIT_OK


def _tap(verdicts: Any, into: list[Any]) -> Any:
    for v in verdicts:
        if v.accepted:
            into.append(v.fix)
        yield v


def _print_json(
    out: TextIO,
    source: str,
    floor: int,
    verdicts: Any,
    totals: rp.Totals,
    extras: Any = dict,
) -> None:
    """One JSON document, written as the fixes come (the fix list is never held)."""
    head = json.dumps({"source": source, "floor": rp.floor_text(floor)})[:-1]
    out.write(head + ', "fixes": [')
    for i, v in enumerate(verdicts):
        out.write(("\n " if i == 0 else ",\n ") + _fix_json(v))
    tail = {
        "reader_counts": totals.reader_counts,
        "filter_counts": totals.filter_counts,
        "sentences": totals.sentences,
        "epochs": totals.epochs,
        "bytes_in": totals.bytes_in,
        **extras(),
    }
    out.write("\n], " + json.dumps(tail)[1:] + "\n")


def _print_text(
    out: TextIO,
    source: str,
    floor: int,
    args: argparse.Namespace,
    verdicts: Any,
    totals: rp.Totals,
) -> None:
    print(f"replaying {source}", file=out)
    print(f"  {args.chunk}-byte chunks, date floor {rp.floor_text(floor)}", file=out)
    print(rp.HEADER, file=out)
    tail: collections.deque[rp.Verdict] = collections.deque(maxlen=SHOW_LAST)
    n = acc = 0
    for v in verdicts:
        n += 1
        acc += v.accepted
        if args.all or n <= SHOW_FIRST:
            print(rp.format_fix(v), file=out)
        else:
            tail.append(v)
    hidden = n - SHOW_FIRST - len(tail)
    if hidden > 0:
        print(f"  ... {hidden} more (--all shows every fix) ...", file=out)
    for v in tail:
        print(rp.format_fix(v), file=out)
    print(
        f"\n{totals.bytes_in} bytes, {totals.sentences} sentences used, {totals.epochs} epochs, "
        f"{acc} fixes accepted, {n - acc} rejected",
        file=out,
    )
    for title, counts in (
        ("dropped or skipped by the reader:", totals.reader_counts),
        ("rejected by the fix filter:", totals.filter_counts),
    ):
        print(title, file=out)
        for k, c in sorted(counts.items(), key=lambda kv: -kv[1]) or [("(nothing)", 0)]:
            print(f"  {k:20} {c}", file=out)

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


def cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else demo_capture()
    out, err = sys.stdout, sys.stderr
    with rp.open_capture(path) as fh:
        floor_days = _floor(args, fh, err)
        totals = rp.Totals()
        verdicts = rp.replay(rp.receiver_bytes(fh), totals, floor_days, args.chunk)
        if args.json:
            _print_json(out, str(path), floor_days, verdicts, totals)
        else:
            _print_text(out, str(path), floor_days, args, verdicts, totals)
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


def _print_json(out: TextIO, source: str, floor: int, verdicts: Any, totals: rp.Totals) -> None:
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

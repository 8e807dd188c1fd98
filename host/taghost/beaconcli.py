"""`opentag beacon`: the victim beacon's secret, the tag's identifier windows, battery life.

  opentag beacon keygen --out beacon.key            a new 128-bit secret (hex), mode 0600
  opentag beacon window --secret beacon.key --start 2026-04-20T00:00Z [--hours 48]
                        [--interval 900] [--margin 8] [--beacon 0] --out table.bin
  opentag beacon show FILE                          a table's windows, or a key's fingerprint
  opentag beacon battery [--profile F] [--adv-ms N] [--sleep light|awake]

The secret goes to the beacon (and stays with the monitoring centre); the tag gets only table
windows, each covering --hours plus --margin intervals either side for the beacon's clock drift.
The options are wired in `taghost.cli.COMMANDS`; the handlers are here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from tagcore.proximity.beaconid import ID_LEN
from tagcore.proximity.idtable import HEADER, MAGIC, MAX_IDS, IdTable
from tagkit.beaconwindow import window_blob

from taghost import beaconpower
from taghost.errors import EXIT_RED, UserError
from taghost.units import iso, parse_iso


def parse_time(text: str) -> int:
    """ISO 8601 (UTC unless it says otherwise; units.parse_iso) to seconds since 2000-01-01.

    Raises UserError for text that is not one (the --start option's message)."""
    try:
        return parse_iso(text)
    except ValueError:
        want = "an ISO 8601 time such as 2026-04-20T06:00Z"
        raise UserError(f"--start wants {want}, not {text!r}") from None


def read_secret(path: str) -> bytes:
    try:
        key = bytes.fromhex(Path(path).read_text().strip())
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{path}: not a beacon secret (hex digits, as keygen writes)") from None
    if len(key) < 16:
        raise UserError(f"{path}: a secret needs at least 16 bytes")
    return key


def cmd_keygen(a: argparse.Namespace) -> int:
    out = Path(a.out)
    if out.exists() and not a.force:
        raise UserError(f"{out} exists (use --force to replace it)")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_bytes(16).hex() + "\n")
    print(f"wrote a new beacon secret to {out} (copy it to the beacon as /beacon.key)")
    return 0


def cmd_clockkey(a: argparse.Namespace) -> int:
    """The phone app's clock key (tagcore.proximity.phonetime, docs/proximity.md): it lets the
    phone set the beacon's clock, and cannot make the beacon's identifiers."""
    from tagcore.proximity.phonetime import clock_key

    ck = bytes(clock_key(read_secret(a.secret))).hex()
    if a.json:
        print(json.dumps({"clock_key": ck}))
    else:
        print(f"clock key {ck} (for the victim's phone app; it cannot follow the beacon)")
    return 0


def window_span(start: int, hours: int, interval: int, margin: int) -> tuple[int, int]:
    """(first interval, count) of a table covering [start, start + hours) plus `margin`
    intervals either side, refused unless the tag's table loader takes it whole."""
    first = start // interval - margin
    # to the interval that holds the window's end, counted from the one that holds its start
    # (an hour that starts mid-interval reaches into one interval more than hours / interval)
    count = -(-(start + hours * 3600) // interval) + margin - first
    if first < 0:
        raise UserError("the window starts before 2000-01-01, the tag's epoch")
    if first + count >= 1 << 30:
        raise UserError("the window ends beyond what the tag's table can number")
    if interval > 0xFFFF:
        raise UserError(f"--interval {interval} s: the table holds at most 65535 s")
    if count > MAX_IDS:
        most = (MAX_IDS - 2 * margin) * interval // 3600
        raise UserError(
            f"{count} identifiers: a tag holds at most {MAX_IDS} (at --interval {interval} and "
            f"--margin {margin}, at most {max(most, 0)} hours)"
        )
    return first, count


def cmd_window(a: argparse.Namespace) -> int:
    key = read_secret(a.secret)
    first, count = window_span(parse_time(a.start), a.hours, a.interval, a.margin)
    blob = window_blob(key, a.beacon, first, count, a.interval)
    Path(a.out).write_bytes(blob)
    doc = {
        "out": a.out,
        "beacon": a.beacon,
        "identifiers": count,
        "interval_s": a.interval,
        "from": iso(first * a.interval),
        "to": iso((first + count) * a.interval),
        "bytes": len(blob),
    }
    if a.json:
        print(json.dumps(doc))
        return 0
    print(
        f"{a.out}: beacon {a.beacon}, {count} identifiers, {doc['from']} to {doc['to']} "
        f"({len(blob)} bytes)"
    )
    return 0


def describe_table(blob: bytes) -> list[dict[str, Any]] | None:
    """The windows of a table blob, or None if the tag's loader refuses it."""
    if IdTable().load(blob) == 0:
        return None
    rows = []
    i = 0
    while i < len(blob):
        beacon, ivs = blob[i + 5], int.from_bytes(blob[i + 6 : i + 8], "little")
        first = int.from_bytes(blob[i + 8 : i + 12], "little")
        count = int.from_bytes(blob[i + 12 : i + 14], "little")
        rows.append(
            {
                "beacon": beacon,
                "identifiers": count,
                "interval_s": ivs,
                "from": iso(first * ivs),
                "to": iso((first + count) * ivs),
            }
        )
        i += HEADER + count * ID_LEN
    return rows


def cmd_show(a: argparse.Namespace) -> int:
    """A table's windows, or a secret's fingerprint; 1 (invalid) for anything else."""
    data = Path(a.file).read_bytes()
    if data.startswith(MAGIC):
        rows = describe_table(data)
        if rows is None:
            tab = IdTable()
            tab.load(data)
            print(f"{a.file}: refused by the tag's table loader: {tab.counts}", file=sys.stderr)
            return EXIT_RED
        if a.json:
            print(json.dumps({"kind": "table", "windows": rows}))
        for r in rows if not a.json else ():
            print(
                f"beacon {r['beacon']}: {r['identifiers']} identifiers every {r['interval_s']} s, "
                f"{r['from']} to {r['to']}"
            )
        return 0
    try:
        key = read_secret(a.file)
    except UserError:
        print(f"{a.file}: neither a table nor a beacon secret", file=sys.stderr)
        return EXIT_RED
    # Never print the secret itself: a fingerprint tells two keys apart.
    fp = hashlib.sha256(key).hexdigest()[:16]
    if a.json:
        print(json.dumps({"kind": "secret", "bytes": len(key), "fingerprint": fp}))
    else:
        print(f"beacon secret, {len(key)} bytes, fingerprint {fp}")
    return 0


def cmd_battery(a: argparse.Namespace) -> int:
    prof = beaconpower.load_profile(a.profile or beaconpower.DEFAULT_PROFILE)
    adv = prof["radio"]["adv_interval_ms"] if a.adv_ms is None else a.adv_ms
    beaconpower.check_adv_ms(prof, adv)
    rows = []
    for sleep in ("light", "awake") if a.sleep is None else (a.sleep,):
        ma = beaconpower.average_ma(prof, adv, sleep)
        days = beaconpower.battery_days(prof, adv, sleep)
        rows.append({"sleep": sleep, "average_ma": round(ma, 4), "days": round(days, 2)})
        if not a.json:
            print(
                f"{prof['name']}, advertising every {adv} ms, {sleep}: {ma:.2f} mA, {days:.1f} days"
            )
    if a.json:
        print(json.dumps({"profile": prof["name"], "adv_ms": adv, "modes": rows}))
    return 0


def main(argv: list[str]) -> int:
    """`opentag beacon ARGS`, for callers that hold this module (the one front end parses)."""
    from taghost import cli

    return cli.main(["beacon", *argv])

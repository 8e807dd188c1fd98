"""`opentag beacon`: the victim beacon's secret, the tag's identifier windows, battery life.

  opentag beacon keygen --out beacon.key            a new 128-bit secret (hex), mode 0600
  opentag beacon window --secret beacon.key --start 2026-04-20T00:00Z [--hours 48]
                        [--interval 900] [--margin 8] [--beacon 0] --out table.bin
  opentag beacon show FILE                          a table's windows, or a key's fingerprint
  opentag beacon battery [--profile F] [--adv-ms N] [--sleep light|awake]

The secret goes to the beacon (and stays with the monitoring centre); the tag gets only table
windows, each covering --hours plus --margin intervals either side for the beacon's clock drift.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tagcore.beaconid import DEFAULT_INTERVAL_S, ID_LEN
from tagcore.beacontable import HEADER, MAGIC, IdTable, window_blob

from taghost import beaconpower

EPOCH_2000 = datetime(2000, 1, 1, tzinfo=timezone.utc)


def parse_time(text: str) -> int:
    """ISO 8601 (UTC unless it says otherwise) to seconds since 2000-01-01."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int((dt - EPOCH_2000).total_seconds())


def iso(t: int) -> str:
    return (EPOCH_2000 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_secret(path: str) -> bytes:
    key = bytes.fromhex(Path(path).read_text().strip())
    if len(key) < 16:
        raise ValueError(f"{path}: a secret needs at least 16 bytes")
    return key


def cmd_keygen(a: argparse.Namespace) -> int:
    out = Path(a.out)
    if out.exists() and not a.force:
        print(f"{out} exists (use --force to replace it)", file=sys.stderr)
        return 1
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_bytes(16).hex() + "\n")
    print(f"wrote a new beacon secret to {out} (copy it to the beacon as /beacon.key)")
    return 0


def cmd_window(a: argparse.Namespace) -> int:
    key = read_secret(a.secret)
    start = parse_time(a.start)
    first = start // a.interval - a.margin
    count = (a.hours * 3600 + a.interval - 1) // a.interval + 2 * a.margin
    blob = window_blob(key, a.beacon, first, count, a.interval)
    Path(a.out).write_bytes(blob)
    print(
        f"{a.out}: beacon {a.beacon}, {count} identifiers, {iso(first * a.interval)} to "
        f"{iso((first + count) * a.interval)} ({len(blob)} bytes)"
    )
    return 0


def describe_table(blob: bytes) -> list[str]:
    tab = IdTable()
    if tab.load(blob) == 0:
        return [f"not a valid table: {tab.counts}"]
    rows = []
    i = 0
    while i < len(blob):
        beacon, ivs = blob[i + 5], int.from_bytes(blob[i + 6 : i + 8], "little")
        first = int.from_bytes(blob[i + 8 : i + 12], "little")
        count = int.from_bytes(blob[i + 12 : i + 14], "little")
        rows.append(
            f"beacon {beacon}: {count} identifiers every {ivs} s, "
            f"{iso(first * ivs)} to {iso((first + count) * ivs)}"
        )
        i += HEADER + count * ID_LEN
    return rows


def cmd_show(a: argparse.Namespace) -> int:
    data = Path(a.file).read_bytes()
    if data.startswith(MAGIC):
        for row in describe_table(data):
            print(row)
        return 0
    try:
        key = read_secret(a.file)
    except ValueError:
        print(f"{a.file}: neither a table nor a beacon secret", file=sys.stderr)
        return 1
    # Never print the secret itself: a fingerprint tells two keys apart.
    print(f"beacon secret, {len(key)} bytes, fingerprint {hashlib.sha256(key).hexdigest()[:16]}")
    return 0


def cmd_battery(a: argparse.Namespace) -> int:
    prof = beaconpower.load_profile(a.profile)
    adv = a.adv_ms or prof["radio"]["adv_interval_ms"]
    for sleep in ("light", "awake") if a.sleep is None else (a.sleep,):
        ma = beaconpower.average_ma(prof, adv, sleep)
        days = beaconpower.battery_days(prof, adv, sleep)
        print(f"{prof['name']}, advertising every {adv} ms, {sleep}: {ma:.2f} mA, {days:.1f} days")
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opentag beacon", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen", help="a new beacon secret")
    k.add_argument("--out", required=True)
    k.add_argument("--force", action="store_true")
    k.set_defaults(func=cmd_keygen)
    w = sub.add_parser("window", help="the tag's identifier table for a window")
    w.add_argument("--secret", required=True)
    w.add_argument("--start", required=True, help="ISO 8601 time, UTC unless given")
    w.add_argument("--hours", type=int, default=48)
    w.add_argument("--interval", type=int, default=DEFAULT_INTERVAL_S)
    w.add_argument("--margin", type=int, default=8, help="extra intervals each side (drift)")
    w.add_argument("--beacon", type=int, default=0, choices=range(16))
    w.add_argument("--out", required=True)
    w.set_defaults(func=cmd_window)
    s = sub.add_parser("show", help="describe a table or a secret (fingerprint only)")
    s.add_argument("file")
    s.set_defaults(func=cmd_show)
    b = sub.add_parser("battery", help="beacon battery life from its board profile")
    b.add_argument("--profile", default=str(beaconpower.DEFAULT_PROFILE))
    b.add_argument("--adv-ms", type=int)
    b.add_argument("--sleep", choices=("light", "awake"))
    b.set_defaults(func=cmd_battery)
    a = p.parse_args(argv)
    try:
        return int(a.func(a))
    except (OSError, ValueError) as e:
        print(f"opentag beacon {a.cmd}: {e}", file=sys.stderr)
        return 1

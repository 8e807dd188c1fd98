"""`opentag pull --port PORT --out DIR`: copy a tag's log off it, verify, decode.

The log is the store's segment files under `/log` (docs/store.md): frames of
`0xA7 | kind | plen | seq | payload | crc32`. Every file is copied as it is into `DIR/log/` (its
SHA-256 checked against the board's own), then each segment is walked frame by frame with the
core's own decoder (`tagcore.store.record`): frames whose CRC holds are decoded, damaged bytes are
counted and skipped to the next frame start, records seen twice (a merge's stale copy) are
kept once. Written: `fixes.geojson`, `fixes.gpx`, `fixes.csv` (the server's export formats),
`events.json`, `events.csv` and `summary.json`; the tag's provisioned files but its secrets
(`tag.key`, `wifi.json`) into `DIR/prov/` (counts: segments, frames, damaged bytes).
Exit 0 when every frame was sound, 1 when damage was found (what was sound is still written).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from tagcore import events as E
from tagcore.store import record as R

from taghost import alertkinds as K
from taghost.errors import EXIT_OK, EXIT_RED, UserError
from taghost.server import alerts, exports
from taghost.server.api import evidence_dict, iso

EVENT_NAMES = {
    R.EV_ZONE: "zone",
    R.EV_PROXIMITY: "proximity",
    R.EV_TAMPER: "tamper",
    R.EV_LOW_BATTERY: "low_battery",
    R.EV_LOC_LOST: "location_lost",
    R.EV_LINK_LOST: "link_lost",
    R.EV_STATUS: "status",
    R.EV_THINNED: "thinned",
    R.EV_BOOT: "boot",
    R.EV_DROPPED: "dropped",
    R.EV_SEAL: "seal",
    R.EV_POWER: "power",
    R.EV_INTEGRITY: "integrity",
}
ALERT_NAMES = K.ZONE_ALERTS  # the zone monitor's alert codes by name (one vocabulary)
# What a tamper event's code and an integrity event's detector say (the event's "detail").
TAMPER_DETAIL = {v: k.replace("_", " ") for k, v in E.TAMPER_CODES.items()}


PROV_COPIED = ("board.json", "config.bin", "zones.bin", "server.json")  # not the secrets


def is_segment(name: str) -> bool:
    return len(name) == 9 and name[0] == "s" and name[1:].isdigit()


def decode_segment(data: bytes, stats: dict[str, int]) -> list[tuple[int, int, Any]]:
    """[(seq, kind, value)] of the sound frames of one segment; damage counted in stats."""
    # Not the core's Store.frames: a pulled file has no index (no last seq to continue), every
    # sound frame is listed (a stale copy's too: decode_dir counts it a duplicate), damage is
    # skipped to the next frame start that checks out and counted a run at a time.
    out = []
    i, end = 0, len(data)
    while i < end:
        ln = R.check_frame(data, i, end)
        if ln and R.payload_ok(data, i, ln):
            stats["frames"] += 1
            if data[i + 1] != R.KIND_MARK:
                out.extend(R.frame_records(data, i, ln))
            i += ln
            continue
        # damage (or a torn tail): a damaged frame whose length can be trusted is passed over
        # whole, as the core's walk does (a frame inside its data is no record); else skip to
        # the next frame start that checks out
        skipped = R.damaged_len(data, i, end)
        if not skipped:
            j = data.find(bytes((R.MAGIC,)), i + 1)
            while j >= 0 and not R.check_frame(data, j, end):
                j = data.find(bytes((R.MAGIC,)), j + 1)
            skipped = (j if j >= 0 else end) - i
        stats["damaged_bytes"] += skipped
        stats["damaged_runs"] += 1
        i += skipped
    return out


def event_dict(seq: int, kind: int, t: int, data: bytes) -> dict[str, Any]:
    d: dict[str, Any] = {
        "seq": seq,
        "kind": EVENT_NAMES.get(kind, f"kind{kind}"),
        "t": t,
        "time": iso(t),
        "data": data.hex(),
    }
    if kind in (R.EV_ZONE, R.EV_LOC_LOST):
        try:
            a = E.decode(kind, t, data)
        except ValueError:  # damaged bytes: the frame is listed, its alert is not
            a = None
        if a is not None:
            d["alert"] = ALERT_NAMES.get(a.kind, str(a.kind))
            d["zone"] = a.zone
            d["rule"] = a.rule
            d["evidence"] = [evidence_dict(f) for f in a.evidence]
        return d
    m = alerts.meaning(kind, t, data)  # the alert the server opens for it, by its name
    if m is not None and m.opens:
        d["alert"] = m.opens
    if kind == R.EV_LOW_BATTERY and data:
        d["battery_pct"] = data[0]
    elif kind == R.EV_TAMPER and data:
        d["code"] = data[0]
        d["detail"] = TAMPER_DETAIL.get(data[0], "unknown")
    elif kind in (R.EV_INTEGRITY, R.EV_PROXIMITY) and m is not None and m.opens:
        d["detail"] = m.detail  # the detector, or the decision's flags, as the server reads them
    return d


def fix_dict(seq: int, f: Any) -> dict[str, Any]:
    d = evidence_dict(f)
    d["seq"] = seq
    d["received"] = None  # read off the tag, not received by a server
    return d


def decode_dir(log: Path) -> dict[str, Any]:
    """Decode the segments in `log` into {"fixes", "events", "stats"}."""
    stats = {"segments": 0, "frames": 0, "damaged_bytes": 0, "damaged_runs": 0, "duplicates": 0}
    records: dict[int, tuple[int, Any]] = {}
    names = sorted(p.name for p in log.iterdir() if is_segment(p.name))
    for name in names:
        stats["segments"] += 1
        for seq, kind, value in decode_segment((log / name).read_bytes(), stats):
            if seq in records:
                stats["duplicates"] += 1
                continue
            records[seq] = (kind, value)
    fixes, events = [], []
    for seq in sorted(records):
        kind, value = records[seq]
        if kind == R.KIND_FIXES:
            fixes.append(fix_dict(seq, value))
        else:
            events.append(event_dict(seq, kind, value[0], value[1]))
    fixes.sort(key=lambda f: (f["t"], f["ms"], f["seq"]))
    stats["fixes"] = len(fixes)
    stats["events"] = len(events)
    return {"fixes": fixes, "events": events, "stats": stats}


def events_csv(events: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    cols = ["seq", "time", "t", "kind", "alert", "zone", "rule", "battery_pct", "code"]
    cols += ["detail", "data"]
    w.writerow(cols)
    for e in events:
        w.writerow(["" if e.get(c) is None else e.get(c) for c in cols])
    return out.getvalue()


def write_outputs(out: Path, doc: dict[str, Any], tag: str) -> dict[str, str]:
    files = {
        "geojson": out / "fixes.geojson",
        "gpx": out / "fixes.gpx",
        "csv": out / "fixes.csv",
        "events": out / "events.json",
        "events_csv": out / "events.csv",
        "summary": out / "summary.json",
    }
    fx = doc["fixes"]
    files["geojson"].write_text(exports.geojson(tag, fx))
    files["gpx"].write_text(exports.gpx(tag, fx))
    files["csv"].write_text(exports.csv_text(tag, fx))
    files["events"].write_text(json.dumps(doc["events"], indent=1))
    files["events_csv"].write_text(events_csv(doc["events"]))
    files["summary"].write_text(json.dumps({"tag": tag, **doc["stats"]}, indent=1))
    return {k: str(v) for k, v in files.items()}


def copy_off(port: str, dest: Path) -> tuple[str, int]:
    """Copy every file under the board's /log into dest; (tag id or "", files copied)."""
    from taghost.deploy import Board

    board = Board(port)
    try:
        paths = board.listing("/log")
        if not paths:
            raise UserError(f"{port}: the board has no log (/log is empty or missing)")
        copies = {p: board.read(p) for p in paths}
        sums = board.sha256_all(paths)  # one exec for all: the board's own hashes
        for p, data in copies.items():
            if sums.get(p) != hashlib.sha256(data).digest():
                raise UserError(f"{port}: {p} changed while it was copied; pull again")
            (dest / p.rsplit("/", 1)[1]).write_bytes(data)
        # what the tag was provisioned with, for replay (zones.bin) and the report; never
        # its secrets (tag.key, wifi.json)
        prov = dest.parent / "prov"
        for p in board.listing("/prov"):
            name = p.rsplit("/", 1)[1]
            if name in PROV_COPIED:
                prov.mkdir(exist_ok=True)
                (prov / name).write_bytes(board.read(p))
        tag = ""
        if (prov / "server.json").is_file():
            try:
                tag = str(json.loads((prov / "server.json").read_text()).get("tag", ""))
            except ValueError:
                tag = ""
        return tag, len(paths)
    finally:
        board.close()


def cmd_pull(args: argparse.Namespace) -> int:
    if bool(args.port) == bool(args.from_dir):
        raise UserError("give --port (a tag) or --from-dir (segments already copied)")
    out = Path(args.out)
    log = out / "log"
    if args.port:
        log.mkdir(parents=True, exist_ok=True)
        tag, n = copy_off(args.port, log)
        print(f"copied {n} files from {args.port}:/log to {log}", file=sys.stderr)
    else:
        log = Path(args.from_dir)
        if not log.is_dir():
            raise UserError(f"--from-dir {log}: not a directory")
        out.mkdir(parents=True, exist_ok=True)
        tag = ""
    doc = decode_dir(log)
    files = write_outputs(out, doc, tag or "unknown")
    st = doc["stats"]
    if args.json:
        print(json.dumps({"tag": tag, "stats": st, "files": files}, indent=1))
    else:
        print(
            f"{st['segments']} segments, {st['frames']} frames: {st['fixes']} fixes, "
            f"{st['events']} events; damaged: {st['damaged_bytes']} bytes in "
            f"{st['damaged_runs']} places"
        )
        for f in files.values():
            print(f"  {f}")
    return EXIT_RED if st["damaged_bytes"] else EXIT_OK

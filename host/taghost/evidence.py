"""`opentag evidence bundle`: one tag's evidence for a period, from the server's database
(docs/evidence.md): the trail, the alerts, the raw frames, the verification report, and a
manifest of SHA-256 hashes, in a folder or a zip."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from taghost import verify as V
from taghost.errors import UserError

README = """Evidence bundle, opentag tag {tag}, period {period}.

trail.geojson   the tag's fixes in the period (GeoJSON; integers kept beside degrees)
alerts.json     the alerts raised in the period, each with the fixes around it
records.json    every record the server holds for the tag and the server's anchors
                (input of `opentag verify records.json --tag {tag} --key K0`)
raw/            every batch the tag sent whose records touch the period, byte for byte as it
                arrived (COSE_Mac0, docs/uplink.md): what the rows were decoded from
report.txt      the verification of records.json against the tag's initial seal key and the
                anchors (report.json: the same, machine-readable)
MANIFEST.sha256 SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`)
"""


def collect(db_url: str, tag: str, t_from: int | None, t_to: int | None) -> dict[str, bytes]:
    """The bundle's files (name -> bytes), manifest excluded."""
    from taghost.server import admin, api, exports, seals
    from taghost.server.db import Database, DatabaseError

    try:
        db = Database(db_url)
    except (DatabaseError, OSError, ValueError) as e:
        raise UserError(f"{db_url}: {e}") from None
    try:
        k0 = admin.seal_key_of(db, tag)
        with db.tx() as tx:
            if tx.execute("SELECT 1 FROM tags WHERE tag = ?", (tag,)).one() is None:
                raise UserError(f"tag {tag} is not provisioned in {db_url}")
            exp = seals.export_all(tx, tag)
        fixes = api.trail(db, tag, t_from, t_to)
        alerts = api.alerts(db, tag, t_from, t_to)
        lo = min((f["seq"] for f in fixes), default=None)
        hi = max((f["seq"] for f in fixes), default=None)
        for a in alerts:
            if a["seq"] is not None:
                lo = a["seq"] if lo is None else min(lo, a["seq"])
                hi = a["seq"] if hi is None else max(hi, a["seq"])
        raw: dict[str, bytes] = {}
        if lo is not None:
            with db.tx() as tx:
                for bid, ctr, body in tx.execute(
                    "SELECT id, ctr, raw FROM batches WHERE tag = ? AND last_seq >= ? "
                    "AND first_seq <= ? ORDER BY id",
                    (tag, lo, hi),
                ).all():
                    raw[f"raw/batch-{int(bid):08d}-ctr{int(ctr)}.cose"] = bytes(body)
    finally:
        db.close()
    kid = bytes.fromhex(tag)
    rep = V.Report(tag)
    if k0 is None:
        rep.add("SEAL_MISSING", [], "the tag was provisioned without a seal key: nothing sealed")
    else:
        recs = V.import_records(exp["records"], rep)
        V.verify(recs, k0, kid, V.anchors_from_json(exp["anchors"]), rep)
    period = f"{api.iso(t_from) or 'start'} .. {api.iso(t_to) or 'end'}"
    files = {
        "README.txt": README.format(tag=tag, period=period).encode(),
        "trail.geojson": exports.geojson(tag, fixes).encode(),
        "alerts.json": json.dumps(alerts, indent=1).encode(),
        "records.json": json.dumps(exp, indent=0).encode(),
        "report.txt": (f"period asked for: {period}\n" + rep.text()).encode(),
        "report.json": json.dumps(rep.to_json(), indent=1).encode(),
    }
    files.update(raw)
    return files


def manifest(files: dict[str, bytes]) -> bytes:
    lines = [f"{hashlib.sha256(b).hexdigest()}  {n}" for n, b in sorted(files.items())]
    return ("\n".join(lines) + "\n").encode()


def write(files: dict[str, bytes], out: Path) -> None:
    files = {**files, "MANIFEST.sha256": manifest(files)}
    if out.suffix.lower() == ".zip":
        if out.exists():
            raise UserError(f"{out} exists: the bundle is never written over")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in sorted(files.items()):
                z.writestr(n, b)
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder")
    for n, b in files.items():
        p = out / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b)


def check_manifest(files: dict[str, bytes]) -> list[str]:
    """Names whose bytes differ from the manifest, or that it does not list."""
    want = {}
    for line in files["MANIFEST.sha256"].decode().splitlines():
        h, n = line.split("  ", 1)
        want[n] = h
    bad = [n for n, h in want.items() if hashlib.sha256(files.get(n, b"")).hexdigest() != h]
    return bad + [n for n in files if n != "MANIFEST.sha256" and n not in want]


def cmd_bundle(args: Any) -> int:
    from taghost.server.admin import AdminError, parse_tag
    from taghost.server.api import parse_time
    from taghost.server.cli import db_default

    try:
        tag = parse_tag(args.tag)
        t_from = parse_time(args.t_from)
        t_to = parse_time(args.t_to)
    except (AdminError, ValueError) as e:
        raise UserError(str(e)) from None
    files = collect(args.db or db_default(), tag, t_from, t_to)
    out = Path(args.out)
    write(files, out)
    rep = json.loads(files["report.json"])
    print(
        f"evidence bundle for tag {tag}: {out} ({len(files) + 1} files); "
        f"verification: {'VERIFIED' if rep['ok'] else 'BROKEN'}"
    )
    return 0


def read_bundle(path: Path) -> dict[str, bytes]:
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}

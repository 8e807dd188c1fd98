"""`opentag evidence bundle`: one tag's evidence for a period, from the server's database, a
log pulled off the tag or a server export (docs/evidence.md): the trail, the alerts, the raw
frames, the verification report, and a manifest of SHA-256 hashes, in a folder or a zip."""

from __future__ import annotations

import bisect
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from tagcore.store import record as R

from taghost import verify as V
from taghost.errors import UserError
from taghost.pull import is_segment
from taghost.server import alerts as alerts_mod
from taghost.server import api

README = """Evidence bundle, opentag tag {tag}, period {period}.
Records from {source}.

trail.geojson   the tag's fixes in the period (GeoJSON; integers kept beside degrees)
alerts.json     the alerts raised in the period, each with the fixes around it
records.json    every record of the tag {held} and, if any, the server's anchors
                (input of `opentag verify records.json --tag {tag} --key K0`)
raw/            {raw}
report.txt      the verification of those records against the tag's initial seal key and the
                server's anchors, if any (report.json: the same, machine-readable)
MANIFEST.sha256 SHA-256 of every other file (`sha256sum -c MANIFEST.sha256`)
"""
RAW = {
    "db": "every batch the tag sent whose records touch the period, byte for byte as it\n"
    "                arrived (COSE_Mac0, docs/uplink.md): what the rows were decoded from",
    "log": "the log's segment files, byte for byte as pulled (`opentag verify raw/` reads\n"
    "                them): what records.json was decoded from; never the tag's key slot",
    "export": "the raw batches of the bundle the export came from, if it was one",
}
SOURCES = {
    "db": "the server's database",
    "log": "a log pulled off the tag",
    "export": "a server export",
}
HELD = {"db": "the server holds", "log": "the log holds", "export": "the export holds"}


def collect(db_url: str, tag: str, t_from: int | None, t_to: int | None) -> dict[str, bytes]:
    """The bundle's files (name -> bytes), manifest excluded, from the server's database."""
    from taghost.server import admin, api, seals
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
    recs = V.import_records(exp["records"], rep)
    if k0 is None:
        rep.add("SEAL_MISSING", [], "the tag was provisioned without a seal key: nothing sealed")
    else:
        V.verify(recs, k0, kid, V.anchors_from_json(exp["anchors"]), rep)
    # the tag's event that ended each alert, read from its records as for a pulled log
    ended = {a.seq: a.ended for a in _raised(recs)}
    for a in alerts:
        a["ended_by"] = _ended(ended.get(a["seq"]))
    source = {"kind": "db", "anchors": "server"}
    return _files(tag, t_from, t_to, source, recs, rep, exp, fixes, alerts, raw)


def collect_records(
    tag: str,
    k0: bytes,
    t_from: int | None,
    t_to: int | None,
    log: Path | None = None,
    export: Path | None = None,
    anchors: V.Anchors | None = None,
) -> dict[str, bytes]:
    """The bundle's files, manifest excluded, from a log pulled off the tag (the folder `opentag
    pull --out` wrote, or its log/ folder of segments) or from a server export (records.json,
    a bundle folder or zip): the same files as from the server's database, the trail and the
    alerts read from the records that were verified. `anchors`: the server's (`--anchors`);
    an export carries its own, which `anchors` replaces, as in `opentag verify`."""
    kid = bytes.fromhex(tag)
    rep = V.Report(tag)
    raw: dict[str, bytes] = {}
    if log is not None:
        if not log.is_dir():
            raise UserError(f"{log}: no such folder (a pulled log: `opentag pull --out` wrote it)")
        if (log / "log").is_dir():  # the folder `opentag pull --out DIR` wrote: DIR/log/
            log = log / "log"
        recs = V.read_segments(log, rep)
        # the segments only: the key slot beside them holds the tag's current key
        for p in sorted(log.iterdir()):
            if is_segment(p.name):
                raw[f"raw/{p.name}"] = p.read_bytes()
        source = {"kind": "log", "path": str(log), "anchors": "file" if anchors else None}
    else:
        assert export is not None
        if not export.exists():
            raise UserError(f"{export}: no such file or folder")
        exp, bundle = V.read_export(export)
        if exp.get("tag") not in (None, tag):
            raise UserError(f"{export}: the export is tag {exp.get('tag')}'s, not {tag}'s")
        recs = V.import_records(exp["records"], rep)
        source = {"kind": "export", "path": str(export), "anchors": "file" if anchors else None}
        if anchors is None and "anchors" in exp:
            anchors = V.anchors_from_json(exp["anchors"])
            source["anchors"] = "export"
        raw = {n: b for n, b in bundle.items() if n.startswith("raw/")}
        if "MANIFEST.sha256" in bundle:  # the export was a bundle: say whether it was intact
            try:
                bad = check_manifest(bundle)
            except ValueError:
                bad = ["MANIFEST.sha256"]
            source["manifest"] = f"differs: {', '.join(bad)}" if bad else "checks"
    V.verify(recs, k0, kid, anchors, rep)
    fixes = [
        api.fix_dict((s, *v, None))
        for s, (k, v) in sorted(recs.items())
        if k == R.KIND_FIXES and _in(int(v.t), t_from, t_to)
    ]
    alerts = [_alert_dict(tag, recs, a) for a in _raised(recs) if _in(a.t, t_from, t_to)]
    alerts.sort(key=lambda a: (a["t"], a["seq"]))  # the server's order: by time
    exp = {"tag": tag, "source": source["kind"], "records": V.export_records(recs)}
    if anchors is not None:  # none: records.json must not claim any (verify reads them)
        exp["anchors"] = V.anchors_to_json(anchors)
    return _files(tag, t_from, t_to, source, recs, rep, exp, fixes, alerts, raw)


def _in(t: int, t_from: int | None, t_to: int | None) -> bool:
    return (t_from is None or t >= t_from) and (t_to is None or t <= t_to)


def _raised(recs: dict[int, V.Rec]) -> list[alerts_mod.Raised]:
    return alerts_mod.raised((s, k, v[0], v[1]) for s, (k, v) in recs.items() if k >= R.EV_FIRST)


def _ended(e: tuple[int, int] | None) -> dict[str, Any] | None:
    return None if e is None else {"seq": e[0], "t": e[1], "time": api.iso(e[1])}


def _alert_dict(tag: str, recs: dict[int, V.Rec], a: alerts_mod.Raised) -> dict[str, Any]:
    """An alert as `api.alerts` gives it, from the records: no server id nor receive times."""
    seqs = sorted(s for s, (k, _) in recs.items() if k == R.KIND_FIXES)
    i = bisect.bisect_left(seqs, a.seq)
    around = (
        seqs[max(0, i - api.EVIDENCE_FIXES) : i]
        + [s for s in seqs[i : i + api.EVIDENCE_FIXES + 1] if s != a.seq][: api.EVIDENCE_FIXES]
    )
    return {
        "id": None,  # the server's row id
        "tag": tag,
        "kind": a.meaning.opens,
        "source": "tag",
        "seq": a.seq,
        "t": a.t,
        "time": api.iso(a.t),
        "raised": None,  # when the server had it: no server did
        "cleared": None,
        "subject": a.meaning.subject,
        "detail": a.meaning.detail,
        "data": a.data.hex(),
        "tag_evidence": [api.evidence_dict(f) for f in a.meaning.evidence],
        "evidence": [api.fix_dict((s, *recs[s][1], None)) for s in around],
        "ended_by": _ended(a.ended),
    }


def _files(
    tag: str,
    t_from: int | None,
    t_to: int | None,
    source: dict[str, Any],
    recs: dict[int, V.Rec],
    rep: V.Report,
    exp: dict[str, Any],
    fixes: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    raw: dict[str, bytes],
) -> dict[str, bytes]:
    from taghost.server import exports

    period = f"{api.iso(t_from) or 'start'} .. {api.iso(t_to) or 'end'}"
    kind = source["kind"]
    # a wrong tag or period would give a bundle of nothing that still says VERIFIED
    if not alerts and not any(_in(V.t_of(r), t_from, t_to) for r in recs.values()):
        where = source.get("path") or "the database"
        raise UserError(f"no records of tag {tag} in the period {period} ({where})")
    head = [f"period asked for: {period}", f"records from: {SOURCES[kind]}"]
    if "path" in source:
        head[-1] += f" ({source['path']})"
    if "manifest" in source:
        head.append(f"the bundle it came from: its manifest {source['manifest']}")
    head.append(
        {
            "server": "server anchors: checked (the server's own)",
            "export": "server anchors: checked (the export's)",
            "file": "server anchors: checked (given with --anchors)",
            None: "no server anchors checked (none given: --anchors): a cut tail or a "
            "restored copy of the log cannot be told from a tag that stopped",
        }[source["anchors"]]
    )
    files = {
        "README.txt": README.format(
            tag=tag, period=period, source=SOURCES[kind], held=HELD[kind], raw=RAW[kind]
        ).encode(),
        "trail.geojson": exports.geojson(tag, fixes).encode(),
        "alerts.json": json.dumps(alerts, indent=1).encode(),
        "records.json": json.dumps(exp, indent=0).encode(),
        "report.txt": ("\n".join(head) + "\n" + rep.text()).encode(),
        "report.json": json.dumps({"source": source, **rep.to_json()}, indent=1).encode(),
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

    given = [o for o, v in (("--db", args.db), ("--log", args.log), ("--export", args.export)) if v]
    if len(given) > 1:
        raise UserError(f"give one source: --db, --log or --export (not {' and '.join(given)})")
    try:
        tag = parse_tag(args.tag)
        t_from = parse_time(args.t_from)
        t_to = parse_time(args.t_to)
    except (AdminError, ValueError) as e:
        raise UserError(str(e)) from None
    if args.log or args.export:
        if not (args.key or args.key_file):
            raise UserError(
                f"{given[0]} needs the tag's initial seal key (--key K0 or --key-file F; "
                "`opentag server provision` printed it)"
            )
        k0 = V.k0_arg(args.key, args.key_file)
        anchors = V.anchors_file(args.anchors) if args.anchors else None
        files = collect_records(
            tag,
            k0,
            t_from,
            t_to,
            log=Path(args.log) if args.log else None,
            export=Path(args.export) if args.export else None,
            anchors=anchors,
        )
    else:
        if args.key or args.key_file or args.anchors:
            raise UserError(
                "--key, --key-file and --anchors are for --log or --export: the database "
                "holds the tag's key and anchors"
            )
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

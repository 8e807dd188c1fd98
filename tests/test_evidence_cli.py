"""`opentag verify` and `opentag evidence bundle` as a user runs them (a subprocess of the
installed CLI): a pulled folder of segments, a server export, a bundle folder and zip; exit 0
verified, 1 broken (named in the report), 2 bad input without a traceback (docs/cli.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evidencekit import KEY, T0, Tag
from seal_run import K0, KID, run
from tagcore import events as E
from tagcore.store import record as R
from tagcore.zones import monitor as Z
from taghost import evidence
from taghost.server import admin
from taghost.server.db import Database
from taghost.server.ingest import Ingest
from taghost.units import UNIX_2000
from test_store import mkfix

OPENTAG = [sys.executable, "-m", "taghost.cli"]


def opentag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OPENTAG, *args], capture_output=True, text=True, timeout=120)


def pulled(tmp: Path) -> Path:
    fs, _, _, _ = run(700, 1024, 8, 0)
    d = tmp / "pulled"
    d.mkdir()
    for n, b in fs.files.items():
        (d / n).write_bytes(bytes(b))  # as copied off the tag: segments and the key slot
    return d


def rewrite_an_event(d: Path) -> int:
    """Rewrite the first zone or status event of a pulled log's first segment on flash, one
    minute later, CRC and all (only the seals can tell); its seq."""
    seg = sorted(d.glob("s*"))[0]
    data = bytearray(seg.read_bytes())
    i = 0
    while data[i + 1] not in (R.EV_ZONE, R.EV_STATUS):
        i += R.check_frame(data, i, len(data))
    ln = R.check_frame(data, i, len(data))
    ((seq, kind, (t, dd)),) = R.frame_records(data, i, ln)
    data[i : i + ln] = R.frame(kind, seq, R.event_payload(t + 60, dd))
    seg.write_bytes(bytes(data))
    return seq


def test_verify_a_pulled_log(tmp_path: Path) -> None:
    d = pulled(tmp_path)
    p = opentag("verify", str(d), "--tag", KID.hex(), "--key", K0.hex())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "result: VERIFIED" in p.stdout and "THINNED" in p.stdout
    assert "verified records from 2000-01-01" in p.stdout
    # rewrite one event on flash, CRC and all: exit 1, the record named
    seq = rewrite_an_event(d)
    out = tmp_path / "report.json"
    p = opentag(
        "verify", str(d), "--tag", KID.hex(), "--key", K0.hex(), "--json", "--out", str(out)
    )
    assert p.returncode == 1
    rep = json.loads(out.read_text())
    assert not rep["ok"]
    assert [f["seqs"] for f in rep["findings"] if f["code"] == "ALTERED"] == [[seq]]


def test_verify_refuses_bad_input_without_a_traceback(tmp_path: Path) -> None:
    d = pulled(tmp_path)
    for args in (
        [str(tmp_path / "nothing"), "--tag", KID.hex(), "--key", K0.hex()],
        [str(d), "--tag", "xyz", "--key", K0.hex()],
        [str(d), "--tag", KID.hex(), "--key", "00ff"],
        [str(tmp_path), "--tag", KID.hex(), "--key", K0.hex()],  # no segments in it
    ):
        p = opentag("verify", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr and p.stderr.strip()
    (tmp_path / "x.json").write_text('{"records": [{"seq": 1}]}')
    p = opentag("verify", str(tmp_path / "x.json"), "--tag", KID.hex(), "--key", K0.hex())
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_evidence_bundle_from_the_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    db = Database(url)
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    tag = Tag()
    for _ in range(3):
        tag.walk(300)
        assert set(tag.upload(ing)) == {200}
    db.close()
    t_from, t_to = str(UNIX_2000 + T0 + 3000), str(UNIX_2000 + T0 + 20000)
    zp = tmp_path / "bundle.zip"
    args = ["--tag", KID.hex(), "--from", t_from, "--to", t_to, "--db", url]
    p = opentag("evidence", "bundle", *args, "--out", str(zp))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "VERIFIED" in p.stdout
    files = evidence.read_bundle(zp)
    assert evidence.check_manifest(files) == []
    assert {"trail.geojson", "alerts.json", "records.json", "report.txt"} <= set(files)
    trail = json.loads(files["trail.geojson"])["features"]
    assert trail and all(
        int(t_from) - UNIX_2000 <= f["properties"]["t"] <= int(t_to) - UNIX_2000 for f in trail
    )
    assert json.loads(files["alerts.json"])  # the zone events of the period
    assert any(n.startswith("raw/") and n.endswith(".cose") for n in files)
    assert "result: VERIFIED" in files["report.txt"].decode()
    p = opentag("verify", str(zp), "--tag", KID.hex(), "--key", K0.hex())
    assert p.returncode == 0, p.stdout + p.stderr
    # the folder form; an edited export fails its manifest and its verification
    d = tmp_path / "bundle"
    assert opentag("evidence", "bundle", *args, "--out", str(d)).returncode == 0
    exp = json.loads((d / "records.json").read_text())
    fix = next(r for r in exp["records"] if r["kind"] == R.KIND_FIXES and r["seq"] > 50)
    fix["fix"][2] += 900  # move one position by about 100 m
    (d / "records.json").write_text(json.dumps(exp))
    assert evidence.check_manifest(evidence.read_bundle(d)) == ["records.json"]
    p = opentag("verify", str(d), "--tag", KID.hex(), "--key", K0.hex())
    assert p.returncode == 1 and "ALTERED" in p.stdout and f"seq {fix['seq']}" in p.stdout
    # never written over; an unknown tag is bad input
    assert opentag("evidence", "bundle", *args, "--out", str(d)).returncode == 2
    p = opentag("evidence", "bundle", "--tag", "00" * 8, "--db", url, "--out", str(tmp_path / "n"))
    assert p.returncode == 2 and "Traceback" not in p.stderr


# ---- the bundle from a pulled log and from a server export (issue 15) ---------------------
SERVER_ONLY = ("id", "raised", "cleared")  # an alert's server row id and receive times


def _walk_with_breaches(tag: Tag) -> None:
    """Fixes with a zone breach that ends and one that does not, as the zone monitor logs them
    (tagcore.events), beside the walk's own undecodable zone events."""
    tag.walk(150)
    ev = (mkfix(1, tag.t), mkfix(2, tag.t))
    for kind, zone, walk in ((Z.A_BREACH, 5, 60), (Z.A_BREACH_END, 5, 90), (Z.A_BREACH, 6, 150)):
        k, data = E.encode(Z.zone_alert(kind, tag.t, zone, 1, 0, ev))
        tag.store.append_event(k, tag.t, bytes(data))
        tag.walk(walk)


def _server_and_pull(tmp: Path) -> tuple[str, Path]:
    """One tag's server database and a copy of its log taken just before its last upload (the
    acks then delete what the server took): the period of that upload is in both, record for
    record."""
    url = f"sqlite:///{tmp}/server.db"
    db = Database(url)
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(300)
    assert set(tag.upload(ing)) == {200}
    _walk_with_breaches(tag)
    tag.store.flush()
    pull = tmp / "pulled"  # as `opentag pull --out` writes it: the tag's /log under log/
    (pull / "log").mkdir(parents=True)
    for n, b in tag.fs.files.items():
        (pull / "log" / n).write_bytes(bytes(b))  # segments and the key slot ('k')
    assert set(tag.upload(ing)) == {200}
    db.close()
    return url, pull


def _trail(files: dict[str, bytes]) -> list[dict]:
    feats = json.loads(files["trail.geojson"])["features"]
    for f in feats:
        f["properties"].pop("received")  # when the server had the fix: null off the tag
    return feats


def _alerts(files: dict[str, bytes]) -> list[dict]:
    out = []
    for a in json.loads(files["alerts.json"]):
        assert a["source"] == "tag"
        for k in SERVER_ONLY:
            a.pop(k)
        for f in a["evidence"]:
            f.pop("received")
        out.append(a)
    return sorted(out, key=lambda a: (a["t"], a["seq"]))


def test_evidence_bundle_from_a_pulled_log_and_an_export(tmp_path: Path) -> None:
    url, pull = _server_and_pull(tmp_path)
    t1 = T0 + 300 * 30  # the second upload's records: on the server and in the pulled log
    period = ["--from", str(UNIX_2000 + t1 + 600), "--to", str(UNIX_2000 + t1 + 420 * 30)]
    key = ["--tag", KID.hex(), "--key", K0.hex()]
    p = opentag("evidence", "bundle", "--tag", KID.hex(), *period, "--db", url,
                "--out", str(tmp_path / "db.zip"))  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    ref = evidence.read_bundle(tmp_path / "db.zip")
    assert "records from: the server's database" in ref["report.txt"].decode()
    # the pulled folder, or its log/ folder itself
    for src, out in ((pull, tmp_path / "log.zip"), (pull / "log", tmp_path / "logdir")):
        p = opentag("evidence", "bundle", *key, *period, "--log", str(src), "--out", str(out))
        assert p.returncode == 0, p.stdout + p.stderr
        assert "VERIFIED" in p.stdout
        files = evidence.read_bundle(out)
        assert evidence.check_manifest(files) == []
        assert set(ref) - {n for n in ref if n.startswith("raw/")} <= set(files)
        trail = _trail(files)
        assert len(trail) > 300 and trail == _trail(ref)
        alerts = _alerts(files)
        assert alerts == _alerts(ref)
        zones = [(a["kind"], a["subject"], a["ended_by"] is not None) for a in alerts]
        assert ("zone_breach", "zone 5", True) in zones and (
            "zone_breach",
            "zone 6",
            False,
        ) in zones
        # the raw frames are the log's segment files, byte for byte; never the key slot
        raw = {n: b for n, b in files.items() if n.startswith("raw/")}
        segs = {f"raw/{p.name}": p.read_bytes() for p in (pull / "log").glob("s*")}
        assert raw == segs
        report = files["report.txt"].decode()
        assert "records from: a log pulled off the tag" in report and "result: VERIFIED" in report
        assert "no server anchors checked" in report
        assert json.loads(files["report.json"])["source"]["kind"] == "log"
        p = opentag("verify", str(out), *key)  # the bundle's records.json verifies alike
        assert p.returncode == 0, p.stdout + p.stderr
    # with the server's anchors (an export's, as `opentag verify --anchors` takes them)
    out = tmp_path / "anchored"
    p = opentag("evidence", "bundle", *key, *period, "--log", str(pull),
                "--anchors", str(tmp_path / "db.zip"), "--out", str(out))  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    report = (out / "report.txt").read_text()
    assert "server anchors: checked" in report and "result: VERIFIED" in report
    # the server's export: the db bundle's records.json, the bundle folder or the zip
    d = tmp_path / "dbdir"
    evidence.write({n: b for n, b in ref.items() if n != "MANIFEST.sha256"}, d)
    for src in (tmp_path / "db.zip", d, d / "records.json"):
        out = tmp_path / f"exp-{src.name}.zip"
        p = opentag("evidence", "bundle", *key, *period, "--export", str(src), "--out", str(out))
        assert p.returncode == 0, p.stdout + p.stderr
        files = evidence.read_bundle(out)
        assert evidence.check_manifest(files) == []
        assert _trail(files) == _trail(ref) and _alerts(files) == _alerts(ref)
        got, want = json.loads(files["records.json"]), json.loads(ref["records.json"])
        assert (got["records"], got["anchors"]) == (want["records"], want["anchors"])
        assert got["source"] == "export"
        report = files["report.txt"].decode()
        assert "records from: a server export" in report and "result: VERIFIED" in report
        assert "server anchors: checked (the export's)" in report
        if src.name != "records.json":  # a bundle's raw batches come along
            assert {n for n in files if n.startswith("raw/")} == {
                n for n in ref if n.startswith("raw/")
            }


def test_evidence_bundle_of_a_tampered_pulled_log_reports_the_break(tmp_path: Path) -> None:
    d = pulled(tmp_path)
    seq = rewrite_an_event(d)
    out = tmp_path / "b.zip"
    p = opentag("evidence", "bundle", "--tag", KID.hex(), "--key", K0.hex(), "--log", str(d),
                "--out", str(out))  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr  # written: the report inside says BROKEN
    assert "BROKEN" in p.stdout
    files = evidence.read_bundle(out)
    assert evidence.check_manifest(files) == []
    rep = json.loads(files["report.json"])
    assert not rep["ok"]
    assert [f["seqs"] for f in rep["findings"] if f["code"] == "ALTERED"] == [[seq]]
    assert f"BREAK ALTERED: seq {seq}" in files["report.txt"].decode()


def test_evidence_bundle_refuses_bad_sources_without_a_traceback(tmp_path: Path) -> None:
    d = pulled(tmp_path)
    url = f"sqlite:///{tmp_path}/server.db"
    Database(url).close()
    (tmp_path / "junk.zip").write_bytes(b"PK not a zip")
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"tag": "00" * 8, "records": []}))
    tag = ["--tag", KID.hex()]
    key = [*tag, "--key", K0.hex()]
    cases = {
        "no such folder": [*key, "--log", str(tmp_path / "nothing")],
        "no store segment": [*key, "--log", str(tmp_path / "x")],
        "not a zip": [*key, "--export", str(tmp_path / "junk.zip")],
        "not an opentag export": [*key, "--export", str(tmp_path / "junk.json")],
        "is tag 0000000000000000": [*key, "--export", str(tmp_path / "other.json")],
        "no records": [*key, "--log", str(d), "--from", "2030-01-01"],
        "one source": [*key, "--log", str(d), "--db", url],
        "one source ": [*key, "--log", str(d), "--export", str(tmp_path / "junk.json")],
        "initial seal key": [*tag, "--log", str(d)],
        "the database holds": [*key, "--db", url],
        "anchors": [*key, "--log", str(d), "--anchors", str(tmp_path / "junk.json")],
    }
    (tmp_path / "x").mkdir()
    for i, (want, args) in enumerate(cases.items()):
        p = opentag("evidence", "bundle", *args, "--out", str(tmp_path / f"o{i}.zip"))
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert want.strip() in p.stderr, (want, p.stderr)
        assert not (tmp_path / f"o{i}.zip").exists()

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
from tagcore.store import record as R
from taghost import evidence
from taghost.server import admin
from taghost.server.db import Database
from taghost.server.ingest import Ingest

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


def test_verify_a_pulled_log(tmp_path: Path) -> None:
    d = pulled(tmp_path)
    p = opentag("verify", str(d), "--tag", KID.hex(), "--key", K0.hex())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "result: VERIFIED" in p.stdout and "THINNED" in p.stdout
    assert "verified records from 2000-01-01" in p.stdout
    # rewrite one event on flash, CRC and all: exit 1, the record named
    seg = sorted(d.glob("s*"))[0]
    data = bytearray(seg.read_bytes())
    i = 0
    while data[i + 1] not in (R.EV_ZONE, R.EV_STATUS):
        i += R.check_frame(data, i, len(data))
    ln = R.check_frame(data, i, len(data))
    ((seq, kind, (t, dd)),) = R.frame_records(data, i, ln)
    data[i : i + ln] = R.frame(kind, seq, R.event_payload(t + 60, dd))
    seg.write_bytes(bytes(data))
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
    t_from, t_to = str(946684800 + T0 + 3000), str(946684800 + T0 + 20000)
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
        int(t_from) - 946684800 <= f["properties"]["t"] <= int(t_to) - 946684800 for f in trail
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

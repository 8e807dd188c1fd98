"""The server over real loopback HTTP: status codes per docs/uplink.md, refusals counted, the
JSON API, exports read back with independent parsers (json + shapely, gpxpy, csv), the CLI."""

from __future__ import annotations

import base64
import csv
import io
import json
import socket
import time
import urllib.error
import urllib.request

import gpxpy
import pytest
import shapely.geometry
import uplinkfaults as F
import uplinkkit as K
from tagcore.store import record as R
from taghost import cli
from taghost.server import admin
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database
from taghost.units import UNIX_2000


@pytest.fixture
def srv(server_db_url):
    cfg = Config(body_timeout_s=0.5, idle_timeout_s=1.0)
    t = ServerThread(Server(Database(server_db_url), cfg)).start()
    yield t
    t.stop()


def get(srv: ServerThread, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(srv.url + path, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post_json(srv: ServerThread, path: str, obj: object) -> tuple[int, dict]:
    req = urllib.request.Request(
        srv.url + path, json.dumps(obj).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def tag_of(srv: ServerThread, seed: int = 1, **kw: object) -> K.HostTag:
    tag, key = K.new_tag(seed)
    admin.provision(srv.server.db, tag.hex(), srv.server.now_ms(), key, **kw)  # type: ignore[arg-type]
    return K.HostTag(tag, key, seed=seed)


def test_status_codes_and_counts(srv):
    ht = tag_of(srv)
    ht.add_fixes(3)
    body = ht.build()
    assert F.post(srv.port, body)[0] == 200
    assert F.post(srv.port, body)[0] == 200  # a retry: answered again
    ht.add_fixes(1)
    newer = ht.build()
    assert F.post(srv.port, newer)[0] == 200
    assert F.post(srv.port, body)[0] == 409  # replayed older batch
    other, okey = K.new_tag(99)
    assert F.post(srv.port, K.batch(okey, other, 1, 1, 1, []))[0] == 403
    assert F.post(srv.port, K.batch(okey, ht.tag, 9, 1, 1, []))[0] == 401
    assert F.post(srv.port, b"\xa1\x01")[0] == 400
    assert F.post(srv.port, bytes(70_000))[0] == 413
    _, out = get(srv, "/v1/stats")
    stats = json.loads(out)
    assert stats["refused"] == {
        "replayed": 1,
        "not_provisioned": 1,
        "bad_mac": 1,
        "malformed": 1,
        "too_large": 1,
    }
    assert stats["counts"]["accepted"] == 3 and stats["counts"]["duplicate_batches"] == 1


def test_body_limit_without_length_and_slow_client(srv):
    # Chunked, no Content-Length: the limit holds while reading.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"POST /v1/up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = bytes(16384)
    try:
        for _ in range(6):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    except OSError:
        pass  # the server may close as soon as it has refused
    assert s.recv(4096).startswith(b"HTTP/1.1 413")
    s.close()
    # A client that stops half-way through its body: 408 after the body timeout.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"POST /v1/up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + bytes(10))
    t0 = time.monotonic()
    assert s.recv(4096).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - t0 < 5
    s.close()
    # A client that never finishes its request head is disconnected after the idle timeout.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"POST /v1/up HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    assert s.recv(4096) == b""
    assert 0.5 < time.monotonic() - t0 < 5
    s.close()
    stats = json.loads(get(srv, "/v1/stats")[1])
    assert stats["refused"] == {"too_large": 1, "too_slow": 1}
    with srv.server.db.tx() as tx:
        assert tx.execute("SELECT COUNT(*) FROM batches").one()[0] == 0


def test_api_trail_alerts_exports(srv):
    ht = tag_of(srv, seed=2, upload_every_s=300, label="case 17")
    ht.add_fixes(6)
    zone_seq = ht.add_event(R.EV_ZONE, b"\x05\x01")
    ht.add_fixes(6)
    fixes = {s: r[1] for s, r in ht.log.items() if r[0] == "fix"}
    st, out = F.post(srv.port, ht.build())
    assert st == 200 and ht.on_reply(st, out)
    tag = ht.tag.hex()
    state = json.loads(get(srv, f"/v1/tags/{tag}")[1])
    assert state["label"] == "case 17" and state["acked"] == ht.last_seq
    assert state["last_fix"]["seq"] == max(fixes) and state["fixes"] == len(fixes)
    assert [t["tag"] for t in json.loads(get(srv, "/v1/tags")[1])] == [tag]
    trail = json.loads(get(srv, f"/v1/tags/{tag}/trail")[1])
    assert [(f["seq"], f["lat"], f["lon"], f["t"]) for f in trail] == [
        (s, f.lat, f.lon, f.t) for s, f in sorted(fixes.items())
    ]
    # A time range, in ISO 8601 and in Unix seconds.
    ts = sorted(f.t for f in fixes.values())
    lo, hi = ts[2], ts[8]
    iso_lo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(lo + UNIX_2000))
    part = json.loads(get(srv, f"/v1/tags/{tag}/trail?from={iso_lo}&to={hi + UNIX_2000}")[1])
    assert [f["t"] for f in part] == [t for t in ts if lo <= t <= hi]
    alerts = json.loads(get(srv, f"/v1/tags/{tag}/alerts")[1])
    assert [(a["kind"], a["seq"]) for a in alerts] == [("zone", zone_seq)]
    assert len(alerts[0]["evidence"]) == 6
    assert json.loads(get(srv, f"/v1/alerts?tag={tag}")[1]) == alerts
    # Exports read back with other parsers.
    st, gj = get(srv, f"/v1/tags/{tag}/export.geojson")
    pts = [shapely.geometry.shape(f["geometry"]) for f in json.loads(gj)["features"]]
    want = [c for _, f in sorted(fixes.items()) for c in (f.lon / 1e6, f.lat / 1e6)]
    assert [c for p in pts for c in (p.x, p.y)] == pytest.approx(want, abs=1e-9)
    st, gx = get(srv, f"/v1/tags/{tag}/export.gpx")
    g = gpxpy.parse(gx.decode())
    gp = g.tracks[0].segments[0].points
    assert [c for p in gp for c in (p.longitude, p.latitude)] == pytest.approx(want, abs=1e-9)
    assert [int(p.time.timestamp()) - UNIX_2000 for p in gp] == ts
    st, cv = get(srv, f"/v1/tags/{tag}/export.csv")
    rows = list(csv.DictReader(io.StringIO(cv.decode())))
    assert [(int(r["lat"]), int(r["lon"])) for r in rows] == [
        (f.lat, f.lon) for _, f in sorted(fixes.items())
    ]
    # Bad requests get a clear status, not a traceback.
    assert get(srv, "/v1/tags/nothex")[0] == 400
    assert get(srv, "/v1/tags/00000000000000ff")[0] == 404
    assert get(srv, f"/v1/tags/{tag}/trail?from=yesterday")[0] == 400
    assert get(srv, f"/v1/tags/{tag}/export.kml")[0] == 404


def test_downlink_and_locate_over_http(srv):
    ht = tag_of(srv, seed=3)
    tag = ht.tag.hex()
    blob = b"\x01zones v2"
    st, r = post_json(
        srv,
        f"/v1/tags/{tag}/downlink",
        {"kind": "zones", "data_b64": base64.b64encode(blob).decode()},
    )
    assert (st, r["version"]) == (201, 1)
    assert post_json(srv, f"/v1/tags/{tag}/locate", {})[0] == 201
    assert post_json(srv, f"/v1/tags/{tag}/downlink", {"kind": "zones", "version": 1})[0] == 409
    assert post_json(srv, f"/v1/tags/{tag}/downlink", {"kind": "nope"})[0] == 400
    ht.add_fixes(1)
    st, out = F.post(srv.port, ht.build())
    assert ht.on_reply(st, out) and ht.downlink == [(2, 1, blob), (4, 1, b"")]
    st, out = F.post(srv.port, ht.build())
    assert ht.on_reply(st, out)
    state = json.loads(get(srv, f"/v1/tags/{tag}")[1])
    assert {(h["kind"], h["version"]) for h in state["held"]} == {("zones", 1), ("locate", 1)}
    assert state["pending_downlink"] == []


def test_cli_provision_and_errors(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/cli.db"
    assert cli.main(["server", "provision", "0011223344556677", "--db", db]) == 0
    key = capsys.readouterr().out.split("key ")[1].strip()
    assert len(bytes.fromhex(key)) == 32
    assert cli.main(["server", "provision", "0011223344556677", "--db", db]) == 2
    assert "already provisioned" in capsys.readouterr().err
    assert cli.main(["server", "provision", "xyz", "--db", db]) == 2
    assert cli.main(["server", "tags", "--db", f"sqlite:///{tmp_path}/no/such/x.db"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "no such folder" in err
    (tmp_path / "z.bin").write_bytes(b"blob")
    assert (
        cli.main(
            ["server", "push", "0011223344556677", "zones", str(tmp_path / "z.bin"), "--db", db]
        )
        == 0
    )
    assert cli.main(["server", "locate", "0011223344556677", "--db", db]) == 0
    (tmp_path / "b.key").write_text(bytes(range(16)).hex())
    beacon = ["server", "beacon", "0011223344556677", "--secret", str(tmp_path / "b.key")]
    assert cli.main([*beacon, "--db", db]) == 0
    assert cli.main([*beacon, "--hours", "9999", "--db", db]) == 2
    assert cli.main(["server", "tags", "--db", db]) == 0
    out = capsys.readouterr().out
    state = json.loads(out[out.index("\n[") + 1 :])
    assert [p["kind"] for p in state[0]["pending_downlink"]] == ["beacon", "zones", "locate"]

"""Victim proximity at the server (docs/server.md, "Victim proximity"), on both backends.

Her phone's posts come from the reference client (taghost.victimclient, written from the docs),
the tag's batches from tests/uplinkkit.py; distances in the oracles are pyproj's own geodesics,
placed with Geod.fwd, never the server's computation.
"""

from __future__ import annotations

import json
import random

import cbor2
import pytest
import uplinkkit as K
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from tagcore.fix import Fix
from taghost import alertkinds as AK
from taghost import cli, victimclient
from taghost.server import admin, api, proximity, victims
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database
from taghost.server.ingest import Ingest
from taghost.units import UNIX_2000

GEOD = Geod(ellps="WGS84")
NOW = 850_000_000  # seconds since 2000: the tests' clock
HOME = (48_856_600, 2_352_200)  # her position (Paris), microdegrees
PRE, ALERT = AK.PROXIMITY_GNSS_PREALERT, AK.PROXIMITY_GNSS


def moved(at: tuple[int, int], azimuth: float, metres: float) -> tuple[int, int]:
    """The point `metres` from `at` along `azimuth` on WGS84 (pyproj), in microdegrees."""
    lon, lat, _ = GEOD.fwd(at[1] / 1e6, at[0] / 1e6, azimuth, metres)
    return round(lat * 1e6), round(lon * 1e6)


@pytest.fixture
def db(server_db_url):
    d = Database(server_db_url)
    yield d
    d.close()


class World:
    """One tag and one victim linked to it; the tag's batches and her posts, delivered straight
    to the server's handlers (Ingest, Victims) at the time given."""

    def __init__(self, db: Database, seed: int | None = None, **victim: int) -> None:
        self.db = db
        self.tag, self.key = K.new_tag(seed)
        admin.provision(db, self.tag.hex(), NOW * 1000, self.key, upload_every_s=60)
        self.victim, self.vkey = victims.add_victim(db, self.tag.hex(), NOW * 1000, **victim)
        self.ingest = Ingest(db)
        self.posts = victims.Victims(db)
        self.seq = 0
        self.ctr = 0
        self.vctr = 0

    def tag_batch(self, fixes: list[tuple[int, tuple[int, int], int]]) -> bytes:
        """A batch of fixes (t, (lat, lon), acc_dm), the next seqs and counter."""
        first = self.seq + 1
        run = [Fix(t, 0, p[0], p[1], None, None, None, acc, 90, 9, 1, 3, 0) for t, p, acc in fixes]
        self.seq += len(run)
        self.ctr += 1
        return K.batch(self.key, self.tag, self.ctr, first, self.seq, [K.fix_run(first, run)])

    def position(self, t: int, at: tuple[int, int], acc_dm: int = 100) -> bytes:
        self.vctr += 1
        return victimclient.encode_position(self.vkey, self.victim, self.vctr, t, *at, acc_dm)

    def send_tag(self, body: bytes, now: int) -> bytes:
        status, out, _ = self.ingest.handle(body, now * 1000)
        assert status == 200, out
        return out

    def send_victim(self, body: bytes, now: int) -> tuple[int, bytes]:
        status, out, _ = self.posts.handle(self.victim, body, now * 1000)
        return status, out

    def alerts(self) -> list[tuple[str, str, int, bool]]:
        """Her alerts: (kind, subject, t, ended) by id."""
        with self.db.tx() as tx:
            rows = tx.execute(
                "SELECT kind, subject, t, cleared_ms FROM alerts WHERE tag = ? "
                "AND source = 'server' ORDER BY id",
                (self.tag.hex(),),
            ).all()
        return [(str(k), str(s), int(t), c is not None) for k, s, t, c in rows]


def count(db: Database, table: str) -> int:
    with db.tx() as tx:
        return int(tx.execute(f"SELECT COUNT(*) FROM {table}").one()[0])


# ---- provisioning ------------------------------------------------------------------------------


def test_victim_add_prints_her_key_once_and_refuses_bad_input(server_db_url, capsys):
    tag = "0011223344556677"
    assert cli.main(["server", "provision", tag, "--db", server_db_url]) == 0
    capsys.readouterr()
    add = ["server", "victim", "add", "--tag", tag, "--db", server_db_url]
    assert cli.main([*add, "--label", "case 17"]) == 0
    out, err = capsys.readouterr()
    head, key = out.strip().split("; key ")
    assert head == f"victim 1 on tag {tag}" and len(bytes.fromhex(key)) == 32
    assert "uploads every 900 s" in err  # the tag's uploads are slower than the rule's window
    assert cli.main([*add, "--alert-m", "2000", "--max-age-s", "60"]) == 0
    out2 = capsys.readouterr().out
    assert out2.startswith("victim 2 ") and key not in out2  # her own random key
    d = Database(server_db_url)
    with d.tx() as tx:
        rows = tx.execute(
            "SELECT id, tag, label, alert_m, prealert_m, max_age_s, mac_key FROM victims "
            "ORDER BY id"
        ).all()
    d.close()
    assert [r[:6] for r in rows] == [
        (1, tag, "case 17", 500, 1000, 300),
        (2, tag, "", 2000, 4000, 60),  # the pre-alert at twice the alert distance (France)
    ]
    assert bytes(rows[0][6]).hex() == key
    # Refused without a traceback: exit 2 (docs/cli.md).
    for argv, why in (
        (["--tag", "00112233445566ff"], "not provisioned"),
        (["--tag", "xyz"], "hex digits"),
        (["--tag", tag, "--alert-m", "800", "--prealert-m", "700"], "pre-alert distance"),
        (["--tag", tag, "--key", "00"], "32 bytes"),
    ):
        assert cli.main(["server", "victim", "add", *argv, "--db", server_db_url]) == 2
        assert why in capsys.readouterr().err
    for argv in (["--alert-m", "0"], ["--max-age-s", "5"], []):  # argparse refuses these
        assert cli.main(["server", "victim", "add", *argv, "--db", server_db_url]) == 2
        assert "Traceback" not in capsys.readouterr().err


# ---- the endpoint over real HTTP -------------------------------------------------------------


@pytest.fixture
def srv(server_db_url):
    clock = [NOW + UNIX_2000 + 0.0]
    t = ServerThread(Server(Database(server_db_url), Config(body_timeout_s=0.5), lambda: clock[0]))
    t.start()
    yield t
    t.stop()


def test_positions_over_http_and_every_refusal_stores_nothing(srv, capsys):
    db = srv.server.db
    tag, key = K.new_tag(5)
    admin.provision(db, tag.hex(), NOW * 1000, key)
    vid, vkey = victims.add_victim(db, tag.hex(), NOW * 1000)
    unix = NOW + UNIX_2000
    r = victimclient.post_position(srv.url, vid, vkey, 48.8566, 2.3522, 12.5, unix - 3, 7)
    assert r == victimclient.Receipt(200, 7, NOW, None)
    with db.tx() as tx:
        row = tx.execute(
            "SELECT victim, ctr, t, lat, lon, acc_dm, rx_ms FROM victim_positions"
        ).one()
    assert row == (vid, 7, NOW - 3, 48_856_600, 2_352_200, 125, NOW * 1000)

    def body(ctr: int, t: int = NOW - 2, lat: int = 1, lon: int = 2, acc: int = 30) -> bytes:
        return victimclient.encode_position(vkey, vid, ctr, t, lat, lon, acc)

    good = body(8)
    cases = [  # (what, victim in the path, bytes, status, reason)
        ("unknown victim", 99, victimclient.encode_position(vkey, 99, 8, NOW, 1, 2, 3), 403,
         "not_provisioned"),
        ("another key", vid, victimclient.encode_position(bytes(32), vid, 8, NOW, 1, 2, 3), 401,
         "bad_mac"),
        ("a tag's aad", vid, K.mac0(vkey, victimclient.kid(vid), cbor2.dumps(
            {1: vid, 2: 8, 3: NOW, 4: 1, 5: 2, 6: 3}), K.UP_AAD), 401, "bad_mac"),
        ("replayed counter", vid, body(7), 409, "replayed"),
        ("older counter", vid, body(3), 409, "replayed"),
        ("not CBOR", vid, b"\xff\x00", 400, "malformed"),
        ("kid of another victim", vid + 1, good, 400, "malformed"),
        ("payload of another victim", vid, K.mac0(vkey, victimclient.kid(vid), cbor2.dumps(
            {1: vid + 1, 2: 8, 3: NOW, 4: 1, 5: 2, 6: 3}), victimclient.UP_AAD), 400, "malformed"),
        ("a field missing", vid, K.mac0(vkey, victimclient.kid(vid), cbor2.dumps(
            {1: vid, 2: 8, 3: NOW, 4: 1, 5: 2}), victimclient.UP_AAD), 400, "malformed"),
        ("a float latitude", vid, K.mac0(vkey, victimclient.kid(vid), cbor2.dumps(
            {1: vid, 2: 8, 3: NOW, 4: 1.5, 5: 2, 6: 3}), victimclient.UP_AAD), 400, "malformed"),
        ("latitude 90.000001", vid, body(8, lat=90_000_001), 422, "out_of_range"),
        ("longitude -180.000001", vid, body(8, lon=-180_000_001), 422, "out_of_range"),
        ("accuracy over 10 km", vid, body(8, acc=100_001), 422, "out_of_range"),
        ("accuracy below 0", vid, body(8, acc=-1), 422, "out_of_range"),
        ("time ahead of the server", vid, body(8, t=NOW + 121), 422, "out_of_range"),
        ("time before the last", vid, body(8, t=NOW - 3), 409, "out_of_order"),
        ("too large", vid, bytes(2000), 413, "too_large"),
    ]  # fmt: skip
    for what, v, b, status, reason in cases:
        st, out = victimclient.post_body(srv.url, v, b)
        assert (st, json.loads(out)) == (status, {"error": reason}), what
    st, _ = victimclient.post_body(srv.url, "x", good)  # type: ignore[arg-type]
    assert st == 400
    assert count(db, "victim_positions") == 1 and count(db, "alerts") == 0
    with db.tx() as tx:
        assert tx.execute("SELECT max_ctr FROM victims").one() == (7,)
    # The good one is taken; the same request again (her phone missed the answer) is answered
    # again and stored once; the receipt verifies under her key only.
    st, out = victimclient.post_body(srv.url, vid, good)
    assert st == 200 and victimclient.open_receipt(vkey, vid, out)[2] == 8
    assert victimclient.open_receipt(bytes(32), vid, out) is None
    assert victimclient.post_body(srv.url, vid, good)[0] == 200
    assert count(db, "victim_positions") == 2
    stats = json.loads(victimclient.urllib.request.urlopen(srv.url + "/v1/stats").read())
    assert stats["counts"]["victim_positions"] == 2 and stats["counts"]["victim_duplicates"] == 1
    assert stats["refused"]["victim_replayed"] == 2 and stats["refused"]["victim_malformed"] == 6
    # The command-line client: taken (0), refused by the server (1), no server there (2).
    base = ["victim", "report", "--server", srv.url, "--victim", str(vid), "--key", vkey.hex()]
    where = ["--lat", "48.85", "--lon", "2.35", "--acc-m", "20", "--time", str(unix - 1)]
    assert cli.main([*base, *where, "--ctr", "20"]) == 0
    assert "position 20 taken" in capsys.readouterr().out
    assert cli.main([*base, *where, "--ctr", "19"]) == 1
    assert "409 replayed" in capsys.readouterr().err
    assert cli.main([*base[:2], "--server", "http://127.0.0.1:9", *base[4:], *where]) == 2
    assert cli.main([*base[:-2], *where]) == 2  # no key
    assert "Traceback" not in capsys.readouterr().err
    assert count(db, "victim_positions") == 3


# ---- the rule ----------------------------------------------------------------------------------


def approach(w: World, distances: list[float], step_s: int = 30, victim_first: bool = True):
    """He walks the given distances (m, north-north-east of her) one step apart; she stays at HOME
    (accuracy 10 m), his fixes have 5 m. Each step: both posted, at the step's time + 5 s."""
    out = []
    for k, d in enumerate(distances):
        t = NOW - 10_000 + k * step_s
        pos = w.position(t, HOME, 100)
        batch = w.tag_batch([(t, moved(HOME, 30, d), 50)])
        if victim_first:
            assert w.send_victim(pos, t + 5)[0] == 200
            w.send_tag(batch, t + 5)
        else:
            w.send_tag(batch, t + 5)
            assert w.send_victim(pos, t + 5)[0] == 200
        out.append(t)
    return out


def test_an_approach_opens_the_prealert_then_the_alert_once_and_separation_ends_them(db):
    w = World(db)
    # Accuracies 10 + 5 m: the pre-alert opens at <= 1015 m, the alert at <= 515 m; they end
    # beyond 500 + 100 + 15 = 615 m and 1115 m (the hysteresis and the accuracies).
    path = [3000, 2000, 1100, 1014, 700, 516, 514, 300, 100, 300, 600, 614, 616, 1000, 1114, 1116,
            3000]  # fmt: skip
    ts = approach(w, path)
    s = f"victim {w.victim}"
    at = dict(zip(path, ts, strict=True))
    assert w.alerts() == [(PRE, s, at[1014], True), (ALERT, s, at[514], True)]
    with db.tx() as tx:
        ends = tx.execute(
            "SELECT kind, cleared_ms FROM alerts WHERE tag = ? ORDER BY id", (w.tag.hex(),)
        ).all()
    assert [int(c) // 1000 - 5 for _, c in ends] == [at[1116], at[616]]
    # What the alert says: the distance and the two ages, never her coordinates.
    al = {a["kind"]: a for a in api.alerts(db, w.tag.hex(), None, None)}
    data = json.loads(bytes.fromhex(al[ALERT]["data"]))
    assert set(data) == {"distance_m", "min_distance_m", "accuracy_m", "limit_m",
                         "victim_age_s", "fix_age_s", "apart_s", "fix_seq"}  # fmt: skip
    assert data["distance_m"] == pytest.approx(514, abs=0.2) and data["accuracy_m"] == 15
    assert (data["victim_age_s"], data["fix_age_s"], data["apart_s"]) == (5, 5, 0)
    assert al[ALERT]["subject"] == s and al[ALERT]["source"] == "server"
    assert "514 m apart" in al[ALERT]["detail"] and "her position 5 s old" in al[ALERT]["detail"]
    text = json.dumps(api.alerts(db, None, None, None)) + json.dumps(api.tag_state(db))
    for v in (HOME[0], HOME[1], HOME[0] / 1e6, HOME[1] / 1e6):
        assert str(v) not in text


def test_her_position_never_reaches_the_tag(db):
    """The tag's acknowledgements after her posts carry nothing of hers: no downlink item, no
    field beyond the contract's, none of her coordinates."""
    w = World(db)
    t = NOW - 100
    assert w.send_victim(w.position(t, HOME), NOW)[0] == 200
    out = w.send_tag(w.tag_batch([(t, moved(HOME, 90, 200), 50)]), NOW)
    ack = K.open_ack(w.key, out)
    assert ack is not None and set(ack) == {1, 2, 3, 4, 5} and ack[5] == []
    assert HOME[0].to_bytes(4, "big") not in out and cbor2.dumps(HOME[0]) not in out
    assert count(db, "downlink") == 0
    assert [a[0] for a in w.alerts()] == [PRE, ALERT]


def test_stale_positions_decide_nothing_and_a_long_silence_ends_the_episode(db):
    near = moved(HOME, 45, 50)
    # Her position 301 s older than his fix: not a pair.
    w = World(db)
    assert w.send_victim(w.position(NOW - 310, HOME), NOW)[0] == 200
    w.send_tag(w.tag_batch([(NOW - 9, near, 50)]), NOW)
    assert w.alerts() == []
    # A pair 1 s apart that arrives 301 s late still decides: the alert of what happened, late
    # (its ages say so); before, "fresh against now" dropped it.
    w = World(db)
    assert w.send_victim(w.position(NOW - 301, HOME), NOW)[0] == 200
    far = moved(HOME, 45, 9000)  # then he is far: the late episode ends in the same walk
    assert w.send_victim(w.position(NOW - 280, HOME), NOW)[0] == 200
    w.send_tag(w.tag_batch([(NOW - 302, near, 50), (NOW - 290, far, 50), (NOW - 270, far, 50)]),
               NOW)  # fmt: skip
    assert w.alerts() == [(PRE, f"victim {w.victim}", NOW - 301, True),
                          (ALERT, f"victim {w.victim}", NOW - 301, True)]  # fmt: skip
    al = {a["kind"]: a for a in api.alerts(db, w.tag.hex(), None, None)}
    assert json.loads(bytes.fromhex(al[ALERT]["data"]))["victim_age_s"] == 301
    # A fix with nothing of hers yet, then her position: decided when both have reported past
    # it (a fix the tag has not sent yet may lie between the two).
    w = World(db)
    w.send_tag(w.tag_batch([(NOW - 20, near, 50)]), NOW - 15)
    assert w.alerts() == []
    assert w.send_victim(w.position(NOW - 10, HOME), NOW - 8)[0] == 200
    assert w.alerts() == []
    w.send_tag(w.tag_batch([(NOW - 5, moved(HOME, 45, 60), 50)]), NOW)
    assert [a[:3] for a in w.alerts()] == [(PRE, f"victim {w.victim}", NOW - 10),
                                           (ALERT, f"victim {w.victim}", NOW - 10)]  # fmt: skip
    # The positions stop: the alert stays open through an hour's silence, then ends.
    last = NOW - 10  # the last pair decided: her position and the fix before it
    assert proximity.sweep(db, (last + proximity.STALE_END_S) * 1000) == []
    assert [a[3] for a in w.alerts()] == [False, False]
    ended = proximity.sweep(db, (last + proximity.STALE_END_S + 1) * 1000)
    assert ended == [("ended", PRE), ("ended", ALERT)]
    assert [a[3] for a in w.alerts()] == [True, True]
    # The next approach is a new episode: new alerts.
    t = last + proximity.STALE_END_S + 100
    w.send_tag(w.tag_batch([(t, near, 50)]), t)
    assert w.send_victim(w.position(t, HOME), t)[0] == 200
    assert [(a[0], a[3]) for a in w.alerts()] == [(PRE, True), (ALERT, True), (PRE, False),
                                                  (ALERT, False)]  # fmt: skip


def test_a_tag_uploading_every_15_min_still_raises_an_encounter_between_its_uploads(db):
    """He walks past her 10 min before his next upload (the default 15-min interval): the
    encounter is alerted when the batch arrives, at its own time, and ended by the batch's later
    fixes; a past episode over an hour old is opened and ended in the same walk."""
    w = World(db)
    t0 = NOW - 900
    for k in range(30):  # her phone posts every 30 s, at home
        assert w.send_victim(w.position(t0 + 30 * k, HOME), t0 + 30 * k + 2)[0] == 200
    fixes = []
    for k in range(15):  # his fixes a minute apart: 3 km, then past her at 200 m, then away
        d = 200 if k in (4, 5) else 3000
        fixes.append((t0 + 60 * k + 1, moved(HOME, 90, d), 50))
    w.send_tag(w.tag_batch(fixes), NOW)
    got = w.alerts()
    assert [(k, t, ended) for k, _, t, ended in got] == [
        (PRE, t0 + 241, True),
        (ALERT, t0 + 241, True),
    ]
    # hours late: a backlog after a day without coverage
    w = World(db)
    t0 = NOW - 86_400
    assert w.send_victim(w.position(t0, HOME), t0 + 2)[0] == 200
    assert w.send_victim(w.position(NOW - 5, HOME), NOW - 3)[0] == 200
    w.send_tag(w.tag_batch([(t0 + 1, moved(HOME, 0, 100), 50), (NOW - 4, moved(HOME, 0, 9e3), 50)]),
               NOW)  # fmt: skip
    assert [(k, t, ended) for k, _, t, ended in w.alerts()] == [
        (PRE, t0 + 1, True),
        (ALERT, t0 + 1, True),
    ]


def test_a_batch_ahead_of_a_gap_waits_for_it(db):
    """Fixes stored ahead of a gap in the tag's log are not walked until the gap is filled:
    the rule walks only what is complete, so a late batch cannot change what it decided."""
    w = World(db)
    t = NOW - 100
    w.seq = 1
    late = w.tag_batch([(t + 30, moved(HOME, 0, 100), 50)])  # seq 2 (ctr 1), arrives first
    w.seq = 0
    early = w.tag_batch([(t, moved(HOME, 0, 3000), 50)])  # seq 1, sent again (ctr 2)
    w.seq = 2
    assert w.send_victim(w.position(t, HOME), NOW)[0] == 200
    assert w.send_victim(w.position(t + 30, HOME), NOW)[0] == 200
    w.send_tag(late, NOW)
    assert w.alerts() == []  # seq 1 is missing: nothing after it is decided
    w.send_tag(early, NOW)
    assert [(a[0], a[2]) for a in w.alerts()] == [(PRE, t + 30), (ALERT, t + 30)]


ORDERS = ("victim_first", "tag_first", "tag_late")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    path=st.lists(st.tuples(st.integers(0, 2500), st.integers(0, 359), st.integers(0, 400)),
                  min_size=2, max_size=9),
    orders=st.lists(st.sampled_from(ORDERS), min_size=9, max_size=9),
)  # fmt: skip
def test_the_alerts_do_not_depend_on_delivery_order(db, path, orders):
    """Each step she posts her position (moving about) and the tag sends a fix; her post
    first, the tag's first, or the tag's batch late (after her next post). The alerts, their
    times and whether they ended are those of the same steps delivered in time order."""

    def run(order: list[str]) -> list[tuple[str, int, bool]]:
        w = World(db)
        pending: list[tuple[bytes, int]] = []
        for k, (d, az, drift) in enumerate(path):
            t = NOW - 5000 + 20 * k
            her = moved(HOME, (az + 90) % 360, drift)
            pos = w.position(t, her, 80)
            batch = w.tag_batch([(t, moved(HOME, az, d), 40)])
            now = t + 3
            first = order[k] == "tag_first" and not pending  # the tag sends in its order
            if first:
                w.send_tag(batch, now)
            assert w.send_victim(pos, now)[0] == 200
            for b, _ in pending:  # a batch held back: after her next post
                w.send_tag(b, now)
            pending = []
            if order[k] == "tag_late":
                pending.append((batch, now))
            elif not first:
                w.send_tag(batch, now)
        for b, _ in pending:
            w.send_tag(b, NOW - 5000 + 20 * len(path) + 3)
        return [(kind, t, ended) for kind, _, t, ended in w.alerts()]

    assert run(orders) == run(["tag_first"] * len(path))


@pytest.mark.parametrize("lat", [0.0, 35.0, 60.0, 78.2, -54.8])
def test_distances_are_wgs84_geodesics(db, lat):
    """pyproj's geodesic is the oracle: the rule's distance is it to a millimetre at every
    latitude, and the alert opens 0.5 m inside the limit and not 0.5 m outside (a mean-radius
    sphere's distance misses 515 m by 0.6 to 2.9 m in 14 of these 15 places and directions)."""
    rng = random.Random(int(lat * 10))
    for _ in range(20):
        a = (
            round(lat * 1e6) + rng.randrange(-(10**5), 10**5),
            rng.randrange(-179 * 10**6, 179 * 10**6),
        )
        b = moved(a, rng.uniform(0, 360), rng.uniform(1, 20_000))
        want = GEOD.inv(a[1] / 1e6, a[0] / 1e6, b[1] / 1e6, b[0] / 1e6)[2]
        assert proximity.distance_m(*a, *b) == pytest.approx(want, abs=1e-3)
    here = (round(lat * 1e6), 10_000_000)
    for az in (0, 90, 45):
        for extra, opens in ((-0.5, True), (0.5, False)):
            w = World(db, alert_m=500, prealert_m=500)
            there = moved(here, az, 500 + 15 + extra)  # accuracies 10 + 5 m
            assert w.send_victim(w.position(NOW - 5, here, 100), NOW)[0] == 200
            w.send_tag(w.tag_batch([(NOW - 5, there, 50)]), NOW)
            got = [a[0] for a in w.alerts()]
            assert got == ([PRE, ALERT] if opens else []), (lat, az, extra)


def test_a_failing_rule_costs_neither_the_batch_nor_her_position(db, monkeypatch):
    """The rule runs inside the tag's ingest and her post: if it fails, the batch is still
    acknowledged and her position still stored (a savepoint undoes only the rule's writes), and
    the rules loop decides later."""
    w = World(db)
    real = proximity.evaluate

    def boom(tx, victim, now_ms):
        tx.execute("UPDATE victims SET decided_t = 1 WHERE id = ?", (victim,))  # undone
        raise RuntimeError("a bug in the rule")

    monkeypatch.setattr(proximity, "evaluate", boom)
    assert w.send_victim(w.position(NOW - 10, HOME), NOW)[0] == 200
    ack = K.open_ack(w.key, w.send_tag(w.tag_batch([(NOW - 10, moved(HOME, 10, 30), 50)]), NOW))
    assert ack is not None and ack[3] == 1
    assert w.posts.counts["victim_rule_failed"] == 1
    assert w.ingest.counts["victim_rule_failed"] == 1
    assert count(db, "victim_positions") == 1 and w.alerts() == []
    with db.tx() as tx:
        assert tx.execute("SELECT decided_t FROM victims WHERE id = ?", (w.victim,)).one() == (
            None,
        )
    monkeypatch.setattr(proximity, "evaluate", real)
    assert proximity.sweep(db, NOW * 1000 + 30_000) == [("opened", PRE), ("opened", ALERT)]


def test_a_database_from_before_victims_is_migrated(server_db_url, monkeypatch):
    from taghost.server import schema

    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])
    monkeypatch.setattr(schema, "LATEST", 2)
    old = Database(server_db_url)
    admin.provision(old, "0011223344556677", NOW * 1000)
    old.close()
    monkeypatch.undo()
    d = Database(server_db_url)
    vid, _ = victims.add_victim(d, "0011223344556677", NOW * 1000)
    with d.tx() as tx:
        assert tx.execute("SELECT MAX(version) FROM schema_version").one() == (3,)
    assert vid == 1 and count(d, "victim_positions") == 0
    d.close()

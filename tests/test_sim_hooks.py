"""The seam for the zone and proximity cores: stand-in monitors plugged into the adapter's hook
points drive alerts, uploads, the fix interval and the scan schedule, and the metrics score the
alert stream they produce against truth."""

from __future__ import annotations

import itertools

import simworld
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.events import decode
from tagcore.fix import Fix
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.beaconid import id_and_addr, on_air
from tagcore.proximity.monitor import Event
from tagcore.store import record as R
from tagcore.zones.monitor import (
    A_BREACH,
    A_BREACH_END,
    A_LOC_LOST,
    END_LEFT,
    RULE_CONSECUTIVE,
    loc_alert,
    zone_alert,
)
from tagkit.memfs import MemFs
from tagsim import engine, geo, metrics
from tagsim import taglines as L
from tagsim.scenario import parse


class LineZone:
    """Stand-in with tagcore.zones.monitor' API: zone 7 is everything east of a longitude
    (microdegrees); a breach (Alert A_BREACH) at the first fix there, no confirmation rule."""

    def __init__(self, lon: int, fast: int = 60) -> None:
        self.lon, self.fast, self.inside = lon, fast, False
        self.no_fix = 0

    def on_fix(self, now, fix):
        inside = fix.lon >= self.lon
        was, self.inside = self.inside, inside
        if inside and not was:
            return (zone_alert(A_BREACH, fix.t, 7, 1, RULE_CONSECUTIVE, (fix,)),)
        if was and not inside:
            return (zone_alert(A_BREACH_END, fix.t, 7, 1, END_LEFT, (fix,)),)
        return ()

    def on_no_fix(self, now):
        self.no_fix += 1
        return ()

    def wanted_interval(self, now):
        return self.fast


class EveryScan:
    """Stand-in with tagcore.proximity.monitor's API: a 3 s scan every 120 s; a decision (kind 2,
    "near") on every advertisement stronger than -70 dBm; urgent after one."""

    def __init__(self, period: int) -> None:
        self.period, self.seen, self.ends, self.fixes = period, [], [], 0
        self.victim: list[tuple[int, int, int, int]] = []
        self.last_end = -(10**9)
        self.events: list[Event] = []

    def on_scan(self, now, addr, rssi, adv):
        self.seen.append((now, addr, rssi, bytes(adv)))
        if rssi > -70:
            self.events.append(Event(now, 2, 0, 1, rssi, -1, [now], [rssi]))
        return 0

    def on_scan_end(self, now):
        self.ends.append(now)
        self.last_end = now

    def on_fix(self, now, fix):
        self.fixes += 1

    def on_victim_position(self, now, lat, lon, acc_dm, beacon=0):
        self.victim.append((now, lat, lon, acc_dm))

    def next_scan(self, now):
        return max(now, self.last_end + self.period), 3000

    def urgent(self):
        return bool(self.seen)

    def pop_event(self):
        return self.events.pop(0) if self.events else None


def _walk() -> engine.Run:
    return engine.run(parse(simworld.doc(), "<t>"), "cpython", LineZone(13_378_000), None)


def test_zone_hook_alerts_are_stored_uploaded_and_scored() -> None:
    r = _walk()
    alerts = list(L.records(r.log.tag_lines, L.ZoneAlert))
    assert [(a.zone, a.kind, a.zkind, a.rule) for _, a in alerts] == [(7, 1, 1, 1)]
    t_alert = alerts[0][0]
    assert any(t == t_alert and ln.startswith("U ") for t, ln in r.log.tag_lines)
    # truth: the first second the wearer is east of 13.378 (walking east at ~1.4 m/s)
    ser = metrics.truth_series(r.truth, r.scenario.start, r.log.end)
    t_true = int(ser["t"][(ser["lon"] >= 13.378).argmax()])
    res = metrics.match_alerts([metrics.TruthEvent(t_true, 7, "entry")], [(t_alert, 7, 1)])
    assert res["detected"] == 1 and res["false"] == 0 and 0 <= res["delay_max_s"] <= 90


def test_wanted_interval_shortens_the_duty_cycle() -> None:
    sc = parse(simworld.doc(), "<t>")
    slow = engine.run(sc, "cpython", LineZone(99_000_000, fast=60), None)
    fast = engine.run(sc, "cpython", LineZone(99_000_000, fast=15), None)
    n = lambda r: sum(1 for _, ln in r.log.tag_lines if ln.startswith("F "))  # noqa: E731
    assert n(fast) > 3 * n(slow)


def test_proximity_hook_sets_the_scan_schedule() -> None:
    d = simworld.doc(beacon={"itinerary": [{"stay": "home", "for": "2h"}], "shadowing_db": 0})
    sc = parse(d, "<t>")
    prox = EveryScan(120)
    r = engine.run(sc, "cpython", None, prox)
    # the core's schedule: each scan starts 120 s after the last ended and lasts 3 s (its end
    # is reported in its last second, 2 s after it started)
    assert all(b - a == 122 for a, b in itertools.pairwise(prox.ends))
    per_scan = {}
    for t, _, _ in r.log.scans:  # every advertisement sent while the tag listened
        per_scan.setdefault((t - sc.start) // 120, []).append(t)
    assert all(len(v) <= 6 for v in per_scan.values())  # 3 s at one every 500 ms
    assert sum(len(v) == 6 for v in per_scan.values()) > 0.9 * len(per_scan)  # but silences
    # what the tag heard is the beacon's rolling identity on the air (proximity.beaconid.on_air;
    # the silences between two identifiers send nothing)
    heard = [x for x in prox.seen if x[0] < sc.start + 600]
    ident, addr = id_and_addr(sc.beacon.secret, on_air(sc.beacon.secret, heard[0][0])[0])
    assert heard[0][1] == addr.hex() and heard[0][3] == build_adv(ident)
    assert prox.fixes == sum(1 for _, ln in r.log.tag_lines if ln.startswith("F "))
    # decisions become "P" lines and EV_PROXIMITY records; an alert kind goes out at once
    # every successful upload brings the victim's position back (a minute old, ~10 m off)
    ups = L.acked_uploads(r.log.tag_lines)
    assert [v[0] for v in prox.victim] == sorted(set(ups))
    for t, lat, lon, acc in prox.victim:
        b = r.beacon_truth.at(t - 60)
        assert geo.dist(b.lat, b.lon, lat / 1e6, lon / 1e6) < 40 and acc == 100
    p = list(L.records(r.log.tag_lines, L.ProximityEvent))
    assert p and (p[0][1].beacon, p[0][1].kind) == (0, 2)
    assert any(t == p[0][0] and ln.startswith("U ") for t, ln in r.log.tag_lines)


def test_alerts_become_store_events() -> None:
    # the zone monitor's own event encoding: the server decodes the same Alert, evidence included
    fs = MemFs()
    tag = TagApp(TagConfig(), fs, simworld.START, LineZone(99_000_000))
    f = Fix(simworld.START + 4, 0, 52_520_000, 13_370_000, 350, 120, 9000, 60, 90, 9, 1, 3, 1)
    a = zone_alert(A_BREACH, f.t, 3, 1, RULE_CONSECUTIVE, (f,))
    lost = loc_alert(A_LOC_LOST, simworld.START + 9, 1200, (f,))
    tag._zone_alerts(simworld.START + 5, (a, lost))
    recs = tag.store.read(0, 10)[0]
    kinds = [k for _, k, _ in recs]
    assert R.EV_ZONE in kinds and R.EV_LOC_LOST in kinds and R.EV_BOOT in kinds
    t, data = next(v for _, k, v in recs if k == R.EV_ZONE)
    got = decode(R.EV_ZONE, t, data)
    assert got is not None and got[:5] == a[:5] and got.evidence[0].lat == f.lat
    assert tag.planner.next_upload == simworld.START + 5  # out with the next plan()


START = simworld.START


class FlakyFs(MemFs):
    """Flash whose reads of one segment fail (as an out-of-memory read does on the device)."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: str | None = None

    def open(self, name, mode):
        if "r" in mode and name == self.broken:
            raise MemoryError("no room to read " + name)
        return super().open(name, mode)


def test_upload_does_not_acknowledge_past_an_unreadable_segment() -> None:
    fs = FlakyFs()
    tag = TagApp(TagConfig(upload_interval_s=10**6), fs, simworld.START)
    tag.store.seg_bytes = 512  # small segments: 200 fixes span several
    for k in range(200):
        fix = (
            START + k,
            0,
            52_520_000 + 37 * k,
            13_370_000 - 11 * k,
            350,
            140,
            9000,
            50,
            90,
            9,
            1,
            3,
            2,
        )
        tag.store.append_fix(START + k, Fix(*fix))
    tag.store.flush()
    files = sorted(fs.files)
    segs = [n for n in files if n[0] == "s"]  # the store's seq floor "f" lives beside them
    assert len(segs) >= 2
    fs.broken = segs[0]
    tag.upload(START + 300)
    assert tag.take_events()[-1][:3] == ("U", START + 300, 2)
    assert tag.acked == 0 and sorted(fs.files) == files  # nothing deleted
    fs.broken = None
    tag.upload(START + 600)
    ev = tag.take_events()[-1]
    assert ev[:3] == ("U", START + 600, 1) and ev[3] == 201  # the boot record + 200 fixes

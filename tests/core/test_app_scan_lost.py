# TagApp.scan_lost(now, n): the device's scanner had no room for n reports (a crowd of
# advertisers in the beacon's format, a flood). The app hands them to the proximity core, which
# counts them, and stores its K_FLOODED event at once (one per flood_s, carrying what was lost
# since), so a deaf tag is never read as "no beacon here". Both runtimes.
from beaconkit import T0, table_for
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.proximity import monitor as P
from tagcore.store import record as R
from tagkit.memfs import MemFs

MPY_HEAP = 196608


def _tag(proximity=True):
    prox = P.Proximity(table_for(T0)) if proximity else None
    tag = TagApp(TagConfig(upload_interval_s=86400), MemFs(), T0, proximity=prox)
    tag.take_events()
    return tag


def _stored_floods(tag):
    recs, failure = tag.store.read(1, 64)
    assert failure is None
    out = []
    for r in recs:
        if r[1] == R.EV_PROXIMITY:
            ev = P.decode_event(r[2][0], r[2][1])
            if ev.kind == P.K_FLOODED:
                out.append(ev)
    return out


def _floods(events):
    return [e for e in events if e[0] == "P" and e[3] == P.K_FLOODED]


def test_a_flood_is_stored_at_once_and_once_per_flood_period():
    tag = _tag()
    tag.scan_lost(T0, 30)
    got = _floods(tag.take_events())
    assert len(got) == 1 and got[0][2] == P.ANY_BEACON and got[0][5] == 30
    ev = _stored_floods(tag)
    assert len(ev) == 1 and ev[0].rssi == 30 and ev[0].t == T0  # on flash, not only queued
    tag.scan_lost(T0 + 10, 5)  # within flood_s: counted, carried by the next event
    assert not _floods(tag.take_events()) and len(_stored_floods(tag)) == 1
    flood_s = tag.proximity.p.flood_s
    tag.scan_lost(T0 + flood_s, 2)
    ev = _stored_floods(tag)
    assert [e.rssi for e in ev] == [30, 7]  # nothing lost is left out
    assert tag.proximity.counts["lost_reports"] == 37


def test_a_bad_count_is_counted_and_nothing_is_stored():
    tag = _tag()
    for n in ("x", None, -3):
        tag.scan_lost(T0, n)
    assert not _floods(tag.take_events()) and not _stored_floods(tag)
    assert tag.proximity.counts["bad_lost"] == 3


def test_without_a_proximity_core_a_flood_is_ignored():
    tag = _tag(False)
    tag.scan_lost(T0, 30)
    assert not _floods(tag.take_events())
    recs, _ = tag.store.read(1, 64)
    assert R.EV_PROXIMITY not in [r[1] for r in recs]

"""A proximity alert says what the tag knew of it (issue 17): a Bluetooth "near" the radio
cannot vouch for reads "low confidence, Bluetooth only" wherever a person reads the alert (the
server's alert rows, a pulled log's events, the report, the evidence bundle), never a plain
proximity alert."""

from __future__ import annotations

import uplinkkit as K
from tagcore.proximity import monitor as P
from tagcore.store import record as R
from taghost import pull, report
from taghost.server import alerts, api, ingest
from taghost.server.db import Database

NOW_MS = 850_000_000_000
WORDS = {
    P.F_LOW_CONF: "low confidence",
    P.F_BLE_ONLY: "Bluetooth only",
    P.F_VEHICLE: "in a vehicle",
    P.F_SKEWED: "beacon clock off",
    P.F_CONTRADICTED: "GNSS says far apart",
    P.F_CORROBORATED: "GNSS agrees",
}


def near(t: int, flags: int, kind: int = P.K_NEAR) -> bytes:
    return P.encode_event(P.Event(t, kind, 0, flags, -78, -1, [t - 5, t], [-79, -77]))


def test_every_flag_byte_reads_as_its_words() -> None:
    # every flag combination of every kind that opens a proximity alert
    for kind in (P.K_NEARBY, P.K_NEAR, P.K_GNSS_PRE, P.K_GNSS_IN, P.K_CONTRADICTED):
        for flags in range(256):
            m = alerts.meaning(R.EV_PROXIMITY, 1000, near(1000, flags, kind))
            assert m is not None and m.opens, (kind, flags)
            for bit, words in WORDS.items():
                assert (words in m.detail) == bool(flags & bit), (kind, flags, m.detail)
            ble = flags & P.F_BLE
            assert ("confident" in m.detail) == bool(ble and not flags & P.F_LOW_CONF), m.detail
            if ble:  # a Bluetooth decision always says how sure it is
                assert m.detail, (kind, flags)


def test_a_low_confidence_near_is_labelled_at_the_server_and_in_a_pulled_log(
    server_db_url, tmp_path
) -> None:
    db = Database(server_db_url)
    try:
        tag, key = K.new_tag(7)
        from taghost.server import admin

        admin.provision(db, tag.hex(), NOW_MS, key)
        ht = K.HostTag(tag, key, seed=7)
        ht.add_fixes(2)
        low = P.F_BLE | P.F_BLE_ONLY | P.F_LOW_CONF
        ht.add_event(R.EV_PROXIMITY, near(ht.t, low))
        ht.add_event(R.EV_PROXIMITY, near(ht.t + 60, P.F_BLE | P.F_BLE_ONLY, P.K_NEAR))
        st, out, _ = ingest.Ingest(db).handle(ht.build(), NOW_MS)
        assert ht.on_reply(st, out)
        rows = [a for a in api.alerts(db, tag.hex(), None, None) if a["kind"] == "proximity"]
    finally:
        db.close()
    assert [a["detail"] for a in rows] == [
        "low confidence, Bluetooth only",
        "confident, Bluetooth only",
    ]
    # the same bytes pulled off the tag
    d = pull.event_dict(5, R.EV_PROXIMITY, 1000, near(1000, low))
    assert d["alert"] == "proximity" and d["detail"] == "low confidence, Bluetooth only"
    # and the report's timeline says it beside the alert
    ev = report._event(d, "tag")
    assert report._text(ev).endswith(": low confidence, Bluetooth only")

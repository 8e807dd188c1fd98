"""One alert vocabulary (taghost.alertkinds): every alert kind the server can open, read off the
server's own code, is in the vocabulary, and the report labels each of them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tagcore.store import record as R
from taghost import alertkinds as K
from taghost import report
from taghost.server import alerts

SERVER = Path(alerts.__file__).parent


def server_kinds() -> set[str]:
    """The vocabulary's names the server's modules use (K.NAME attributes), by their value."""
    used = set()
    for py in SERVER.glob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "K"
                and isinstance(getattr(K, node.attr, None), str)
            ):
                used.add(getattr(K, node.attr))
    return used


def test_the_server_names_alerts_from_the_vocabulary_only() -> None:
    used = server_kinds()
    assert {K.ZONE_BREACH, K.COMM_LOST, K.UNSEALED, K.POWER_LOW, K.CIRCUMVENTION} <= used
    assert used <= set(K.KINDS), used - set(K.KINDS)
    # no alert kind is spelled out in the server's SQL or its meanings: they are all K.NAME
    for py in SERVER.glob("*.py"):
        text = py.read_text()
        for name in K.KINDS:
            assert f"'{name}'" not in text, (py.name, name)
            assert not re.search(rf'Meaning\("{name}"', text), (py.name, name)
    # every event kind the server turns into an alert, damaged or not, opens a vocabulary kind
    ev_kinds = [v for k, v in vars(R).items() if k.startswith("EV_") and isinstance(v, int)]
    for kind in ev_kinds:
        for data in (b"", b"\x00", b"\xff" * 3):
            m = alerts.meaning(kind, 0, data)
            if m is not None and m.opens:
                assert m.opens in K.OPENS, (kind, data, m.opens)
    # ... and so do its decoders' named tables
    for table in (alerts.ZONE_NAMES, alerts.PROX_NAMES, alerts.POWER_NAMES):
        assert set(table.values()) <= set(K.OPENS)


def test_every_alert_kind_has_a_label_in_the_report() -> None:
    for name in K.KINDS:
        assert report.ALERT_TEXT.get(name), f"{name}: no label in the report"
        assert report.ALERT_TEXT[name] != name
    fixes = [
        {"t": 1000 + 60 * i, "ms": 0, "lat": 50.7, "lon": -1.9 + i / 1e4}
        | {"acc_m": 3.0, "sats": 8, "hdop": 0.9}
        for i in range(5)
    ]
    events = [
        {"t": 1000 + i, "what": name, "detail": None, "zone": None, "battery_pct": None}
        | {"source": "tag"}
        for i, name in enumerate(K.KINDS)
    ]
    html = report.render({"kind": "test", "source": "t", "fixes": fixes, "events": events})
    for name, k in K.KINDS.items():
        assert report.esc(k.label) in html, name


def test_old_names_are_read_as_the_vocabulary() -> None:
    for old, new in K.OLD_NAMES.items():
        assert new in K.KINDS and old not in K.KINDS
        e = report._event({"t": 5, "alert": old}, "replay")
        assert e["what"] == new
        assert K.label(old) == K.KINDS[new].label


def test_a_pulled_logs_power_tamper_and_integrity_alerts_are_labelled() -> None:
    from tagcore import events as E
    from tagcore.gnss import integrity as G
    from taghost import pull

    recs = [
        E.Tamper(10, E.TAMPER_STRAP_CUT),
        E.Power(20, E.POWER_LOW, 1, 240),
        E.Power(30, E.POWER_CRITICAL, 2, 60),
        E.Integrity(40, G.K_JAMMING, (3, -4)),
        E.Power(50, E.POWER_LEVEL, 1, 900),  # a plan change: stored, no alert
    ]
    evs = []
    for seq, r in enumerate(recs):
        kind, data = E.encode(r)
        evs.append(pull.event_dict(seq, kind, r.t, bytes(data)))
    assert [e.get("alert") for e in evs] == [
        K.TAMPER,
        K.POWER_LOW,
        K.POWER_CRITICAL,
        K.CIRCUMVENTION,
        None,
    ]
    assert evs[0]["detail"] == "strap cut" and evs[3]["detail"] == "jamming"
    texts = [report._text(report._event(e, "tag")) for e in evs]
    assert texts[:4] == [
        f"{K.OPENS[K.TAMPER].label}: strap cut",
        K.OPENS[K.POWER_LOW].label,
        K.OPENS[K.POWER_CRITICAL].label,
        f"{K.OPENS[K.CIRCUMVENTION].label}: jamming",
    ]
    assert report._event(evs[4], "tag")["what"] not in K.KINDS  # listed as no alert


def test_the_simulators_report_labels_zone_alerts_from_the_vocabulary() -> None:
    # tagsim.report said six of these labels itself (and "zone config expired" for the
    # seventh): it reads every one from taghost.alertkinds now
    from tagcore.zones import monitor as Z
    from tagsim import report as simreport

    assert simreport.ZONE_KINDS[Z.A_BREACH] == "ZONE BREACH (alert)"
    assert simreport.ZONE_KINDS[Z.A_CONFIG_EXPIRED] == K.label(K.ZONES_EXPIRED)
    assert simreport.ZONE_KINDS == {c: K.label(n) for c, n in K.ZONE_ALERTS.items()}
    codes = [v for k, v in vars(Z).items() if k.startswith("A_") and isinstance(v, int)]
    assert sorted(simreport.ZONE_KINDS) == sorted(codes)  # every code the monitor raises

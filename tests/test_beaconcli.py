"""`opentag beacon`: a key made by keygen, a window made from it, and the tag recognising the
beacon's identifiers with that window only."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import Proximity
from taghost import beaconcli, beaconpower, cli
from taghost.errors import EXIT_BAD_INPUT, EXIT_OK


def test_keygen_window_show_and_the_tag_recognises_the_beacon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "beacon.key"
    table = tmp_path / "table.bin"
    assert cli.main(["beacon", "keygen", "--out", str(key)]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # never overwrites silently; refused as bad input (exit 2, docs/cli.md)
    assert beaconcli.main(["keygen", "--out", str(key)]) == EXIT_BAD_INPUT
    start = "2026-04-20T06:00:00Z"
    args = ["window", "--secret", str(key), "--start", start, "--out", str(table)]
    assert beaconcli.main(args) == 0
    secret = beaconcli.read_secret(str(key))
    blob = table.read_bytes()
    assert secret not in blob
    tab = IdTable()
    assert tab.load(blob) == 48 * 4 + 16
    t0 = beaconcli.parse_time(start)
    prox = Proximity(tab)
    for t in (t0, t0 + 24 * 3600, t0 + 48 * 3600 - 1):
        adv = build_adv(beaconid.rolling_id(secret, t // 900))
        assert prox.on_scan(t, b"", -60, adv) == 0
    beyond = t0 + 48 * 3600 + 3 * 3600  # past the window and its margin
    assert (
        prox.on_scan(beyond, b"", -60, build_adv(beaconid.rolling_id(secret, beyond // 900))) == -1
    )
    capsys.readouterr()
    assert beaconcli.main(["show", str(table)]) == 0
    out = capsys.readouterr().out
    assert "208 identifiers every 900 s" in out and "2026-04-20T04:00:00Z" in out
    assert beaconcli.main(["show", str(key)]) == 0
    out = capsys.readouterr().out
    assert "fingerprint" in out and secret.hex() not in out


def test_bad_inputs_are_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("zz\n")
    out = str(tmp_path / "t.bin")
    assert (
        beaconcli.main(["window", "--secret", str(bad), "--start", "2026-01-01", "--out", out])
        == EXIT_BAD_INPUT
    )
    short = tmp_path / "short.key"
    short.write_text("0011\n")
    assert (
        beaconcli.main(["window", "--secret", str(short), "--start", "2026-01-01", "--out", out])
        == EXIT_BAD_INPUT
    )
    assert beaconcli.main(["show", str(bad)]) == 1


def test_battery_life_follows_the_profile() -> None:
    prof = beaconpower.load_profile()
    light = beaconpower.battery_days(prof)
    awake = beaconpower.battery_days(prof, sleep="awake")
    # Between events the CPU draws 0.8 mA asleep or 20 mA awake: that dominates the budget.
    assert 40 < light < 80 and 3 < awake < 6
    # Advertising twice as often costs another radio event per interval.
    assert beaconpower.average_ma(prof, adv_ms=250) - beaconpower.average_ma(prof) == pytest.approx(
        130 * 3.0 / 500 - 0.8 * 3.0 / 500, rel=1e-6
    )
    assert beaconcli.main(["battery"]) == 0


# Item 8 of issue 14: `window --hours -5` failed with "byte must be in range(0, 256)" and
# `battery --adv-ms -100` printed a negative life. The class: any value of any option.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hours=st.integers(-(10**6), 10**6),
    interval=st.integers(-(10**5), 10**5),
    margin=st.integers(-(10**4), 10**4),
    start=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)),
)
# A window starting inside an interval reached one interval short of its end (1 h from 00:01 at
# 62 s intervals ended at 01:00:58): found by this test, pinned below.
@example(hours=1, interval=62, margin=0, start=datetime(2000, 1, 1, 0, 1))
def test_any_window_is_a_table_the_tag_loads_or_a_clear_refusal(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    hours: int,
    interval: int,
    margin: int,
    start: datetime,
) -> None:
    key = tmp_path / "k.key"
    key.write_text("00" * 16 + "\n")
    table = tmp_path / "t.bin"
    table.unlink(missing_ok=True)
    args = ["window", "--secret", str(key), "--start", start.isoformat() + "Z"]
    args += ["--hours", str(hours), "--interval", str(interval), "--margin", str(margin)]
    code = cli.main(["beacon", *args, "--out", str(table)])
    err = capsys.readouterr().err
    assert code in (EXIT_OK, EXIT_BAD_INPUT), err
    if code == EXIT_BAD_INPUT:
        assert "Traceback" not in err and "opentag beacon window" in err and not table.exists()
        return
    # Written: the tag takes every identifier, and the window covers the hours asked for.
    t0 = beaconcli.parse_time(start.isoformat() + "Z")
    tab = IdTable()
    blob = table.read_bytes()
    first = int.from_bytes(blob[8:12], "little")
    count = int.from_bytes(blob[12:14], "little")
    assert tab.load(blob) == count > 0
    assert first * interval <= t0 and (first + count) * interval >= t0 + hours * 3600


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(adv=st.integers(-(10**6), 10**6))
def test_battery_life_is_positive_or_the_interval_is_refused(
    capsys: pytest.CaptureFixture[str], adv: int
) -> None:
    code = cli.main(["beacon", "battery", "--adv-ms", str(adv), "--json"])
    out, err = capsys.readouterr()
    assert code in (EXIT_OK, EXIT_BAD_INPUT), err
    if code == EXIT_BAD_INPUT:
        assert "Traceback" not in err and not out
        return
    prof = beaconpower.load_profile()
    doc = json.loads(out)
    for m in doc["modes"]:
        # Independent of the model: never more than the radio's current (transmitting all the
        # time) plus the regulator, never less than the sleep floor; life follows from it.
        cur = prof["currents_ma"]
        floor = cur["light_sleep"] if m["sleep"] == "light" else cur["cpu_idle_80mhz"]
        assert floor < m["average_ma"] < cur["ble_tx"] + cur["ldo_quiescent"]
        mah = prof["battery"]["capacity_mah"] * prof["battery"]["usable_fraction"]
        assert m["days"] == pytest.approx(mah / m["average_ma"] / 24, rel=1e-3, abs=0.01)


def test_battery_adv_interval_zero_is_not_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """`--adv-ms 0` was silently taken as "the profile's default"."""
    assert cli.main(["beacon", "battery", "--adv-ms", "0"]) == EXIT_BAD_INPUT
    assert "--adv-ms" in capsys.readouterr().err


def test_a_broken_profile_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for text in ("{", "[]", '{"radio": {}}', '{"battery": {"capacity_mah": -1}}'):
        f = tmp_path / "p.json"
        f.write_text(text)
        assert cli.main(["beacon", "battery", "--profile", str(f)]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert str(f) in err and "Traceback" not in err
    assert cli.main(["beacon", "battery", "--profile", str(tmp_path / "none.json")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_clockkey_gives_the_phone_a_key_the_beacon_takes_time_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`opentag beacon clockkey`: the key the victim's phone app signs its time with
    (tagcore.proximity.phonetime). A frame signed with it sets the beacon's clock; the key is
    not the secret, so the phone cannot compute the beacon's identifiers."""
    from tagcore.proximity import phonetime

    key = tmp_path / "beacon.key"
    assert beaconcli.main(["keygen", "--out", str(key)]) == 0
    capsys.readouterr()
    assert beaconcli.main(["clockkey", "--secret", str(key), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ck = bytes.fromhex(doc["clock_key"])
    secret = beaconcli.read_secret(str(key))
    assert len(ck) == 16 and ck not in secret
    t = 850_000_000
    beacon = phonetime.PhoneClock(secret)
    assert beacon.offer(t, phonetime.time_frame(ck, t)) == t
    other = phonetime.time_frame(bytes(16), t + 60)  # a key that is not this beacon's
    assert beacon.offer(t + 60, other) == -1
    assert beacon.counts["bad_mac"] == 1
    bad = tmp_path / "bad.key"
    bad.write_text("zz\n")
    assert beaconcli.main(["clockkey", "--secret", str(bad)]) == EXIT_BAD_INPUT

"""`opentag beacon`: a key made by keygen, a window made from it, and the tag recognising the
beacon's identifiers with that window only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from tagcore import beaconid
from tagcore.advdata import build_adv
from tagcore.beacontable import IdTable
from tagcore.proximity import Proximity
from taghost import beaconcli, beaconpower, cli
from taghost.errors import EXIT_BAD_INPUT


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

"""The beacon learns the time from the victim's phone (tagcore.proximity.phonetime;
beacon.app.PhoneTime listening on the air): an authenticated frame sets the clock, nothing
else does, and it never goes back further than the beacon's own clock can have gained. The
beacon runs in MicroPython on the fake `bluetooth`; what the time buys is checked against the
tag's core."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from micropython_runner import MPY_TESTS, run_micropython
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import Proximity
from tagcore.proximity.phonetime import PhoneClock, clock_key, time_frame
from tagkit.beaconwindow import window_blob

SECRET = b"victim-beacon-secret-0123456789a"
T = 830_000_000


@cache
def rows(tmp: str) -> dict[str, list[str]]:
    out = run_micropython(
        script=MPY_TESTS / "beacon_phone_run.py",
        args=(str(MPY_TESTS / "fake_bluetooth"), str(Path(tmp) / "beacon.clock")),
    )
    return {ln.split(" ", 1)[0]: ln.split(" ", 1)[1].split(" ", 3) for ln in out.splitlines()}


def test_the_phone_sets_a_late_beacon_over_the_air_and_the_beacon_stops_listening(
    tmp_path: Path,
) -> None:
    r = rows(str(tmp_path))
    t, heard, rtc_sets, scan_stopped = r["boot"]
    assert (int(t), int(heard), int(rtc_sets), scan_stopped) == (T, 1, 1, "True")
    assert r["next_listen"] == ["1800"]


def test_only_a_newer_authentic_frame_within_the_drift_bound_sets_the_clock(
    tmp_path: Path,
) -> None:
    r = rows(str(tmp_path))
    refused = ("replayed", "older", "wrong_key", "forged", "truncated", "back_3h")
    for name in refused:
        assert int(r[name][0]) == -1 and r[name][2] == "0", name  # no RTC setting
        assert int(r[name][1]) == 1, name  # it was heard: refused by the rule, not the radio
    counts = dict(ast.literal_eval(r["forward_3h"][3]))
    assert counts == {"set": 3, "stale": 2, "bad_mac": 2, "ad_overrun": 1, "backwards": 1}
    assert int(r["back_1_5h"][0]) == T + 86400  # 1.5 h back after a day: a clock gains that
    assert int(r["forward_3h"][0]) == T + 90000 + 3 * 3600  # forward: any amount
    # The newest phone time survives a power cut (saved with the clock): the old frame is
    # still stale after it.
    assert r["after_cut"] == [str(T + 90000 + 3 * 3600), "-1"]
    assert r["file"] == [str(T + 90000 + 3 * 3600)] * 2


def test_the_back_bound_is_the_drift_since_the_last_setting_on_any_elapsed_time() -> None:
    key = clock_key(SECRET)
    for days in (0, 1, 3, 10):
        for ahead in range(0, 7 * 3600, 600):  # the beacon's clock ahead of the phone's
            pc = PhoneClock(SECRET, last=T)
            phone_t = T + days * 86400 + 1
            took = pc.offer(phone_t + ahead, time_frame(key, phone_t)) == phone_t
            bound = 60 + (phone_t + ahead - T) * 0.06
            assert took == (ahead <= bound), (days, ahead)


def test_the_phone_key_does_not_make_identifiers() -> None:
    key = clock_key(SECRET)
    assert len(key) == 16 and key != SECRET[:16]
    assert all(beaconid.rolling_id(key, k) != beaconid.rolling_id(SECRET, k) for k in range(9))


def test_what_the_phone_buys_a_beacon_late_after_a_swap_is_on_time_at_the_tag() -> None:
    # 45 min late after a battery swap (the hourly-saved clock of before, or a lost file): the
    # tag finds it but flags every alert skewed; set by the phone, it is on time again.
    table = IdTable()
    table.load(window_blob(SECRET, 0, T // 900 - 8, 16 + 8))
    key = clock_key(SECRET)
    for beacon_clock, skewed in ((T - 2700, True), (T, False)):
        pc = PhoneClock(SECRET)
        set_to = pc.offer(beacon_clock, time_frame(key, T))
        now = set_to if set_to >= 0 and not skewed else beacon_clock
        prox = Proximity(table)
        seen = 0
        for s in range(0, 900, 30):
            k, _until = beaconid.on_air(SECRET, now + s)
            if k >= 0:
                adv = build_adv(beaconid.rolling_id(SECRET, k))
                seen += prox.on_scan(T + s, b"", -60, adv) == 0
        assert seen > 0 and prox.tracks[0].skewed == skewed

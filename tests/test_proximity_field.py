"""The FIELD radio model's terms behave as their sources say (taghost.proxsim), and on it the
rule keeps confident false alarms from passes in the open rare, flagging the rest."""

from __future__ import annotations

import math
import random
import statistics

from tagcore.proximity.monitor import Profile
from taghost import proxsim as P


def test_two_ray_is_free_space_to_the_breakpoint_and_40_db_a_decade_beyond() -> None:
    db = 4 * 1.0 * 1.0 / P.WAVELENGTH_M  # 32 m at the belt
    assert abs(P.two_ray_db(10, 1.0, 1.0) - (-20)) < 1e-9
    assert abs(P.two_ray_db(3.2, 1.0, 1.0) - P.two_ray_db(32, 1.0, 1.0) - 20) < 1e-9
    assert abs(P.two_ray_db(10 * db, 1.0, 1.0) - P.two_ray_db(db, 1.0, 1.0) + 40) < 1e-9
    # at the ankle the breakpoint is 3.2 m: 10 m costs about 10 dB more than at the belt
    ankle = P.two_ray_db(10, 0.1, 1.0) - P.two_ray_db(10, 1.0, 1.0)
    assert abs(ankle - (-20 * math.log10(10 / 3.2))) < 1e-6


def test_in_a_vehicle_signal_barely_follows_distance() -> None:
    v = P.Env("vehicle")
    assert abs(P.mean_db(P.FIELD, v, 5) - P.mean_db(P.FIELD, v, 1) + 4 * 0.36) < 1e-9
    assert P.mean_db(P.FIELD, P.Env("indoor"), 15) < P.mean_db(P.FIELD, v, 15) - 25


def test_a_seated_encounter_holds_its_loss_and_a_walking_one_does_not() -> None:
    def spread(still: bool) -> float:
        means = []
        for seed in range(40):
            ch = P.Channel(P.FIELD, P.Env("indoor", still=still), random.Random(seed), 0.0)
            xs = [ch.rssi(t / 2, 5.0) for t in range(600)]  # 5 min, every 500 ms
            means.append(statistics.pstdev(xs))
        return statistics.median(means)

    assert spread(True) < 0.6 * spread(False)  # within one encounter: held, not clearing


def test_reception_falls_near_sensitivity() -> None:
    rng = random.Random(1)
    near = sum(P.received(P.FIELD, rng, -60) for _ in range(2000)) / 2000
    edge = sum(P.received(P.FIELD, rng, -94) for _ in range(2000)) / 2000
    assert 0.75 < near < 0.85 and 0.2 < edge < 0.3 and not P.received(P.FIELD, rng, -98)


def test_passes_in_the_open_raise_few_confident_nears_on_the_field_model() -> None:
    rng = random.Random(11)
    silent = flagged = 0
    for _ in range(120):
        o = P.field_pass(rng, P.FIELD, Profile())
        if o.alert_t is not None:
            flagged += o.low_conf
            silent += not o.low_conf
    assert (
        silent <= 1
    )  # 0.4 a day at most on this small sample; the bench measures 0.00 (silent: unflagged)
    assert flagged > silent  # the rest are said to be low confidence, not hidden


def test_a_day_counts_as_silent_only_the_nears_not_flagged_low_confidence() -> None:
    # It failed before: every neighbour episode that raised "near" counted as a silent false
    # alarm, flagged or not. Here every "near" is flagged (sure_db out of reach) and the
    # threshold so low that neighbours through walls raise one.
    prof = Profile(shadow_db=25, sure_db=200)
    f = P.measure_field(P.FIELD, prof, per_condition=1, passes=4, others=4, seed=3)
    assert f.neighbour > 0 and f.flagged_per_day > 0
    assert f.silent_per_day == 0 and f.pass_silent == 0 and f.bus_silent == 0

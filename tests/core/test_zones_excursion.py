# Issue 13, item 9 (walk-in p95): multipath excursions that end. Both runtimes.
from tagcore.zones import monitor as Z
from zonetest import T0, fx, monitor, square

MPY_HEAP = 73728  # as test_zones: the host's blob writer runs inside the test too


def _walk_in(m, ys, acc, t=T0):
    # Northwards at 1.4 m/s (Doppler speed and course are not moved by multipath), a fix every
    # 15 s; returns the breach times.
    got = []
    for y in ys:
        got += [(a.kind, a.t) for a in m.on_fix(t, fx(t, 0, y, acc, speed=1.4, course=0))]
        t += 15
    return [u for k, u in got if k == Z.A_BREACH]


def test_a_walk_in_is_not_held_back_once_a_multipath_excursion_outwards_has_ended():
    # Issue 13, item 9 (walk-in p95): walking in, multipath carries the fixes 50-150 m back
    # out for 15-90 s; the first fix back on the track reads as a jump in (from the excursion's
    # last fix) and held the breach for jump_s (150 s) after it. A return to where the fix
    # before the excursion predicts is not a jump: the usual rule (3 fixes over 30 s) decides.
    for acc in (10, 22):
        for out in range(50, 151, 25):
            for fixes in range(1, 7):
                m = monitor(square(1, 1000))  # the south edge at y = -1000
                ys = [-1000 + 21 * k for k in range(-6, 20)]
                first_q = next(k for k, y in enumerate(ys) if y >= -1000 + 2 * acc + 5)
                for j in range(first_q, first_q + fixes):
                    ys[j] -= out
                back = first_q + fixes  # the first fix back on the track
                breach = _walk_in(m, ys, acc)
                assert breach and breach[0] - T0 <= 15 * (back + 3), (acc, out, fixes, breach)


def test_a_walk_in_just_after_a_multipath_jump_in_has_ended_is_not_held_back():
    # Issue 13, item 9: multipath carried the fixes into the zone before the wearer reached
    # it; when they drop back onto the track the excursion is over, and the walk-in that
    # follows confirms on the usual rule, not jump_s after the multipath began.
    for acc in (10, 22):
        for jump in range(60, 151, 30):
            for fixes in range(1, 5):
                m = monitor(square(1, 1000))
                ys = [-1000 + 21 * k for k in range(-12, 16)]
                first_q = next(k for k, y in enumerate(ys) if y >= -1000 + 2 * acc + 5)
                start = first_q - fixes - 2  # ends two fixes before the track qualifies
                for j in range(start, start + fixes):
                    ys[j] += jump
                breach = _walk_in(m, ys, acc)
                assert breach and breach[0] - T0 <= 15 * (first_q + 3), (acc, jump, fixes, breach)


def test_an_excursion_out_and_a_jump_in_from_outside_still_wait_out_jump_s():
    # The other side: a wearer 25 m outside, standing or pacing along the edge; multipath
    # carries the fixes out, then 50-150 m into the zone for two minutes. The track the fix
    # before the excursion predicts is still outside: the jump in is held, no breach.
    for speed in (0, 12):  # dm/s eastwards
        for acc in (10, 15, 22):
            for out in (60, 120):
                for jump in range(50, 151, 20):
                    m = monitor(square(1, 2000))
                    ys = [-2025] * 6 + [-2025 - out] * 2 + [-2025 + jump] * 8 + [-2025] * 4
                    got = []
                    t = T0
                    for k, y in enumerate(ys):
                        x = -1000 + speed * 15 * k // 10
                        f = fx(t, x, y, acc, speed=speed / 10 or 0.1, course=90)
                        got += [a.kind for a in m.on_fix(t, f)]
                        t += 15
                    assert Z.A_BREACH not in got, (speed, acc, out, jump)

"""What an attacker without the secret gets from the beacon's identifier stream.

Statistics cannot prove unlinkability (that rests on HMAC-SHA256 being a PRF), but they catch
the mistakes that break it in practice: a counter in the identifier, a fixed prefix, an address
that does not move with the identifier, a table that carries the secret or other windows."""

from __future__ import annotations

import itertools
import math
import random

from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import Proximity
from tagkit.beaconwindow import window_blob

SECRET = bytes.fromhex("5e3a7c19d2b84f60a1e92c7d3b5f8a04")
K0 = 830_000_000 // 900
N = 4000


def stream(secret: bytes, n: int = N) -> list[tuple[bytes, bytes]]:
    return [beaconid.id_and_addr(secret, K0 + k) for k in range(n)]


def within(observed: float, expected: float, sd: float, z: float = 5.0) -> bool:
    return abs(observed - expected) <= z * sd


def test_no_identifier_or_address_repeats_and_no_fixed_bytes() -> None:
    s = stream(SECRET)
    assert len({i for i, _ in s}) == N and len({a for _, a in s}) == N
    for pos in range(8):  # every byte position takes many values (no prefix, no counter)
        assert len({i[pos] for i, _ in s}) > 200


def test_bits_are_balanced_and_consecutive_identifiers_are_unrelated() -> None:
    s = stream(SECRET)
    ids = [int.from_bytes(i, "big") for i, _ in s]
    sd = math.sqrt(N * 0.25)
    for bit in range(64):
        ones = sum((v >> bit) & 1 for v in ids)
        assert within(ones, N / 2, sd), bit
        # The XOR of consecutive identifiers is balanced too: no bit follows the interval.
        flips = sum(((ids[j] ^ ids[j + 1]) >> bit) & 1 for j in range(N - 1))
        assert within(flips, (N - 1) / 2, sd), bit
    # Equal bytes at the same position in consecutive identifiers: as for random bytes.
    same = sum(s[j][0][p] == s[j + 1][0][p] for j in range(N - 1) for p in range(8))
    m = (N - 1) * 8
    assert within(same, m / 256, math.sqrt(m / 256))


def test_consecutive_pairs_look_like_pairs_of_strangers() -> None:
    # Hamming distance between consecutive identifiers of one beacon vs between identifiers of
    # two different beacons: an attacker linking by similarity gets the same histogram.
    a = stream(SECRET)
    b = stream(bytes.fromhex("00112233445566778899aabbccddeeff"))

    def hist(pairs: list[tuple[bytes, bytes]]) -> list[int]:
        h = [0] * 65
        for x, y in pairs:
            h[bin(int.from_bytes(x, "big") ^ int.from_bytes(y, "big")).count("1")] += 1
        return h

    same = hist([(a[j][0], a[j + 1][0]) for j in range(N - 1)])
    other = hist([(a[j][0], b[j][0]) for j in range(N - 1)])
    # Chi-square of the two histograms, bins 24..40 (the rest pooled).
    lo, hi = 24, 40
    sa = [sum(same[:lo]), *same[lo:hi], sum(same[hi:])]
    sb = [sum(other[:lo]), *other[lo:hi], sum(other[hi:])]
    chi = sum((x - y) ** 2 / (x + y) for x, y in zip(sa, sb, strict=True) if x + y)
    assert chi < 45  # 17 degrees of freedom: p < 1e-4 beyond 45


def test_address_moves_with_the_identifier_and_is_not_derived_from_it() -> None:
    s = stream(SECRET, 500)
    for ident, addr in s:
        assert addr[0] >> 6 == 0  # non-resolvable private address
        assert addr not in ident
    assert len({a[:3] for _, a in s}) > 400  # not a fixed vendor-like prefix


def test_a_window_table_holds_neither_the_secret_nor_other_windows() -> None:
    day1 = window_blob(SECRET, 0, K0, 192)
    day3 = window_blob(SECRET, 0, K0 + 192, 192)
    assert SECRET not in day1
    ids1 = {day1[14 + 8 * j : 22 + 8 * j] for j in range(192)}
    ids3 = {day3[14 + 8 * j : 22 + 8 * j] for j in range(192)}
    assert not ids1 & ids3
    # Nothing in one window predicts the next: the table of days 1-2 does not recognise a
    # single identifier of days 3-4.
    tab = IdTable()
    tab.load(day1)
    assert all(tab.lookup(i) is None for i in ids3)


def test_a_replay_of_yesterdays_capture_raises_nothing_today() -> None:
    # The attacker records every advertisement of day 1 and replays them, shuffled, on day 3
    # next to the wearer; the tag holds the window of days 3-4 (with its skew margin).
    captured = [build_adv(beaconid.rolling_id(SECRET, K0 + k)) for k in range(96)]
    tab = IdTable()
    tab.load(window_blob(SECRET, 0, K0 + 192 - 8, 192 + 16))
    prox = Proximity(tab)
    rng = random.Random(3)
    t = (K0 + 192) * 900
    for _ in range(20):
        rng.shuffle(captured)
        for adv in captured:
            assert prox.on_scan(t, b"\x00" * 6, -40, adv) == -1
            t += 1
        prox.on_scan_end(t)
    assert prox.events == [] and "sightings" not in prox.counts
    # The last 2 hours of day 2 are in the table's skew margin: replayed today at noon they are
    # refused as outside the window, not silently accepted.
    late = [build_adv(beaconid.rolling_id(SECRET, K0 + 192 - 8 + j)) for j in range(8)]
    t = (K0 + 192 + 48) * 900
    for adv in late:
        assert prox.on_scan(t, b"", -40, adv) == -1
    assert prox.counts["outside_window"] == len(late)


def _segments(secret: bytes, off: int, t0: int, t1: int) -> list[tuple[int, int, int]]:
    # (identifier, first, last moment on the air) of a beacon whose clock is `off` s ahead.
    out = []
    t = t0
    while t < t1:
        k, until = beaconid.on_air(secret, t + off)
        if k >= 0:
            out.append((k, t, until - off))
        t = until - off
    return out


def timing_linker(n: int, seed: int, hours: int = 12) -> tuple[float, list[int], list[int]]:
    """A passive observer hears n beacons (clocks up to 10 min apart) without a break and
    links each identifier that stops to the next one that starts. Returns the fraction linked
    right, the rotation moments (mod the interval) and the silences between old and new."""
    rng = random.Random(seed)
    t0 = K0 * 900
    t1 = t0 + hours * 3600
    segs = []
    for i in range(n):
        secret = bytes(rng.randrange(256) for _ in range(16))
        off = rng.randrange(-600, 600)
        segs += [(i, k, s, e) for k, s, e in _segments(secret, off, t0, t1)]
    ends = sorted((e, i) for i, _k, _s, e in segs if e < t1)
    starts = sorted((s, i) for i, _k, s, _e in segs if s > t0)
    used: set[int] = set()
    right = 0
    for e, i in ends:
        j = next((j for j, (s, _i) in enumerate(starts) if j not in used and s >= e), None)
        if j is not None:
            used.add(j)
            right += starts[j][1] == i
    by_beacon = sorted((i, s, e) for i, _k, s, e in segs)
    gaps = [b[1] - a[2] for a, b in itertools.pairwise(by_beacon) if a[0] == b[0]]
    return right / len(ends), [e % 900 for e, _i in ends], gaps


def test_rotations_have_no_fixed_phase_and_never_hand_over_old_to_new() -> None:
    # Before, every beacon rotated at its clock's quarter hour, the new identifier 0.6 s after
    # the old: an observer linked every rotation with a few to 20 beacons in view.
    _linked, phases, gaps = timing_linker(3, 1, hours=48)
    assert min(gaps) >= beaconid.GAP_MIN_S and max(gaps) < beaconid.GAP_MAX_S
    bins = [0] * 6
    for p in phases:
        bins[p * 6 // 900] += 1
    expected = len(phases) / 6
    chi2 = sum((b - expected) ** 2 / expected for b in bins)
    assert chi2 < 20.5  # 5 degrees of freedom, p = 0.001: no phase stands out
    gaps_between = [b - a for a, b in itertools.pairwise(sorted(phases))]
    assert max(gaps_between) < 900 / 3  # spread over the interval, not at one moment


def test_a_timing_observer_links_fewer_rotations_the_more_beacons_are_in_view() -> None:
    # With 20 in view the observer is wrong on more than a tenth of rotations (0.77 linked
    # right on this seed), where the fixed handover gave him all. With a few in view he still
    # links most (docs/proximity.md: only a long silence stops him, at a cost in detection).
    linked = {n: timing_linker(n, 2)[0] for n in (3, 20)}
    assert linked[20] < 0.9
    assert linked[3] > linked[20]

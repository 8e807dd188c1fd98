"""What an attacker without the secret gets from the beacon's identifier stream.

Statistics cannot prove unlinkability (that rests on HMAC-SHA256 being a PRF), but they catch
the mistakes that break it in practice: a counter in the identifier, a fixed prefix, an address
that does not move with the identifier, a table that carries the secret or other windows."""

from __future__ import annotations

import math
import random

from tagcore import beaconid
from tagcore.advdata import build_adv
from tagcore.beacontable import IdTable
from tagcore.proximity import Proximity
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

"""Property tests of the integrity checks: any bytes through the reader with the hook attached
never raise and leave the sums of one cycle; skies that never vanish for long raise nothing;
any collapse from a good sky that lasts the hold is alerted once."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.gnss import integrity as I
from tagcore.gnss.nmea import NmeaReader

sys.path.insert(0, str(Path(__file__).parent / "core"))
from test_integrity_rules import T0, Tag, epoch, gsv

# Integrity.cn0's slots (tagcore.gnss.integrity._CN0_*: folded by the compiler, no names in RAM)
GSVS, TRACKED, CN0_SUM, SQUARES, CN0_MAX = range(5)

GSV = gsv((44, 41, 0, 36, 33, 31, 29, 27))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.binary(max_size=80), st.just(GSV), st.sampled_from([b"$GPGSV,", b",", b"*"]))
    )
)
def test_any_bytes_with_the_hook_attached_never_raise(parts: list[bytes]) -> None:
    r = NmeaReader()
    g = I.Integrity()
    g.attach(r)
    r.feed(b"".join(parts))
    r.flush()
    # at most one cycle's blocks, C/N0 <= 99
    assert 0 <= g.cn0[TRACKED] <= 20 * 4 and g.cn0[CN0_MAX] <= 99


sky = st.lists(st.integers(24, 50), min_size=5, max_size=12)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(sky, st.integers(1, 120), st.integers(0, I.HOLD_S - 12)), min_size=1, max_size=5
    )
)
def test_skies_with_short_dropouts_raise_nothing(spans: list[tuple[list[int], int, int]]) -> None:
    tag = Tag()
    t = T0
    for cnos, keep, drop in spans:
        cnos = [c if i % 2 else c - (i % 7) for i, c in enumerate(cnos)]  # spread: a real sky
        for _ in range(keep):
            tag.second(t, epoch(t, tuple(cnos)))
            t += 1
        for _ in range(drop):  # a lift, a doorway
            tag.second(t, epoch(t, (0,) * len(cnos)))
            t += 1
    assert [e for e in tag.events if e[0] < I.K_END and e[0] != I.K_SPOOFING] == []


@settings(max_examples=25, deadline=None)
@given(sky, st.integers(1, 20), st.integers(I.HOLD_S + 1, 90), st.integers(0, 59))
def test_every_collapse_that_lasts_is_alerted_once(
    cnos: list[int], keep: int, dark: int, gap: int
) -> None:
    cnos = [max(c, 28) if i == 0 else c for i, c in enumerate(cnos)]  # a good sky
    tag = Tag()
    t = T0
    for _ in range(keep):
        tag.second(t, epoch(t, tuple(cnos)))
        t += 1
    t += gap  # the receiver may have been off
    for _ in range(dark):
        tag.second(t, epoch(t, (0,) * len(cnos)))
        t += 1
    alerts = [e for e in tag.events if e[0] in (I.K_SHIELDING, I.K_JAMMING, I.K_SIGNAL_LOSS)]
    assert len(alerts) == 1
    # seen within 2 s of the good sky: one step; later: the receiver may have been off
    assert alerts[0][0] == (I.K_SHIELDING if gap <= 1 else I.K_SIGNAL_LOSS)

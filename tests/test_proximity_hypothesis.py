"""Untrusted radio input never raises out of the core: arbitrary and mutated advertising data,
absurd RSSI and times, garbage identifier tables. The parser is also held against a plain
reference reading of the AD-structure rules."""

from __future__ import annotations

from beaconkit import SECRET, T0, adv_at, table_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore.fix import Fix
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv, find_id
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import Proximity, decode_event, encode_event
from tagkit.beaconwindow import window_blob

TABLE = table_for(T0)
GOOD = adv_at(T0)


def reference_find(adv: bytes) -> int:
    """The AD-structure rules, written plainly: -1 unless exactly one well-formed frame."""
    if len(adv) > 255:
        return -1
    structs = []
    i = 0
    while i < len(adv):
        ln = adv[i]
        if ln == 0:
            break
        if i + 1 + ln > len(adv):
            return -1
        structs.append((i, adv[i + 1 : i + 1 + ln]))
        i += 1 + ln
    ours = [(i, s) for i, s in structs if len(s) >= 4 and s[:4] == b"\xff\xff\xff\x01"]
    if len(ours) != 1 or len(ours[0][1]) != 12:
        return -1
    return ours[0][0] + 5


ad_struct = st.one_of(
    st.binary(max_size=40).map(lambda b: bytes([len(b)]) + b),  # well-formed, any type
    st.binary(min_size=1, max_size=40),  # anything
    st.just(GOOD[3:]),  # our frame
    st.binary(max_size=12).map(lambda b: bytes([len(b) + 4, 0xFF, 0xFF, 0xFF, 1]) + b),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ad_struct, max_size=8).map(b"".join))
def test_parser_agrees_with_the_reference_and_never_raises(adv: bytes) -> None:
    counts: dict[str, int] = {}
    i = find_id(adv, counts)
    assert i == reference_find(adv)
    assert sum(counts.values()) == (1 if i < 0 else 0)
    assert find_id(memoryview(adv), {}) == i


@settings(max_examples=300)
@given(
    st.integers(-(2**40), 2**40),
    st.one_of(st.binary(max_size=8), st.none()),
    st.one_of(st.integers(-(2**20), 2**20), st.floats(), st.none()),
    st.one_of(st.binary(max_size=600), st.none(), st.integers(), st.just(GOOD)),
)
def test_on_scan_never_raises(now: int, addr: bytes | None, rssi: object, adv: object) -> None:
    prox = Proximity(TABLE)
    r = prox.on_scan(now, addr, rssi, adv)
    assert r in (-1, 0)
    prox.on_scan_end(now)
    start, dur = prox.next_scan(now)
    assert start >= now and dur > 0


@settings(max_examples=200)
@given(st.data())
def test_mutated_frames_are_refused_or_recognised_never_misread(data: st.DataObject) -> None:
    adv = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(adv) - 1))
        adv[pos] = data.draw(st.integers(0, 255))
    prox = Proximity(TABLE)
    b = prox.on_scan(T0, b"", -60, bytes(adv))
    # Accepted only if the identifier bytes are still a real identifier of the window.
    if b == 0:
        i = find_id(adv, {})
        assert TABLE.lookup(bytes(adv[i : i + 8])) is not None


@settings(max_examples=300)
@given(st.data())
def test_identifier_tables_from_garbage_never_raise(data: st.DataObject) -> None:
    blob = bytearray(window_blob(SECRET, 3, 1000, 6))
    choice = data.draw(st.integers(0, 2))
    if choice == 0:
        blob = bytearray(data.draw(st.binary(max_size=200)))
    elif choice == 1:
        for _ in range(data.draw(st.integers(1, 3))):
            if blob:
                blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    else:
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    tab = IdTable()
    n = tab.load(bytes(blob))
    assert n == len(tab)
    assert n == 0 or sum(tab.counts.values()) == 0 or "duplicate" in tab.counts
    good = beaconid.rolling_id(SECRET, 1002)
    hit = tab.lookup(good)
    assert hit is None or hit[1] >= 0


@given(st.integers(0, 2**31), st.binary(max_size=60))
def test_event_decoder_never_raises_and_what_it_reads_encodes_back(t: int, data: bytes) -> None:
    counts: dict[str, int] = {}
    ev = decode_event(t, data, counts)
    if ev is None:
        assert counts == {"bad_event": 1}
    else:
        assert counts == {} and decode_event(t, encode_event(ev)) == ev


def test_our_frame_is_found_among_other_structures() -> None:
    adv = b"\x03\x03\xaa\xfe" + build_adv(beaconid.rolling_id(SECRET, 9))[3:] + b"\x02\x0a\x04"
    assert reference_find(adv) == find_id(adv, {}) == 9


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.integers(0, 10_000),
            st.integers(-(2**33), 2**33),
            st.integers(-(2**33), 2**33),
            st.one_of(st.none(), st.integers(-(2**20), 2**31)),
        ),
        max_size=20,
    )
)
def test_positions_and_fixes_never_raise(items: list[tuple]) -> None:
    prox = Proximity(TABLE)
    for victim, dt, lat, lon, acc in items:
        t = T0 + dt
        if victim:
            prox.on_victim_position(t, lat, lon, acc)
        else:
            prox.on_fix(t, Fix(t, 0, lat, lon, None, None, None, acc, None, 5, 1, 3, 0))
        prox.next_scan(t)
        while prox.pop_event() is not None:
            pass

"""tagcore.events on arbitrary bytes: decode answers a record or raises ValueError, never
anything else, for every kind (the server decodes what a tag sent; a stored log can be
damaged); and any Power or Integrity record that fits its fields round-trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore import events as E
from tagcore.store import record as R

# every kind the store frames: the events, the store's own mark, and kinds with no record
KINDS = [R.KIND_MARK, *range(R.EV_FIRST, R.EV_INTEGRITY + 2)]


@settings(max_examples=1500)
@given(st.sampled_from(KINDS), st.integers(0, 2**32), st.binary(max_size=200))
def test_decode_raises_only_value_error_on_arbitrary_bytes(kind: int, t: int, data: bytes) -> None:
    try:
        ev = E.decode(kind, t, data)
    except ValueError:
        return
    if kind == R.EV_POWER:  # fixed fields: the record's bytes are these bytes
        assert E.encode(ev) == (kind, data)
    elif kind == R.EV_INTEGRITY:  # varints: the same record (a varint may have been padded)
        assert E.decode(kind, t, bytes(E.encode(ev)[1])) == ev


@given(
    st.integers(0, 2**32),
    st.sampled_from([E.POWER_LEVEL, E.POWER_LOW, E.POWER_CRITICAL]),
    st.integers(0, 255),
    st.integers(0, 65535),
)
def test_power_round_trips(t: int, what: int, level: int, left: int) -> None:
    ev = E.Power(t, what, level, left)
    kind, data = E.encode(ev)
    assert kind == R.EV_POWER and len(data) == 4 and E.decode(kind, t, data) == ev


@given(
    st.integers(0, 2**32),
    st.integers(0, 255),
    st.lists(st.integers(-(2**62), 2**62), max_size=12).map(tuple),
)
def test_integrity_round_trips(t: int, k: int, vals: tuple[int, ...]) -> None:
    ev = E.Integrity(t, k, vals)
    kind, data = E.encode(ev)
    assert kind == R.EV_INTEGRITY and E.decode(kind, t, bytes(data)) == ev

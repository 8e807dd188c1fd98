"""Property tests of the reader: it never raises, chunking never matters, damage is counted."""

from __future__ import annotations

from corpus import capture_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore import nmeafields
from tagcore.fixfilter import FixFilter
from tagcore.nmea import LINE_MAX, QUEUE_MAX, NmeaReader

SAMPLE = b"".join(
    p.read_bytes()
    for p in capture_files()
    if p.name in ("ublox-neo-m9n-nmea.log", "et-332.log", "triton400.log", "quectel-eg25-g.log")
)
VALID = [
    ln.rstrip(b"\r")
    for ln in SAMPLE.split(b"\n")
    if ln.startswith(b"$") and NmeaReader().feed(ln + b"\n") >= 0
]


def replay(data: bytes, cuts: list[int]) -> tuple[list, dict, int]:
    """Feed data cut at `cuts` (and every 200 bytes, so that draining after each feed keeps the
    capped fix queue from overflowing), collecting filtered fixes and counters."""
    r = NmeaReader(floor_days=7037)
    ff = FixFilter()
    out = []
    prev = 0
    for c in [*sorted(set(cuts) | set(range(200, len(data), 200))), len(data)]:
        r.feed(data[prev:c])
        prev = c
        while (f := r.pop()) is not None:
            out.append((f, ff.check(f)))
        assert len(r.line) == LINE_MAX + 2 and len(r.queue) <= QUEUE_MAX
    r.flush()
    while (f := r.pop()) is not None:
        out.append((f, ff.check(f)))
    return out, dict(r.counts), r.sentences


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=20))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    replay(data, [c for c in cuts if c <= len(data)])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"$", b",", b"*", b"\r\n", b"\n", b"GPGGA", b"GNRMC", b"1", b"."])),
)
def test_nmea_shaped_noise_never_raises(parts: list[bytes]) -> None:
    replay(b"".join(parts), [])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_chunking_yields_the_same_fixes(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, max(0, len(SAMPLE) - 6000)))
    chunk = SAMPLE[start : start + 6000]
    cuts = data.draw(st.lists(st.integers(0, len(chunk)), max_size=60))
    assert replay(chunk, cuts) == replay(chunk, [])


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_sentences_are_counted_not_crashed_on(data: st.DataObject) -> None:
    line = bytearray(data.draw(st.sampled_from(VALID)))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        i = data.draw(st.integers(0, max(0, len(line) - 1)))
        if op == "flip" and line:
            line[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "drop" and line:
            del line[i]
        elif op == "insert":
            line.insert(i, data.draw(st.integers(0, 255)))
        elif op == "truncate":
            del line[i:]
    r = NmeaReader(floor_days=7037)
    r.feed(bytes(line) + b"\r\n")
    r.flush()
    # Every sentence is either used or accounted for under a reason.
    dropped = sum(v for k, v in r.counts.items() if k not in ("junk_bytes",))
    assert r.sentences + dropped >= 1 or not line.count(b"$")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.data())
def test_cpython_checksum_path_equals_the_device_loop(data: bytes, d: st.DataObject) -> None:
    # CPython uses a C-level path; the device runs the plain loop. They must agree exactly.
    a = d.draw(st.integers(0, len(data)))
    b = d.draw(st.integers(a, len(data)))
    assert nmeafields.xor_printable(data, a, b) == nmeafields._xor_loop(data, a, b)
    assert nmeafields.xor_printable(bytearray(data), a, b) == nmeafields._xor_loop(data, a, b)

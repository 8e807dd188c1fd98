"""Property tests of the reader: it never raises, chunking never matters, damage is counted."""

from __future__ import annotations

from corpus import capture_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore.gnss import nmeafields
from tagcore.gnss.epoch import unroll
from tagcore.gnss.fixfilter import FixFilter
from tagcore.gnss.nmea import LINE_MAX, QUEUE_MAX, NmeaReader

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


def _cs(body: str) -> bytes:
    x = 0
    for c in body.encode():
        x ^= c
    return f"${body}*{x:02X}\r\n".encode()


def _ddmm(v: int, deg_digits: int) -> str:
    """Microdegrees (positive) as NMEA (d)ddmm.mmmmmm."""
    deg, rest = divmod(v, 1_000_000)
    minutes = rest * 60 / 1_000_000
    return f"{deg:0{deg_digits}d}{minutes:09.6f}"


@settings(max_examples=200, deadline=None)
@given(
    st.permutations(["RMC", "GLL", "GNS", "GGA", "VTG", "GSA", "GST"]),
    st.lists(st.integers(-3000, 3000), min_size=8, max_size=8),
)
def test_the_position_is_always_the_one_quality_and_accuracy_come_from(
    order: list[str], jitter: list[int]
) -> None:
    # Whatever order the receiver sends its sentences in and however their positions differ,
    # the fix carries GGA's position with GGA's altitude and HDOP.
    lat0, lon0 = 48_117_300, 11_516_667

    def pos(k: int) -> str:
        lat, lon = lat0 + jitter[2 * k], lon0 + jitter[2 * k + 1]
        return f"{_ddmm(lat, 2)},N,{_ddmm(lon, 3)},E"

    body = {
        "GGA": f"GNGGA,123519.00,{pos(0)},1,08,0.9,545.4,M,46.9,M,,",
        "RMC": f"GNRMC,123519.00,A,{pos(1)},022.4,084.4,221126,,,A,V",
        "GLL": f"GNGLL,{pos(2)},123519.00,A,A",
        "GNS": f"GNGNS,123519.00,{pos(3)},AA,10,1.4,550.0,46.9,,",
        "VTG": "GNVTG,084.4,T,,M,022.4,N,041.5,K,A",
        "GSA": "GNGSA,A,3,04,05,09,12,24,,,,,,,,2.5,1.3,2.1,1",
        "GST": "GNGST,123519.00,1.5,2.0,1.0,45,1.2,1.6,3.0",
    }
    data = b"".join(_cs(body[k]) for k in order)
    data += _cs("GNGGA,123520.00,4807.038,N,01131.000,E,1,08,0.9,545.6,M,46.9,M,,")
    r = NmeaReader()
    r.feed(data)
    f = r.pop()
    assert f is not None
    want = NmeaReader()
    want.feed(_cs(body["GGA"]))
    assert (f.lat, f.lon) == (want.s_lat, want.s_lon)
    assert f.alt_dm == 5454 and f.hdop_c == 90 and f.quality == 1


@settings(max_examples=2000, deadline=None)
@given(st.integers(-7300, 40000), st.integers(-7300, 40000))
def test_unroll_only_moves_dates_by_whole_rollovers_into_the_window(days: int, floor: int) -> None:
    got, k = unroll(days, floor)
    if k < 0:  # refused; day -1 (1999-12-31) is a date like any other
        assert got == -1
        return
    assert floor <= got < floor + 15 * 365 + 4  # the window: 15 years past the floor
    assert got - days == k * 7168 and k >= 0
    assert k == 0 or days < floor

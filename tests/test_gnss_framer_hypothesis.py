"""The UBX framer against arbitrary bytes: it never raises, every byte is accounted for,
damage is counted, frames in a clean stream all come out; and MicroPython agrees byte for byte."""

from __future__ import annotations

import random

import pynmea2
from hypothesis import given, settings
from hypothesis import strategies as st
from micropython_runner import MPY_TESTS, run_cpython, run_micropython
from pyubx2 import GET, UBXMessage, UBXReader
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.ubx import UbxFramer

SENTENCES = [
    (pynmea2.parse(s, check=False).render() + "\r\n").encode()  # pynmea2 computes the checksums
    for s in (
        "$GPGGA,123519.00,4807.03800,N,01131.00000,E,1,08,0.9,545.4,M,46.9,M,,",
        "$GPRMC,123519.00,A,4807.03800,N,01131.00000,E,0.0,0.0,230326,,,A",
    )
]
ACKS = [
    UBXMessage("ACK", k, GET, clsID=c, msgID=m).serialize()
    for k in ("ACK-ACK", "ACK-NAK")
    for c, m in ((6, 0x11), (6, 0x3B), (6, 0x8A), (6, 1))
]
MONVER = UBXMessage(
    "MON", "MON-VER", GET, swVersion=b"ROM CORE 3.01 (107888)", hwVersion=b"00080000"
).serialize()
PIECES = [*SENTENCES, *ACKS, MONVER]


def _feed(data: bytes, cuts: list[int]) -> tuple[UbxFramer, NmeaReader, list]:
    fr, r, out = UbxFramer(), NmeaReader(), []
    i = 0
    for c in [*sorted(set(cuts)), len(data)]:
        if c <= i:
            continue
        fr.feed(data[i:c], -1, r)
        i = c
        while (m := fr.pop()) is not None:
            out.append(m)
    return fr, r, out


def _accounted(fr: UbxFramer, n: int) -> bool:
    return fr.passed + fr.framed + fr.dropped + fr.held == n


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=20))
def test_arbitrary_bytes_never_raise_and_are_accounted(data: bytes, cuts: list[int]) -> None:
    fr, _r, msgs = _feed(data, cuts)
    assert _accounted(fr, len(data))
    for cls, mid, payload in msgs:  # anything framed is a frame pyubx2 accepts
        raw = UBXMessage(bytes((cls,)), bytes((mid,)), GET, payload=payload).serialize()
        assert raw in data


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(PIECES))), max_size=30),
    st.lists(st.integers(0, 3000), max_size=30),
)
def test_a_clean_stream_yields_every_frame_and_sentence(order: list[int], cuts: list[int]):
    data = b"".join(PIECES[k] for k in order)
    # chunks of at most 30 bytes hold at most three frames: the queue never overflows
    fr, r, msgs = _feed(data, cuts + list(range(0, len(data), 30)))
    want = [UBXReader.parse(PIECES[k]) for k in order if PIECES[k][0] == 0xB5]
    got = [
        UBXReader.parse(UBXMessage(bytes((c,)), bytes((m,)), GET, payload=p).serialize())
        for c, m, p in msgs
    ]
    assert [g.serialize() for g in got] == [w.serialize() for w in want]
    assert fr.counts == {} and r.counts.get("junk_bytes", 0) == 0
    assert r.sentences == sum(1 for k in order if PIECES[k][0] == 0x24)
    assert _accounted(fr, len(data)) and fr.held == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(PIECES))), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_damage_is_counted_never_silent(order: list[int], flips: list[tuple[int, int]]):
    clean = b"".join(PIECES[k] for k in order)
    data = bytearray(clean)
    for pos, v in flips:
        data[pos % len(data)] = v
    fr, r, msgs = _feed(bytes(data), [7, 50, 300])
    fr.flush()  # the line goes quiet: nothing is left open
    assert fr.held == 0
    n_frames = sum(1 for k in order if PIECES[k][0] == 0xB5)
    lost = n_frames - len(msgs) - fr.counts.get("queue_overflow", 0)
    damage = sum(fr.counts.values()) + sum(r.counts.values())
    assert lost <= 0 or damage > 0  # a frame lost is a frame counted somewhere
    assert _accounted(fr, len(data))


def _streams(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(0, 12))]
        data = bytearray(b"".join(parts))
        for _ in range(rng.randint(0, 3)):
            if data:
                data[rng.randrange(len(data))] = rng.choice((0xB5, 0x62, 0x24, 0x0A, 0x00, 0xFF))
        if rng.random() < 0.2:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
        lines.append(f"{rng.choice((1, 2, 7, 64, 256))} {bytes(data).hex()}")
    return ("\n".join(lines) + "\n").encode()


def test_micropython_agrees_byte_for_byte() -> None:
    stdin = _streams(300, 17)
    script = MPY_TESTS / "ubx_stream_run.py"
    mp = run_micropython(script=script, stdin=stdin)
    cp = run_cpython(script=script, stdin=stdin)
    assert mp == cp
    assert mp.count("\nA ") + mp.startswith("A ") == 300
    assert "bad_checksum=" in mp and "M 5 1 " in mp  # both outcomes are exercised

"""The receiver's NMEA is real NMEA: pynmea2 and pynmeagps read it, and the core decodes the
same positions; the UART delivers it in realistic chunks, and line noise is caught by checksums."""

from __future__ import annotations

import datetime as dt

import pynmea2
import simworld
from pynmeagps import NMEAReader as GpsReader
from tagcore.gnss.nmea import NmeaReader
from tagsim.receiver import TRACKING, Receiver
from tagsim.simtime import to_datetime
from tagsim.uart import Uart


def _epochs(env: str = "open", n: int = 40, seed: int = 2) -> list[tuple[int, bytes, bool]]:
    rx = Receiver(simworld.m8(), seed)
    rx.power(True, simworld.START)
    out = []
    for k in range(n):
        t = simworld.START + k
        e = rx.epoch(simworld.point(t, env, 52.52 + k * 1e-5, 13.37))
        out.append((t, e.data, e.fix))
    return out


def test_every_sentence_parses_with_pynmea2_and_pynmeagps() -> None:
    kinds = set()
    fixes = 0
    for t, data, fix in _epochs(n=80):
        when = to_datetime(t)
        lines = data.decode().split("\r\n")
        assert lines[-1] == ""
        gga = rmc = None
        gsa_prns = 0
        for ln in lines[:-1]:
            msg = pynmea2.parse(ln, check=True)
            kinds.add(msg.sentence_type)
            parsed = GpsReader.parse(ln.encode() + b"\r\n", validate=1)
            assert parsed.msgID == msg.sentence_type
            if msg.sentence_type == "GGA":
                gga = msg
            elif msg.sentence_type == "RMC":
                rmc = msg
            elif msg.sentence_type == "GSA":
                gsa_prns += sum(1 for k in range(1, 13) if getattr(msg, f"sv_id{k:02d}"))
        assert gga is not None and rmc is not None
        assert gga.timestamp.replace(tzinfo=None) == when.time().replace(tzinfo=None)
        assert rmc.datestamp == when.date()
        if fix:
            fixes += 1
            assert gga.gps_qual == 1 and rmc.status == "A"
            assert abs(gga.latitude - rmc.latitude) < 1e-9
            assert int(gga.num_sats) == gsa_prns
        else:
            assert gga.gps_qual == 0 and rmc.status == "V" and gga.lat == ""
    assert kinds == {"GGA", "RMC", "GSA", "GSV", "GST"}
    assert 30 < fixes < 70  # a cold start (26 s x spread) first, then a fix every second


def test_the_core_decodes_what_the_receiver_said() -> None:
    r = NmeaReader()
    ep = _epochs(n=60)
    want, got = {}, {}
    for t, data, fix in ep:
        if fix:
            gga = next(pynmea2.parse(x) for x in data.decode().split("\r\n") if "GGA" in x)
            want[t] = (round(gga.latitude * 1e6), round(gga.longitude * 1e6), int(gga.num_sats))
        r.feed(data)
        r.flush()  # the line goes quiet after each burst: the epoch closes
        while (f := r.pop()) is not None:
            if f.quality:
                got[f.t] = (f.lat, f.lon, f.sats)
    assert set(want) == set(got)
    for t, (lat, lon, sats) in want.items():
        g = got[t]
        assert abs(g[0] - lat) <= 1 and abs(g[1] - lon) <= 1 and g[2] == sats
    assert r.counts.get("bad_checksum", 0) == 0


def test_uart_chunks_are_realistic_and_lossless() -> None:
    data = b"".join(d for _, d, _ in _epochs(n=10))
    u = Uart(9600, 256, 0.0, 1)
    chunks = u.chunks(data)
    assert b"".join(chunks) == data
    sizes = [len(c) for c in chunks[:-1]]
    assert min(sizes) >= 19 and max(sizes) <= 77  # 20-80 ms of 960 bytes/s
    fast = Uart(115200, 64, 0.0, 1).chunks(data)
    assert max(len(c) for c in fast) == 64  # the read buffer caps a fast line


def test_line_noise_is_caught_by_checksums() -> None:
    ep = _epochs(n=200)
    data = b"".join(d for _, d, _ in ep)
    u = Uart(9600, 256, 1e-3, 4)
    r = NmeaReader()
    for c in u.chunks(data):
        r.feed(c)
    r.flush()
    assert 0.5e-3 < u.corrupted / len(data) < 2e-3
    dropped = sum(v for k, v in r.counts.items() if k != "unused")
    assert dropped >= u.corrupted * 0.5  # most flips break a checksum; some land in framing


def test_sentence_times_are_utc_of_the_epoch() -> None:
    t, data, _ = _epochs(n=1)[0]
    assert to_datetime(t) == dt.datetime(2026, 3, 2, 8, 0, 0, tzinfo=dt.timezone.utc)
    assert data.startswith(b"$GNRMC,080000.00,")


def test_tracking_state() -> None:
    rx = Receiver(simworld.m8(), 1)
    rx.power(True, simworld.START)
    for k in range(60):
        rx.epoch(simworld.point(simworld.START + k))
    assert rx.state == TRACKING

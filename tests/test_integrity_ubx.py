"""The receiver's own jamming and spoofing flags (UBX-MON-RF, UBX-NAV-STATUS, UBX-SEC-SIG)
through the core's UBX framer and tagcore.gnss.ubx.integrity_of, held against pyubx2: frames
built by pyubx2 from arbitrary field values, split among NMEA, decoded as pyubx2 decodes them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pyubx2 import GET, UBXMessage, UBXReader
from tagcore.gnss import ubx

NMEA = b"$GPGGA,120000.00,5230.0000,N,01320.0000,E,1,08,1.0,35.0,M,47.0,M,,*5B\r\n"


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def feed(self, buf: bytes | bytearray, n: int) -> None:
        self.data += bytes(buf[:n])


def _through_framer(frames: list[bytes], chunk: int) -> tuple[list[tuple], bytes]:
    stream = b"".join(NMEA + f for f in frames) + NMEA
    fr = ubx.UbxFramer()
    sink = Sink()
    got = []
    for i in range(0, len(stream), chunk):
        fr.feed(stream[i : i + chunk], -1, sink)
        while True:
            m = fr.pop()
            if m is None:
                break
            got.append(ubx.integrity_of(*m))
    return got, bytes(sink.data)


block = st.fixed_dictionaries(
    {
        "blockId": st.integers(0, 1),
        "jammingState": st.integers(0, 3),
        "antStatus": st.integers(0, 4),
        "antPower": st.integers(0, 2),
        "noisePerMS": st.integers(0, 65535),
        "agcCnt": st.integers(0, 8191),
        "jamInd": st.integers(0, 255),
        "ofsI": st.integers(-128, 127),
        "magI": st.integers(0, 255),
    }
)


def mon_rf(blocks: list[dict]) -> bytes:
    kw: dict[str, int] = {"version": 0, "nBlocks": len(blocks)}
    for i, b in enumerate(blocks, 1):
        for k, v in b.items():
            kw[f"{k}_{i:02d}"] = v
    return UBXMessage("MON", "MON-RF", GET, **kw).serialize()


@settings(max_examples=150, deadline=None)
@given(st.lists(block, min_size=1, max_size=2), st.integers(0, 3), st.integers(1, 64))
def test_mon_rf_matches_pyubx2(blocks: list[dict], psm: int, chunk: int) -> None:
    raw = mon_rf(blocks)
    ref = UBXReader.parse(raw)
    got, passed = _through_framer([raw], chunk)
    assert passed == NMEA * 2  # every NMEA byte still reaches the reader, in order
    n = ref.nBlocks
    jam = max(getattr(ref, f"jammingState_{i:02d}") for i in range(1, n + 1))
    ind = max(getattr(ref, f"jamInd_{i:02d}") for i in range(1, n + 1))
    agc = min(getattr(ref, f"agcCnt_{i:02d}") for i in range(1, n + 1))
    assert got == [(ubx.SRC_MON_RF, jam, -1, ind, agc)]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 5), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2), st.integers(1, 64)
)
def test_nav_status_matches_pyubx2(fix: int, spoof: int, psm: int, carr: int, chunk: int) -> None:
    raw = UBXMessage(
        "NAV",
        "NAV-STATUS",
        GET,
        iTOW=123000,
        gpsFix=fix,
        gpsFixOk=1,
        psmState=psm,
        spoofDetState=spoof,
        carrSoln=carr,
        ttff=2500,
        msss=99000,
    ).serialize()
    ref = UBXReader.parse(raw)
    got, _ = _through_framer([raw], chunk)
    assert got == [(ubx.SRC_NAV_STATUS, -1, ref.spoofDetState, -1, -1)]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 1), st.integers(0, 3), st.integers(0, 1), st.integers(0, 7), st.booleans())
def test_sec_sig_matches_pyubx2(jen: int, jam: int, sen: int, spf: int, v2: bool) -> None:
    flags = {
        "jamDetEnabled": jen,
        "jammingState": jam,
        "spfDetEnabled": sen,
        "spoofingState": spf,
    }
    if v2:
        raw = UBXMessage("SEC", "SEC-SIG", GET, version=2, jamNumCentFreqs=0, **flags).serialize()
    else:
        raw = UBXMessage("SEC", "SEC-SIG", GET, version=1, **flags).serialize()
    ref = UBXReader.parse(raw)
    got, _ = _through_framer([raw], 7)
    want_jam = ref.jammingState if ref.jamDetEnabled else -1
    want_spf = ref.spoofingState if ref.spfDetEnabled else -1
    assert got == [(ubx.SRC_SEC_SIG, want_jam, want_spf, -1, -1)]


def test_other_and_short_messages_say_nothing() -> None:
    assert ubx.integrity_of(0x01, 0x07, bytes(92)) is None  # NAV-PVT
    assert ubx.integrity_of(ubx.CLS_MON, ubx.ID_MON_RF, bytes((0, 2, 0, 0)) + bytes(24)) is None
    assert ubx.integrity_of(ubx.CLS_NAV, ubx.ID_NAV_STATUS, bytes(15)) is None
    assert ubx.integrity_of(ubx.CLS_SEC, ubx.ID_SEC_SIG, bytes((3,)) + bytes(11)) is None

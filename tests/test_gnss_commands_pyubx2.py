"""Every command the core's receiver drivers emit, byte for byte against pyubx2 (the same
message built there) and against the shared known-good vectors."""

from __future__ import annotations

import struct

import pynmea2
import pytest
from gnssvectors import text_vectors, ubx
from pyubx2 import GET, SET, UBXMessage, UBXReader
from tagcore.gnss import mtk, ublox_m8, ublox_m10
from tagcore.gnss import ubx as ubxmod


def _raw(cls: int, mid: int, payload: bytes) -> bytes:
    """pyubx2's frame (its checksum) around a payload."""
    return UBXMessage(bytes((cls,)), bytes((mid,)), SET, payload=payload).serialize()


def _pmreq8(ms: int) -> bytes:
    """The 8-byte M8 form: pyubx2 builds only the 16-byte one, so pyubx2 frames a struct-packed
    payload and must decode it back to the same fields."""
    raw = _raw(2, 0x41, struct.pack("<II", ms, 2))
    m = UBXReader.parse(raw, msgmode=SET)
    assert (m.duration, m.backup) == (ms, 1)
    return raw


PM2_CYCLIC_KW = dict(
    limitPeakCurr=1, updateEPH=1, doNotEnterOff=1, operationMode=1, onTime=1, searchPeriod=10000
)

M8_CASES = [
    (
        "CFG-RXM power-save",
        ublox_m8.cfg_rxm(1),
        UBXMessage("CFG", "CFG-RXM", SET, reserved0=8, lpMode=1).serialize(),
    ),
    (
        "CFG-RXM continuous",
        ublox_m8.cfg_rxm(0),
        UBXMessage("CFG", "CFG-RXM", SET, reserved0=8, lpMode=0).serialize(),
    ),
    (
        "RXM-PMREQ 8-byte (M8) backup for 0 ms",
        ublox_m8.rxm_pmreq(0),
        _pmreq8(0),
    ),
    (
        "RXM-PMREQ 8-byte (M8) backup for 60000 ms",
        ublox_m8.rxm_pmreq(60000),
        _pmreq8(60000),
    ),
    (
        "RXM-PMREQ 8-byte (M8) backup for 300000 ms",
        ublox_m8.rxm_pmreq(300000),
        _pmreq8(300000),
    ),
    (
        "CFG-RATE 1 Hz",
        ublox_m8.cfg_rate(1000),
        UBXMessage("CFG", "CFG-RATE", SET, measRate=1000, navRate=1, timeRef=1).serialize(),
    ),
    (
        "CFG-RATE 0.2 Hz",
        ublox_m8.cfg_rate(5000),
        UBXMessage("CFG", "CFG-RATE", SET, measRate=5000, navRate=1, timeRef=1).serialize(),
    ),
    (
        "CFG-CFG save all to BBR+Flash",
        ublox_m8.cfg_save(),
        UBXMessage(
            "CFG",
            "CFG-CFG",
            SET,
            clearMask=b"\0\0\0\0",
            saveMask=b"\xff\xff\0\0",
            loadMask=b"\0\0\0\0",
            devBBR=1,
            devFlash=1,
        ).serialize(),
    ),
    ("MON-VER poll", ublox_m8.mon_ver_poll(), UBXMessage("MON", "MON-VER", 2).serialize()),
]
for mid, name in ((1, "GLL"), (2, "GSA"), (3, "GSV"), (5, "VTG")):
    M8_CASES.append(
        (
            f"CFG-MSG disable NMEA {name} on current port (3-byte form)",
            ublox_m8.cfg_msg(0xF0, mid, 0),
            _raw(6, 1, bytes((0xF0, mid, 0))),
        )
    )
for ms, label in ((0, "0 ms"), (60000, "60000 ms"), (300000, "300000 ms")):
    M8_CASES.append(
        (
            f"RXM-PMREQ 16-byte (M8 FW>=? / M10) backup+force for {label}",
            ublox_m10.rxm_pmreq(ms),
            UBXMessage(
                "RXM", "RXM-PMREQ", SET, version=0, duration=ms, backup=1, force=1, uartrx=1
            ).serialize(),
        )
    )


@pytest.mark.parametrize(("label", "ours", "theirs"), M8_CASES, ids=[c[0] for c in M8_CASES])
def test_ublox_command_matches_pyubx2_and_the_vector(label: str, ours: bytes, theirs: bytes):
    assert ours == theirs
    assert ours == ubx(label)
    assert UBXReader.parse(ours, msgmode=SET).identity  # pyubx2 accepts the checksum


def test_cfg_pm2_cyclic_is_meshtastics_payload_and_pyubx2s_layout():
    ours = ublox_m8.cfg_pm2_cyclic(1000, 10000)
    assert ours == ubx("CFG-PM2 (Meshtastic payload")
    # pyubx2 knows the 48-byte version-2 layout; version 1 is its first 44 bytes.
    v2 = UBXMessage("CFG", "CFG-PM2", SET, version=1, updatePeriod=1000, **PM2_CYCLIC_KW)
    assert ours[6:-2] == v2.payload[:44]
    assert ours == _raw(6, 0x3B, ours[6:-2])


def test_cfg_pm2_on_off_vector():
    f = ublox_m8.PM2_LIMIT_PEAK | ublox_m8.PM2_WAIT_TIME_FIX | ublox_m8.PM2_UPDATE_RTC
    ours = ublox_m8.cfg_pm2(60000, 300000, 10, f | ublox_m8.PM2_UPDATE_EPH)
    assert ours == ubx("CFG-PM2 ON/OFF example")
    v2 = UBXMessage(
        "CFG",
        "CFG-PM2",
        SET,
        version=1,
        limitPeakCurr=1,
        waitTimeFix=1,
        updateRTC=1,
        updateEPH=1,
        updatePeriod=60000,
        searchPeriod=300000,
        onTime=10,
    )
    assert ours[6:-2] == v2.payload[:44]


def _valset(items: list[tuple[str, int]], layers: int = 1) -> bytes:
    return UBXMessage.config_set(layers, 0, items).serialize()


def test_m10_power_save_valset():
    ours = ublox_m10.valset(ublox_m10.power_save_items(5, 1))
    theirs = _valset(
        [
            ("CFG_PM_OPERATEMODE", 2),
            ("CFG_PM_POSUPDATEPERIOD", 5),
            ("CFG_PM_ONTIME", 1),
            ("CFG_PM_DONOTENTEROFF", 1),
            ("CFG_PM_WAITTIMEFIX", 1),
            ("CFG_PM_LIMITPEAKCURR", 1),  # the vector's label says UPDATEEPH; its key is 0x10
        ]
    )
    assert ours == theirs == ubx("M10 CFG-VALSET RAM: CFG-PM OPERATEMODE=2")


def test_m10_sbas_and_nmea_valsets():
    assert ublox_m10.sbas(False) == ubx("M10 CFG-VALSET RAM: disable SBAS")
    assert ublox_m10.sbas(False) == _valset(
        [("CFG_SIGNAL_SBAS_ENA", 0), ("CFG_SIGNAL_SBAS_L1CA_ENA", 0)]
    )
    off = [(k, 0) for k in ("GSA", "GLL", "GSV", "RMC", "VTG", "GGA")]
    assert ublox_m10.nmea_out(off) == ubx("M10 CFG-VALSET RAM: all NMEA UART1 outputs off")
    on = [("GGA", 1), ("RMC", 1)]
    assert ublox_m10.nmea_out(on) == ubx("M10 CFG-VALSET RAM: GGA+RMC on UART1")
    assert ublox_m10.nmea_out(on) == _valset(
        [("CFG_MSGOUT_NMEA_ID_GGA_UART1", 1), ("CFG_MSGOUT_NMEA_ID_RMC_UART1", 1)]
    )


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_m10_operatemode_and_driver_sequences_parse(mode: int):
    assert ublox_m10.valset(((ublox_m10.PM_OPERATEMODE, mode),)) == _valset(
        [("CFG_PM_OPERATEMODE", mode)]
    )
    both = ublox_m10.LAYER_RAM | ublox_m10.LAYER_BBR
    assert ublox_m10.setup()[1][0] == _valset(
        [("CFG_SIGNAL_SBAS_ENA", 0), ("CFG_SIGNAL_SBAS_L1CA_ENA", 0)], both
    )


def test_every_driver_frame_is_valid_ubx():
    for drv in (ublox_m8, ublox_m10):
        for seq in (drv.setup(), drv.continuous(), drv.cyclic(), drv.backup(0)):
            for f, ack in seq:
                msg = UBXReader.parse(f, msgmode=SET)
                if ack is not None:  # the ACK expected names this very message
                    assert (f[2] << 8 | f[3]) == ack, msg


def test_text_commands_match_the_vectors_and_pynmea2_checksums():
    vec = text_vectors()
    ours = [
        mtk.pmtk_standby(),
        mtk.pmtk_normal(),
        mtk.pmtk(225, 4),
        mtk.pmtk(225, 8),
        mtk.pmtk(225, 9),
        mtk.pmtk_periodic(3000, 12000, 18000, 72000),
        mtk.pmtk_rate(1000),
        mtk.pmtk_rate(5000),
        mtk.pmtk(101),
        mtk.pmtk(102),
        mtk.pmtk(103),
        mtk.pcas_standby(60),
        mtk.pcas_standby(65535),
        mtk.pcas_rate(1000),
        mtk.pcas_save(),
        mtk.pcas(3, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, None, None, 0, 0),
        mtk.pcas(10, 0),
        mtk.pcas(4, 7),
    ]
    for s in ours:
        assert s.endswith(b"\r\n")
        assert s[:-2] in vec, s
        pynmea2.parse(s.decode().strip(), check=True)
    for seq in (mtk.L76K.setup(), mtk.L76K.backup(0), mtk.L76K.backup(30000)):
        for s, ack in seq:
            assert ack is None  # CASIC text commands are never acknowledged
            pynmea2.parse(s.decode().strip(), check=True)


def test_pmtk_ack_against_pynmea2_built_replies():
    for cmd, flag in ((161, 3), (225, 3), (225, 1), (220, 0), (101, 2)):
        line = pynmea2.ProprietarySentence("MTK", ["001", str(cmd), str(flag)]).render()
        assert mtk.pmtk_ack(line.encode() + b"\r\n") == (cmd, flag == 3)
        bad = line[:-1] + ("0" if line[-1] != "0" else "1")
        assert mtk.pmtk_ack(bad.encode()) is None
    assert mtk.pmtk_ack(b"$GPGGA,,,,*00") is None
    assert mtk.pmtk_ack(b"$PMTK001,x,y*00") is None


def test_ack_parsing_against_pyubx2_replies():
    for cls, mid in ((6, 0x11), (6, 0x3B), (6, 0x8A), (6, 9)):
        for kind, ok in (("ACK-ACK", True), ("ACK-NAK", False)):
            raw = UBXMessage("ACK", kind, GET, clsID=cls, msgID=mid).serialize()
            fr = ubxmod.UbxFramer()
            assert fr.feed(raw) == 1
            c, m, p = fr.pop()
            assert ubxmod.ack_of(c, m, p) == (ok, cls, mid)
    assert ubxmod.ack_of(6, 1, b"\x06\x11") is None
    assert ubxmod.ack_of(5, 1, b"\x06") is None


def test_m8_integrity_set_up_matches_pyubx2() -> None:
    # CFG-ITFM as pyubx2 builds it from the fields the u-blox 8 specification names
    itfm = UBXMessage(
        "CFG",
        "CFG-ITFM",
        SET,
        bbThreshold=3,
        cwThreshold=15,
        algorithmBits=0x16B156,
        enable=1,
        generalBits=0x31E,
        antSetting=0,
        enable2=1,
    ).serialize()
    assert ublox_m8.cfg_itfm() == itfm
    every = ublox_m8.INTEGRITY_EVERY
    want = {(0x0A, 0x38): every, (0x01, 0x03): every}  # UBX-MON-RF, UBX-NAV-STATUS
    got = {}
    setup = ublox_m8.setup()
    for f, _ack in setup:
        msg = UBXReader.parse(f, msgmode=SET)
        if msg.identity == "CFG-MSG" and msg.msgClass != 0xF0:  # not an NMEA sentence
            # the 3-byte form (the port it is sent on): pyubx2 reads its rate as rateDDC
            assert f == _raw(6, 1, f[6:9])
            got[(msg.msgClass, msg.msgID)] = msg.rateDDC
    assert got == want
    assert (itfm, ublox_m8.CFG_ITFM) in setup
    # set up before CFG-CFG saves it all to flash (the M8 keeps it through a rail cut)
    assert setup[-1][0] == ublox_m8.cfg_save()


def test_m10_integrity_valset_matches_pyubx2() -> None:
    every = ublox_m8.INTEGRITY_EVERY
    items = [
        ("CFG_ITFM_ENABLE", 1),
        ("CFG_MSGOUT_UBX_MON_RF_UART1", every),
        ("CFG_MSGOUT_UBX_NAV_STATUS_UART1", every),
        ("CFG_MSGOUT_UBX_SEC_SIG_UART1", every),
    ]
    both = ublox_m10.LAYER_RAM | ublox_m10.LAYER_BBR
    assert ublox_m10.integrity_out() == _valset(items)
    assert ublox_m10.setup()[2] == (_valset(items, both), ublox_m10.CFG_VALSET)
    msg = UBXReader.parse(ublox_m10.setup()[2][0], msgmode=SET)
    assert {k: getattr(msg, k) for k, _ in items} == dict(items)


def test_the_set_up_keeps_gsv_at_its_low_rate_and_the_rest_as_chosen() -> None:
    # GSV carries the C/N0 the integrity rules read: on, once every GSV_EVERY epochs; GLL and
    # VTG off (M8: CFG-MSG's 3-byte form for NMEA class F0, built here with pyubx2)
    every = ublox_m8.GSV_EVERY
    assert every >= 1
    nmea = {}
    for f, ack in ublox_m8.setup():
        msg = UBXReader.parse(f, msgmode=SET)
        if msg.identity == "CFG-MSG" and msg.msgClass == 0xF0:
            assert ack == ublox_m8.CFG_MSG
            assert f == UBXMessage("CFG", "CFG-MSG", SET, payload=f[6:9]).serialize()
            nmea[msg.msgID] = msg.rateDDC
    assert nmea == {0x01: 0, 0x05: 0, 0x03: every}  # GLL, VTG off; GSV
    both = ublox_m10.LAYER_RAM | ublox_m10.LAYER_BBR
    rates = [("GGA", 1), ("RMC", 1), ("GSA", 1), ("GST", 1), ("GSV", every)]
    rates += [("GLL", 0), ("VTG", 0)]
    items = [(f"CFG_MSGOUT_NMEA_ID_{k}_UART1", r) for k, r in rates]
    assert ublox_m10.setup()[0] == (_valset(items, both), ublox_m10.CFG_VALSET)

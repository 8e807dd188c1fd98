"""NMEA 0183 sentences as a u-blox M8-class receiver writes them (NMEA 4.10, GN talker).

pynmeagps builds the position sentences (GGA, RMC, GST). The rest is written here by hand
because pynmeagps's output differs from a receiver's there: a GSA pads unused satellite slots
with 0 (receivers leave them empty), a no-fix GGA/RMC gets N/E hemispheres (receivers leave
every position field empty); GSV is hand-built for speed (see gsv()). Tests hold every sentence
against pynmea2 and pynmeagps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pynmeagps import GET, NMEAMessage


def checksum(body: str) -> str:
    c = 0
    for ch in body.encode():
        c ^= ch
    return f"{c:02X}"


def sentence(body: str) -> bytes:
    """'$' + body + '*CS' + CRLF; body is talker+formatter and fields, without '$'."""
    return f"${body}*{checksum(body)}\r\n".encode()


def _hemi(lat: float, lon: float) -> dict[str, object]:
    return {"lat": lat, "NS": "N" if lat >= 0 else "S", "lon": lon, "EW": "E" if lon >= 0 else "W"}


def gga(
    talker: str, when: dt.datetime, lat: float, lon: float, sats: int, hdop: float, alt: float
) -> bytes:
    return NMEAMessage(
        talker,
        "GGA",
        GET,
        time=when.time(),
        **_hemi(lat, lon),
        quality=1,
        numSV=sats,
        HDOP=round(hdop, 2),
        alt=round(alt, 1),
        altUnit="M",
        sep=47.0,
        sepUnit="M",
        diffAge="",
        diffStation="",
    ).serialize()


def rmc(
    talker: str, when: dt.datetime, lat: float, lon: float, speed_ms: float, course: float
) -> bytes:
    return NMEAMessage(
        talker,
        "RMC",
        GET,
        time=when.time(),
        status="A",
        **_hemi(lat, lon),
        spd=round(speed_ms / 0.514444, 3),
        cog=round(course, 2),
        date=when.date(),
        mv="",
        mvEW="",
        posMode="A",
        navStatus="V",
    ).serialize()


def gst(talker: str, when: dt.datetime, std_lat: float, std_lon: float, std_alt: float) -> bytes:
    major, minor = max(std_lat, std_lon), min(std_lat, std_lon)
    return NMEAMessage(
        talker,
        "GST",
        GET,
        time=when.time(),
        rangeRms=round(major, 1),
        stdMajor=round(major, 1),
        stdMinor=round(minor, 1),
        orient=0.0,
        stdLat=round(std_lat, 1),
        stdLong=round(std_lon, 1),
        stdAlt=round(std_alt, 1),
    ).serialize()


def gga_nofix(talker: str, when: dt.datetime, sats: int) -> bytes:
    return sentence(f"{talker}GGA,{when:%H%M%S}.00,,,,,0,{sats:02d},99.99,,,,,,")


def rmc_nofix(talker: str, when: dt.datetime) -> bytes:
    return sentence(f"{talker}RMC,{when:%H%M%S}.00,V,,,,,,,{when:%d%m%y},,,N,V")


def gsa(
    talker: str,
    prns: Sequence[int],
    fix3d: bool,
    pdop: float,
    hdop: float,
    vdop: float,
    system: int,
) -> bytes:
    slots = [f"{p:02d}" for p in prns[:12]] + [""] * (12 - min(12, len(prns)))
    mode = "3" if fix3d else "1"
    dops = f"{pdop:.2f},{hdop:.2f},{vdop:.2f}" if fix3d else "99.99,99.99,99.99"
    return sentence(f"{talker}GSA,A,{mode},{','.join(slots)},{dops},{system}")


def gsv(talker: str, sats: Sequence[tuple[int, int, int, int]], signal: int = 1) -> list[bytes]:
    """GSV messages for (prn, elevation, azimuth, C/N0 or 0 when not tracked), four per message.
    Written here: pynmeagps walks its repeating-group table field by field, which made GSV
    cost more than all other sentences and the core together."""
    n = max(1, (len(sats) + 3) // 4)
    out = []
    for i in range(n):
        blocks = "".join(
            f",{prn:02d},{elv:02d},{az:03d}," + (f"{cno:02d}" if cno > 0 else "")
            for prn, elv, az, cno in sats[4 * i : 4 * i + 4]
        )
        out.append(sentence(f"{talker}GSV,{n},{i + 1},{len(sats):02d}{blocks},{signal}"))
    return out

"""The reader against pynmea2 on every corpus sentence pynmea2 accepts with a valid checksum:
the same latitude/longitude within 1e-6 degree, the same time of day and date."""

from __future__ import annotations

import datetime

import pynmea2
import pytest
from corpus import sentences
from tagcore.gnss.epoch import days_from_civil
from tagcore.gnss.nmea import CS_REQUIRE, NmeaReader
from tagcore.gnss.nmeafields import EMPTY

OURS = {"GGA", "RMC", "GLL", "GNS", "ZDA", "GST"}
TALKERS = {"GP", "GN", "GL", "GA", "GB", "BD", "GQ", "QZ", "GI"}


def _valid_coordinate(value: str, hemi: str, max_deg: int) -> bool:
    """What a real receiver can mean: minutes below 60, degrees within range."""
    try:
        p = value.index(".") if "." in value else len(value)
        deg, minutes = int(value[: p - 2]), float(value[p - 2 :])
    except ValueError:
        return False
    return minutes < 60 and deg + minutes / 60 <= max_deg and hemi in "NSEW" and hemi != ""


def _ms(t: datetime.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + (t.microsecond + 500) // 1000


def test_positions_times_and_dates_agree_with_pynmea2() -> None:
    compared = {"pos": 0, "time": 0, "date": 0, "refused": 0}
    for name, line in sentences():
        text = line.decode("ascii", "replace")
        if "*" not in text or text[1:3] not in TALKERS or text[3:6] not in OURS:
            continue
        try:
            msg = pynmea2.parse(text, check=True)
        except (pynmea2.ParseError, pynmea2.ChecksumError, ValueError, AttributeError):
            continue
        r = NmeaReader(checksum=CS_REQUIRE)
        r.feed(line + b"\r\n")
        where = f"{name}: {text}"
        assert r.counts.get("bad_checksum", 0) == 0, where
        lat_s = getattr(msg, "lat", None)
        if lat_s:
            ok = _valid_coordinate(lat_s, msg.lat_dir, 90) and _valid_coordinate(
                msg.lon, msg.lon_dir, 180
            )
            if not ok:  # pynmea2 turns 60 minutes or 360 degrees into a number; we refuse
                assert r.s_type == 0 and r.counts == {"malformed": 1}, where
                compared["refused"] += 1
                continue
            assert r.s_type, where
            assert abs(r.s_lat / 1e6 - msg.latitude) <= 1e-6 + 1e-12, where
            assert abs(r.s_lon / 1e6 - msg.longitude) <= 1e-6 + 1e-12, where
            compared["pos"] += 1
        elif lat_s == "" and r.s_type:
            assert r.s_lat == EMPTY and r.s_lon == EMPTY, where
        if not r.s_type:
            continue  # refused for another field: counted as malformed
        ts = getattr(msg, "timestamp", None)
        if isinstance(ts, datetime.time):
            assert r.s_tod == _ms(ts), where
            compared["time"] += 1
        if msg.sentence_type == "RMC" and msg.datestamp is not None:
            d = msg.datestamp
            if d.year >= 1980:  # pynmea2 reads yy 69-79 as 19yy; receivers mean 20yy
                assert r.s_days == days_from_civil(d.year, d.month, d.day), where
                compared["date"] += 1
        if msg.sentence_type == "ZDA" and msg.year:
            assert r.s_days == days_from_civil(int(msg.year), int(msg.month), int(msg.day)), where
            compared["date"] += 1
    # The corpus holds thousands of each: an empty comparison must not pass.
    assert compared["pos"] > 5000 and compared["time"] > 6000 and compared["date"] > 2500, compared
    print(compared)


@pytest.mark.parametrize(
    "text",
    [
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
        "$GNRMC,001031.00,A,4404.13993,N,12118.86023,W,0.146,,100117,,,A*7B",
        "$GPGLL,4916.45,N,12311.12,W,225444,A,*1D",
    ],
)
def test_reference_sentences(text: str) -> None:
    msg = pynmea2.parse(text)
    r = NmeaReader()
    r.feed(text.encode() + b"\r\n")
    assert r.s_lat == round(msg.latitude * 1e6)
    assert r.s_lon == round(msg.longitude * 1e6)

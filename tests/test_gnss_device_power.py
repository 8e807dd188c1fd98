"""The device shell's GNSS power path in MicroPython: the pump splits UBX replies from NMEA, the
core's state machine gets its ACKs, the shell writes its commands and switches the PMU rail by
read-modify-write (other outputs untouched) or a held GPIO."""

from __future__ import annotations

from pathlib import Path

from corpus import CORPUS
from micropython_runner import MPY_TESTS, run_micropython
from pyubx2 import GET, UBXMessage
from tagcore.gnss import ublox_m8
from tagcore.gnss.nmea import NmeaReader

CAPTURE = CORPUS / "ublox-neo-m9n-nmea.log"


def _capture(tmp: Path) -> tuple[Path, dict[str, int]]:
    """The capture with the set-up's ACKs spliced in as one burst (a stress case: a real
    receiver answers one command at a time), and what the NMEA reader counts without them."""
    nmea = CAPTURE.read_bytes()
    cut = nmea.index(b"\n", 400) + 1  # ACKs within the 1 s ACK timeout
    acks = b"".join(
        UBXMessage("ACK", "ACK-ACK", GET, clsID=f[2], msgID=f[3]).serialize()
        for f, _ in ublox_m8.setup()
    )
    p = tmp / "with_acks.log"
    p.write_bytes(nmea[:cut] + acks + nmea[cut : cut + 3000])
    plain = NmeaReader(floor_days=7037)
    plain.feed(nmea[: cut + 3000])
    return p, plain.counts


def test_pump_framer_power_and_pmu_rail(tmp_path: Path) -> None:
    path, plain = _capture(tmp_path)
    out = run_micropython(
        script=MPY_TESTS / "gnss_power_run.py",
        args=(str(path),),
        path=(MPY_TESTS / "fake_machine",),
        heap=96 * 1024,
    )
    lines = out.splitlines()
    assert lines[0] == "reg 79"  # 0x47 | LDO3 (bit 3)
    assert lines[1] == "mode 0 busy False"
    n = len(ublox_m8.setup())
    assert lines[2] == f"counts [('ack', {n})]"
    assert lines[3] == f"framer [] {10 * n}"
    # the reader counts exactly what it counts without the UBX frames in the stream
    assert lines[4].split(" ", 2)[2] == str(sorted(plain.items()))
    assert int(lines[4].split()[1]) > 20
    wrote = [bytes.fromhex(ln.split()[1]) for ln in lines if ln.startswith("wrote ")]
    assert wrote == [f for f, _ in ublox_m8.setup()]
    cyc = next(ln for ln in lines if ln.startswith("cyclic "))
    assert cyc.startswith("cyclic 0 ") and "('cyclic_refused', 1)" in cyc and "('retry'" in cyc
    assert "reg 71 mode 3" in lines  # LDO3 off again, 0x47 kept
    assert "i2c [('i2c_error', 1)]" in lines
    assert lines[-2:] == ["vext 1 True", "vext 0 True"]

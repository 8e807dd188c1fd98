"""What the simulated receiver understands of the bytes the tag writes to it.

The tag's core emits commands with its own builders; the simulator reads them back with
independent parsers (pyubx2 for UBX, pynmea2 for $PMTK/$PCAS checksums), so a wrong byte shows
up as a receiver that ignores or refuses the command, not as a test that agrees with itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pynmea2
from pyubx2 import GET, SET, UBXMessage, UBXReader


@dataclass(frozen=True)
class Command:
    kind: str  # "ubx" or "text"
    name: str  # UBX identity ("CFG-RXM") or talker+command ("PCAS12", "PMTK161")
    fields: dict[str, Any]  # pyubx2 attributes, or {"args": [...]} for text
    raw: bytes


def split(data: bytes) -> tuple[list[Command], int]:
    """Every command found in data, and how many bytes were not a valid command (noise, wake
    bytes, bad checksums)."""
    out: list[Command] = []
    junk = 0
    i = 0
    n = len(data)
    while i < n:
        if data[i] == 0xB5 and i + 6 <= n and data[i + 1] == 0x62:
            ln = data[i + 4] | data[i + 5] << 8
            raw = data[i : i + 8 + ln]
            try:
                m = UBXReader.parse(raw, msgmode=SET)
            except Exception:  # pyubx2 refuses it: the receiver does too
                junk += 1
                i += 1
                continue
            f = {k: v for k, v in vars(m).items() if not k.startswith("_")}
            out.append(Command("ubx", m.identity, f, raw))
            i += len(raw)
        elif data[i] == 0x24:
            e = data.find(b"\n", i)
            e = n if e < 0 else e + 1
            line = data[i:e]
            try:
                s = pynmea2.parse(line.decode("ascii").strip(), check=True)
                args = list(s.data)
                name = (
                    s.manufacturer + args[0] if isinstance(s, pynmea2.ProprietarySentence) else ""
                )
                out.append(Command("text", "P" + name, {"args": args[1:]}, line))
            except Exception:
                junk += len(line)
            i = e
        else:
            junk += 1
            i += 1
    return out, junk


# The receiver's own integrity reports (u-blox M8/M10 interface descriptions), by the key the
# tag configures their output with: CFG-MSG (class, id) on the M8, CFG-MSGOUT-*_UART1 on the M10.
REPORTS: dict[tuple[Any, Any], str] = {
    (0x0A, 0x38): "MON-RF",
    (0x01, 0x03): "NAV-STATUS",
    (0x27, 0x09): "SEC-SIG",
}
MSGOUT_UART1 = {
    "CFG_MSGOUT_UBX_MON_RF_UART1": "MON-RF",
    "CFG_MSGOUT_UBX_NAV_STATUS_UART1": "NAV-STATUS",
    "CFG_MSGOUT_UBX_SEC_SIG_UART1": "SEC-SIG",
}


# NMEA GSV (the per-satellite C/N0 the tag's integrity rules read): CFG-MSG F0 03 on the M8,
# CFG-MSGOUT-NMEA_ID_GSV_UART1 on the M10. On from the factory, once every epoch.
GSV = "GSV"
MSG_GSV = (0xF0, 0x03)
MSGOUT_GSV_UART1 = "CFG_MSGOUT_NMEA_ID_GSV_UART1"


def msg_rate(cmd: Command) -> tuple[str, int] | None:
    """(report, rate per epoch) a CFG-MSG sets on the port it came in on, for the reports in
    REPORTS and GSV; None for any other. The 3-byte form is the current port's rate (pyubx2 reads it
    as rateDDC); the 8-byte one names every port (the tag's is UART1)."""
    f = cmd.fields
    key = (f.get("msgClass"), f.get("msgID"))
    name = GSV if key == MSG_GSV else REPORTS.get(key)
    if name is None:
        return None
    return name, f["rateDDC"] if len(cmd.raw) == 11 else f.get("rateUART1", 0)


def report(name: str, jamming: int, spoofing: int, noise_db: float, itow_ms: int) -> bytes:
    """A report as the receiver sends it (pyubx2-built): jamming 0 unknown (monitor off or no
    fix yet), 1 ok, 2 warning, 3 critical; spoofing 0 unknown, 1 none, 2 indicated.
    MON-RF's jamInd (0-255) and agcCnt (0-8191) follow the noise rise: assumed figures
    (jamInd 5 a dB, the AGC 4000 at rest, 100 less a dB), evidence only."""
    if name == "MON-RF":
        return UBXMessage(
            "MON",
            "MON-RF",
            GET,
            version=0,
            nBlocks=1,
            blockId_01=0,
            jammingState_01=jamming,
            antStatus_01=2,  # OK
            agcCnt_01=max(0, 4000 - int(100 * noise_db)),
            jamInd_01=min(255, int(5 * noise_db)),
        ).serialize()
    if name == "NAV-STATUS":
        return UBXMessage(
            "NAV", "NAV-STATUS", GET, iTOW=itow_ms, spoofDetState=spoofing
        ).serialize()
    return UBXMessage(
        "SEC",
        "SEC-SIG",
        GET,
        version=1,
        jamDetEnabled=1 if jamming else 0,
        jammingState=jamming,
        spfDetEnabled=1,
        spoofingState=spoofing,
    ).serialize()


def ack(cmd: Command, ok: bool) -> bytes:
    """The ACK-ACK / ACK-NAK a u-blox receiver answers a CFG message with (pyubx2-built)."""
    return UBXMessage(
        "ACK", "ACK-ACK" if ok else "ACK-NAK", GET, clsID=cmd.raw[2], msgID=cmd.raw[3]
    ).serialize()

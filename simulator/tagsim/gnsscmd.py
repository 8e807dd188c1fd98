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


def ack(cmd: Command, ok: bool) -> bytes:
    """The ACK-ACK / ACK-NAK a u-blox receiver answers a CFG message with (pyubx2-built)."""
    return UBXMessage(
        "ACK", "ACK-ACK" if ok else "ACK-NAK", GET, clsID=cmd.raw[2], msgID=cmd.raw[3]
    ).serialize()

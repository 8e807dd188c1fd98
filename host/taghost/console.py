"""`opentag console --port PORT`: the tag's serial log through pyserial, decoded and readable.

The device prints (docs/device.md) one boot banner
`opentag-boot version=<v> board=<name> mpy=<n> cause=<c> mode=<normal|safe>` and log lines
`<t> <LEVEL> <module>: <text>` with `t` in seconds since 2000-01-01 UTC (the core's clock).
Each becomes one readable line (UTC time, level, module, text); the ESP32 ROM's reset lines
(`rst:0x.. (REASON)`) and anything else are shown as they are, control bytes removed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any, TextIO

from taghost.errors import EXIT_OK, UserError
from taghost.units import iso

LOG = re.compile(
    r"^(\d+)(?:\.(\d+))? (DEBUG|INFO|WARN|WARNING|ERROR|CRIT|CRITICAL) ([\w.]+): (.*)$"
)
ROM = re.compile(r"^rst:0x([0-9a-f]+) \((\w+)\)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def decode_line(line: str) -> dict[str, Any]:
    """One console line as a record: kind boot, log, reset or text."""
    line = CONTROL.sub("", line).rstrip()
    i = line.find("opentag-boot ")
    if i >= 0:
        fields = dict(p.split("=", 1) for p in line[i + 13 :].split() if "=" in p)
        return {"kind": "boot", **fields}
    m = LOG.match(line)
    if m:
        t = int(m.group(1))
        return {
            "kind": "log",
            "t": t,
            "utc": iso(t),
            "level": m.group(3).replace("WARNING", "WARN").replace("CRITICAL", "CRIT"),
            "module": m.group(4),
            "text": m.group(5),
        }
    m = ROM.match(line)
    if m:
        return {"kind": "reset", "code": int(m.group(1), 16), "reason": m.group(2)}
    return {"kind": "text", "text": line}


def render(rec: dict[str, Any]) -> str:
    kind = rec["kind"]
    if kind == "boot":
        rest = " ".join(f"{k}={v}" for k, v in rec.items() if k != "kind")
        return f"---- boot: {rest}"
    if kind == "log":
        return f"{rec['utc']} {rec['level']:<5} {rec['module']}: {rec['text']}"
    if kind == "reset":
        return f"---- reset: {rec['reason']} (rst:0x{rec['code']:x})"
    return f"   | {rec['text']}"


def follow(ser: Any, out: TextIO, seconds: float | None, as_json: bool, raw: bool) -> int:
    """Read lines from `ser` (a pyserial port) until `seconds` pass; returns lines shown."""
    end = None if seconds is None else time.monotonic() + seconds
    buf = b""
    shown = 0
    while end is None or time.monotonic() < end:
        chunk = ser.read(ser.in_waiting or 1)
        if not chunk:
            continue
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for b in lines:
            text = b.decode("utf-8", "replace")
            rec = decode_line(text)
            if rec["kind"] == "text" and not rec["text"]:
                continue
            if raw:
                out.write(CONTROL.sub("", text).rstrip() + "\n")
            else:
                out.write((json.dumps(rec) if as_json else render(rec)) + "\n")
            out.flush()
            shown += 1
    return shown


def cmd_console(args: argparse.Namespace) -> int:
    import serial

    try:
        ser = serial.Serial(args.port, args.baud, timeout=0.2)
    except (serial.SerialException, OSError) as e:
        raise UserError(f"cannot open {args.port}: {e}") from None
    try:
        follow(ser, sys.stdout, args.seconds, args.json, args.raw)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a console ends
    finally:
        ser.close()
    return EXIT_OK

"""`opentag console` against the virtual board: the serial log through pyserial, decoded."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from taghost.console import decode_line
from taghost.units import to_datetime
from taghost.vboard import VirtualBoard
from vboardkit import OPENTAG, opentag


def test_console_decodes_boot_and_log_lines(vboard: VirtualBoard, fw: Path) -> None:
    r = opentag(
        "deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware", str(fw)
    )
    assert r.returncode == 0, r.stdout + r.stderr
    for fmt in ((), ("--json",)):
        con = subprocess.Popen(
            [OPENTAG, "console", "--port", vboard.port, "--seconds", "4", *fmt],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # the console is listening: now cut the power
        vboard.power_cycle()
        out, err = con.communicate(timeout=30)
        assert con.returncode == 0, err
        if not fmt:
            when = to_datetime(850000000)
            lines = out.splitlines()
            assert any("---- reset: POWERON_RESET" in x for x in lines), out
            assert any(
                x.startswith("---- boot: version=test board=tbeam_v12_axp2101")
                and "cause=power_on" in x
                for x in lines
            ), out
            assert f"{when:%Y-%m-%dT%H:%M:%SZ} INFO  main: loop started" in lines, out
            assert any(x.endswith("ERROR uplink: POST failed: timeout") for x in lines), out
        else:
            recs = [json.loads(x) for x in out.splitlines()]
            boot = next(x for x in recs if x["kind"] == "boot")
            assert boot["board"] == "tbeam_v12_axp2101" and boot["mode"] == "normal"
            logs = [x for x in recs if x["kind"] == "log"]
            warn = next(x for x in logs if x["level"] == "WARN")
            assert warn == {
                "kind": "log",
                "t": 850000001,
                "utc": warn["utc"],
                "level": "WARN",
                "module": "gnss",
                "text": "no fix yet",
            }
            levels = [x["level"] for x in logs]
            assert levels.index("INFO") < levels.index("WARN") < levels.index("ERROR")
            assert logs[-1]["text"].startswith("alive, ")  # the heartbeat, after the boot


def test_decode_line_kinds() -> None:
    assert decode_line("\x04>12 INFO app: x")["kind"] == "text"  # REPL noise is not a log line
    assert decode_line("12 INFO app: x\r")["text"] == "x"
    assert decode_line("rst:0xc (SW_CPU_RESET),boot:0x13")["reason"] == "SW_CPU_RESET"
    assert decode_line("junk opentag-boot version=1 mode=safe")["mode"] == "safe"


def test_console_on_a_missing_port(tmp_path: Path) -> None:
    r = opentag("console", "--port", str(tmp_path / "nope"), "--seconds", "1")
    assert r.returncode == 2 and "cannot open" in r.stderr and "Traceback" not in r.stderr

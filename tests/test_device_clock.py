"""The device shell's clock in the real MicroPython unix port (the virtual board's interpreter,
host/taghost/vboard.py): its time.time() is a float there and an int on the ESP32, and the core
takes integer seconds (Store.append_event refuses anything else), so the shell's `now` must be
an int whichever port it runs on. The virtual board's `time` counts from 2000 as the ESP32
port's does (the unix port's from 1970), the epoch of the tag's time base."""

from __future__ import annotations

import re
import time
from pathlib import Path

from micropython_runner import run_micropython
from taghost.units import UNIX_2000  # the ESP32 port's time epoch, in Unix seconds
from taghost.vboard import VirtualBoard
from vboardkit import firmware_tree, mpremote, opentag

CODE = """
import time
from tagdevice import clock
from tagcore.store import record as R
from tagcore.store.log import Store
from tagkit.memfs import MemFs
raw = time.time()
t = clock.now()
print("RAW", type(raw).__name__)
print("NOW", type(t).__name__, abs(t - raw) < 2)
st = Store(MemFs(), t)
print("EVENT", st.append_event(R.EV_STATUS, clock.now(), b"vboard")[1])
"""


def test_the_shells_now_is_integer_seconds_on_the_unix_port() -> None:
    out = run_micropython(CODE, heap=256 * 1024)
    assert "RAW float" in out  # the port this guards against: a float clock
    assert "NOW int True" in out
    assert "EVENT True" in out


def test_the_device_shell_runs_on_the_virtual_board(vboard: VirtualBoard, tmp_path: Path) -> None:
    # The whole shell as deployed, on the virtual board's unix port and its real clock: it
    # used to log float timestamps and crash in the store's first append_event at boot.
    fw = firmware_tree(tmp_path / "shell", device_shell=True)
    r = opentag("deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware",
                str(fw))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    # before the fix the board reset in a loop: each boot's log lines and the crash, on the
    # console within a second; with it the shell sleeps quietly (no provisioning here)
    log = opentag("console", "--port", vboard.port, "--seconds", "6", "--raw", timeout=60)
    out = log.stdout
    assert "t must be an int" not in out and "crashed" not in out, out[-2000:]
    stamps = re.findall(r"^(\S+) (?:INFO|WARN|ERROR) ", out, re.M)
    assert all(s.isdigit() for s in stamps), out[-2000:]  # whole seconds, if it logs at all


def test_the_virtual_boards_clock_counts_from_2000_as_the_esp32s(
    vboard: VirtualBoard, fw: Path
) -> None:
    # The tag's time base (tagdevice.clock) is the ESP32 port's: seconds since 2000. The unix
    # port's counts from 1970, so on the virtual board the tag's clock read 30 years ahead.
    r = opentag("deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware",
                str(fw))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    code = (
        "import time\nfrom tagdevice import clock\n"
        "print('NOW', clock.now(), time.gmtime(0)[0], time.gmtime(clock.now())[0])"
    )
    r = mpremote(vboard.port, "exec", code)
    m = re.search(r"NOW (\d+) (\d+) (\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    utc_2000 = int(time.time()) - UNIX_2000
    assert abs(int(m.group(1)) - utc_2000) <= 60, (m.group(1), utc_2000)
    # and the calendar the port reads from it is the ESP32's too: gmtime(0) is 2000
    assert int(m.group(2)) == 2000 and int(m.group(3)) == time.gmtime().tm_year

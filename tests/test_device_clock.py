"""The device shell's clock in the real MicroPython unix port (the virtual board's interpreter,
host/taghost/vboard.py): its time.time() is a float there and an int on the ESP32, and the core
takes integer seconds (Store.append_event refuses anything else), so the shell's `now` must be
an int whichever port it runs on."""

from __future__ import annotations

from micropython_runner import run_micropython

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

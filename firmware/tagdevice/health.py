# Staying alive: the watchdog, fed only while the loop is healthy, and the crash-loop counter
# that sends a tag which keeps resetting into safe mode (which still logs and reports).
#
# The counter is a file, /crash, so it survives power loss as well as resets: a board that
# browns out at every boot counts too. It goes up at every boot that is not a deep-sleep wake
# and back to 0 once a run has been healthy for HEALTHY_S (or goes to deep sleep).
from tagcore.compat import const

CRASH_FILE = "/crash"
CRASH_LIMIT = const(3)  # this many boots in a row without a healthy run: safe mode
HEALTHY_S = const(300)
WDT_MS = const(60000)  # longer than the longest step (Wi-Fi 15 s + HTTP 10 s) twice over


def _read():
    try:
        with open(CRASH_FILE, "rb") as f:
            return int(f.read(8))
    except (OSError, ValueError):
        return 0


def _write(n):
    try:
        with open(CRASH_FILE, "wb") as f:
            f.write(b"%d" % n)
    except OSError:
        pass


def count_boot(deepsleep_wake):
    """The boots in a row so far, this one included."""
    n = _read()
    if deepsleep_wake:
        return n
    n += 1
    _write(n)
    return n


def clear():
    if _read():
        _write(0)


class Watchdog:
    def __init__(self, timeout_ms=WDT_MS):
        from machine import WDT

        self.wdt = WDT(timeout=timeout_ms)
        self.timeout_ms = timeout_ms
        self.fed = 0

    def feed(self):
        self.wdt.feed()
        self.fed += 1

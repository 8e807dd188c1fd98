# The shell's one clock: seconds since 2000-01-01 (the ESP32 port's time.time() epoch) and a
# millisecond tick. Nothing else in the shell reads time, so the unix-port test board
# (tests/mpy/device_board.py) swaps these three for its virtual clock, whose time moves only
# when the firmware sleeps.
import time


def now():
    """Seconds since 2000 as an int: the ESP32 port's time.time() is an int, the unix port's
    a float, and the core takes integer seconds only."""
    return int(time.time())


ticks_ms = time.ticks_ms
sleep_ms = time.sleep_ms
ticks_diff = time.ticks_diff

# The beacon's clock keeper: saves the time every SAVE_EVERY_S (2 min), and after a power
# cut (the RTC reads earlier than the saved time) sets the RTC back to the saved time.
# Usage: beacon_clock_run.py FAKE_DIR CLOCK_FILE
import sys

sys.path.insert(0, sys.argv[1])
import machine  # the fake, found through the path above
from beacon.app import SAVE_EVERY_S, ClockKeeper, now2000

path = sys.argv[2]
k = ClockKeeper(path)
t = 830000000
print("fresh", k.restore(t), machine.SET)  # no file yet: the clock is taken as it is
k.tick(t)
k.tick(t + SAVE_EVERY_S - 1)  # within the period: not saved again
with open(path) as f:
    print("saved", f.read())
k.tick(t + SAVE_EVERY_S)
k2 = ClockKeeper(path)
print("after_cut", k2.restore(5), machine.SET)  # power cut: the RTC restarted near 2000
print("good_clock", k2.restore(t + 7200))
print("now2000", now2000() > 800000000)

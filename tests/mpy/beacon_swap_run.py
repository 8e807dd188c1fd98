# Battery swaps of 1-10 min at every moment of the beacon's save cycle: the beacon's main loop
# wakes at least once a minute and calls ClockKeeper.tick; at the cut the RTC restarts near
# 2000 and restore() sets it back to the saved time. Prints, per swap, the clock's lag after
# it (true time - restored time, s) for each cut moment.
# Usage: beacon_swap_run.py FAKE_DIR CLOCK_FILE
import os
import sys

sys.path.insert(0, sys.argv[1])
import machine  # the fake, found through the path above
from beacon.app import SAVE_EVERY_S, ClockKeeper

path = sys.argv[2]
T0 = 830000000
print("save_every", SAVE_EVERY_S)
for swap in range(60, 601, 60):
    lags = []
    for cut in range(0, 3600, 37):  # the cut falls anywhere in an hour
        machine.SET.clear()
        try:
            os.remove(path)
        except OSError:
            pass
        k = ClockKeeper(path)
        k.restore(T0)
        t = T0
        while t + 60 <= T0 + 3600 + cut:
            t += 60
            k.tick(t)
        t_cut = T0 + 3600 + cut
        back = ClockKeeper(path).restore(5)
        lags.append(t_cut + swap - back)
    print("swap", swap, " ".join(str(x) for x in lags))

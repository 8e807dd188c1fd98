# A stand-in for the device shell's main.py (the host tools' tests: a log known in advance,
# without a receiver; the README test deploys the real one): prints the boot
# banner and log lines of docs/device.md and, on a board whose log is empty, logs the walk of
# taghost.samplelog through the real store (so that pull, replay and report have a log to read);
# then a heartbeat log line every 2 s.
import json
import math
import os
import sys
import time

import machine
from tagcore import events
from tagcore.fix import Fix
from tagcore.geo import DM_PER_UDEG_DEN, DM_PER_UDEG_NUM
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs

T0 = 850000000
# the core's metres per degree, as taghost.units.M_PER_DEG derives it (samplelog's walk uses it)
M_PER_DEG = DM_PER_UDEG_NUM * 100000 / DM_PER_UDEG_DEN
_b = json.load(open("/prov/board.json"))
_c = {1: "power_on", 2: "hard", 3: "watchdog", 4: "deep_sleep", 5: "soft"}
_cause = _c.get(machine.reset_cause(), "other")
_mpy = sys.implementation._mpy
print(f"opentag-boot version=test board={_b['id']} mpy={_mpy} cause={_cause} mode=normal")
print("850000000 INFO main: loop started")
try:
    os.mkdir("/log")
except OSError:
    pass
fresh = not os.listdir("/log")
store = Store(OsFs("/log"), now=T0)
if fresh:
    lon_m = M_PER_DEG * math.cos(math.radians(50.73))
    for k in range(160):
        if 100 <= k < 112:
            continue
        t = T0 + k * 5
        lat = round((50.73 + 6.0 / M_PER_DEG) * 1e6)
        lon = round((-1.86 + k * 5 * 1.4 / lon_m) * 1e6)
        store.append_fix(t, Fix(t, 0, lat, lon, 300, 140, 9000, 40 + (k % 7) * 6, 80, 9, 1, 3, 0))
    kind, data = events.encode(events.LowBattery(T0 + 700, 20))
    store.append_event(kind, T0 + 700, data)
    store.flush()
    print("850000001 INFO store: logged the sample walk")
print("850000001 WARN gnss: no fix yet")
print("850000002 ERROR uplink: POST failed: timeout")
n = 0
while True:  # the loop's heartbeat, every 2 s
    time.sleep_ms(2000)
    n += 1
    print(f"{T0 + 2 * n} INFO main: alive, {len(store.segs)} segments")

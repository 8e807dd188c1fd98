# A stand-in for the device shell's main.py (until it lands): prints the boot banner and the log
# line format of docs/device.md, then idles as the device loop would.
import json
import sys
import time

import machine

_b = json.load(open("/prov/board.json"))
_c = {1: "power_on", 2: "hard", 3: "watchdog", 4: "deep_sleep", 5: "soft"}
_cause = _c.get(machine.reset_cause(), "other")
_mpy = sys.implementation._mpy
print(f"opentag-boot version=test board={_b['id']} mpy={_mpy} cause={_cause} mode=normal")
print("850000000 INFO main: loop started")
print("850000001 WARN gnss: no fix yet")
print("850000002 ERROR uplink: POST failed: timeout")
while True:
    time.sleep_ms(100)

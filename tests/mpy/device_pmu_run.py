# tagdevice.pmu against the fake I2C bus holding a PMU's register file. stdin: one case a line,
# "CHIP RAIL_REG RAIL_BIT REG=VAL,REG=VAL,..." (hex); prints for each: the rail register after
# off and after on, battery mV, charging, percentage; then with the bus failing: the same reads.
import sys

from machine import I2C
from tagdevice.pmu import Pmu

for line in sys.stdin:
    p = line.split()
    if not p:
        continue
    bus = I2C(0)
    for kv in p[3].split(","):
        k, v = kv.split("=")
        bus.regs[(0x34, int(k, 16))] = int(v, 16)
    pmu = Pmu(bus, p[0], 0x34, int(p[1], 16), int(p[2]))
    reg = int(p[1], 16)
    pmu.gnss_rail(False)
    off = bus.regs.get((0x34, reg), 0)
    pmu.gnss_rail(True)
    on = bus.regs.get((0x34, reg), 0)
    print("R", off, on, pmu.battery_mv(), pmu.charging(), pmu.battery_pct())
    bus.fail = True
    print("F", pmu.gnss_rail(True), pmu.battery_mv(), pmu.charging(), pmu.battery_pct(), pmu.errors)

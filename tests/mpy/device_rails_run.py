# tagdevice.rails against the fake I2C bus. argv: profile paths. For each: every bit of every
# register the profile names set (the unrelated ones too), then rails.off and the display
# sleep; prints "R path reg value ..." and "D sent"; then with the bus failing:
# "F path errors left-names".
import json
import sys

from machine import I2C
from tagdevice import rails
from tagdevice.pmu import Pmu

for path in sys.argv[1:]:
    b = json.load(open(path))
    gp = b["gnss_power"]
    po = b["pmu_outputs"]
    a = gp["i2c_addr"]
    regs = sorted(set([gp["reg"]] + [rb[0] for p in ("keep", "off") for rb in po[p].values()]))
    bus = I2C(0)
    bus.devices = {a, 60}
    for r in regs:
        bus.regs[(a, r)] = 0xFF
    pmu = Pmu(bus, gp["chip"], a, gp["reg"], gp["bit"])
    left = rails.off(pmu, po)
    print("R", path, " ".join(f"{r} {bus.regs[(a, r)]}" for r in regs), len(left))
    print("D", rails.display_sleep(bus, 60), bus.regs.get((60, 0)))
    bus.devices = {a}
    print("N", rails.display_sleep(bus, 60))
    bus.fail = True
    e0 = pmu.errors
    left = rails.off(pmu, po)
    print("F", path, pmu.errors - e0, " ".join(sorted(left)))

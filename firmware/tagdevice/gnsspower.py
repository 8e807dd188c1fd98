# The device shell's half of GNSS power: carries out tagcore.gnss.power's actions as they stand.
#   ("uart", bytes)                         written to the receiver
#   ("rail", ("i2c", addr, reg, mask, v))   read-modify-write of a PMU register (AXP192 LDO3,
#                                           AXP2101 ALDO3/ALDO4): the other outputs keep their bits
#   ("rail", ("gpio", pin, level))          the load switch's pin, held through deep sleep
# Device-only (machine). A bus error is counted, never raised: the state machine's own timeout
# (no output after rail-on) then decides what happens.
from machine import Pin


class GnssActions:
    # rail_on: the profile's rail-on action (tagcore.gnss.rail.rail_action): `powered` follows
    # the rail actions carried out, so the shell knows when the receiver can talk.
    def __init__(self, uart, i2c=None, rail_on=None):
        self.uart = uart
        self.i2c = i2c
        self.rail_on = rail_on
        self.powered = rail_on is None  # no rail control: the receiver is always powered
        self.counts = {}

    def _bump(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def run(self, power):
        """Carry out every action the power state machine has queued."""
        while True:
            a = power.pop()
            if a is None:
                return
            self.do(a)

    def do(self, a):
        if a[0] == "uart":
            self.uart.write(a[1])
            return
        r = a[1]
        if r is None:
            return
        self.powered = r == self.rail_on
        if r[0] == "i2c":
            if self.i2c is None:
                self._bump("no_i2c")
                return
            _, addr, reg, mask, value = r
            try:
                b = self.i2c.readfrom_mem(addr, reg, 1)[0]
                self.i2c.writeto_mem(addr, reg, bytes(((b & ~mask) | value,)))
            except OSError:
                self._bump("i2c_error")
        elif r[0] == "gpio":
            # a held pin ignores writes: release, drive, hold again (ESP32 port's hold=)
            p = Pin(r[1], Pin.OUT, hold=False)  # type: ignore[call-arg]
            p.value(r[2])
            p.init(Pin.OUT, hold=True)  # type: ignore[call-arg]
        else:
            self._bump("unknown_action")

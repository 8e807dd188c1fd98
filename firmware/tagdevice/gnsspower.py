# The device shell's half of GNSS power: carries out tagcore.gnss.power's actions as they stand.
#   ("uart", bytes)                         written to the receiver
#   ("rail", ("i2c", addr, reg, mask, v))   read-modify-write of a PMU register (AXP192 LDO3,
#                                           AXP2101 ALDO3/ALDO4): the other outputs keep their bits
#   ("rail", ("gpio", pin, level))          the load switch's pin, held through deep sleep
# Device-only (machine). A bus error is counted, never raised: the state machine's own timeout
# (no output after rail-on) then decides what happens.
#
# ModelPlan is the shell loop's receiver side with the model plan (cfg.gnss_plan 1): loaded
# only then, so the fixed plan's shell does not carry it.
from machine import Pin

from tagdevice import log

# The app gives the power state machine whole seconds (TagApp: now * 1000); a command queued
# late in one second may be written and answered in the next: one second more for its ACK
# than the state machine's 1 s, or every such reply would count as a timeout and be resent.
ACK_MS = 2000


def board_gnss(board, battery_mah):
    """TagApp's `gnss` (tagcore.gnss.profile.gnss_for) for the board profile, or None (logged):
    the fixed plan."""
    from tagcore.gnss.profile import gnss_for

    try:
        g = gnss_for(board, battery_mah, ACK_MS)
    except (KeyError, TypeError, ValueError) as e:  # a profile without the receiver's model
        log.error("gnss", f"board.json has no receiver model ({e!r}): fixed plan")
        return None
    if g is None:
        log.warn("gnss", "no driver for this receiver: fixed plan")
    return g


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


class ModelPlan:
    """The receiver in the shell's loop with the model plan: the app's queued actions carried
    out at the end of each pass (carry_out), the UART read while the app listens (step), the
    state machine's outcomes logged as they change (every NAK, timeout and bus error, by
    name)."""

    def __init__(self, app, pump, feed, i2c, gnss_power):
        from tagcore.gnss.rail import rail_action

        self.app = app
        self.pump = pump
        self.feed = feed  # the shell's GnssFeed: the app's uart / uart_idle at `now`
        self.acts = GnssActions(pump.uart, i2c, rail_action(gnss_power, True))
        self.listening = False
        self.seen = {}

    def step(self, now, ms):
        """The receiver's part of a pass; returns whether its rail is on."""
        app = self.app
        powered = self.carry_out()
        listen = bool(app.gnss_listen and powered)
        if listen and not self.listening:
            # The MCU slept: the UART ring kept the oldest bytes (the ESP32 driver drops what
            # comes when it is full), epochs up to a sleep old. Not today's position: dropped.
            self.pump.discard()
        self.listening = listen
        if listen:
            # What the replies set in motion is carried out at the end of the pass: the state
            # machine's clock is whole seconds, and a command written now could meet a
            # timeout tick (wake) before its reply is read; after the write the MCU sleeps,
            # and the next pass reads the reply before anything ticks.
            self.feed.now = now
            self.pump.poll(ms)
        return powered

    def carry_out(self):
        """Every action the app has queued, in order; returns whether the rail is on."""
        app = self.app
        acts = self.acts
        for a in app.take_gnss_actions():
            acts.do(a)
        pw = app.power
        if pw is not None:
            seen = self.seen
            for c in (pw.counts, acts.counts):
                for k in c:
                    if seen.get(k) != c[k]:
                        seen[k] = c[k]
                        (log.info if k == "ack" else log.warn)("gnss", f"power {k}={c[k]}")
        return acts.powered

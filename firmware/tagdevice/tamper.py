# Tamper inputs: the strap's continuity loop and the case switch, each on a GPIO with a pull-up
# (closed: the loop pulls it low; cut or opened: high). An edge stamps the time in the IRQ
# handler (no allocation there); poll() reports an input once it has stayed active for
# DEBOUNCE_MS, stamped with its first edge, so the stored event is within a second of the
# cut, well inside NIJ 1004.00's 5 s. Deep sleep arms the idle inputs as ext1 wake sources;
# an input still active is not armed again (it would wake the tag at once, forever).
from machine import Pin
from tagcore.compat import const

from tagdevice import clock

DEBOUNCE_MS = const(50)
ACTIVE = const(1)  # the level of a cut strap / an open case (pull-up, loop to ground)


class Tamper:
    def __init__(self, inputs, reported=0):
        """inputs: ((kind, gpio), ...); reported: bit i set if input i was reported already
        (kept in RTC memory across deep sleep)."""
        self.kinds = [k for k, _ in inputs]
        self.pins = [Pin(g, Pin.IN, Pin.PULL_UP) for _, g in inputs]
        n = len(inputs)
        self.edge_ms = [0] * n  # type: list
        self.stamp = [0] * n  # seconds since 2000 of the first edge not yet decided
        self.pending = [False] * n
        self.reported = reported
        now = clock.now()
        ms = clock.ticks_ms()
        for i in range(n):
            self.pins[i].irq(self._irq, Pin.IRQ_RISING | Pin.IRQ_FALLING)
            if self.pins[i].value() == ACTIVE and not reported & (1 << i):
                self.pending[i] = True  # active at boot (a deep-sleep wake by this input)
                self.stamp[i] = now
                self.edge_ms[i] = ms

    def _irq(self, pin):
        for i in range(len(self.pins)):
            if self.pins[i] is pin:
                if not self.pending[i]:
                    self.pending[i] = True
                    self.stamp[i] = clock.now()
                self.edge_ms[i] = clock.ticks_ms()

    def poll(self, now_ms):
        """[(kind, stamped time)] of inputs that became active and stayed so."""
        out = None
        for i in range(len(self.pins)):
            if not self.pending[i] or clock.ticks_diff(now_ms, self.edge_ms[i]) < DEBOUNCE_MS:
                continue
            self.pending[i] = False
            bit = 1 << i
            if self.pins[i].value() == ACTIVE:
                if not self.reported & bit:
                    self.reported |= bit
                    if out is None:
                        out = []
                    out.append((self.kinds[i], self.stamp[i]))
            else:
                self.reported &= ~bit  # restored (strap replaced): the next cut is new
        return out

    def busy(self):
        """An edge is waiting for its debounce."""
        for p in self.pending:
            if p:
                return True
        return False

    def arm_deepsleep(self):
        try:
            import esp32
        except ImportError:
            return
        idle = [self.pins[i] for i in range(len(self.pins)) if not self.reported & (1 << i)]
        esp32.wake_on_ext1(idle, esp32.WAKEUP_ANY_HIGH)

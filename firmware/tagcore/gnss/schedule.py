# When to start the receiver and how long to let it search, per fix: Meshtastic's scheduler
# (src/gps/GPSUpdateScheduling.cpp) without the failures its users report.
#
# - Predicted lock time: an exponential average of how long locks took (weight 1/4), the first
#   lock after power-up ignored (it is cold and says nothing about the next hot start). Until
#   there is one, the profile's mean field TTFF of the expected start.
# - Early start: the receiver is started the predicted lock time before the fix is due, so the
#   fix lands on time; the MCU sleeps through the acquisition (the shell is told when to wake).
# - Search cap: energy.search_cap_s: never below twice the worst field TTFF of the start, and
#   after a failure never below twice the worst cold start (Meshtastic issue 5132: a 5-min cap
#   after failure stopped searches a cold start needed).
# - Back-off after failure: the gap to the next attempt doubles per consecutive failure up to
#   BACKOFF_MAX_S, never while `near` (a zone or the victim is close: those checks do not
#   degrade), and never longer than the fix interval times 2**k. A lock resets it.
# Integers: seconds; `now` is an argument.
from tagcore.compat import const
from tagcore.gnss.energy import mean_s, search_cap_s, start_quantiles

BACKOFF_MAX_S = const(600)
_W = const(4)  # exponential average weight 1/_W


class SearchSchedule:
    def __init__(self, rx):
        self.rx = rx  # energy.Receiver of the board
        self.pred_s = 0  # 0: no lock measured yet
        self.locks = 0
        self.failures = 0  # consecutive
        self.counts = {}

    def predicted_s(self, mode, interval_s):
        """The lock time expected for the next fix."""
        if self.failures:
            return mean_s(self.rx.cold_s)
        if self.pred_s:
            return self.pred_s
        return mean_s(start_quantiles(mode, interval_s, self.rx))

    def plan(self, due, mode, interval_s):
        """(start at, give up at) for the fix due at `due`."""
        start = due - self.predicted_s(mode, interval_s)
        cap = search_cap_s(mode, interval_s, self.rx, self.failures > 0)
        return start, start + cap

    def next_due(self, last_due, interval_s, near=False):
        """When the next fix is due after the one due at last_due."""
        if near or not self.failures:
            return last_due + interval_s
        gap = interval_s << min(self.failures, 8)
        return last_due + max(interval_s, min(gap, BACKOFF_MAX_S))

    def locked(self, took_s):
        """A fix came took_s after the receiver was started."""
        self.locks += 1
        self.failures = 0
        if self.locks == 1:  # the first lock after power-up is cold: not a prediction
            return
        if not self.pred_s:
            self.pred_s = took_s
        else:
            self.pred_s = (self.pred_s * (_W - 1) + took_s + _W - 1) // _W

    def failed(self):
        """The search ran to its cap without a fix."""
        self.failures += 1
        self.counts["failed"] = self.counts.get("failed", 0) + 1

    def power_cycled(self):
        """The receiver lost power (rail cut without backup): its first lock is cold again."""
        self.locks = 0

# The fix filter: the gate every fix passes before anything else (store, zones) sees it.
# A rejected fix is counted by reason and goes no further; nothing else in the core has to ask
# "is this fix usable?". An outlier accepted before the track was known (a jump, a time stamped
# in the future) is replaced once consistent fixes after it prove it wrong (re-anchoring).
from tagcore.compat import const
from tagcore.geo import dist_dm

DEFAULT_MAX_ACC_DM = const(1000)  # 100 m: indoor fixes (30 m typical) still count
DEFAULT_MAX_SPEED_CMS = const(9000)  # 90 m/s: a high-speed train, faster than any wearer
DEFAULT_REANCHOR = const(3)  # consistent "jumps" in a row that prove the last fix was the outlier


def _dt_ms(a, b):
    return (b.t - a.t) * 1000 + b.ms - a.ms


class FixFilter:
    def __init__(
        self,
        max_acc_dm=DEFAULT_MAX_ACC_DM,
        max_speed_cms=DEFAULT_MAX_SPEED_CMS,
        require_accuracy=True,
        reanchor=DEFAULT_REANCHOR,
    ):
        self.max_acc_dm = max_acc_dm
        self.max_speed_cms = max_speed_cms
        self.require_accuracy = require_accuracy
        self.reanchor = reanchor
        self.counts = {}
        self.accepted = 0
        self.last = None  # the last accepted fix
        self.cand = None  # the last fix rejected as a jump, and how many agree with it
        self.cand_n = 0

    def check(self, f):
        """True if the fix may be used; otherwise the reason is counted in self.counts."""
        why = self._reason(f)
        if why is None:
            self.last = f
            self.accepted += 1
            return True
        self.counts[why] = self.counts.get(why, 0) + 1
        return False

    def _reason(self, f):
        if f.quality == 0 or f.lat is None or f.lon is None:
            return "no_fix"
        q = f.quality
        if q >= 6:  # GGA qualities that are not a satellite fix
            return "estimated" if q == 6 else ("manual" if q == 7 else "simulated")
        if f.lat == 0 and f.lon == 0:
            return "zero_position"
        if f.acc_dm is None:
            if self.require_accuracy:
                return "no_accuracy"
        elif f.acc_dm > self.max_acc_dm:
            return "poor_accuracy"
        last = self.last
        if last is None:
            return None
        dt = _dt_ms(last, f)
        if dt == 0:
            return "duplicate_time"
        if dt > 0 and self._plausible(last, f, dt):
            self.cand = None
            self.cand_n = 0
            return None
        # The new fix or the last accepted one is wrong (a jump, or a last fix stamped in the
        # future). If several new fixes in a row agree with each other, in time and space, the
        # outlier was the last accepted one: start again from them.
        c = self.cand
        dc = _dt_ms(c, f) if c is not None else 0
        if dc > 0 and self._plausible(c, f, dc):
            self.cand_n += 1
        else:
            self.cand_n = 1
        self.cand = f
        if self.cand_n >= self.reanchor:
            self.cand = None
            self.cand_n = 0
            self.counts["reanchored"] = self.counts.get("reanchored", 0) + 1
            return None
        return "time_backwards" if dt < 0 else "jump"

    def _plausible(self, a, b, dt):
        # Reachable at the speed limit, with both fixes' accuracy as slack.
        reach = self.max_speed_cms * dt // 10000 + (a.acc_dm or 0) + (b.acc_dm or 0)
        return dist_dm(a.lat, a.lon, b.lat, b.lon) <= reach

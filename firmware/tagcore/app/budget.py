# The battery budget: what each action costs (from the board profile), how long the battery
# lasts at the present plan, and which plan meets the target life (cfg.power_target_h). Sans-I/O
# and integer: currents in uA, charge in uAh, times in seconds (lives in minutes, so a 3,000 mAh
# cell never needs a big integer on a 32-bit port). Imported only with the model plan.
#
#   b = Budget(cfg, costs, rx, now)      costs: Costs (tagcore.gnss.profile.budget_costs)
#   b.scanned(ms)                        a BLE scan ran for ms (the proximity core's cadence)
#   ch = b.update(now, pct)              the battery reading: returns 0, or a bit set of
#                                        CH_LEVEL (b.level changed), CH_LOW, CH_CRITICAL
#   ch = b.check(now)                    between readings: CH_LOW / CH_CRITICAL when due
#   b.next_check(now)                    when the next warning falls due (wake the tag then)
#   b.level, b.fix_x, b.upload_x, b.scan_x, b.left_min
#
# Degradation, in this order (each level keeps what the ones before it kept):
#   0  as configured
#   1  regular uploads every 2 intervals                 (alerts still go out at once)
#   2  uploads every 4; BLE scans away from the victim every 2 of the proximity core's slots
#   3  the baseline fix interval x2 (120 s): the 1-minute trail becomes 2 minutes away from
#      every zone; near a zone or the victim the zone and proximity cores' 15 s still rule
#   4  baseline x5 (300 s), uploads every 8, scans every 4 slots away from the victim
# Never degraded: the zone core's wanted interval near a zone (zone and curfew checks), the
# drive-through guard, alerts at once, the proximity core's urgent scans and fixes.
#
# The projection: the model's draw at a level (base + receiver per fix from energy.choose + MCU
# per fix + uploads + scans, + the MCU's light sleep between fixes where the app's one sleep
# rule, tagcore.app.app.deep_sleep_ok, keeps it from deep sleep: a zone or proximity core, a
# receiver in backup), scaled by what the battery really lost since the period began against
# what the model said it would (a factor in permille, 0.5x-3x, once 5 % and an hour have gone).
# Hysteresis: a level is left for a cheaper one only if the cheaper one meets the target with
# 10 % to spare; the plan therefore alternates around the target instead of overshooting it.
# Warnings: CH_LOW when the projected life falls to LOW_MIN (time to reach a charger), CH_CRITICAL
# at CRITICAL_MIN: an hour, twice the ~30 min commercial tags give. Each once per discharge.
# One percent of 3,000 mAh is 2-3 hours of wear, so the charge left is the last reading's less
# what the corrected model drew since it changed, and the tag wakes when a warning falls due.
from collections import namedtuple

from tagcore.compat import const

Costs = namedtuple(
    "Costs",
    (
        "base_ua",  # everything asleep: board, MCU deep sleep, the link's sleep, receiver off
        "mcu_fix_uas",  # the MCU awake per fix (wake, reading epochs through a hot start)
        "upload_uas",  # one upload (radio and MCU)
        "scan_ua",  # the BLE radio and MCU while scanning
        "capacity_uah",  # the cell (cfg.battery_mah, else the board's typical battery)
        "light_ua",  # the MCU in light sleep instead of deep (tagcore.app.app.deep_sleep_ok)
        "listen_s",  # seconds per fix the MCU reads epochs (charged in mcu_fix_uas, not asleep)
    ),
)

CH_LEVEL = const(1)
CH_LOW = const(2)
CH_CRITICAL = const(4)
LOW_MIN = const(240)  # 4 h: time to get to a charger
CRITICAL_MIN = const(60)  # twice the ~30 min floor of commercial tags
# (fix interval x, upload interval x, scan gap x) per level
LEVELS = ((1, 1, 1), (1, 2, 1), (1, 4, 2), (2, 4, 2), (5, 8, 4))
SPARE_PCT = const(10)
CAL_PCT = const(5)
_K_MIN = const(500)
_K_MAX = const(3000)


class Budget:
    def __init__(self, cfg, costs, rx, now):
        self.cfg = cfg
        self.c = costs
        self.rx = rx
        self.level = 0
        self.left_min = -1  # projected life at the present level, minutes; -1 not known
        self.warned = 0  # CH_LOW | CH_CRITICAL given this discharge
        self.t0 = now  # the period began (boot, or the charger last raised the battery)
        self.pct0 = -1
        self.last_pct = -1
        self.last_t = now
        self.read_t = now  # the reading last changed here
        self.read_uah = 0  # ... to this much charge
        self.model_uah = 0  # what the model said was drawn since t0
        self.scan_ms = 0  # scan time since t0
        self.k = 1000  # measured / model, permille
        self.held = False  # RAM a deep sleep would lose (TagApp.held, set at each plan)
        self.counts = {}

    @property
    def fix_x(self):
        return LEVELS[self.level][0]

    @property
    def upload_x(self):
        return LEVELS[self.level][1]

    @property
    def scan_x(self):
        return LEVELS[self.level][2]

    def scanned(self, ms):
        self.scan_ms += ms

    def draw_ua(self, now, level):
        """The model's mean current at `level` (uA), before the measured correction."""
        from tagcore.app.app import GNSS_OFF, deep_sleep_ok
        from tagcore.gnss.energy import choose

        c = self.c
        fx, ux, sx = LEVELS[level]
        iv = self.cfg.fix_interval_s * fx
        mode, q = choose(iv, self.rx)
        ua = c.base_ua + q // iv + c.mcu_fix_uas // iv
        asleep = iv - c.listen_s  # the MCU's sleep between fixes: deep or light, by the rule
        if asleep > 0 and not deep_sleep_ok(self.held, mode == GNSS_OFF, False, asleep):
            ua += c.light_ua * asleep // iv
        ua += c.upload_uas // (self.cfg.upload_interval_s * ux)
        el = now - self.t0
        if el > 0 and self.scan_ms:  # the scan duty seen so far, stretched by the level
            ua += c.scan_ua * (self.scan_ms // 1000) // el // sx
        return ua

    def update(self, now, pct):
        ch = 0
        cap = self.c.capacity_uah
        if self.last_pct >= 0 and pct > self.last_pct:  # charging: a new period
            self.t0, self.pct0, self.model_uah, self.scan_ms = now, pct, 0, 0
            self.warned = 0
            self.k = 1000
        if self.pct0 < 0:
            self.pct0 = pct
        dt = now - self.last_t
        if dt > 0:
            self.model_uah += self.draw_ua(now, self.level) * dt // 3600
        self.last_t = now
        if pct != self.last_pct:  # a gauge floors: just below pct + 1 % when it steps down
            top = pct + 1 if 0 <= pct < self.last_pct and pct < 100 else pct
            self.read_t, self.read_uah = now, top * cap // 100
        self.last_pct = pct
        used = (self.pct0 - pct) * cap // 100
        # calibrate once enough has gone that one percent step (and a boot's cold start and
        # first upload) cannot swing it: 5 % and an hour
        if self.pct0 - pct >= CAL_PCT and now - self.t0 >= 3600 and self.model_uah > 0:
            k = used * 1000 // self.model_uah
            self.k = _K_MIN if k < _K_MIN else _K_MAX if k > _K_MAX else k
        left = self.read_uah
        target = self.cfg.power_target_h
        lv = self.level
        if target > 0:
            need = (self.t0 + target * 3600 - now) // 60
            lv = len(LEVELS) - 1
            for i in range(len(LEVELS)):  # the first level that meets the target
                m = self._life_min(left, i, now)
                spare = need * (100 + SPARE_PCT) // 100 if i < self.level else need
                if m >= spare:
                    lv = i
                    break
        if lv != self.level:
            self.level = lv
            ch |= CH_LEVEL
        return ch | self.check(now)

    def _draw(self, now):
        ua = self.draw_ua(now, self.level) * self.k // 1000
        return ua if ua > 0 else 1

    def check(self, now):
        """Warnings due at `now` (the charge left interpolated since the last reading)."""
        used = self._draw(now) * (now - self.read_t) // 3600
        left = self.read_uah - used if used < self.read_uah else 0
        self.left_min = self._life_min(left, self.level, now)
        ch = 0
        if self.left_min <= CRITICAL_MIN and not self.warned & CH_CRITICAL:
            self.warned |= CH_CRITICAL | CH_LOW
            ch |= CH_CRITICAL
        elif self.left_min <= LOW_MIN and not self.warned & CH_LOW:
            self.warned |= CH_LOW
            ch |= CH_LOW
        return ch

    def next_check(self, now):
        """When the next warning falls due at the present draw (a time after now)."""
        if self.warned & CH_CRITICAL or self.left_min < 0:
            return 1 << 62
        lim = LOW_MIN if not self.warned & CH_LOW else CRITICAL_MIN
        d = (self.left_min - lim) * 60
        return now + (d if d > 60 else 60)

    def _life_min(self, left_uah, level, now):
        ua = self.draw_ua(now, level) * self.k // 1000
        return left_uah * 60 // (ua if ua > 0 else 1)

# Accuracy-aware zone and curfew monitoring, and loss of location. Sans-I/O: the shell hands
# in fixes (already through the fix filter) and `now`, and carries out the alerts that come back.
#
#   m = ZoneMonitor(blob)          # blob from `opentag zones compile`; m.error is None or why not
#   m.load(blob)                   # replace the config; a bad blob keeps the old one, returns why
#   alerts = m.on_fix(now, fix)    # a tuple of Alert (usually empty)
#   alerts = m.on_no_fix(now)      # awake, receiver on, no valid fix at `now`
#   m.wanted_interval(now)         # seconds until the next fix is wanted (fast near zones)
#   m.counts                       # {reason: count}
# Alert records, their kinds and their store codec live in tagcore.events (events.encode(a)).
#
# Per zone and fix: e = how far the fix's centre is inside the forbidden region (inside an
# exclusion zone, or outside an inclusion zone during one of its windows), in dm, negative when
# it is not, and a = the fix's accuracy radius. The rule (docs/zones.md):
#   clear      e + a <= -warning ring
#   warning    the accuracy circle reaches into the warning ring: sample fast, tell the wearer
#   possible   the accuracy circle overlaps the forbidden region (e + a > 0)
#   breach     confirmed by confirm_n consecutive fixes, spanning >= confirm_s seconds, each
#              with a circle of circle_k10 / 10 x its accuracy inside by >= margin
#              (e >= 2a + margin by default); or by the centre inside by half its accuracy
#              (2e >= a) on every fix for >= sustain_s seconds (and >= confirm_n fixes).
#              A stretch that a jump the receiver's velocity cannot explain carried into the
#              zone (multipath) confirms only jump_s after the jump, unless a later fix
#              returns to the track the fixes before the jump predict (_returned).
#   end        exit_n consecutive fixes spanning >= confirm_s with the circle outside by
#              hysteresis (e + a <= -hyst), or spanning >= CENTRE_EXIT_S with the centre
#              outside by it (e <= -hyst), or the zone's window closes
# Worst-case confirmation delays as functions of the intervals are in docs/zones.md.
from array import array
from collections import namedtuple

from tagcore.compat import const
from tagcore.geo import DM_PER_UDEG_DEN, DM_PER_UDEG_NUM, R_EARTH_DM, cos_q15, dist_dm, lon_delta
from tagcore.zones import blob as B
from tagcore.zones.geom import sdist_circle, sdist_corridor, sdist_polygon

# tagcore.geo.project holds within 30 km of a zone's anchor; 0.25 degrees either way is inside.
_FRAME_UDEG = const(250000)

CLEAR = const(0)
WARNING = const(1)
POSSIBLE = const(2)
BREACH = const(3)

# Loss of location (ZoneMonitor.loc): the wearer is told first, the server after.
_LOC_FINE = const(0)
_LOC_WARNED = const(1)  # A_LOC_WARN raised
_LOC_ALERTED = const(2)  # A_LOC_LOST raised: the next fix raises A_LOC_BACK

# Alert kinds. BREACH, BREACH_END, LOC_LOST, LOC_BACK and CONFIG_EXPIRED go to the store
# (EV_ZONE / EV_LOC_LOST; their codec is tagcore.events) and the server; APPROACH and LOC_WARN
# are for the wearer only.
A_BREACH = const(1)
A_BREACH_END = const(2)
A_APPROACH = const(3)
A_LOC_WARN = const(4)
A_LOC_LOST = const(5)
A_LOC_BACK = const(6)
A_CONFIG_EXPIRED = const(7)
STORED_ALERTS = (A_BREACH, A_BREACH_END, A_LOC_LOST, A_LOC_BACK, A_CONFIG_EXPIRED)

# Alert.rule of a zone alert: how a breach was confirmed or ended.
RULE_CONSECUTIVE = const(1)
RULE_SUSTAINED = const(2)
END_LEFT = const(3)
END_INACTIVE = const(4)  # the zone's window closed
END_RELOAD = const(5)  # a new configuration replaced the zone

DEFAULT_MAX_ACC_DM = const(1000)  # the fix filter's default: worse fixes never reach us
APPROACH_REPEAT_S = const(600)  # at most one approach warning per zone per 10 minutes
CENTRE_EXIT_S = const(60)  # the centre outside by the hysteresis this long ends a breach
STEP_GAP_S = const(120)  # fixes further apart than this cannot be checked for a jump
STEP_SLACK_DM = const(50)
FAR = const(0x3FFFFFFF)  # "never": no schedule change ahead (largest small int on the ESP32)
LAT_MAX = const(90000000)
LON_MAX = const(180000000)

# kind: A_*; t: time of the fix (or `now`) that raised it; zone: zone id (0 for location
# alerts); zkind: zone kind; rule: RULE_*/END_* for zone alerts, 0 for the rest; evidence: tuple
# of the Fix records that decided it; secs: seconds without a fix for location alerts
# (A_LOC_WARN, A_LOC_LOST, A_LOC_BACK), 0 for the rest. Store codec: tagcore.events.
Alert = namedtuple("Alert", ("kind", "t", "zone", "zkind", "rule", "evidence", "secs"))


def zone_alert(kind, t, zone, zkind, rule, evidence):
    """An Alert about a zone (A_BREACH, A_BREACH_END, A_APPROACH, A_CONFIG_EXPIRED)."""
    return Alert(kind, t, zone, zkind, rule, evidence, 0)


def loc_alert(kind, t, secs, evidence):
    """An Alert about location (A_LOC_WARN, A_LOC_LOST, A_LOC_BACK): `secs` without a fix."""
    return Alert(kind, t, 0, 0, 0, evidence, secs)


_NONE = ()

# Per-zone counters, V_STRIDE ints per zone in one array (cheaper than object attributes):
V_RUN = const(0)  # consecutive qualifying fixes (in a breach: consecutive clear fixes)
V_RUNT0 = const(1)  # ... since
V_SUS = const(2)  # fixes in the current stretch with the centre inside
V_SUST0 = const(3)  # ... since
V_EPREV = const(4)  # depth at the last fix that reached this zone's geometry
V_ET = const(5)  # ... and that fix's time
V_JUMPT = const(6)  # last unexplained jump deeper into the zone
V_WARNT = const(7)  # last approach warning
V_WARNED = const(8)  # 1: warned (or in a breach) and not yet seen clear of the ring again
V_WRUN = const(9)  # consecutive fixes with the centre in the ring (armed) or clear of it
V_WRUNT0 = const(10)  # ... since
V_SUSN = const(11)  # consecutive fixes with the centre inside by half the accuracy or more
V_SUSA = const(12)  # ... since
V_STRIDE = const(13)
_UNKNOWN = (0, 0, -1)


def _grow(dm):
    # A distance in dm to microdegrees along a meridian, rounded up: at least 1.1 dm per
    # microdegree anywhere on WGS84 (1.1057 at the equator), and along a parallel divided
    # by the cosine of its latitude.
    return dm * 10 // 11 + 2


def _bbox(bb, j, z, grow):
    # The zone's box in microdegrees: its vertices' (or centre's) box, grown by the decision
    # range, the radius and what the frame's curvature can move a straight local edge away
    # from the straight line between its vertices in degrees (<= E^2 tan(lat) / R for an
    # extent E; 2 E^2 / (R cos) bounds it).
    x0, y0, x1, y1 = z.ext
    e = max(-x0, -y0, x1, y1) + z.r_dm
    c0 = cos_q15(z.lat0) or 1
    m = grow + z.r_dm + 2 * e * e * 32768 // (R_EARTH_DM * c0)
    dlat = _grow(m)
    lat0, lon0, lat1, lon1 = z.bbu
    top = max(-lat0, lat1) + dlat
    c = cos_q15(top if top < 89000000 else 89000000)
    dlon = _grow(m) * 32768 // c + 2
    bb[j] = lat0 - dlat
    bb[j + 1] = lon0 - dlon
    bb[j + 2] = lat1 + dlat
    bb[j + 3] = lon1 + dlon


def _arrays(n):
    # Flat per-zone arrays for the prefilter loop: bbox (microdegrees, grown by the decision
    # range), state, kind, schedule activity, when it next changes, and the counters (zv).
    zv = array("i", bytes(4 * V_STRIDE * n))
    return (
        array("i", bytes(16 * n)),
        bytearray(n),
        bytearray(n),
        bytearray(n),
        array("i", bytes(4 * n)),
        zv,
    )


def decision_grow_dm(rules, max_acc_dm):
    """How far beyond its warning ring a zone's decisions reach (dm): the widest circle a
    fix the filter passes can have, 10 m, and the larger of hysteresis and margin."""
    grow = max_acc_dm * rules[B.R_CIRCLE_K10] // 10 + 100
    return grow + max(rules[B.R_HYST_DM], rules[B.R_MARGIN_DM])


def _index(ix, zones, rules, max_acc_dm):
    # Fill the arrays for the zones; sets each zone's decision range (cap).
    bb, _, kd, _, chg, zv = ix
    grow = decision_grow_dm(rules, max_acc_dm)
    for i in range(len(zones)):
        z = zones[i]
        z.cap = z.warn_dm + grow
        _bbox(bb, 4 * i, z, z.cap)
        kd[i] = z.kind
        chg[i] = -FAR  # unknown: the schedule is looked up on first use
        k = i * V_STRIDE
        zv[k + V_ET] = -FAR
        zv[k + V_JUMPT] = -FAR
        zv[k + V_WARNT] = -FAR


class ZoneMonitor:
    def __init__(self, blob=None, max_acc_dm=DEFAULT_MAX_ACC_DM):
        self.max_acc_dm = max_acc_dm
        self.counts = {}
        self.error = None
        self.zones = []  # type: list
        self.rules = B.DEFAULT_RULES
        self.valid_until = FAR
        self.expired = False
        self.pending = _NONE  # alerts raised by load(), handed out with the next call
        self.last_t = -FAR
        self.hot = False
        self.loc = _LOC_FINE  # loss of location: _LOC_FINE, _LOC_WARNED, _LOC_ALERTED
        self.nofix_s = 0
        self.nofix_prev = None
        self.last_fix = None
        self.last_fix_z = None
        # Flat per-zone arrays (_arrays: cheaper than attributes of each Zone on the ESP32).
        index = _arrays(0)
        self.boxes, self.zstate, self.zkind, self.active, self.changes_at, self.counters = index
        self.prev = None  # the fix before this one, and the one before that: the jump check
        self.prev2 = None
        self.pred_t = -FAR  # the fix pred1 is for:
        self.pred1 = _UNKNOWN  # (lat, lon, slack dm) predicted from prev (slack < 0: unknown)
        self.pred2 = _UNKNOWN  # ... from prev2, made only when the jump check needs it (pred2_t)
        self.pred2_t = -FAR
        self.anchor = None  # the last fix before an open multipath excursion (_returned)
        self.back_t = -FAR  # the fix `back` is for: True if it ended an excursion
        self.back = False
        self.back_to = _UNKNOWN  # ... and where the anchor's velocity put the track then
        if blob is not None:
            self.error = self.load(blob)

    def _count(self, k, n=1):
        self.counts[k] = self.counts.get(k, 0) + n

    # ---- configuration ----------------------------------------------------------------------
    def load(self, blob):
        """Replace the zone configuration with `blob` (bytes-like, from `opentag zones compile`).
        Returns None, or the reason the blob was refused (counted "config_<reason>"; the old
        configuration then stays in force): the decoder's ValueError reason, "malformed" for
        an IndexError of bytes that end early, "no_memory" when the heap cannot hold it.
        Raises what is not bad input: TypeError for a blob that is not bytes-like, and any
        programming error, rather than counting it as a bad blob."""
        try:
            h = B.parse_header(blob)
            # The per-zone arrays first, while the heap is still in one piece.
            index = _arrays(h.count)
            zones = B.parse_zones(blob, h)
            rules = B.rules(h)
            _index(index, zones, rules, self.max_acc_dm)
            for z in zones:
                if z.rules is not None:
                    # the weekly rules' module now, while the heap is whole: _schedule needs
                    # it at the first fix, when a 1.3 KB block may no longer be found
                    from tagcore.zones import curfew  # noqa: F401

                    break
        except ValueError as e:
            why = str(e.args[0]) if e.args else "malformed"
        except IndexError:  # a field read past the end that no length check caught
            why = "malformed"
        except MemoryError:  # its own path: out of memory is not a bad blob
            why = "no_memory"
        else:
            self._carry(zones, index)
            self.zones = zones
            self.rules = rules
            self.boxes, self.zstate, self.zkind, self.active, self.changes_at, self.counters = index
            self.valid_until = h.valid_until
            self.expired = False
            self.hot = len(self.zstate) > 0 and max(self.zstate) > 0
            return None
        self._count("config_" + why)
        return why

    def _carry(self, zones, index):
        # A zone in both configs (same id, kind and anchor: a renewed schedule horizon, say)
        # keeps its state and evidence, so a breach in progress is not ended by a refresh.
        # A breach in a zone that is gone ends with END_RELOAD.
        st = index[1]
        zv = index[5]
        for i in range(len(self.zones)):
            z = self.zones[i]
            for j in range(len(zones)):
                n = zones[j]
                if n.id == z.id and n.kind == z.kind and n.lat0 == z.lat0 and n.lon0 == z.lon0:
                    st[j] = self.zstate[i]
                    for k in range(V_STRIDE):
                        zv[j * V_STRIDE + k] = self.counters[i * V_STRIDE + k]
                    n.ev = z.ev
                    n.first = z.first
                    break
            else:
                if self.zstate[i] == BREACH:
                    a = Alert(A_BREACH_END, self.last_t, z.id, z.kind, END_RELOAD, _NONE, 0)
                    self.pending = _add(self.pending, a)

    def _schedule(self, i, t):
        # Is zone i active at t, and until when does that hold? Its one-off windows (binary
        # search) and its weekly rules (tagcore.zones.curfew, loaded by load() for zones with them).
        z = self.zones[i]
        w = z.win
        if w is None and z.rules is None:
            self.active[i] = 1
            self.changes_at[i] = FAR
            return
        on = 0
        chg = FAR
        if w is not None:
            lo = 0
            hi = len(w) >> 1
            while lo < hi:  # first window whose end is after t
                mid = (lo + hi) >> 1
                if w[2 * mid + 1] <= t:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < len(w) >> 1:
                if w[2 * lo] <= t:
                    on = 1
                    chg = w[2 * lo + 1]
                else:
                    chg = w[2 * lo]
        if z.rules is not None:
            from tagcore.zones import curfew

            r_on, r_chg = curfew.state(z.rules, z.tz, t)
            on |= r_on
            if r_chg < chg:
                chg = r_chg
        self.active[i] = on
        self.changes_at[i] = chg

    # ---- fixes ------------------------------------------------------------------------------
    def on_fix(self, now, f):
        """Run one accepted fix (tagcore.fix.Fix, its time f.t) through every zone at `now`.
        Returns a tuple of Alert, () when nothing happened (alerts raised by load() come out
        here or in on_no_fix). Raises nothing for a bad fix (ignored and counted)."""
        out = self.pending
        self.pending = _NONE
        lat = f.lat
        lon = f.lon
        if lat is None or lon is None or not -LAT_MAX <= lat <= LAT_MAX:
            self._count("bad_position")
            return out or _NONE
        if not -LON_MAX <= lon <= LON_MAX or (f.acc_dm is not None and f.acc_dm < 0):
            self._count("bad_position")
            return out or _NONE
        if self.loc == _LOC_ALERTED:
            out = _add(out, Alert(A_LOC_BACK, now, 0, 0, 0, (f,), self.nofix_s))
        self.loc = _LOC_FINE
        self.nofix_s = 0
        self.nofix_prev = now
        self.last_fix = f
        a = f.acc_dm
        if a is None:
            self._count("no_accuracy")
            a = self.max_acc_dm
        elif a > self.max_acc_dm:
            self._count("poor_accuracy")
            return out or _NONE
        t = f.t
        if t <= self.last_t:  # not new evidence (the fix filter drops these too)
            self._count("time_backwards" if t < self.last_t else "duplicate_time")
            return out or _NONE
        self.last_t = t
        self.prev2 = self.prev
        self.prev = self.last_fix_z
        self.last_fix_z = f
        if t >= self.valid_until and not self.expired:
            self.expired = True
            out = _add(out, Alert(A_CONFIG_EXPIRED, t, 0, 0, 0, _NONE, 0))
        bb = self.boxes
        st = self.zstate
        kd = self.zkind
        zones = self.zones
        hot = False
        exact = 0
        excl = B.KIND_EXCLUSION  # a local: MicroPython does not inline other modules' consts
        for i in range(len(zones)):
            j = i << 2
            far = lat < bb[j] or lat > bb[j + 2] or lon < bb[j + 1] or lon > bb[j + 3]
            if far and st[i] == CLEAR and kd[i] == excl:
                continue  # the fast path: nothing to decide
            if t >= self.changes_at[i]:
                self._schedule(i, t)
            z = zones[i]
            if not self.active[i]:
                if st[i] == BREACH:
                    out = _add(out, Alert(A_BREACH_END, t, z.id, z.kind, END_INACTIVE, (f,), 0))
                if st[i]:
                    st[i] = CLEAR
                    self._reset(i)
                k = i * V_STRIDE  # the next window starts afresh for the wearer's warnings
                self.counters[k + V_WARNED] = 0
                self.counters[k + V_WRUN] = 0
                continue
            if far:
                e = z.cap if z.kind == B.KIND_INCLUSION else -z.cap
            else:
                exact += 1
                e = depth(z, lat, lon)
            out = self._step(i, z, e, a, f, out)
            if st[i]:
                hot = True
        self.hot = hot
        if exact:
            self._count("exact", exact)
        return out or _NONE

    def _predicted(self, f):
        # Once per fix: where the last fix puts this one (pred1; pred2, from the fix before
        # last, is made by _jumped_in when it needs it).
        if self.pred_t != f.t:
            self.pred_t = f.t
            self.pred1 = _predict(self.prev, f) if self.prev is not None else _UNKNOWN
        return self.pred1

    def _returned(self, f):
        # Multipath excursions, the jump rule's other half (once per fix, only near zones): a
        # fix the receiver's velocity cannot put where it is from the last one opens one,
        # anchored at that last fix; a later fix that jumps again (unexplained from the last)
        # to where the anchor, counted the same way, puts the wearer ends it. True for that
        # fix: a return to the track, not a jump in; it also lifts the zones' jump holds, so
        # a walk-in just after multipath carried fixes inside, or back out, confirms on the
        # usual rule (issue 13.9: most of the walk-in tail waited out jump_s after an
        # excursion that had already ended). Open at most jump_s: then its fixes are where
        # the wearer is.
        if self.back_t == f.t:
            return self.back
        self.back_t = f.t
        self.back = False
        p = self.prev
        if p is None or not _off_track(self._predicted(f), f):
            return False
        anc = self.anchor
        if anc is not None and f.t - anc.t <= self.rules[B.R_JUMP_S]:
            q = _predict(anc, f)
            if q[2] >= 0 and not _off_track(q, f):
                self.anchor = None
                self.back_to = q
                self.back = True
            return self.back
        self.anchor = p
        return False

    def _jumped_in(self, z, v, k, e, f):
        # Is this fix deeper into zone z than the receiver's own velocity (Doppler speed and
        # course, robust to the multipath that moves positions) puts the wearer, counting from
        # the last fix, by more than the accuracies and turns allow? Not if the fix before last,
        # counted the same way, agrees with it: then the last fix was the outlier (a jump
        # outwards that ended). Only looked at when the depth grew by the hysteresis.
        p = self.prev
        if p is None or v[k + V_ET] != p.t or e - v[k + V_EPREV] <= self.rules[B.R_HYST_DM]:
            return False
        q = self._predicted(f)
        if q[2] < 0 or e - depth(z, q[0], q[1]) <= q[2]:
            return False
        if self.pred2_t != f.t:
            self.pred2_t = f.t
            self.pred2 = _predict(self.prev2, f) if self.prev2 is not None else _UNKNOWN
        q = self.pred2
        if q[2] >= 0 and e - depth(z, q[0], q[1]) <= q[2]:
            # The fix before last predicts this one: an excuse only if the last fix was itself
            # an unexplained jump outwards (multipath that has ended), not merely noise; else a
            # jump in that began one fix late would be excused for two intervals.
            p2 = self.prev2
            if p2 is not None:
                back = _predict(p2, p)
                if back[2] >= 0 and depth(z, p2.lat, p2.lon) - v[k + V_EPREV] > back[2]:
                    return False
        self._count("jumps")
        return True

    def _step(self, i, z, e, a, f, out):
        # One zone, one fix: the state machine (module notes). Counters live in self.counters.
        r = self.rules
        t = f.t
        n = r[B.R_CONFIRM_N]
        v = self.counters
        k = i * V_STRIDE
        # A jump deeper from a fix that already qualified (the wearer well inside) changes
        # nothing the rule decides: only jumps into qualifying depth hold a stretch back.
        q = a * r[B.R_CIRCLE_K10] // 10 + r[B.R_MARGIN_DM]
        # The end of a multipath excursion (_returned): back out of the zone lifts the hold of
        # the jump that carried the fixes in; back in excuses the jump only onto a track that
        # the anchor's velocity carries inside by now (a wearer pacing outside the edge whose
        # fixes multipath carries out and then in again still makes a jump in).
        back = self._returned(f)
        if back and e < v[k + V_EPREV]:
            v[k + V_JUMPT] = 0
        elif v[k + V_EPREV] < q and self._jumped_in(z, v, k, e, f):
            if not back or depth(z, self.back_to[0], self.back_to[1]) <= 0:
                v[k + V_JUMPT] = t
        v[k + V_EPREV] = e
        v[k + V_ET] = t
        if self.zstate[i] == BREACH:
            # Two runs end a breach: the accuracy circle outside by the hysteresis (e + a <=
            # -hyst) on exit_n fixes spanning confirm_s; or the centre outside by it (e <= -hyst,
            # V_SUS*) on exit_n fixes spanning CENTRE_EXIT_S, for a wearer back home in a zone
            # smaller than the indoor accuracy circle, where the first can never hold.
            h = r[B.R_HYST_DM]
            x_n = r[B.R_EXIT_N]
            if e <= -h:
                if not v[k + V_SUSN]:
                    v[k + V_SUSA] = t
                    z.ev = []
                v[k + V_SUSN] += 1
                _keep(z.ev, f, x_n)
                if e + a <= -h:
                    if not v[k + V_RUN]:
                        v[k + V_RUNT0] = t
                    v[k + V_RUN] += 1
                else:
                    v[k + V_RUN] = 0
            else:
                v[k + V_SUSN] = 0
                v[k + V_RUN] = 0
            if (v[k + V_RUN] >= x_n and t - v[k + V_RUNT0] >= r[B.R_CONFIRM_S]) or (
                v[k + V_SUSN] >= x_n and t - v[k + V_SUSA] >= CENTRE_EXIT_S
            ):
                out = _add(out, Alert(A_BREACH_END, t, z.id, z.kind, END_LEFT, tuple(z.ev), 0))
                self._reset(i)
                self.zstate[i] = _level(e, a, z.warn_dm)
            return out
        rule = 0
        if e > 0:
            if not v[k + V_SUS]:
                v[k + V_SUST0] = t
                z.ev = []
                z.first = f
            v[k + V_SUS] += 1
            _keep(z.ev, f, n)
            # The sustained rule counts only fixes whose centre is inside by half their
            # accuracy: noise of one accuracy radius carries a wearer standing 25 m outside
            # "inside" for minutes under indoor accuracy.
            if 2 * e >= a:
                if not v[k + V_SUSN]:
                    v[k + V_SUSA] = t
                v[k + V_SUSN] += 1
            else:
                v[k + V_SUSN] = 0
            if e >= a * r[B.R_CIRCLE_K10] // 10 + r[B.R_MARGIN_DM]:
                if not v[k + V_RUN]:
                    v[k + V_RUNT0] = t
                v[k + V_RUN] += 1
                # A stretch begun or moved by a jump the receiver's velocity does not explain
                # (multipath) must outlast such jumps: jump_s from the jump instead.
                span = t - v[k + V_RUNT0] >= r[B.R_CONFIRM_S]
                if v[k + V_JUMPT] >= v[k + V_SUST0] - 2 * r[B.R_FAST_S]:
                    span = t - v[k + V_JUMPT] >= r[B.R_JUMP_S]
                if v[k + V_RUN] >= n and span:
                    rule = RULE_CONSECUTIVE
            else:
                v[k + V_RUN] = 0
            if not rule and v[k + V_SUSN] >= n and t - v[k + V_SUSA] >= r[B.R_SUSTAIN_S]:
                rule = RULE_SUSTAINED
        else:
            v[k + V_SUS] = 0
            v[k + V_RUN] = 0
            v[k + V_SUSN] = 0
        if rule:
            ev = z.ev
            if rule == RULE_SUSTAINED and ev[0] is not z.first:
                ev = ev[:]
                ev[0] = z.first
            out = _add(out, Alert(A_BREACH, t, z.id, z.kind, rule, tuple(ev), 0))
            self._reset(i)
            self.zstate[i] = BREACH
            v[k + V_WARNED] = 1  # no warning until the wearer is seen clear of the ring
            v[k + V_WRUN] = 0
            return out
        s = _level(e, a, z.warn_dm)
        if self._warn(v, k, z, e, a, t):
            out = _add(out, Alert(A_APPROACH, t, z.id, z.kind, 0, (f,), 0))
        self.zstate[i] = s
        return out

    def _warn(self, v, k, z, e, a, t):
        # The wearer's approach warning, confirmed and with hysteresis like a breach, so that
        # noise at the ring's edge (a wearer resting indoors near the edge of home) does not
        # buzz all night. Armed: warn on one fix whose circle of circle_k10 / 10 x its
        # accuracy lies wholly within the ring (e - 2a >= -ring); or, as the sustained rule
        # confirms a breach, on fixes with the centre in it by half the accuracy for
        # sustain_s (and >= confirm_n fixes); within jump_s of an unexplained jump only on the
        # latter. Then disarmed until the wearer is seen clear of the ring: fixes whose circle
        # of circle_k10 / 10 x the accuracy lies outside it by the hysteresis, exit_n of them
        # in a row spanning APPROACH_REPEAT_S, or one clear of it by a further ring width
        # (gone and back). At most one warning per zone per APPROACH_REPEAT_S. True: warn.
        r = self.rules
        ring = z.warn_dm
        if v[k + V_WARNED]:
            out = -ring - r[B.R_HYST_DM]
            far = e + a * r[B.R_CIRCLE_K10] // 10
            if far > out:
                v[k + V_WRUN] = 0
                return False
            if not v[k + V_WRUN]:
                v[k + V_WRUNT0] = t
            v[k + V_WRUN] += 1
            if far <= out - ring or (
                v[k + V_WRUN] >= r[B.R_EXIT_N] and t - v[k + V_WRUNT0] >= APPROACH_REPEAT_S
            ):
                v[k + V_WARNED] = 0
                v[k + V_WRUN] = 0
            return False
        # Within jump_s of an unexplained jump (multipath) only a stretch that outlasts it.
        calm = t - v[k + V_JUMPT] >= r[B.R_JUMP_S]
        if e - a * r[B.R_CIRCLE_K10] // 10 >= -ring and calm:
            ok = True
        elif 2 * (e + ring) >= a:  # the centre in the ring by half the accuracy
            if not v[k + V_WRUN]:
                v[k + V_WRUNT0] = t
            v[k + V_WRUN] += 1
            ok = calm and v[k + V_WRUN] >= r[B.R_CONFIRM_N]
            ok = ok and t - v[k + V_WRUNT0] >= r[B.R_SUSTAIN_S]
        else:
            v[k + V_WRUN] = 0
            ok = False
        if not ok:
            return False
        v[k + V_WARNED] = 1
        v[k + V_WRUN] = 0
        if t - v[k + V_WARNT] < APPROACH_REPEAT_S:
            return False
        v[k + V_WARNT] = t
        return True

    def _reset(self, i):
        k = i * V_STRIDE
        self.counters[k + V_RUN] = 0
        self.counters[k + V_SUS] = 0
        self.counters[k + V_SUSN] = 0
        z = self.zones[i]
        z.ev = []
        z.first = None

    # ---- loss of location -------------------------------------------------------------------
    def on_no_fix(self, now):
        """The receiver is on and searching but has no valid fix at `now`. Time between calls
        counts as time without location when the calls are at most 2 x slow_s apart (a longer
        gap means the tag slept with the receiver off). Returns a tuple of Alert."""
        out = self.pending
        self.pending = _NONE
        r = self.rules
        p = self.nofix_prev
        if p is not None and 0 < now - p <= 2 * r[B.R_SLOW_S]:
            self.nofix_s += now - p
        self.nofix_prev = now
        lf = (self.last_fix,) if self.last_fix is not None else _NONE
        if self.loc == _LOC_FINE and self.nofix_s >= r[B.R_LOC_WARN_S]:
            self.loc = _LOC_WARNED
            out = _add(out, Alert(A_LOC_WARN, now, 0, 0, 0, lf, self.nofix_s))
        if self.loc == _LOC_WARNED and self.nofix_s >= r[B.R_LOC_ALERT_S]:
            self.loc = _LOC_ALERTED
            out = _add(out, Alert(A_LOC_LOST, now, 0, 0, 0, lf, self.nofix_s))
        return out or _NONE

    def wanted_interval(self, now):
        """Seconds until the next fix is wanted: fast while any zone is not clear."""
        r = self.rules
        return r[B.R_FAST_S] if self.hot else r[B.R_SLOW_S]

    def nearest_dm(self, lat, lon):
        """A lower bound (dm) of the distance from (lat, lon) to the nearest exclusion zone,
        active or not (its bounding box; 0 inside it), or None without one. For the planner's
        drive-through guard: how soon the wearer could be inside one."""
        from tagcore.geo import isqrt, offset_dm, project

        best = None
        for z in self.zones:
            if z.kind != B.KIND_EXCLUSION:
                continue
            du = lat - z.lat0
            dv = lon_delta(lon, z.lon0)
            far = not (-_FRAME_UDEG < du < _FRAME_UDEG and -_FRAME_UDEG < dv < _FRAME_UDEG)
            if far:  # beyond the frame's series (30 km): the sphere, 1 % taken off below
                x, y = offset_dm(z.lat0, z.lon0, cos_q15(z.lat0), lat, lon)
            else:
                x, y = project(z.fr, du, dv)
            r = z.r_dm if z.shape != B.SHAPE_POLYGON else 0
            x0, y0, x1, y1 = z.ext
            dx = x0 - r - x if x < x0 - r else (x - x1 - r if x > x1 + r else 0)
            dy = y0 - r - y if y < y0 - r else (y - y1 - r if y > y1 + r else 0)
            d = isqrt(dx * dx + dy * dy)
            if far:
                d -= d // 100
            if best is None or d < best:
                best = d
        return best

    def state(self, zone_id):
        """The state (CLEAR..BREACH) of the zone with this id, or None if there is none."""
        for i in range(len(self.zones)):
            if self.zones[i].id == zone_id:
                return self.zstate[i]
        return None


def depth(z, lat, lon):
    """How far (lat, lon) is inside zone z's forbidden region, dm (negative: outside it)."""
    # tagcore.geo.project inlined (no tuple allocated per zone and fix): keep it identical,
    # shifts included (tests/core/test_zones.py holds them equal; a stale >> 24 here once
    # dropped the cubic term, 0.7 m at 79 degrees and 20 km).
    fr = z.fr
    du = lat - z.lat0
    dv = lon_delta(lon, z.lon0)
    uu = du * du >> 12
    vv = dv * dv >> 12
    x = fr[0] - (fr[1] * du >> 24) - (fr[2] * uu >> 36) - (fr[3] * vv >> 36)
    x = (dv * x + 134217728) >> 28
    y = fr[4] * du + (fr[5] * uu >> 12) + (fr[6] * vv >> 12) + ((fr[7] * du >> 16) * vv >> 24)
    y = (y + 134217728) >> 28
    if z.shape == B.SHAPE_POLYGON:
        e = sdist_polygon(x, y, z.rings, z.cap)
    elif z.shape == B.SHAPE_CIRCLE:
        e = sdist_circle(x, y, z.r_dm, z.cap)
    else:
        e = sdist_corridor(x, y, z.rings, z.r_dm, z.cap)
    return e if z.kind == B.KIND_INCLUSION else -e


def _sin_cd(cd):
    # sin of a course in centidegrees, x 32768 (tagcore.geo's cos table covers 0-90 degrees).
    a = (cd - 9000) % 36000
    if a > 18000:
        a = 36000 - a
    if a > 9000:
        return -cos_q15((18000 - a) * 10000)
    return cos_q15(a * 10000)


def _predict(p, f):
    # Where fix f should be by fix p and the mean of both velocities: (lat, lon, slack dm),
    # slack = half the larger speed over the gap (turns, course noise) + both accuracy radii
    # + 5 m. _UNKNOWN if it cannot be said: a field missing, or the fixes too far apart.
    v0 = p.speed_cms
    v1 = f.speed_cms
    c0 = p.course_cd
    c1 = f.course_cd
    dt = f.t - p.t
    if v0 is None or v1 is None or c0 is None or c1 is None or dt > STEP_GAP_S:
        return _UNKNOWN
    if p.acc_dm is None or f.acc_dm is None:
        return _UNKNOWN
    v = v0 if v0 > v1 else v1
    slack = v * dt // 20 + p.acc_dm + f.acc_dm + STEP_SLACK_DM
    # Displacement in dm: (v0 + v1) / 2 (cm/s) x dt / 10, the unit vectors in Q15.
    east = (v0 * _sin_cd(c0) + v1 * _sin_cd(c1)) * dt // 655360
    north = (v0 * _sin_cd(c0 + 9000) + v1 * _sin_cd(c1 + 9000)) * dt // 655360
    dlat = north * DM_PER_UDEG_DEN // DM_PER_UDEG_NUM
    c = cos_q15(p.lat) or 1
    dlon = east * 32768 * DM_PER_UDEG_DEN // (DM_PER_UDEG_NUM * c)
    return (p.lat + dlat, p.lon + dlon, slack)


def _off_track(q, f):
    # Is fix f farther from the prediction q (lat, lon, slack dm) than its slack? Not when q
    # is unknown.
    return q[2] >= 0 and dist_dm(q[0], q[1], f.lat, f.lon) > q[2]


def _add(out, a):
    if isinstance(out, tuple):
        out = []
    out.append(a)
    return out


def _keep(ev, f, n):
    ev.append(f)
    if len(ev) > n:
        ev.pop(0)


def _level(e, a, warn):
    if e + a > 0:
        return POSSIBLE
    if e + a > -warn:
        return WARNING
    return CLEAR

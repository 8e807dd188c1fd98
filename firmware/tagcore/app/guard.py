# The drive-through guard (docs/app.md): the next fix comes before a wearer at the last fix's
# speed, accelerating at guard_accel_cms2 up to guard_kmh, could reach the nearest exclusion
# zone (ZoneMonitor.nearest_dm, a lower bound). Within that reach the interval is 0: the
# receiver stays on and fixes come every second. Imported by the planner only when configured.


def reach_dm(v_cms, a_cms2, vmax_cms, t):
    """How far (dm) a wearer moving at v_cms can get in t seconds, accelerating at a_cms2 up to
    vmax_cms (never slower than v_cms). Integer arithmetic."""
    if v_cms >= vmax_cms or a_cms2 <= 0:
        return v_cms * t // 10
    ta = (vmax_cms - v_cms) // a_cms2  # whole seconds spent accelerating
    if t <= ta:
        return (v_cms * t + a_cms2 * t * t // 2) // 10
    return (v_cms * ta + a_cms2 * ta * ta // 2 + vmax_cms * (t - ta)) // 10


def guard_interval(d_dm, v_cms, a_cms2, vmax_cms, lead_s, cap_s):
    """The longest interval (s, <= cap_s) after which a fix search starting then (its fix
    lead_s later) still comes before the wearer can cover d_dm. 0: search at once."""
    lo = 0
    hi = cap_s
    if reach_dm(v_cms, a_cms2, vmax_cms, hi + lead_s) < d_dm:
        return cap_s
    while lo < hi:  # the largest t with reach(t + lead) < d
        mid = (lo + hi + 1) >> 1
        if reach_dm(v_cms, a_cms2, vmax_cms, mid + lead_s) < d_dm:
            lo = mid
        else:
            hi = mid - 1
    return lo


def guard(zones, cfg, f, cap):
    """The interval (s, <= cap) within which the wearer cannot reach the nearest exclusion zone
    from fix f (its accuracy radius counts against the distance)."""
    d = zones.nearest_dm(f.lat, f.lon)
    if d is None:
        return cap
    if f.acc_dm is not None:
        d -= f.acc_dm
    if d <= 0:
        return 0
    v = f.speed_cms if f.speed_cms is not None and f.speed_cms > 0 else 0
    vmax = cfg.guard_kmh * 100000 // 3600
    return guard_interval(d, v, cfg.guard_accel_cms2, vmax, cfg.guard_lead_s, cap)

# The stored events' vocabulary (h11's _events.py in MicroPython's means): every event kind's
# payload codec in one place, one signature, one failure convention. The store frames the
# bytes (tagcore.store.record: t varint, then data); this module says what the data means.
#
#   kind, data = encode(ev)       # ev: a record below; data: bytes for Store.append_event
#   ev = decode(kind, t, data)    # the record an event holds (t: the frame's time)
#       Raises ValueError (and only that) when the bytes are not one: a decoder never answers
#       None. MemoryError is left to the caller: out of memory is not damage.
#
# Records (namedtuples of ints; t: seconds since 2000):
#   tagcore.zones.monitor.Alert(kind, t, zone, zkind, rule, evidence, secs)   EV_ZONE, EV_LOC_LOST
#     (the monitor's own record, and its codes A_*: this module imports zones.monitor only to
#     decode one, so that a tag without zones never pays the monitor's heap)
#     EV_ZONE data:     code u8 (A_BREACH, A_BREACH_END, A_CONFIG_EXPIRED) | zone id varint |
#                       zone kind u8 | rule u8 | evidence count u8 | fixes (record.encode_fixes)
#     EV_LOC_LOST data: code u8 (A_LOC_LOST, A_LOC_BACK) | seconds without a fix varint |
#                       evidence count u8 | fixes (the last fix before, or the first after)
#     rule: RULE_*/END_* for zone alerts, 0 for location ones; secs: seconds without a fix for
#     location alerts (A_LOC_WARN, A_LOC_LOST, A_LOC_BACK), 0 for zone ones.
#   Tamper(t, code)                  EV_TAMPER       data: code u8 (TAMPER_*)
#   LowBattery(t, pct)               EV_LOW_BATTERY  data: battery percent u8
#   Thinned(t, count, first, last, total)           EV_THINNED  data: the four as varints
#   Dropped(t, count, first, last, carried, total)  EV_DROPPED  data: the five as varints
#   Boot(t)                          EV_BOOT         data: none
#   Power(t, what, level, left)      EV_POWER        data: what u8 (POWER_*) | budget level u8 |
#                                    projected life in minutes u16 little endian (the app caps it)
#   Integrity(t, kind, vals)         EV_INTEGRITY    data: kind u8 (tagcore.gnss.integrity K_*,
#                                    not checked: a newer detector's kind still decodes) | vals,
#                                    its evidence (a tuple of ints), as zigzag varints; t: onset
#   Mark(total, lo, hi)              KIND_MARK (store-internal, no t): the three as varints
#   EV_PROXIMITY: tagcore.proximity.monitor's decision (decode delegates to proximity.decode_event).
#   EV_SEAL: tagcore.store.seal.Seal (decode delegates to seal.parse; no encode: the store's
#     sealer frames it in place, its mac over the bytes as framed, in bounded RAM)
import sys
from collections import namedtuple

from tagcore.compat import const
from tagcore.store import record as R

TAMPER_UNKNOWN = const(0)
TAMPER_STRAP_CUT = const(1)
TAMPER_CASE_OPEN = const(2)
TAMPER_REMOVED = const(3)
# Power.what: the app stores budget.CH_LEVEL, CH_LOW, CH_CRITICAL as these
POWER_LEVEL = const(1)  # the plan's degradation level changed: recorded, not a warning
POWER_LOW = const(2)  # projected life down to budget.LOW_MIN: a warning (an alert)
POWER_CRITICAL = const(3)  # ... to budget.CRITICAL_MIN
TAMPER_CODES = {
    "strap_cut": TAMPER_STRAP_CUT,
    "case_open": TAMPER_CASE_OPEN,
    "removed": TAMPER_REMOVED,
}

Tamper = namedtuple("Tamper", ("t", "code"))
LowBattery = namedtuple("LowBattery", ("t", "pct"))
Thinned = namedtuple("Thinned", ("t", "count", "first", "last", "total"))
Dropped = namedtuple("Dropped", ("t", "count", "first", "last", "carried", "total"))
Boot = namedtuple("Boot", ("t",))
Power = namedtuple("Power", ("t", "what", "level", "left"))
Integrity = namedtuple("Integrity", ("t", "kind", "vals"))
Mark = namedtuple("Mark", ("total", "lo", "hi"))


def encode(ev):
    """(event kind, data bytes) of a record; raises ValueError for one that is not stored (a
    wearer-only alert, a value that does not fit its field)."""
    c = type(ev)
    if c is Tamper:
        return R.EV_TAMPER, bytes((ev.code,))
    if c is LowBattery:
        return R.EV_LOW_BATTERY, bytes((ev.pct,))
    if c is Thinned:
        return R.EV_THINNED, R.varints(ev[1:])
    if c is Dropped:
        return R.EV_DROPPED, R.varints(ev[1:])
    if c is Boot:
        return R.EV_BOOT, b""
    if c is Power:  # bytes(): a value outside u8 (a left above 65535) raises, on both runtimes
        return R.EV_POWER, bytes((ev.what, ev.level, ev.left & 255, ev.left >> 8))
    if c is Integrity:
        # bytes() first: bytearray alone wraps a kind above 255 on MicroPython
        d = bytearray(bytes((ev.kind,)))
        for v in ev.vals:
            R.put_varint(d, R.zz(v))
        return R.EV_INTEGRITY, d
    if c is Mark:
        return R.KIND_MARK, R.varints(ev)
    Z = sys.modules.get("tagcore.zones.monitor")  # an Alert exists only once the monitor is loaded
    if Z is not None and c is Z.Alert:
        return _encode_alert(Z, ev)
    raise ValueError("not an event record")


def _encode_alert(Z, ev):
    k = ev.kind
    if k == Z.A_LOC_LOST or k == Z.A_LOC_BACK:
        d = bytearray((k,))
        R.put_varint(d, ev.secs)
        kind = R.EV_LOC_LOST
    elif k == Z.A_BREACH or k == Z.A_BREACH_END or k == Z.A_CONFIG_EXPIRED:
        d = bytearray((k,))
        R.put_varint(d, ev.zone)
        d.append(ev.zkind)
        d.append(ev.rule)
        kind = R.EV_ZONE
    else:
        raise ValueError("not stored")  # a wearer-only alert (not in zones.STORED_ALERTS)
    d.append(len(ev.evidence))
    R.encode_fixes(ev.evidence, d)
    return kind, d


def _ints(data, n):
    # exactly n varints, nothing after them
    out = []
    i = 0
    end = len(data)
    for _ in range(n):
        v, i = R.get_varint(data, i, end)
        out.append(v)
    if i != end:
        raise ValueError("trailing")
    return out


def decode(kind, t, data):
    """The record event `kind` at time t holds in `data`; raises ValueError if the bytes are
    not one (or the kind has no record)."""
    try:
        n = len(data)
        if kind == R.EV_ZONE or kind == R.EV_LOC_LOST:
            from tagcore.zones import monitor as Z

            k = data[0]
            if kind == R.EV_LOC_LOST and (k == Z.A_LOC_LOST or k == Z.A_LOC_BACK):
                secs, i = R.get_varint(data, 1, n)
                ev = tuple(R.decode_fixes(data, i + 1, n, data[i]))
                return Z.Alert(k, t, 0, 0, 0, ev, secs)
            zone_codes = (Z.A_BREACH, Z.A_BREACH_END, Z.A_CONFIG_EXPIRED)
            if kind == R.EV_ZONE and k in zone_codes:
                zid, i = R.get_varint(data, 1, n)
                ev = tuple(R.decode_fixes(data, i + 3, n, data[i + 2]))
                return Z.Alert(k, t, zid, data[i], data[i + 1], ev, 0)
            raise ValueError("bad_code")
        if kind == R.EV_TAMPER or kind == R.EV_LOW_BATTERY:
            if n != 1:
                raise ValueError("length")
            return Tamper(t, data[0]) if kind == R.EV_TAMPER else LowBattery(t, data[0])
        if kind == R.EV_THINNED:
            return Thinned(t, *_ints(data, 4))
        if kind == R.EV_DROPPED:
            return Dropped(t, *_ints(data, 5))
        if kind == R.EV_POWER:
            if n != 4:
                raise ValueError("length")
            if not POWER_LEVEL <= data[0] <= POWER_CRITICAL:
                raise ValueError("bad_code")
            return Power(t, data[0], data[1], data[2] | data[3] << 8)
        if kind == R.EV_INTEGRITY:
            k = data[0]
            vals = []
            i = 1
            while i < n:
                u, i = R.get_varint(data, i, n)
                vals.append(R.unzz(u))
            return Integrity(t, k, tuple(vals))
        if kind == R.EV_SEAL:
            from tagcore.store.seal import parse

            ev = parse(data)
            if ev is None:  # the seal's own convention (None): ours is ValueError
                raise ValueError("bad_seal")
            return ev
        if kind == R.EV_BOOT:
            if n:
                raise ValueError("length")
            return Boot(t)
        if kind == R.KIND_MARK:
            return Mark(*_ints(data, 3))
        if kind == R.EV_PROXIMITY:
            from tagcore.proximity.monitor import decode_event

            ev = decode_event(t, data)
            if ev is None:  # proximity's own convention (counted there): ours is ValueError
                raise ValueError("bad_event")
            return ev
    except IndexError:  # a field past the end: the same failure as any other bad byte
        raise ValueError("truncated") from None
    raise ValueError("no_record")

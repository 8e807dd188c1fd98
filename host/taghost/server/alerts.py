"""What a tag event means to the people monitoring: an alert that opens, one that ends an open
alert, or nothing, each named by the one vocabulary (taghost.alertkinds). Decoded with the
core's own event codec (tagcore.events), whose formats the tag writes; undecodable data still
opens an alert (by event kind), never fails a batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from tagcore import events as E
from tagcore.proximity import monitor as P
from tagcore.store import record as R
from tagcore.zones import monitor as Z

from taghost import alertkinds as K

# The zone monitor's codes that open an alert: the vocabulary's one table, those it opens.
ZONE_NAMES = {code: name for code, name in K.ZONE_ALERTS.items() if name in K.OPENS}
PROX_NAMES = {
    P.K_NEARBY: K.PROXIMITY_PREALERT,
    P.K_NEAR: K.PROXIMITY,
    P.K_GNSS_PRE: K.PROXIMITY_GNSS_PREALERT,
    P.K_GNSS_IN: K.PROXIMITY_GNSS,
    P.K_CONTRADICTED: K.PROXIMITY_CONTRADICTED,
    P.K_FLOODED: K.PROXIMITY_DEAF,
}
# The budget's warnings (EV_POWER what): the projected life down to 4 h (time to reach a
# charger), then 1 h (charge now). Both stay open: the tag stores nothing when it is charged.
POWER_NAMES = {E.POWER_LOW: K.POWER_LOW, E.POWER_CRITICAL: K.POWER_CRITICAL}
# Proximity kinds that end the open alerts of their beacon (and which of them).
PROX_ENDS = {
    P.K_NEAR_EXIT: (K.PROXIMITY,),
    P.K_GONE: (K.PROXIMITY, K.PROXIMITY_PREALERT),
    P.K_GNSS_EXIT: (K.PROXIMITY_GNSS,),
    P.K_GNSS_OUT: (K.PROXIMITY_GNSS, K.PROXIMITY_GNSS_PREALERT),
}


# What a proximity decision's flags (tagcore.proximity.monitor.F_*) say, in the words an
# officer reads beside the alert: the issue-17 promise that a Bluetooth alert the radio cannot
# vouch for says so ("low confidence, Bluetooth only"), never a plain "near".
PROX_FLAG_WORDS = (
    (P.F_LOW_CONF, "low confidence"),
    (P.F_BLE_ONLY, "Bluetooth only"),
    (P.F_GNSS, "GNSS distance"),
    (P.F_CORROBORATED, "GNSS agrees"),
    (P.F_CONTRADICTED, "GNSS says far apart"),
    (P.F_VEHICLE, "in a vehicle"),
    (P.F_SKEWED, "beacon clock off, or a replay"),
)


def proximity_detail(flags: int) -> str:
    """The plain words for a proximity event's flags: a Bluetooth decision says whether it is
    confident or low confidence; then each other flag it carries."""
    words = [w for bit, w in PROX_FLAG_WORDS if flags & bit]
    if flags & P.F_BLE and not flags & P.F_LOW_CONF:
        words.insert(0, "confident")
    return ", ".join(words)


class Meaning(NamedTuple):
    opens: str | None  # the alert kind this event raises
    ends: tuple[str, ...]  # the open alert kinds (same subject) it clears
    subject: str  # what it is about: "zone 5", "beacon 0", "location", "" (the tag)
    evidence: tuple[Any, ...]  # fixes the tag attached to the event (tagcore.fix.Fix)
    detail: str = ""  # what the tag says of it: the GNSS detector, a proximity decision's flags


def meaning(kind: int, t: int, data: bytes) -> Meaning | None:
    """None: not an alert matter (status, thinning, boot, link...)."""
    if kind == R.EV_ZONE:
        try:
            a = E.decode(kind, t, data)
        except ValueError:
            return Meaning(K.ZONE, (), "zone ?", ())
        subject = f"zone {a.zone}"
        if a.kind == Z.A_BREACH_END:
            return Meaning(None, (K.ZONE_BREACH,), subject, a.evidence)
        return Meaning(ZONE_NAMES.get(a.kind, K.ZONE), (), subject, a.evidence)
    if kind == R.EV_LOC_LOST:
        try:
            a = E.decode(kind, t, data)
        except ValueError:  # damaged: still loss of location
            a = None
        if a is not None and a.kind == Z.A_LOC_BACK:
            return Meaning(None, (K.LOSS_OF_LOCATION,), "location", a.evidence)
        return Meaning(K.LOSS_OF_LOCATION, (), "location", a.evidence if a else ())
    if kind == R.EV_PROXIMITY:
        try:
            ev = E.decode(kind, t, data)
        except ValueError:
            return Meaning(K.PROXIMITY, (), "beacon ?", ())
        subject = "radio" if ev.beacon == P.ANY_BEACON else f"beacon {ev.beacon}"
        if ev.kind in PROX_ENDS:
            return Meaning(None, PROX_ENDS[ev.kind], subject, ())
        if ev.kind == P.K_CORROBORATED:
            return None  # confirms an alert already open
        detail = proximity_detail(ev.flags)
        return Meaning(PROX_NAMES.get(ev.kind, K.PROXIMITY), (), subject, (), detail)
    if kind == R.EV_TAMPER:
        return Meaning(K.TAMPER, (), "", ())
    if kind == R.EV_LOW_BATTERY:
        return Meaning(K.LOW_BATTERY, (), "", ())
    if kind == R.EV_INTEGRITY:  # tagcore.gnss.integrity: jamming, shielding, spoofing
        from tagcore.gnss import integrity as G

        try:
            k = E.decode(kind, t, data).kind  # the detector that saw it
        except ValueError:  # damaged: still a circumvention alert
            k = 0
        if k == G.K_END:
            return Meaning(None, (K.CIRCUMVENTION,), "gnss", ())
        if k == G.K_MORE:
            return None  # another detector on the episode already alerted: evidence only
        seen = G.NAMES[k].replace("_", " ") if 0 < k < len(G.NAMES) else "unknown"
        return Meaning(K.CIRCUMVENTION, (), "gnss", (), seen)
    if kind == R.EV_POWER:  # tagcore.app.budget: the projected life's warnings
        try:
            what = E.decode(kind, t, data).what
        except ValueError:  # damaged: a power matter all the same
            return Meaning(K.POWER, (), "", ())
        if what == E.POWER_LEVEL:
            return None  # the plan degraded (or recovered) to meet the target: stored, no alert
        return Meaning(POWER_NAMES[what], (), "", ())
    return None


def ends_alert(m: Meaning, kind: str, subject: str) -> bool:
    """Whether the event of meaning `m` ends an open alert `kind` about `subject`."""
    return kind in m.ends and m.subject == subject


class Raised(NamedTuple):
    seq: int
    t: int
    data: bytes
    meaning: Meaning  # its .opens is the alert kind
    ended: tuple[int, int] | None  # (seq, t) of the first later event that ends it


def raised(events: Iterable[tuple[int, int, int, bytes]]) -> list[Raised]:
    """The alerts a tag's events (seq, kind, t, data) open, by seq, each with the event that
    ends it: what the server's ingest decides as batches arrive (an end clears the open alerts
    of its kind and subject logged before it, by seq), here over records already in hand (a
    pulled log, an export), with no database."""
    out: list[Raised] = []
    for seq, kind, t, data in sorted(events):
        m = meaning(kind, t, bytes(data))
        if m is None:
            continue
        if m.ends:
            for i, a in enumerate(out):
                if (
                    a.ended is None
                    and a.meaning.opens
                    and ends_alert(m, a.meaning.opens, a.meaning.subject)
                ):
                    out[i] = a._replace(ended=(seq, t))
        if m.opens:
            out.append(Raised(seq, t, bytes(data), m, None))
    return out

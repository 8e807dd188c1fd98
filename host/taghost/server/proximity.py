"""The victim-proximity GNSS rule, at the server (docs/server.md, "Victim proximity").

Her phone posts her positions (taghost.server.victims); the tag uploads its fixes. The rule
compares the two here, at the monitoring centre, and never on the tag: a position sent to the
offender's tag is one he could read off it. It opens `proximity_gnss_prealert` and
`proximity_gnss` alerts (source 'server', subject "victim N") as the core's monitor opens its
own (tagcore.proximity.monitor, `_gnss`), with the accuracies on the victim's side:

- a pair (her latest position, the tag's latest fix) is fresh when the two are at most
  `max_age_s` apart on their own clocks. It decides whenever it arrives: a tag that uploads
  every 15 min, or a backlog after hours without coverage, still raises the alert of what
  happened, late (the alert's ages say how late), where "fresh against now" would drop it;
- a ring opens when the distance minus both accuracies is within it (they may be that close);
- it ends when the distance minus both accuracies is beyond it by HYST_M (even the nearest
  they could be is well out), or when no fresh pair has been decided for STALE_END_S (the
  episode is over as far as anyone can tell; the next approach opens a new alert instead of
  finding the old one still open). Not "distance plus accuracies beyond": with accuracies
  summing to more than HYST_M / 2 that end would come before the opening distance, and a
  wearer standing still would open and end an alert at every pair.

Order: the rule walks the two streams in time order, and only as far as both are complete:
up to the older of her latest position (her posts are taken in order) and the tag's newest
acknowledged fix (every fix before it is stored: docs/uplink.md's contiguous `acked`). A batch
that arrives late, or ahead of a gap, is walked when it is in place, so the alerts do not
depend on whether her post or the tag's batch came first. Where it stopped (`decided_t`) is
stored with the victim; the alerts open are the walk's state.

The caller holds the tag's row lock (`Tx.lock_tag`): the tag's ingest and her posts for the
same tag are serialized on both engines.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from pyproj import Geod

from taghost import alertkinds as K
from taghost.server.db import Database, Tx

log = logging.getLogger("opentag.server")
GEOD = Geod(ellps="WGS84")
HYST_M = 100  # the core's gnss_hyst_m
STALE_END_S = 3600  # the core's area_age_s: no fresh pair for an hour ends the episode
FUTURE_S = 120  # a position may be this far ahead of the server's clock (clock error)
UERE_M = 5.0  # a fix without an accuracy: its HDOP times this (a typical range error) ...
UNKNOWN_ACC_M = 50.0  # ... or this, without an HDOP either
DEFAULT_ALERT_M = 500  # Spain's Cometa
DEFAULT_PREALERT_M = 2 * DEFAULT_ALERT_M  # France: the pre-alert at twice the alert distance
DEFAULT_MAX_AGE_S = 300  # the core's max_age_s
# The rings, outer first: an approach opens the pre-alert, then the alert.
RINGS = ((K.PROXIMITY_GNSS_PREALERT, 3), (K.PROXIMITY_GNSS, 2))  # kind, victims column index


class Point(NamedTuple):
    t: int  # seconds since 2000, the reporter's clock
    key: int  # seq (a fix) or id (a position): the order within one second
    lat: int  # microdegrees
    lon: int
    acc_m: float


def distance_m(lat1: int, lon1: int, lat2: int, lon2: int) -> float:
    """The WGS84 geodesic distance (pyproj's Geod) between two points in microdegrees."""
    return float(GEOD.inv(lon1 / 1e6, lat1 / 1e6, lon2 / 1e6, lat2 / 1e6)[2])


def fix_acc_m(acc_dm: int | None, hdop_c: int | None) -> float:
    """A fix's horizontal accuracy: the receiver's, else HDOP x UERE_M, else UNKNOWN_ACC_M."""
    if acc_dm is not None and acc_dm >= 0:
        return acc_dm / 10
    if hdop_c is not None and hdop_c > 0:
        return hdop_c / 100 * UERE_M
    return UNKNOWN_ACC_M


def subject(victim: int) -> str:
    return f"victim {victim}"


def _fix(r: tuple[Any, ...]) -> Point:
    seq, t, lat, lon, acc_dm, hdop_c = r
    acc = fix_acc_m(
        None if acc_dm is None else int(acc_dm), None if hdop_c is None else int(hdop_c)
    )
    return Point(int(t), int(seq), int(lat), int(lon), acc)


def _pos(r: tuple[Any, ...]) -> Point:
    pid, t, lat, lon, acc_dm = r
    return Point(int(t), int(pid), int(lat), int(lon), int(acc_dm) / 10)


FIX_Q = "SELECT seq, t, lat, lon, acc_dm, hdop_c FROM fixes WHERE tag = ? AND seq <= ?"
POS_Q = "SELECT id, t, lat, lon, acc_dm FROM victim_positions WHERE victim = ?"


def evaluate(tx: Tx, victim: int, now_ms: int) -> list[tuple[str, str]]:
    """Walk victim `victim`'s pairs decided since the last walk; open and end her alerts.
    Returns what changed: ("opened" | "ended", kind) in order."""
    row = tx.execute(
        "SELECT v.tag, v.max_age_s, v.alert_m, v.prealert_m, v.decided_t, v.last_pair_t, "
        "t.acked FROM victims v JOIN tags t ON t.tag = v.tag WHERE v.id = ?",
        (victim,),
    ).one()
    if row is None:
        return []
    tag, age, acked = str(row[0]), int(row[1]), int(row[6])
    decided = None if row[4] is None else int(row[4])
    last_pair = None if row[5] is None else int(row[5])
    now = now_ms // 1000
    subj = subject(victim)
    changes: list[tuple[str, str]] = []
    opened: dict[str, int] = {}
    marks = ", ".join("?" * len(RINGS))
    for aid, kind in tx.execute(
        "SELECT id, kind FROM alerts WHERE tag = ? AND source = 'server' AND subject = ? "
        f"AND cleared_ms IS NULL AND kind IN ({marks}) ORDER BY id",
        (tag, subj, *(k for k, _ in RINGS)),
    ).all():
        opened.setdefault(str(kind), int(aid))

    def close(kind: str) -> None:
        tx.execute("UPDATE alerts SET cleared_ms = ? WHERE id = ?", (now_ms, opened.pop(kind)))
        changes.append(("ended", kind))

    # How far both streams are complete: her newest position, the tag's newest acked fix.
    th = tx.execute(
        "SELECT t FROM fixes WHERE tag = ? AND seq <= ? ORDER BY seq DESC LIMIT 1", (tag, acked)
    ).one()
    vh = tx.execute("SELECT MAX(t) FROM victim_positions WHERE victim = ?", (victim,)).one()
    if th is not None and vh is not None and vh[0] is not None:
        horizon = min(int(th[0]), int(vh[0]))
        # The first walk starts just before her first position could pair with a fix; later
        # walks where the last one stopped (late data is walked when it is complete).
        if decided is None:
            first = tx.execute(
                "SELECT MIN(t) FROM victim_positions WHERE victim = ?", (victim,)
            ).one()
            since = horizon if first is None or first[0] is None else int(first[0])
            start = since - age - 1
        else:
            start = decided
        if horizon > start:
            f0 = tx.execute(
                FIX_Q + " AND t <= ? ORDER BY t DESC, seq DESC LIMIT 1", (tag, acked, start)
            ).one()
            v0 = tx.execute(POS_Q + " AND t <= ? ORDER BY t DESC, id DESC LIMIT 1",
                            (victim, start)).one()  # fmt: skip
            fixes = tx.execute(
                FIX_Q + " AND t > ? AND t <= ? ORDER BY t, seq", (tag, acked, start, horizon)
            ).all()
            pos = tx.execute(
                POS_Q + " AND t > ? AND t <= ? ORDER BY t, id", (victim, start, horizon)
            ).all()
            # One order for both streams: by time; what shares a second is taken together
            # (the pair of that moment), each stream's last of it by seq or id.
            walk = sorted(
                [(p.t, 0, p.key, p) for p in map(_fix, fixes)]
                + [(p.t, 1, p.key, p) for p in map(_pos, pos)]
            )
            f = _fix(f0) if f0 is not None else None
            v = _pos(v0) if v0 is not None else None
            thresholds = {k: int(row[i]) for k, i in RINGS}
            for i, (t, stream, _, p) in enumerate(walk):
                if stream == 0:
                    f = p
                else:
                    v = p
                if i + 1 < len(walk) and walk[i + 1][0] == t:
                    continue  # more of this second to come
                if f is None or v is None:
                    continue
                if abs(v.t - f.t) > age:
                    continue  # a stale pair decides nothing
                d = distance_m(f.lat, f.lon, v.lat, v.lon)
                acc = f.acc_m + v.acc_m
                last_pair = max(v.t, f.t)
                for kind, _ in RINGS:
                    limit = thresholds[kind]
                    if kind in opened:
                        if d - acc > limit + HYST_M:
                            close(kind)
                        continue
                    if d - acc > limit:
                        continue
                    data = {
                        "distance_m": round(d, 1),
                        "min_distance_m": round(max(0.0, d - acc), 1),
                        "accuracy_m": round(acc, 1),
                        "limit_m": limit,
                        "victim_age_s": now - v.t,
                        "fix_age_s": now - f.t,
                        "apart_s": abs(v.t - f.t),
                        "fix_seq": f.key,
                    }
                    r = tx.execute(
                        "INSERT INTO alerts (tag, kind, source, subject, seq, t, raised_ms, data) "
                        "VALUES (?, ?, 'server', ?, NULL, ?, ?, ?) RETURNING id",
                        (tag, kind, subj, last_pair, now_ms, json.dumps(data).encode()),
                    ).one()
                    assert r is not None
                    opened[kind] = int(r[0])
                    changes.append(("opened", kind))
            decided = max(horizon, decided) if decided is not None else horizon
    # No fresh pair for STALE_END_S: the episode is over (the next approach is a new alert).
    if opened and (last_pair is None or now - last_pair > STALE_END_S):
        for kind in [k for k, _ in RINGS if k in opened]:
            close(kind)
    tx.execute(
        "UPDATE victims SET decided_t = ?, last_pair_t = ? WHERE id = ?",
        (decided, last_pair, victim),
    )
    return changes


def evaluate_tag(tx: Tx, tag: str, now_ms: int) -> list[tuple[str, str]]:
    """The rule for every victim of `tag` (the caller holds the tag's row lock)."""
    out: list[tuple[str, str]] = []
    for (vid,) in tx.execute("SELECT id FROM victims WHERE tag = ? ORDER BY id", (tag,)).all():
        out += evaluate(tx, int(vid), now_ms)
    return out


def guarded(tx: Tx, fn: Callable[..., list[tuple[str, str]]], *args: Any) -> list[tuple[str, str]]:
    """`fn(tx, *args)` inside a savepoint: if the rule fails, what it wrote is undone and the
    rest of the transaction (the tag's batch, her position) is kept. Her alerts must never cost
    the tag its acknowledgement (it would send the batch again forever) nor lose her position;
    the rules loop walks again 30 s later. Returns [("failed", "")] when it failed."""
    tx.execute("SAVEPOINT victim_rule")
    try:
        out = fn(tx, *args)
    except Exception:
        log.exception("the victim proximity rule failed")
        tx.execute("ROLLBACK TO SAVEPOINT victim_rule")
        out = [("failed", "")]
    tx.execute("RELEASE SAVEPOINT victim_rule")
    return out


def sweep(db: Database, now_ms: int) -> list[tuple[str, str]]:
    """The rule for the victims it may have something to say about (the server's rules loop,
    every 30 s): those with an alert open (only time can end it: the stale end), and those
    whose walk is behind their own positions (a failed evaluation, or the tag lagging). An
    arrival walks as far as it can, and freshness only shrinks with time, so the others would
    decide nothing."""
    marks = ", ".join("?" * len(RINGS))
    with db.tx() as tx:
        tags = [
            str(r[0])
            for r in tx.execute(
                "SELECT DISTINCT v.tag FROM victims v WHERE v.decided_t IS NULL "
                "OR v.decided_t < (SELECT MAX(p.t) FROM victim_positions p WHERE p.victim = v.id) "
                "OR EXISTS (SELECT 1 FROM alerts a WHERE a.tag = v.tag AND a.source = 'server' "
                f"AND a.cleared_ms IS NULL AND a.kind IN ({marks}))",
                [k for k, _ in RINGS],
            ).all()
        ]
    out: list[tuple[str, str]] = []
    for tag in sorted(tags):
        with db.tx() as tx:
            if tx.lock_tag(tag) is not None:
                out += guarded(tx, evaluate_tag, tag, now_ms)
    return out


def counter(what: str) -> str:
    """The server's count for a change the rule returned (GET /v1/stats)."""
    return "victim_rule_failed" if what == "failed" else f"victim_alerts_{what}"

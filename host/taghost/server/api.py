"""Read side: tag state, trails and alerts with their evidence fixes (JSON-ready dicts)."""

from __future__ import annotations

import json
from typing import Any

from taghost import alertkinds as K
from taghost.server import wire
from taghost.server.alerts import meaning
from taghost.server.db import Database
from taghost.server.ingest import FIX_COLS
from taghost.units import UNIX_2000, parse_iso
from taghost.units import iso_ms as iso  # api.iso: the API's times, to the millisecond

EVIDENCE_FIXES = 3  # fixes logged just before and just after an alert's event, by seq
DOWNLINK_NAMES = {v: k for k, v in wire.DOWNLINK_KINDS.items()}
FIX_FIELDS = [c.strip() for c in FIX_COLS.split(",")][3:-1]  # t .. flags


def parse_time(text: str | None) -> int | None:
    """An ISO 8601 time (UTC if no zone; units.parse_iso) or Unix seconds, as seconds since
    2000; None for no text. Unix seconds are the API's own addition (a script's `date +%s`).

    Raises ValueError for text that is neither."""
    if text is None or text == "":
        return None
    try:
        return int(float(text)) - UNIX_2000
    except ValueError:
        pass
    try:
        return parse_iso(text)
    except ValueError as e:
        raise ValueError(f"not a time: {text!r} (ISO 8601 or Unix seconds)") from e


def fix_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A fix row (seq, t .. flags, rx_ms) as JSON: degrees beside the stored integers; rx_ms
    None for a fix read off the tag (no server received it)."""
    d: dict[str, Any] = {"seq": int(row[0])}
    d.update(
        {k: (None if v is None else int(v)) for k, v in zip(FIX_FIELDS, row[1:-1], strict=True)}
    )
    d["time"] = iso(d["t"] + d["ms"] / 1000)
    d["lat_deg"] = d["lat"] / 1e6
    d["lon_deg"] = d["lon"] / 1e6
    d["received"] = None if row[-1] is None else iso(int(row[-1]) / 1000)  # None: off the tag
    return d


SELECT_FIX = f"SELECT seq, {', '.join(FIX_FIELDS)}, rx_ms FROM fixes"


def evidence_dict(f: Any) -> dict[str, Any]:
    """A fix the tag attached to an event (a tagcore.fix.Fix, no seq of its own)."""
    d: dict[str, Any] = dict(f._asdict())
    d["time"] = iso(d["t"] + d["ms"] / 1000)
    d["lat_deg"] = d["lat"] / 1e6
    d["lon_deg"] = d["lon"] / 1e6
    return d


# The server's GNSS proximity rule (taghost.server.proximity) keeps its decision in `data`.
VICTIM_KINDS = (K.PROXIMITY_GNSS, K.PROXIMITY_GNSS_PREALERT)


def victim_detail(data: bytes) -> str:
    """What the server's proximity rule saw: the distance and the two positions' ages (never
    her coordinates: the rule does not keep them with the alert)."""
    try:
        d = json.loads(data)
        return (
            f"{d['distance_m']:.0f} m apart (at least {d['min_distance_m']:.0f} m with the "
            f"accuracies, {d['accuracy_m']:.0f} m); her position {d['victim_age_s']} s old, "
            f"the tag's fix {d['fix_age_s']} s old"
        )
    except (ValueError, KeyError, TypeError):
        return ""


def trail(db: Database, tag: str, t_from: int | None, t_to: int | None) -> list[dict[str, Any]]:
    q = SELECT_FIX + " WHERE tag = ?"
    args: list[Any] = [tag]
    if t_from is not None:
        q += " AND t >= ?"
        args.append(t_from)
    if t_to is not None:
        q += " AND t <= ?"
        args.append(t_to)
    with db.tx() as tx:
        return [fix_dict(r) for r in tx.execute(q + " ORDER BY seq", args).all()]


def alerts(
    db: Database, tag: str | None, t_from: int | None, t_to: int | None
) -> list[dict[str, Any]]:
    """Alert rows, each with its evidence: the fixes logged around its event (tag alerts)."""
    q = (
        "SELECT id, tag, kind, source, seq, t, raised_ms, cleared_ms, data, subject "
        "FROM alerts WHERE 1 = 1"
    )
    args: list[Any] = []
    for cond, v in (("tag = ?", tag), ("t >= ?", t_from), ("t <= ?", t_to)):
        if v is not None:
            q += " AND " + cond
            args.append(v)
    out = []
    with db.tx() as tx:
        for aid, atag, kind, source, seq, t, raised, cleared, data, subject in tx.execute(
            q + " ORDER BY t, id", args
        ).all():
            ev: list[dict[str, Any]] = []
            own: list[dict[str, Any]] = []
            detail = ""
            if seq is not None:
                r = tx.execute(
                    "SELECT kind FROM events WHERE tag = ? AND seq = ?", (atag, seq)
                ).one()
                m = meaning(int(r[0]), int(t), bytes(data)) if r else None
                own = [evidence_dict(f) for f in (m.evidence if m else ())]
                detail = m.detail if m else ""
                before = tx.execute(
                    SELECT_FIX + " WHERE tag = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                    (atag, seq, EVIDENCE_FIXES),
                ).all()
                after = tx.execute(
                    SELECT_FIX + " WHERE tag = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (atag, seq, EVIDENCE_FIXES),
                ).all()
                ev = [fix_dict(r) for r in reversed(before)] + [fix_dict(r) for r in after]
            elif source == "server" and kind in VICTIM_KINDS:
                detail = victim_detail(bytes(data))
            out.append(
                {
                    "id": int(aid),
                    "tag": atag,
                    "kind": kind,
                    "source": source,
                    "seq": None if seq is None else int(seq),
                    "t": int(t),
                    "time": iso(int(t)),
                    "raised": iso(int(raised) / 1000),
                    "cleared": None if cleared is None else iso(int(cleared) / 1000),
                    "subject": subject,
                    "detail": detail,  # what the tag said of it ("low confidence, ...")
                    "data": bytes(data).hex(),
                    "tag_evidence": own,  # the fixes the tag attached to the event
                    "evidence": ev,  # the fixes logged just before and after it
                }
            )
    return out


def tag_state(db: Database, tag: str | None = None) -> list[dict[str, Any]]:
    """Each tag's state: last upload, acknowledged point, last fix, versions held and since when,
    downlink items waiting, open alerts."""
    q = (
        "SELECT tag, label, upload_every_s, created_ms, max_ctr, acked, last_rx_ms, last_sent "
        "FROM tags"
    )
    args: tuple[Any, ...] = ()
    if tag is not None:
        q += " WHERE tag = ?"
        args = (tag,)
    out = []
    with db.tx() as tx:
        for tg, label, every, created, ctr, acked, last_rx, last_sent in tx.execute(
            q + " ORDER BY tag", args
        ).all():
            last_fix = tx.execute(
                SELECT_FIX + " WHERE tag = ? ORDER BY seq DESC LIMIT 1", (tg,)
            ).one()
            held = tx.execute(
                "SELECT kind, version, since_ms FROM held WHERE tag = ? ORDER BY kind", (tg,)
            ).all()
            queued = tx.execute(
                "SELECT kind, version, created_ms FROM downlink WHERE tag = ? ORDER BY kind", (tg,)
            ).all()
            open_alerts = tx.execute(
                "SELECT COUNT(*) FROM alerts WHERE tag = ? AND cleared_ms IS NULL "
                "AND source = 'server'",
                (tg,),
            ).one()
            n_fixes = tx.execute("SELECT COUNT(*) FROM fixes WHERE tag = ?", (tg,)).one()
            held_map = {int(k): int(v) for k, v, _ in held}
            out.append(
                {
                    "tag": tg,
                    "label": label,
                    "upload_every_s": int(every),
                    "provisioned": iso(int(created) / 1000),
                    "batch_counter": int(ctr),
                    "acked": int(acked),
                    "last_upload": None if last_rx is None else iso(int(last_rx) / 1000),
                    "last_sent": None if last_sent is None else iso(int(last_sent)),
                    # By seq, not by time: one future-dated fix must not freeze "latest".
                    "last_fix": None if last_fix is None else fix_dict(last_fix),
                    "fixes": int(n_fixes[0]) if n_fixes else 0,
                    "held": [
                        {
                            "kind": DOWNLINK_NAMES.get(int(k), str(k)),
                            "version": int(v),
                            "since": iso(int(s) / 1000),
                        }
                        for k, v, s in held
                    ],
                    "pending_downlink": [
                        {
                            "kind": DOWNLINK_NAMES.get(int(k), str(k)),
                            "version": int(v),
                            "queued": iso(int(c) / 1000),
                        }
                        for k, v, c in queued
                        if int(v) > held_map.get(int(k), 0)
                    ],
                    "open_server_alerts": int(open_alerts[0]) if open_alerts else 0,
                }
            )
    return out

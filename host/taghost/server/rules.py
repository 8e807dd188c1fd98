"""Rules the tag cannot raise itself, evaluated by the server (time is an argument)."""

from __future__ import annotations

from tagcore.proximity.idtable import HEADER, MAGIC
from tagkit.beaconwindow import window_blob

from taghost import alertkinds as K
from taghost.server import admin, wire
from taghost.server.db import Database

DEFAULT_GRACE_S = 600
# A fresh beacon window is queued when the one queued last has less than this left: a tag that
# uploads every 15 min, or misses uploads for most of a day, still gets it before it runs out.
WINDOW_LEAD_S = 24 * 3600


def comm_loss(db: Database, now_ms: int, grace_s: int = DEFAULT_GRACE_S) -> list[str]:
    """Raise a `comm_lost` alert for each tag whose upload is more than `grace_s` overdue.

    An upload was due `upload_every_s` after the last one; tags never heard from are not
    deployed yet and raise nothing. One open alert per tag: the next accepted batch clears it.
    Returns the tags newly alerted.
    """
    raised = []
    with db.tx() as tx:
        rows = tx.execute(
            "SELECT tag, upload_every_s, last_rx_ms FROM tags WHERE last_rx_ms IS NOT NULL "
            "AND last_rx_ms + (upload_every_s + ?) * 1000 < ? AND NOT EXISTS ("
            "SELECT 1 FROM alerts a WHERE a.tag = tags.tag AND a.kind = ? "
            "AND a.cleared_ms IS NULL)",
            (grace_s, now_ms, K.COMM_LOST),
        ).all()
        for tag, every_s, last_ms in rows:
            due_s = (int(last_ms) + int(every_s) * 1000) // 1000
            tx.execute(
                "INSERT INTO alerts (tag, kind, source, subject, seq, t, raised_ms, data) "
                "VALUES (?, ?, 'server', 'uplink', NULL, ?, ?, ?)",
                (tag, K.COMM_LOST, due_s, now_ms, b""),
            )
            raised.append(str(tag))
    return raised


def window_end(blob: bytes) -> int | None:
    """When the first of a table blob's windows runs out (seconds since 2000), or None."""
    end = None
    i = 0
    while i + HEADER <= len(blob) and blob[i : i + 4] == MAGIC:
        idl, ivs = blob[i + 4], int.from_bytes(blob[i + 6 : i + 8], "little")
        first = int.from_bytes(blob[i + 8 : i + 12], "little")
        count = int.from_bytes(blob[i + 12 : i + 14], "little")
        e = (first + count) * ivs
        end = e if end is None else min(end, e)
        i += HEADER + count * idl
    return end


def beacon_windows(db: Database, now_ms: int, lead_s: int = WINDOW_LEAD_S) -> list[str]:
    """Queue a fresh identifier window (all of a tag's beacons, starting now) for every tag whose
    last queued window ends within `lead_s` (or that has none). Returns the tags served."""
    now = now_ms // 1000
    with db.tx() as tx:
        rows = tx.execute(
            "SELECT b.tag, b.beacon, b.secret, b.hours, b.interval_s, b.margin, d.data "
            "FROM beacons b LEFT JOIN downlink d ON d.tag = b.tag AND d.kind = ? "
            "ORDER BY b.tag, b.beacon",
            (wire.DL_BEACON_WINDOW,),
        ).all()
    due: dict[str, list[bytes]] = {}
    for tag, beacon, secret, hours, ivs, margin, data in rows:
        end = window_end(bytes(data)) if data is not None else None
        if end is not None and end - now >= lead_s:
            continue
        first = now // int(ivs) - int(margin)
        count = (int(hours) * 3600 + int(ivs) - 1) // int(ivs) + 2 * int(margin)
        due.setdefault(str(tag), []).append(
            window_blob(bytes(secret), int(beacon), first, count, int(ivs))
        )
    for tag, blobs in due.items():
        admin.queue_downlink(db, tag, wire.DL_BEACON_WINDOW, b"".join(blobs), now_ms)
    return sorted(due)

"""Rules the tag cannot raise itself, evaluated by the server (time is an argument)."""

from __future__ import annotations

from taghost.server.db import Database

DEFAULT_GRACE_S = 600


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
            "SELECT 1 FROM alerts a WHERE a.tag = tags.tag AND a.kind = 'comm_lost' "
            "AND a.cleared_ms IS NULL)",
            (grace_s, now_ms),
        ).all()
        for tag, every_s, last_ms in rows:
            due_s = (int(last_ms) + int(every_s) * 1000) // 1000
            tx.execute(
                "INSERT INTO alerts (tag, kind, source, seq, t, raised_ms, data) "
                "VALUES (?, 'comm_lost', 'server', NULL, ?, ?, ?)",
                (tag, due_s, now_ms, b""),
            )
            raised.append(str(tag))
    return raised

"""Provisioning and downlink items: what an operator does to a tag (CLI and JSON API)."""

from __future__ import annotations

import os

from taghost.server import wire
from taghost.server.db import Database


class AdminError(ValueError):
    """An operator's request that cannot be carried out (shown without a traceback)."""


def parse_tag(text: str) -> str:
    """A tag id as 16 lower-case hex digits (8 bytes, the COSE kid)."""
    t = text.strip().lower()
    try:
        raw = bytes.fromhex(t)
    except ValueError:
        raw = b""
    if len(raw) != wire.TAG_ID_LEN:
        raise AdminError(f"a tag id is {wire.TAG_ID_LEN * 2} hex digits, not {text!r}")
    return raw.hex()


def provision(
    db: Database,
    tag: str,
    now_ms: int,
    key: bytes | None = None,
    upload_every_s: int = 900,
    label: str = "",
    seal_key: bytes | None = None,
) -> bytes:
    """Register a tag, its MAC key and its initial seal key k0 (each 32 random bytes unless
    given; docs/evidence.md); returns the MAC key (`seal_key_of` gives k0)."""
    tag = parse_tag(tag)
    key = os.urandom(wire.KEY_LEN) if key is None else key
    if len(key) != wire.KEY_LEN:
        raise AdminError(f"a tag key is {wire.KEY_LEN} bytes, not {len(key)}")
    seal_key = os.urandom(wire.KEY_LEN) if seal_key is None else seal_key
    if len(seal_key) != wire.KEY_LEN:
        raise AdminError(f"a seal key is {wire.KEY_LEN} bytes, not {len(seal_key)}")
    if upload_every_s < 1:
        raise AdminError("the upload interval must be at least 1 s")
    with db.tx() as tx:
        if tx.execute("SELECT 1 FROM tags WHERE tag = ?", (tag,)).one():
            raise AdminError(f"tag {tag} is already provisioned")
        tx.execute(
            "INSERT INTO tags (tag, mac_key, label, upload_every_s, created_ms, seal_key, "
            "seal_next_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tag, key, label, upload_every_s, now_ms, seal_key, seal_key),
        )
    return key


def seal_key_of(db: Database, tag: str) -> bytes | None:
    """The tag's initial seal key k0 (None: provisioned before sealing, or unknown tag)."""
    with db.tx() as tx:
        r = tx.execute("SELECT seal_key FROM tags WHERE tag = ?", (parse_tag(tag),)).one()
    return bytes(r[0]) if r is not None and r[0] is not None else None


def add_beacon(
    db: Database,
    tag: str,
    secret: bytes,
    beacon: int = 0,
    hours: int = 48,
    interval_s: int = 900,
    margin: int = 8,
) -> None:
    """Keep a victim beacon's identifier windows fresh on the tag (rules.beacon_windows)."""
    tag = parse_tag(tag)
    if len(secret) < 16:
        raise AdminError(f"a beacon secret has at least 16 bytes, not {len(secret)}")
    if not (0 <= beacon <= 255 and 1 <= hours <= 24 * 21 and 60 <= interval_s <= 65535):
        raise AdminError("beacon 0-255, hours 1-504, interval 60-65535 s")
    with db.tx() as tx:
        if tx.lock_tag(tag) is None:
            raise AdminError(f"tag {tag} is not provisioned")
        tx.execute(
            "INSERT INTO beacons (tag, beacon, secret, hours, interval_s, margin) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tag, beacon) DO UPDATE SET "
            "secret = excluded.secret, hours = excluded.hours, "
            "interval_s = excluded.interval_s, margin = excluded.margin",
            (tag, beacon, secret, hours, interval_s, margin),
        )


def queue_downlink(
    db: Database, tag: str, kind: int, data: bytes, now_ms: int, version: int | None = None
) -> int:
    """Queue a downlink item for the tag's next acknowledgement; returns its version.

    Versions only go up: the tag takes an item only if it is newer than what it holds, so a
    version at or below the one queued before is refused here rather than silently ignored there.
    """
    tag = parse_tag(tag)
    if kind not in wire.DOWNLINK_KINDS.values():
        raise AdminError(f"unknown downlink kind {kind}")
    with db.tx() as tx:
        if tx.lock_tag(tag) is None:
            raise AdminError(f"tag {tag} is not provisioned")
        r = tx.execute("SELECT version FROM downlink WHERE tag = ? AND kind = ?", (tag, kind)).one()
        h = tx.execute("SELECT version FROM held WHERE tag = ? AND kind = ?", (tag, kind)).one()
        floor = max(int(r[0]) if r else 0, int(h[0]) if h else 0)
        if version is None:
            version = floor + 1
        if not (floor < version <= wire.INT_MAX):
            raise AdminError(f"version {version} is not newer than {floor}")
        tx.execute(
            "INSERT INTO downlink (tag, kind, version, data, created_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (tag, kind) DO UPDATE SET version = excluded.version, "
            "data = excluded.data, created_ms = excluded.created_ms",
            (tag, kind, version, data, now_ms),
        )
    return version

"""The database schema and its migrations: the one file of truth for both backends.

Each migration is SQL in the subset SQLite and PostgreSQL share; `{blob}` and `{serial}` are the
two words the dialects spell differently. A database records the migrations it has applied in
`schema_version`, so opening an older database brings it up to date and a newer one is refused.

Times: `t` columns are the tag's clock (seconds since 2000-01-01 UTC, the core's epoch); `*_ms`
columns are the server's clock in milliseconds since the same epoch.
"""

from __future__ import annotations

DIALECT_WORDS = {
    "sqlite": {"blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgres": {"blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"},
}

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
CREATE TABLE tags (
    tag TEXT PRIMARY KEY,             -- tag id, 16 hex digits (the COSE kid)
    mac_key {blob} NOT NULL,          -- 32-byte HMAC key shared with the tag
    label TEXT NOT NULL DEFAULT '',
    upload_every_s BIGINT NOT NULL,   -- the tag's upload interval: drives loss of communication
    created_ms BIGINT NOT NULL,
    max_ctr BIGINT NOT NULL DEFAULT -1,   -- highest batch counter accepted
    acked BIGINT NOT NULL DEFAULT 0,      -- every seq in [1, acked] is covered
    last_rx_ms BIGINT,                    -- last accepted batch (server clock)
    last_sent BIGINT                      -- that batch's `sent` (tag clock)
);
-- Every accepted batch, byte for byte as it arrived: the evidence the rows are decoded from.
CREATE TABLE batches (
    id {serial},
    tag TEXT NOT NULL REFERENCES tags(tag),
    ctr BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    rx_ms BIGINT NOT NULL,
    raw {blob} NOT NULL
);
CREATE INDEX batches_tag_ctr ON batches (tag, ctr);
CREATE TABLE fixes (
    tag TEXT NOT NULL,
    seq BIGINT NOT NULL,
    batch_id BIGINT NOT NULL,
    t BIGINT NOT NULL,
    ms INTEGER NOT NULL,
    lat BIGINT NOT NULL,              -- microdegrees
    lon BIGINT NOT NULL,
    alt_dm BIGINT,
    speed_cms BIGINT,
    course_cd BIGINT,
    acc_dm BIGINT,
    hdop_c BIGINT,
    sats INTEGER NOT NULL,
    quality INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    flags BIGINT NOT NULL,
    rx_ms BIGINT NOT NULL,
    PRIMARY KEY (tag, seq)
);
CREATE INDEX fixes_tag_t ON fixes (tag, t);
CREATE TABLE events (
    tag TEXT NOT NULL,
    seq BIGINT NOT NULL,
    batch_id BIGINT NOT NULL,
    kind INTEGER NOT NULL,
    t BIGINT NOT NULL,
    data {blob} NOT NULL,
    rx_ms BIGINT NOT NULL,
    PRIMARY KEY (tag, seq)
);
-- Sequence ranges covered by stored batches that are not yet contiguous with `tags.acked`.
CREATE TABLE coverage (
    tag TEXT NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (tag, first_seq, last_seq)
);
-- Alerts: one per tag alert event (source 'tag', keyed by its seq) and the rules the server
-- raises itself (source 'server', seq NULL), e.g. loss of communication.
CREATE TABLE alerts (
    id {serial},
    tag TEXT NOT NULL REFERENCES tags(tag),
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,            -- "zone 5", "beacon 0", "location", '' (the tag itself)
    seq BIGINT,
    t BIGINT NOT NULL,
    raised_ms BIGINT NOT NULL,
    cleared_ms BIGINT,
    data {blob} NOT NULL
);
CREATE UNIQUE INDEX alerts_tag_seq ON alerts (tag, seq);
CREATE INDEX alerts_tag_t ON alerts (tag, t);
-- Downlink items waiting for a tag: the newest version of each kind.
CREATE TABLE downlink (
    tag TEXT NOT NULL REFERENCES tags(tag),
    kind INTEGER NOT NULL,
    version BIGINT NOT NULL,
    data {blob} NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tag, kind)
);
-- Victim beacons whose identifier windows the server keeps fresh on a tag (kind 1 items).
CREATE TABLE beacons (
    tag TEXT NOT NULL REFERENCES tags(tag),
    beacon INTEGER NOT NULL,
    secret {blob} NOT NULL,           -- the beacon's secret: it never goes to the tag
    hours INTEGER NOT NULL,
    interval_s INTEGER NOT NULL,
    margin INTEGER NOT NULL,
    PRIMARY KEY (tag, beacon)
);
-- What each tag reports it runs (`held` of its batches) and since when the server has seen it.
CREATE TABLE held (
    tag TEXT NOT NULL REFERENCES tags(tag),
    kind INTEGER NOT NULL,
    version BIGINT NOT NULL,
    since_ms BIGINT NOT NULL,
    PRIMARY KEY (tag, kind)
);
""",
    ),
    (
        2,
        """
-- Sealing (docs/evidence.md): the tag's initial seal key k0 (NULL: a tag without sealing) and
-- the key of the next epoch the server expects, evolved forward as seals are verified.
ALTER TABLE tags ADD COLUMN seal_key {blob};
ALTER TABLE tags ADD COLUMN seal_next_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN seal_next_key {blob};
-- Every seal the server verified: the anchors a pulled log is checked against (truncation,
-- roll-back). hi: the last seq the seal lists.
CREATE TABLE anchors (
    tag TEXT NOT NULL REFERENCES tags(tag),
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    hi BIGINT NOT NULL,
    mac {blob} NOT NULL,
    batch_id BIGINT NOT NULL,
    PRIMARY KEY (tag, epoch)
);
""",
    ),
    (
        3,
        """
-- Victims (docs/server.md, "Victim proximity"): each is linked to one tag, has its own MAC key
-- for her phone's posts, and the distances of the server's GNSS rule. Her positions never go
-- to the tag. decided_t: the rule has walked the two position streams up to this time (seconds
-- since 2000); last_pair_t: the newer time of the last fresh pair it decided on.
CREATE TABLE victims (
    id {serial},
    tag TEXT NOT NULL REFERENCES tags(tag),
    mac_key {blob} NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    alert_m BIGINT NOT NULL,
    prealert_m BIGINT NOT NULL,
    max_age_s BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    max_ctr BIGINT NOT NULL DEFAULT -1,   -- highest counter accepted from her phone
    last_rx_ms BIGINT,
    decided_t BIGINT,
    last_pair_t BIGINT
);
CREATE INDEX victims_tag ON victims (tag);
-- Every position her phone posted, with the bytes it came in (t: the phone's clock, seconds
-- since 2000; microdegrees; accuracy in decimetres; rx_ms: the server's clock).
CREATE TABLE victim_positions (
    id {serial},
    victim BIGINT NOT NULL REFERENCES victims(id),
    ctr BIGINT NOT NULL,
    t BIGINT NOT NULL,
    lat BIGINT NOT NULL,
    lon BIGINT NOT NULL,
    acc_dm BIGINT NOT NULL,
    rx_ms BIGINT NOT NULL,
    raw {blob} NOT NULL
);
CREATE UNIQUE INDEX victim_positions_ctr ON victim_positions (victim, ctr);
CREATE INDEX victim_positions_t ON victim_positions (victim, t);
""",
    ),
]

LATEST = MIGRATIONS[-1][0]


def statements(dialect: str, sql: str) -> list[str]:
    """The migration's statements for one dialect (split on `;`, comments kept out)."""
    text = sql.format(**DIALECT_WORDS[dialect])
    lines = [ln.split("--", 1)[0] for ln in text.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

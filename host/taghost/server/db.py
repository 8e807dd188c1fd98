"""One database interface over SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3).

SQL is written once with `?` placeholders in the subset both engines share; the PostgreSQL
connection translates them. Each thread has its own connection (the server runs database work in
a thread pool), and `tx()` is one transaction: `BEGIN IMMEDIATE` on SQLite (one writer at a time),
`BEGIN` plus row locks (`lock_tag`) on PostgreSQL, so per-tag ingest is serialized on both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taghost.server import schema

Row = tuple[Any, ...]


class DatabaseError(RuntimeError):
    """The database could not be opened or migrated (a user-facing message)."""


class Tx:
    """A cursor inside one transaction."""

    def __init__(self, cur: Any, dialect: str) -> None:
        self.cur = cur
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Tx:
        self.cur.execute(self._sql(sql), tuple(params))
        return self

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run `sql` once per row; the number of rows it changed (both drivers sum them)."""
        if not rows:
            return 0
        self.cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        return int(self.cur.rowcount)

    def insert_rows(
        self, head: str, pg_types: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
    ) -> int:
        """Insert many rows in one statement; returns how many were inserted (`tail` may say
        ON CONFLICT DO NOTHING). PostgreSQL: `head SELECT * FROM unnest(arrays) tail`, one
        array per column (`pg_types`), a fixed text psycopg prepares once; SQLite:
        `head VALUES (...), (...) tail` per 500 rows (its variable limit)."""
        if not rows:
            return 0
        if self.dialect == "postgres":
            arrays = ", ".join(f"?::{t}[]" for t in pg_types)
            cols = [list(c) for c in zip(*rows, strict=True)]
            return self.execute(f"{head} SELECT * FROM unnest({arrays}) {tail}", cols).rowcount
        n = 0
        for k in range(0, len(rows), 500):
            part = rows[k : k + 500]
            marks = "(" + ", ".join("?" * len(part[0])) + ")"
            sql = f"{head} VALUES {', '.join([marks] * len(part))} {tail}"
            self.execute(sql, [v for r in part for v in r])
            n += self.rowcount
        return n

    def one(self) -> Row | None:
        r = self.cur.fetchone()
        return tuple(r) if r is not None else None

    def all(self) -> list[Row]:
        return [tuple(r) for r in self.cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self.cur.rowcount)

    def lock_tag(self, tag: str) -> Row | None:
        """The tag's row, locked until the transaction ends (SQLite: the write lock holds it):
        tag, key, max_ctr, acked, upload_every_s, and whether it has ranges waiting on a gap,
        downlink items queued, an open server alert, a victim linked (one round trip, not five)."""
        q = (
            "SELECT tag, mac_key, max_ctr, acked, upload_every_s, "
            "EXISTS (SELECT 1 FROM coverage c WHERE c.tag = tags.tag), "
            "EXISTS (SELECT 1 FROM downlink d WHERE d.tag = tags.tag), "
            "EXISTS (SELECT 1 FROM alerts a WHERE a.tag = tags.tag AND a.source = 'server' "
            "AND a.cleared_ms IS NULL), "
            "EXISTS (SELECT 1 FROM victims v WHERE v.tag = tags.tag) "
            "FROM tags WHERE tag = ?"
        )
        if self.dialect == "postgres":
            q += " FOR UPDATE"
        return self.execute(q, (tag,)).one()


class Database:
    """A database URL opened and migrated: `sqlite:///path`, a bare path, or `postgresql://...`."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgres"
            self.target = url
        else:
            self.dialect = "sqlite"
            path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url
            if url.startswith("sqlite:") and not url.startswith("sqlite:///"):
                raise DatabaseError(f"not a database URL: {url} (sqlite:///PATH or postgresql://)")
            if path != ":memory:" and not Path(path).parent.is_dir():
                raise DatabaseError(f"no such folder for the database: {Path(path).parent}")
            self.target = path
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self.migrate()

    # A thread pool size that suits the engine: SQLite has one writer, PostgreSQL many.
    @property
    def workers(self) -> int:
        return 1 if self.dialect == "sqlite" else 4

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            c = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the server acknowledges it (NORMAL could lose
            # the last commits on power loss, after the tag had deleted them).
            c.execute("PRAGMA synchronous=FULL")
            c.execute("PRAGMA busy_timeout=10000")
            c.execute("PRAGMA foreign_keys=ON")
            return c
        try:
            import psycopg
        except ImportError as e:  # pragma: no cover - psycopg is a dependency
            raise DatabaseError(f"PostgreSQL needs psycopg: {e}") from e
        try:
            return psycopg.connect(self.target, autocommit=True)
        except psycopg.Error as e:
            raise DatabaseError(f"cannot connect to {self.url}: {e}") from e

    def conn(self) -> Any:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._connect()
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        c = self.conn()
        if self.dialect == "sqlite":
            c.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(c.cursor(), "sqlite")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")
        else:
            with c.transaction(), c.cursor() as cur:
                yield Tx(cur, "postgres")

    def migrate(self) -> None:
        with self.tx() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if self.dialect == "postgres":  # one migrator at a time across processes
                tx.execute("LOCK TABLE schema_version IN EXCLUSIVE MODE")
            row = tx.execute("SELECT MAX(version) FROM schema_version").one()
            have = int(row[0]) if row and row[0] is not None else 0
            if have > schema.LATEST:
                raise DatabaseError(
                    f"{self.url} has schema version {have}, "
                    f"newer than this server's ({schema.LATEST})"
                )
            for version, sql in schema.MIGRATIONS:
                if version > have:
                    for stmt in schema.statements(self.dialect, sql):
                        tx.execute(stmt)
                    tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:  # closing is best effort
                    pass
            self._all.clear()
        self._local = threading.local()

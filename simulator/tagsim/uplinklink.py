"""The uplink's radio path in the simulator: latency, loss and coverage gaps in virtual time,
and the real `opentag server` at the other end.

The tag's real client (tagcore.uplink) builds the bytes; `SimServer` is the real server
(taghost.server, aiohttp on a loopback port, SQLite in a temporary folder or PostgreSQL) whose
clock is the run's virtual clock, so what it stores, and when, is what an agency would see:
"alert to server" and "fixes delivered" are measured in its database (`SimServer.view`).
"""

from __future__ import annotations

import http.client
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Server = Callable[[bytes, float], bytes]  # (body, arrival time) -> reply; raises on a refusal


class Refused(Exception):
    """The server answered with an HTTP error: the tag sees a failed exchange."""

    def __init__(self, status: int | None, body: bytes = b"") -> None:
        super().__init__(f"HTTP {status}: {body[:80]!r}")
        self.status = status


@dataclass
class LinkModel:
    latency_s: float = 1.5  # request out plus reply back
    loss: float = 0.0  # chance that a request, or its reply, is lost
    gaps: list[tuple[float, float]] = field(default_factory=list)  # [start, end) without coverage
    timeout_s: float = 30.0  # how long the tag waits for a reply it will not get
    seed: int = 0
    in_gap: Callable[[float], bool] | None = None  # coverage from elsewhere (the scenario's)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _count(self, k: str) -> None:
        self.counts[k] = self.counts.get(k, 0) + 1

    def covered(self, t: float) -> bool:
        if self.in_gap is not None and self.in_gap(t):
            return False
        return not any(a <= t < b for a, b in self.gaps)

    def exchange(self, t: float, body: bytes, server: Server) -> tuple[bytes | None, float]:
        """(reply or None, the time the exchange is over) for a request sent at t. The server
        sees the request at t + latency/2; a reply that would land in a gap is lost."""
        if not self.covered(t):
            self._count("no_coverage")
            return None, t
        if self.rng.random() < self.loss:
            self._count("request_lost")
            return None, t + self.timeout_s
        try:
            reply = server(bytes(body), t + self.latency_s / 2)
        except Refused:  # refused by the server: the tag sees an HTTP error
            self._count("refused")
            return None, t + self.latency_s
        if self.rng.random() < self.loss or not self.covered(t + self.latency_s):
            self._count("reply_lost")
            return None, t + self.timeout_s
        self._count("delivered")
        return reply, t + self.latency_s


def upload(client: Any, link: LinkModel, server: Server, now: float, max_exchanges: int = 64):
    """A shell's upload with the bare client: exchanges until nothing is due or one fails.
    Returns (the time it ends, acknowledged exchanges, failed exchanges)."""
    ok = failed = 0
    t = now
    for _ in range(max_exchanges):
        body = client.request(int(t))
        if body is None:
            break
        reply, t = link.exchange(t, body, server)
        if reply is not None and client.on_reply(int(t), reply) == "acked":
            ok += 1
            continue
        client.on_failure(int(t))
        failed += 1
        break
    return t, ok, failed


class SimServer:
    """The real `opentag server` for a simulated run, on 127.0.0.1 (a free port).

    Its clock is set to each request's arrival time in virtual time before the request is
    posted, so its receive times (fixes.rx_ms, alerts.raised_ms) are the run's. Its periodic
    rule (loss of communication, taghost.server.rules.comm_loss) runs on wall time in the real
    server: here it is off there and run by `tick` on the virtual clock instead.
    """

    RULES_EVERY_S = 60  # virtual seconds between two evaluations of the rules

    def __init__(self, db_url: str | None = None) -> None:
        from taghost.errors import UserError
        from taghost.server.app import Config, Server, ServerThread
        from taghost.server.db import Database, DatabaseError
        from taghost.units import UNIX_2000

        self.epoch = UNIX_2000
        self._tmp = None
        if db_url is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tagsim-server-")
            db_url = f"sqlite:///{self._tmp.name}/server.db"
        self.url = db_url
        try:
            self.db = Database(db_url)
        except DatabaseError as e:
            raise UserError(f"[server] db_url: {e}") from None
        except Exception as e:  # the driver's own (PostgreSQL unreachable, bad credentials)
            raise UserError(f"[server] db_url {db_url}: cannot open: {e}") from None
        self.now_s = float(UNIX_2000)  # Unix seconds: what the server's clock reads
        cfg = Config(rules_every_s=365 * 86400.0)
        self.server = Server(self.db, cfg, clock=lambda: self.now_s)
        self.thread = ServerThread(self.server).start()
        self.port = self.thread.port
        self._conn: http.client.HTTPConnection | None = None
        self.posts = 0
        self.stopped = False
        self.grace_s = cfg.grace_s
        self.next_rules = 0.0

    def provision(
        self,
        tag_id: bytes,
        key: bytes,
        upload_every_s: int,
        label: str,
        seal_key: bytes | None = None,
    ) -> str:
        """Register the tag (id, key, initial seal key: random unless given) as an operator
        does (`opentag server provision`). A tag already there is refused: its old rows would
        be counted as this run's deliveries."""
        from taghost.errors import UserError
        from taghost.server import admin

        try:
            return admin.provision(
                self.db, tag_id.hex(), self.server.now_ms(), key, upload_every_s, label, seal_key
            ).hex()
        except admin.AdminError as e:
            raise UserError(
                f"[server] {e} in {self.url}: give the run a fresh database or another tag_id"
            ) from None

    def at(self, t2000: float) -> None:
        self.now_s = self.epoch + t2000

    def tick(self, t2000: float) -> None:
        """Time has come to t2000 (virtual): run the server's rules if they are due."""
        if t2000 < self.next_rules:
            return
        from taghost.server import rules

        self.next_rules = t2000 + self.RULES_EVERY_S
        self.at(t2000)
        rules.comm_loss(self.db, self.server.now_ms(), self.grace_s)

    def post(self, body: bytes, t2000: float) -> bytes:
        """POST /v1/up arriving at t2000 (virtual seconds since 2000); the reply body, or
        Refused for any status but 200."""
        self.at(t2000)
        self.posts += 1
        for attempt in (0, 1):  # a keep-alive connection the server closed: once more, fresh
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self._conn.request("POST", "/v1/up", body, {"Content-Type": "application/cose"})
                r = self._conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
                continue
            if r.status != 200:
                raise Refused(r.status, data)
            return data
        raise AssertionError("unreachable")

    def get(self, path: str) -> bytes:
        """GET a path (e.g. /v1/tags/ID/alerts) from the running server: its body."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("GET", path)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if r.status != 200:
            raise Refused(r.status, data)
        return data

    def get_json(self, path: str) -> Any:
        import json

        return json.loads(self.get(path))

    def get_text(self, path: str) -> str:
        return self.get(path).decode()

    def holds(self, tag_id: bytes, seqs: set[int]) -> set[int]:
        """Which of `seqs` the server's database holds for the tag (fixes or events)."""
        out: set[int] = set()
        part = sorted(seqs)
        with self.db.tx() as tx:
            for i in range(0, len(part), 500):
                chunk = part[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for table in ("fixes", "events"):
                    q = f"SELECT seq FROM {table} WHERE tag = ? AND seq IN ({marks})"
                    out |= {int(r[0]) for r in tx.execute(q, (tag_id.hex(), *chunk)).all()}
        return out

    def view(self, tag_id: bytes) -> dict[str, Any]:
        """What the server holds for the tag, read from its database: every fix and event row
        (seq, tag time, receive time in virtual seconds since 2000), its tag alerts, the
        acknowledged point, batches stored, and the ingest counters."""
        tag = tag_id.hex()
        with self.db.tx() as tx:
            fixes = tx.execute("SELECT seq, t, rx_ms FROM fixes WHERE tag = ?", (tag,)).all()
            events = tx.execute(
                "SELECT seq, kind, t, rx_ms FROM events WHERE tag = ?", (tag,)
            ).all()
            alerts = tx.execute(
                "SELECT kind, subject, seq, t, raised_ms FROM alerts WHERE tag = ? "
                "AND source = 'tag' ORDER BY raised_ms, seq",
                (tag,),
            ).all()
            own = tx.execute(
                "SELECT kind, t, raised_ms, cleared_ms FROM alerts WHERE tag = ? "
                "AND source = 'server' ORDER BY raised_ms",
                (tag,),
            ).all()
            row = tx.execute("SELECT acked FROM tags WHERE tag = ?", (tag,)).one()
            (batches,) = tx.execute("SELECT COUNT(*) FROM batches WHERE tag = ?", (tag,)).one() or (
                0,
            )
        return {
            "fixes": [(int(s), int(t), int(rx) / 1000) for s, t, rx in fixes],
            "events": [(int(s), int(k), int(t), int(rx) / 1000) for s, k, t, rx in events],
            "alerts": [
                {"kind": k, "subject": sub, "seq": int(s), "t": int(t), "at": int(r) / 1000}
                for k, sub, s, t, r in alerts
            ],
            "server_alerts": [  # the server's own rules: loss of communication
                {
                    "kind": k,
                    "due": int(t),
                    "at": int(r) / 1000,
                    "cleared": None if c is None else int(c) / 1000,
                }
                for k, t, r, c in own
            ],
            "acked": int(row[0]) if row else 0,
            "batches": int(batches),
            "posts": self.posts,
            "counts": dict(self.server.ingest.counts),
        }

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._conn is not None:
            self._conn.close()
        self.thread.stop()
        self.db.close()
        if self._tmp is not None:
            self._tmp.cleanup()

"""Fault injection between a tag and the server over real loopback sockets.

`FaultProxy` sits between `HostTag` clients and a `ServerThread`: each request goes through one
fault chosen by the harness (or none). `run_faults` drives tags through thousands of faults and
checks, as it goes and at the end, that every record is stored exactly once and that nothing was
deleted from a tag before the server held it. Shared by tests/test_server_faults.py (small) and
bench/bench_server.py (>= 10,000 faults).
"""

from __future__ import annotations

import http.client
import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable

import uplinkkit as K
from tagcore.store import record as R
from taghost.server import admin
from taghost.server.api import FIX_FIELDS
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database

FAULTS = (
    "drop_request",  # lost before the server
    "drop_response",  # the server stored it, the reply is lost
    "timeout",  # the server answers after the tag gave up
    "error_500",  # a front end fails (before or after the server stored it)
    "duplicate",  # the request arrives twice
    "reorder",  # held back, delivered after the next request
    "truncate",  # the reply is cut short
    "corrupt",  # a byte of the reply flipped (a forged or damaged ack)
    "stale_ack",  # an older valid ack replayed to the tag
    "restart",  # the server restarts while the request is in flight
    "power_loss",  # the tag loses power mid-upload (RAM state gone, fixes buffered lost)
)
CLIENT_TIMEOUT_S = 5.0
# A "timeout": the tag gives up after TAG_GIVES_UP_S; the request reaches the server only later.
TAG_GIVES_UP_S = 0.05
LATE_BY_S = 0.08


def post(port: int, body: bytes, timeout: float = CLIENT_TIMEOUT_S) -> tuple[int | None, bytes]:
    """POST /v1/up over a fresh connection; (None, b"") when no complete reply came."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/v1/up", body, {"Content-Type": "application/cose"})
        r = c.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        c.close()


def read_request(sock: socket.socket) -> bytes | None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head + b"\r\n\r\n" + rest


def exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send a raw request upstream, return the raw reply (the server closes: Connection: close)."""
    req = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(req)
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
    except OSError:
        return b""


def reply_body(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[2]


class FaultProxy:
    """A loopback TCP proxy that applies `self.fault` to the next request, then clears it."""

    def __init__(self, upstream: Callable[[], int], restart: Callable[[], None], seed: int = 0):
        self.upstream = upstream
        self.restart = restart
        self.rng = random.Random(seed)
        self.fault: str | None = None
        self.held: bytes | None = None  # a request held back for "reorder"
        self.last_ok: list[bytes] = []  # earlier good replies, replayed for "stale_ack"
        self.applied: Counter[str] = Counter()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        req = read_request(sock)
        if req is None:
            return
        fault, self.fault = self.fault, None
        if fault:
            self.applied[fault] += 1
        up = self.upstream()
        if fault == "drop_request":
            return
        if fault == "reorder":
            self.held = req
            return
        if fault == "error_500" and self.rng.random() < 0.5:
            sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            return
        if fault == "timeout":
            time.sleep(LATE_BY_S)
        if fault == "restart":
            t = threading.Thread(target=self.restart)
            t.start()
            # A connection caught in the old server's teardown may never be answered; a dead
            # process would reset it, so give up on it soon.
            raw = exchange(up, req, timeout=0.2)
            t.join()
        else:
            raw = exchange(up, req)
        if fault == "duplicate":
            raw = exchange(up, req)
        if self.held is not None:  # the held-back request arrives late
            exchange(up, self.held)
            self.held = None
        if fault in ("drop_response", "power_loss", "timeout"):
            return
        if fault == "error_500":
            raw = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
        elif fault == "truncate" and raw:
            raw = raw[: self.rng.randrange(len(raw))]
        elif fault == "corrupt" and raw:
            i = self.rng.randrange(len(raw.partition(b"\r\n\r\n")[0]) + 4, len(raw))
            raw = raw[:i] + bytes([raw[i] ^ (1 << self.rng.randrange(8))]) + raw[i + 1 :]
        elif fault == "stale_ack" and self.last_ok:
            raw = self.rng.choice(self.last_ok)  # an old ack: this tag's or another tag's
        if raw.startswith(b"HTTP/1.1 200") and fault is None:
            self.last_ok = [*self.last_ok[-15:], raw]
        try:
            sock.sendall(raw)
        except OSError:
            pass

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


class Harness:
    """A server (restartable on the same port and database) behind a FaultProxy."""

    def __init__(self, db_url: str, seed: int = 0) -> None:
        self.db_url = db_url
        self.check_db = Database(db_url)
        self.thread = ServerThread(self._server(), shutdown_s=0.1).start()
        self.port = self.thread.port
        self.restarts = 0
        self._lock = threading.Lock()
        self.proxy = FaultProxy(lambda: self.port, self.restart, seed)

    def _server(self) -> Server:
        return Server(Database(self.db_url), Config(rules_every_s=3600))

    def restart(self) -> None:
        with self._lock:
            self.thread.stop()
            self.thread.server.db.close()  # a restarted process holds no old connections
            self.thread = ServerThread(self._server(), port=self.port, shutdown_s=0.1).start()
            self.restarts += 1

    def held_seqs(self, tag: bytes, seqs: list[int]) -> set[int]:
        """Which of `seqs` the database holds (fixes or events) right now."""
        out: set[int] = set()
        with self.check_db.tx() as tx:
            for table in ("fixes", "events"):
                for i in range(0, len(seqs), 500):
                    part = seqs[i : i + 500]
                    marks = ",".join("?" * len(part))
                    q = f"SELECT seq FROM {table} WHERE tag = ? AND seq IN ({marks})"
                    out |= {int(r[0]) for r in tx.execute(q, (tag.hex(), *part)).all()}
        return out

    def close(self) -> None:
        self.proxy.close()
        self.thread.stop()
        self.thread.server.db.close()
        self.check_db.close()


def run_faults(
    db_url: str,
    faults: int,
    tags: int = 4,
    fault_rate: float = 0.6,
    seed: int = 0,
    weights: dict[str, float] | None = None,
) -> dict[str, object]:
    """Drive `tags` HostTags through `faults` injected faults, then drain without faults.

    Checks: a tag deletes only seqs the database already holds (checked at every truncation);
    at the end the database holds every record each tag wrote, exactly as written, once.
    """
    rng = random.Random(seed)
    h = Harness(db_url, seed)
    w = weights or {f: 1.0 for f in FAULTS}
    names = list(w)
    fleet = []
    written: list[dict[int, tuple]] = []
    for i in range(tags):
        tag, key = K.new_tag(seed * 1000 + i)
        admin.provision(h.check_db, tag.hex(), 0, key)
        fleet.append(K.HostTag(tag, key, seed=seed * 1000 + i, max_recs=rng.choice([16, 64])))
        written.append({})
    early_deletes = 0
    requests = 0
    t0 = time.perf_counter()

    def step(i: int, fault: str | None, grow: bool = True) -> None:
        nonlocal early_deletes, requests
        ht = fleet[i]
        if grow:  # new records: fixes, now and then an alert; remember all of them
            n0 = ht.last_seq
            ht.add_fixes(rng.randrange(0, 6))
            if rng.random() < 0.1:
                ht.add_event(rng.choice([R.EV_ZONE, R.EV_TAMPER, R.EV_PROXIMITY]), b"\x01")
            written[i].update({s: r for s, r in ht.log.items() if s > n0})
        if ht.outstanding is not None and rng.random() < 0.5:
            body = ht.outstanding[1]  # retry the same bytes
        else:
            body = ht.build()
        h.proxy.fault = fault
        requests += 1
        status, out = post(
            h.proxy.port, body, TAG_GIVES_UP_S if fault == "timeout" else CLIENT_TIMEOUT_S
        )
        if fault == "power_loss":
            ht.power_loss()
            ht.skip(rng.randrange(0, 4))  # fixes buffered in RAM at the cut: seqs never stored
            return
        before = len(ht.deleted)
        if ht.on_reply(status, out):
            gone = ht.deleted[before:]
            if gone:
                early_deletes += len(set(gone) - h.held_seqs(ht.tag, gone))

    while sum(h.proxy.applied.values()) < faults:  # a fault set for a request that never
        # reached the proxy (the tag gave up while connecting) is not counted
        i = rng.randrange(tags)
        fault = rng.choices(names, [w[n] for n in names])[0] if rng.random() < fault_rate else None
        step(i, fault)
    for _ in range(200):  # drain: no faults until every tag's log is acknowledged
        if all(ht.pending() == 0 and ht.acked == ht.last_seq for ht in fleet):
            break
        for i in range(tags):
            if fleet[i].pending() or fleet[i].acked < fleet[i].last_seq:
                step(i, None, grow=False)
    elapsed = time.perf_counter() - t0
    # The oracle: what each tag wrote, against what the database holds.
    lost = extra = differ = 0
    with h.check_db.tx() as tx:
        dup = tx.execute(
            "SELECT COUNT(*) FROM (SELECT tag, seq FROM fixes GROUP BY tag, seq "
            "HAVING COUNT(*) > 1) d"
        ).one()[0]
    for ht, wr in zip(fleet, written, strict=True):
        held = h.held_seqs(ht.tag, sorted(wr))
        lost += len(set(wr) - held)
        with h.check_db.tx() as tx:
            n = tx.execute(
                "SELECT (SELECT COUNT(*) FROM fixes WHERE tag = ?) + "
                "(SELECT COUNT(*) FROM events WHERE tag = ?)",
                (ht.tag.hex(), ht.tag.hex()),
            ).one()[0]
            cols = ", ".join(FIX_FIELDS)
            for r in tx.execute(
                f"SELECT seq, {cols} FROM fixes WHERE tag = ?", (ht.tag.hex(),)
            ).all():
                rec = wr.get(int(r[0]))
                if rec is None or rec[0] != "fix" or tuple(rec[1]) != tuple(r[1:]):
                    differ += 1
        extra += n - len(held)
    result = {
        "faults": sum(h.proxy.applied.values()),
        "by_fault": dict(sorted(h.proxy.applied.items())),
        "requests": requests,
        "records": sum(len(wr) for wr in written),
        "lost": lost,
        "extra": extra,
        "duplicates": int(dup),
        "differ": differ,
        "deleted_before_held": early_deletes,
        "drained": all(ht.pending() == 0 and ht.acked == ht.last_seq for ht in fleet),
        "restarts": h.restarts,
        "tag_refusals": dict(sum((ht.counts for ht in fleet), Counter())),
        "elapsed_s": elapsed,
    }
    h.close()
    return result

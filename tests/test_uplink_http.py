"""The tag's uplink client and HTTP transport inside the real MicroPython unix port, against the
real `opentag server` (taghost.server, aiohttp) over loopback: connect, send, ack, truncate, with
timeouts and faults. SQLite by default; one PostgreSQL case (`server_db_url`).

Faults come from tests/uplinkfaults.py's FaultProxy (between the tag and the server, applied
per connection from a plan here), plus two a proxy cannot fake: a server that accepts and never
answers, and a port nobody listens on."""

from __future__ import annotations

import itertools
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uplinkfaults as F
from micropython_runner import run_micropython
from tagcore.store import record as R
from taghost.server import admin
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database

KEY = bytes(range(32))
TID = b"TAGHTTP1"
HEAP = 96 * 1024
# The release build's optimisation (taghost.build, -O3: no line-number tables): the heap these
# tests hold the tag to is the shipped code's. At -O0 the TLS leg had under 1 KB to spare, and
# passed or failed with the length of pytest's temporary path (the store's root string).
OPT = 3


_LINKS = tempfile.TemporaryDirectory(prefix="ot", dir="/tmp")  # removed when pytest exits
_LINK_N = itertools.count()


def short(d: Path) -> str:
    """d through a symlink of fixed length: the store's root is a string the tag holds and
    joins for every file, so at this heap's edge pytest's temporary path (pytest-9 or
    pytest-10, popen-gw1 or none) would decide a test."""
    link = Path(_LINKS.name) / f"{next(_LINK_N):04d}"
    link.symlink_to(d)
    return str(link)


FAILS_IN_A_ROW = 20  # tests/mpy/uplink_http_run.py stops after this many failed exchanges


def provision(db: Database) -> None:
    admin.provision(db, TID.hex(), 0, KEY, 900, "uplink_http_run")


def held(db: Database) -> tuple[list[tuple[int, int]], int]:
    """([(seq, kind)] of every record the server holds for the tag (kind -1: a fix), acked)."""
    with db.tx() as tx:
        fx = tx.execute("SELECT seq FROM fixes WHERE tag = ?", (TID.hex(),)).all()
        ev = tx.execute("SELECT seq, kind FROM events WHERE tag = ?", (TID.hex(),)).all()
        row = tx.execute("SELECT acked FROM tags WHERE tag = ?", (TID.hex(),)).one()
    recs = [(int(s), -1) for (s,) in fx] + [(int(s), int(k)) for s, k in ev]
    return recs, int(row[0]) if row else 0


class PlannedFaults:
    """The Harness's FaultProxy, fed one planned fault per connection ("" or None: none), and a
    "slow" fault of its own: the server stores and answers, but only after the tag gave up."""

    def __init__(self, h: F.Harness, plan: list[str], slow_s: float) -> None:
        self.plan = list(plan)
        self.seen: list[str] = []
        self.slow = 0
        self.lock = threading.Lock()
        proxy = h.proxy
        inner = proxy._handle

        def handle(sock: socket.socket) -> None:
            with self.lock:
                fault = self.plan.pop(0) if self.plan else ""
                self.seen.append(fault)
            if fault == "slow":
                req = F.read_request(sock)
                if req is None:
                    return
                raw = F.exchange(h.port, req)
                self.slow += 1
                time.sleep(slow_s)
                try:
                    sock.sendall(raw)
                except OSError:
                    pass
                return
            proxy.fault = fault or None
            inner(sock)

        proxy._handle = handle  # type: ignore[method-assign]


def run(
    tmp_path: Path,
    faults: list[str],
    hours: int,
    heap: int = HEAP,
    timeout_s: float = 2.0,
    db_url: str | None = None,
) -> tuple[list[tuple[int, int]], int, str, PlannedFaults, F.Harness]:
    h = F.Harness(db_url or f"sqlite:///{tmp_path}/server.db")
    try:
        provision(h.check_db)
        plan = PlannedFaults(h, faults, timeout_s + 1.5)
        store = tmp_path / "store"
        store.mkdir()
        out = run_micropython(
            module="uplink_http_run",
            args=(str(h.proxy.port), short(store), str(hours), str(timeout_s)),
            heap=heap,
            timeout=600,
            opt=OPT,
        )
        time.sleep(0.05)  # a held-back ("reorder") or late request lands before we look
        recs, acked = held(h.check_db)
    finally:
        h.close()
    return recs, acked, out, plan, h


def val(out: str, key: str) -> list[str]:
    m = re.search(rf"^{key} (.+)$", out, re.M)
    assert m, out
    return m.group(1).split()


def counts(out: str, who: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(rf"^{who} (\w+) (\d+)$", out, re.M)}


def exchanges(out: str) -> list[tuple[str, str, str]]:
    return [tuple(m.split()[1:]) for m in re.findall(r"^X .+$", out, re.M)]  # type: ignore[misc]


def test_a_day_of_backlog_into_the_real_server(tmp_path: Path) -> None:
    recs, acked, out, _, _ = run(tmp_path, [], hours=24)
    records = int(val(out, "RECORDS")[0])
    tag_acked, top = map(int, val(out, "ACKED"))
    assert tag_acked == top == acked and val(out, "SEGMENTS_LEFT") == ["1"]
    seqs = [s for s, _ in recs]
    assert len(seqs) == len(set(seqs)) == records  # every record, once (the alert went twice)
    assert sorted(seqs) == list(range(top - records + 1, top + 1))  # all the tag handed out
    # The alert was the first exchange, and the server holds it as a tamper event
    assert (top, R.EV_TAMPER) in recs
    assert counts(out, "CLIENT")["alert_batches"] == 1
    assert all(x == ("ok", "200", "acked") for x in exchanges(out))


def test_postgresql_holds_the_same_as_sqlite(tmp_path: Path, pg_cluster) -> None:
    url = pg_cluster.new_database()
    recs, acked, out, _, _ = run(tmp_path, ["", "drop_response", ""], hours=6, db_url=url)
    records = int(val(out, "RECORDS")[0])
    tag_acked, top = map(int, val(out, "ACKED"))
    assert tag_acked == top == acked
    assert sorted(s for s, _ in recs) == list(range(top - records + 1, top + 1))


@pytest.mark.parametrize(
    "faults",
    [
        # (a stale ack replays an earlier good one: one has come first)
        [
            "",
            "drop_request",
            "drop_response",
            "error_500",
            "corrupt",
            "stale_ack",
            "slow",
            "reorder",
        ],
        ["", "", "drop_response", "duplicate", "slow", "", "corrupt", "restart", "", "stale_ack"],
    ],
)
def test_faults_between_tag_and_server_lose_nothing_and_store_once(
    tmp_path: Path, faults: list[str]
) -> None:
    recs, acked, out, plan, h = run(tmp_path, faults, hours=96)
    assert len(plan.seen) > len(faults) and plan.seen[: len(faults)] == faults  # all happened
    records = int(val(out, "RECORDS")[0])
    tag_acked, top = map(int, val(out, "ACKED"))
    assert tag_acked == top == acked and val(out, "SEGMENTS_LEFT") == ["1"]
    seqs = [s for s, _ in recs]
    assert len(seqs) == len(set(seqs)) == records  # everything, each once
    cl, ln = counts(out, "CLIENT"), counts(out, "LINK")
    n = {f: faults.count(f) for f in set(faults)}
    # what the tag saw: a corrupted reply fails its MAC or its CBOR; a stale ack is the answer
    # to an earlier request (refused, not taken); a slow server is a timeout
    assert cl.get("forged", 0) + cl.get("malformed", 0) == n.get("corrupt", 0)
    assert cl.get("stale", 0) == n.get("stale_ack", 0)
    assert ln.get("timeout", 0) == n.get("slow", 0) == plan.slow
    closed = sum(n.get(f, 0) for f in ("drop_request", "drop_response", "reorder"))
    assert ln.get("closed", 0) >= closed
    # every faulty exchange but a duplicate is a failure on the tag's side, retried (a restart
    # may still answer: the old server finishes the request, or the new one takes it)
    failing = len([f for f in faults if f and f not in ("duplicate", "restart")])
    assert failing <= cl["failed"] <= failing + n.get("restart", 0)
    assert "abandoned" not in cl
    if "restart" in faults:
        assert h.restarts == 1


def test_a_week_of_backlog_from_a_96k_heap(tmp_path: Path) -> None:
    # A week without coverage at 1 fix/min (10,110 records) goes out whole in 4 KB batches.
    recs, acked, out, _, _ = run(tmp_path, [], hours=168, heap=96 * 1024)
    records = int(val(out, "RECORDS")[0])
    tag_acked, top = map(int, val(out, "ACKED"))
    assert tag_acked == top == acked and val(out, "SEGMENTS_LEFT") == ["1"]
    assert len({s for s, _ in recs}) == len(recs) == records


def test_unreachable_server_is_a_counted_failure(tmp_path: Path) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on the port
    out = run_micropython(
        module="uplink_http_run", args=(str(port), short(tmp_path), "1", "1"), heap=HEAP, opt=OPT
    )
    assert counts(out, "LINK")["connect"] >= 1
    acked, top = map(int, val(out, "ACKED"))
    assert acked == 0 and top > 0 and int(val(out, "SEGMENTS_LEFT")[0]) >= 1


def test_a_server_that_accepts_and_never_answers_times_out(tmp_path: Path) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)  # the kernel accepts; nobody reads or answers
    held_conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                held_conns.append(s.accept()[0])
            except OSError:
                pass

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    t0 = time.monotonic()
    try:
        out = run_micropython(
            module="uplink_http_run",
            args=(str(s.getsockname()[1]), short(tmp_path), "1", "0.5"),
            heap=HEAP,
            opt=OPT,
        )
    finally:
        stop.set()
        th.join()
        for c in held_conns:
            c.close()
        s.close()
    ln = counts(out, "LINK")
    acked, top = map(int, val(out, "ACKED"))
    assert ln["timeout"] >= 1 and acked == 0 and top > 0  # nothing acknowledged, nothing lost
    assert len(exchanges(out)) == ln["timeout"] == FAILS_IN_A_ROW  # then the driver gives up
    # each exchange ended at its 0.5 s deadline (not the kernel's minutes-long TCP timeout)
    assert time.monotonic() - t0 < FAILS_IN_A_ROW * 0.5 + 15


def make_cert(d: Path, name: str) -> tuple[str, str, str]:
    """A self-signed EC P-256 certificate for `localhost`: (cert PEM, key PEM, cert DER) files."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem, kpem, der = (d / f"{name}.pem", d / f"{name}.key", d / f"{name}.der")
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    kpem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(pem), str(kpem), str(der)


@contextmanager
def tls_server(db: Database, pem: str, key: str) -> Iterator[ServerThread]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    srv = ServerThread(Server(db, Config()), ssl_context=ctx).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("trusted", [True, False])
def test_tls_verifies_the_server(tmp_path: Path, trusted: bool) -> None:
    pem, key, der = make_cert(tmp_path, "server")
    other_der = make_cert(tmp_path, "other")[2]
    db = Database(f"sqlite:///{tmp_path}/server.db")
    provision(db)
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    with tls_server(db, pem, key) as srv:
        out = run_micropython(
            module="uplink_http_run",
            args=(
                str(srv.port),
                short(store_dir),
                "2",
                "5",
                "localhost",
                der if trusted else other_der,
            ),
            heap=HEAP,
            timeout=600,
            opt=OPT,
        )
    check = Database(f"sqlite:///{tmp_path}/server.db")
    recs, server_acked = held(check)
    check.close()
    acked, top = map(int, val(out, "ACKED"))
    if trusted:
        assert acked == top == server_acked and len(recs) == int(val(out, "RECORDS")[0])
    else:  # a server the tag cannot verify gets nothing, and nothing is deleted
        assert counts(out, "LINK")["tls"] >= 1 and acked == 0 and not recs


def test_a_programming_error_raises_a_failing_network_is_a_code() -> None:
    # A body that is not bytes is the caller's bug: post() must raise it, not report it as a
    # protocol failure ("proto") the loop would count and retry forever.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)  # the kernel accepts: the connection succeeds, nobody answers
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()
    code = (
        "from tagdevice.uplink_http import Link, NAMES\n"
        f"print('DEAD', NAMES[Link('127.0.0.1', {dead}, timeout_s=1).post(b'x')[0]])\n"
        f"link = Link('127.0.0.1', {s.getsockname()[1]}, timeout_s=1)\n"
        "try:\n"
        "    print('GOT', link.post(None))\n"
        "except TypeError:\n"
        "    print('RAISED TypeError')\n"
    )
    try:
        out = run_micropython(code=code, heap=HEAP, opt=OPT)
    finally:
        s.close()
    assert "DEAD connect" in out and "RAISED TypeError" in out, out

"""The tag's uplink client and HTTP transport inside the real MicroPython unix port, against a
server over loopback: connect, send, ack, truncate, with timeouts and faults.

The server here is tests/uplink_server_double.py, a test double of the server's protocol
(cbor2 + pycose + http.server), until the real `opentag server` is merged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from micropython_runner import run_micropython
from tagcore.store import record as R
from uplink_server_double import ProtocolDouble, serve

KEY = bytes(range(32))
TID = b"TAGHTTP1"
HEAP = 96 * 1024


def run(tmp_path: Path, faults: list[str], hours: int, heap: int = HEAP, timeout_s: float = 2.0):
    d = ProtocolDouble({TID: KEY})
    d.faults = list(faults)
    d.slow_s = timeout_s + 1.5
    srv, port = serve(d)
    try:
        out = run_micropython(
            module="uplink_http_run",
            args=(str(port), str(tmp_path), str(hours), str(timeout_s)),
            heap=heap,
            timeout=600,
        )
    finally:
        srv.shutdown()
        srv.server_close()
    return d, out


def val(out: str, key: str) -> list[str]:
    m = re.search(rf"^{key} (.+)$", out, re.M)
    assert m, out
    return m.group(1).split()


def counts(out: str, who: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(rf"^{who} (\w+) (\d+)$", out, re.M)}


def test_a_day_of_backlog_over_loopback(tmp_path: Path) -> None:
    d, out = run(tmp_path, [], hours=24)
    records = int(val(out, "RECORDS")[0])
    acked, top = map(int, val(out, "ACKED"))
    assert acked == top and val(out, "SEGMENTS_LEFT") == ["1"]
    assert len(d.recs) == records and d.duplicates == 1  # the alert went first, then again
    assert d.acked(TID) == top
    # The alert was the first thing the server got, before the day's backlog.
    first_alert = min(s for (_, s), v in d.recs.items() if v[0] == R.EV_TAMPER)
    assert first_alert == top
    assert counts(out, "CLIENT")["alert_batches"] == 1


@pytest.mark.parametrize(
    "faults",
    [
        ["drop_request", "drop_reply", "500", "garbage", "forged", "stale", "truncated", "slow"],
        ["", "", "drop_reply", "drop_reply", "slow", "", "forged", "", "stale", "garbage"],
    ],
)
def test_faults_between_tag_and_server_lose_nothing_and_store_once(
    tmp_path: Path, faults: list[str]
) -> None:
    d, out = run(tmp_path, faults, hours=48)
    assert len(d.seen_faults) > len(faults)  # every planned fault happened
    records = int(val(out, "RECORDS")[0])
    acked, top = map(int, val(out, "ACKED"))
    assert acked == top and val(out, "SEGMENTS_LEFT") == ["1"]
    assert len(d.recs) == records  # everything, each once, whatever was lost or replayed
    cl = counts(out, "CLIENT")
    ln = counts(out, "LINK")
    n = {f: faults.count(f) for f in set(faults)}
    assert cl.get("forged", 0) == n.get("forged", 0)
    assert cl.get("malformed", 0) == n.get("garbage", 0) + n.get("truncated", 0)
    assert cl.get("stale", 0) == n.get("stale", 0)
    assert ln.get("timeout", 0) == n.get("slow", 0)
    assert ln.get("closed", 0) == n.get("drop_request", 0) + n.get("drop_reply", 0)
    # Every faulty exchange is a failure on the tag's side, retried; nothing is abandoned.
    assert cl["failed"] == len([f for f in faults if f])
    assert "abandoned" not in cl


def test_a_week_of_backlog_from_a_96k_heap(tmp_path: Path) -> None:
    # A week without coverage at 1 fix/min (10,110 records) goes out whole in 4 KB batches.
    # (A heap that runs short mid-read is tests/core/test_uplink_client.py's MemoryError case.)
    # 84 KB before the store kept its merge buffers (issue 13 item 20); 96 KB: no PSRAM.
    d, out = run(tmp_path, [], hours=168, heap=96 * 1024)
    records = int(val(out, "RECORDS")[0])
    acked, top = map(int, val(out, "ACKED"))
    assert acked == top and val(out, "SEGMENTS_LEFT") == ["1"]
    assert len(d.recs) == records and d.acked(TID) == top


def test_unreachable_server_is_a_counted_failure(tmp_path: Path) -> None:
    d = ProtocolDouble({TID: KEY})
    srv, port = serve(d)
    srv.shutdown()
    srv.server_close()  # nothing listens on the port any more
    out = run_micropython(
        module="uplink_http_run",
        args=(str(port), str(tmp_path), "1", "1"),
        heap=HEAP,
    )
    assert counts(out, "LINK")["connect"] >= 1
    acked, top = map(int, val(out, "ACKED"))
    assert acked == 0 and top > 0


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


@pytest.mark.parametrize("trusted", [True, False])
def test_tls_verifies_the_server(tmp_path: Path, trusted: bool) -> None:
    pem, key, der = make_cert(tmp_path, "server")
    other_der = make_cert(tmp_path, "other")[2]
    d = ProtocolDouble({TID: KEY})
    srv, port = serve(d, tls=(pem, key))
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    try:
        out = run_micropython(
            module="uplink_http_run",
            args=(str(port), str(store_dir), "2", "5", "localhost", der if trusted else other_der),
            heap=HEAP,
            timeout=600,
        )
    finally:
        srv.shutdown()
        srv.server_close()
    acked, top = map(int, val(out, "ACKED"))
    if trusted:
        assert acked == top and len(d.recs) == int(val(out, "RECORDS")[0])
    else:  # a server the tag cannot verify gets nothing, and nothing is deleted
        assert counts(out, "LINK")["tls"] >= 1 and acked == 0 and not d.recs

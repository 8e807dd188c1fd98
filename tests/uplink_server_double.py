"""A TEST DOUBLE of the server's protocol (docs/uplink.md), not the server.

It decodes with cbor2 and verifies with pycose (independently of the tag's codec), keeps
records keyed by (tag, seq) in memory, answers with a pycose-signed acknowledgement of the
highest contiguous covered seq, and serves POST /v1/up over http.server for the transport
tests. The real server is host/taghost/server/; the lead points these tests at it once merged.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cbor2
import uplink_oracle as O
from tagcore.store import record as R
from tagcore.uplink import fixcodec

MAX_BODY = 64 * 1024


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _uint(v: Any) -> bool:
    return type(v) is int and v >= 0


def parse_batch(p: Any) -> tuple[int, int, int, int, list[tuple[int, Any]], dict[int, int]]:
    """(ctr, sent, first, last, [(seq, record)], held) of a batch payload; raises Refused."""
    if not isinstance(p, Mapping) or set(p) != {1, 2, 3, 4, 5, 6, 7}:
        raise Refused(400, "payload keys")
    ctr, sent, first, last, recs, held = p[2], p[3], p[4], p[5], p[6], p[7]
    if not (_uint(ctr) and _uint(sent) and _uint(first) and _uint(last)) or last < first - 1:
        raise Refused(400, "payload fields")
    if not isinstance(recs, (list, tuple)) or not isinstance(held, Mapping):
        raise Refused(400, "payload fields")
    out: list[tuple[int, Any]] = []
    for r in recs:
        if not isinstance(r, (list, tuple)) or not r or not _uint(r[0]):
            raise Refused(400, "record")
        if r[0] in (0, 1):
            if len(r) != 5 or not all(_uint(x) for x in r[1:4]) or type(r[4]) is not bytes:
                raise Refused(400, "fix run")
            _, seq, stride, count, b = r
            if stride < 1 or count < 1:
                raise Refused(400, "fix run")
            try:
                if r[0] == 0:
                    fixes = R.decode_fixes(b, 0, len(b), count)
                else:
                    fixes = fixcodec.decode(b, count)
            except Exception:
                raise Refused(400, "fix codec") from None
            out += [(seq + k * stride, ("fix", fixes[k])) for k in range(count)]
        else:
            if len(r) != 4 or r[0] < R.EV_FIRST or not _uint(r[1]) or type(r[2]) is not int:
                raise Refused(400, "event")
            if type(r[3]) is not bytes:
                raise Refused(400, "event")
            out.append((r[1], (r[0], r[2], r[3])))
    seqs = [s for s, _ in out]
    if seqs != sorted(set(seqs)) or (seqs and (seqs[0] < first or seqs[-1] > last)):
        raise Refused(400, "coverage")
    if not all(_uint(k) and _uint(v) for k, v in held.items()):
        raise Refused(400, "held")
    return ctr, sent, first, last, out, dict(held)


class ProtocolDouble:
    def __init__(self, keys: dict[bytes, bytes]) -> None:
        self.keys = keys
        self.lock = threading.Lock()
        self.recs: dict[tuple[bytes, int], Any] = {}
        self.arrived: dict[tuple[bytes, int], float | None] = {}
        self.cover: dict[bytes, list[list[int]]] = {}
        self.ctr: dict[bytes, int] = {}
        self.held: dict[bytes, dict[int, int]] = {}
        self.down: dict[bytes, list] = {}
        self.refused: dict[str, int] = {}
        self.batches = 0
        self.duplicates = 0
        self.clock = 800_000_000
        # Faults for the transport tests, one per request in arrival order ("" = none):
        # drop_request, drop_reply, slow, 500, garbage, forged, stale, truncated.
        self.faults: list[str] = []
        self.seen_faults: list[str] = []
        self.slow_s = 3.0
        self.last_reply = b""

    def acked(self, tag: bytes) -> int:
        h = 0
        for a, b in sorted(self.cover.get(tag, [])):
            if a > h + 1:
                break
            h = max(h, b)
        return h

    def handle(self, body: bytes, now: float | None = None) -> bytes:
        """The ack for a request body; raises Refused (nothing stored). `now` (the server's
        clock, if given) is recorded as each record's first arrival."""
        try:
            if len(body) > MAX_BODY:
                raise Refused(413, "too large")
            try:
                m = O.mac0_decode(body)
            except Exception:
                raise Refused(400, "not COSE_Mac0") from None
            kid = m.uhdr.get(O.KID)
            if kid not in self.keys:
                raise Refused(403, "unknown tag")
            key = self.keys[kid]
            p = O.verify(body, key, O.AAD_UP, kid)
            if p is None:
                raise Refused(401, "mac")
            if not isinstance(p, Mapping) or p.get(1) != kid:
                raise Refused(400, "tag id")
            ctr, _sent, first, last, recs, held = parse_batch(p)
        except Refused as e:
            with self.lock:
                self.refused[e.reason] = self.refused.get(e.reason, 0) + 1
            raise
        with self.lock:
            self.batches += 1
            for seq, v in recs:
                if (kid, seq) in self.recs:
                    self.duplicates += 1
                else:
                    self.recs[(kid, seq)] = v
                    self.arrived[(kid, seq)] = now
            if last >= first:
                self.cover.setdefault(kid, []).append([first, last])
            self.ctr[kid] = max(self.ctr.get(kid, 0), ctr)
            self.held[kid] = held
            self.clock += 1
            return O.ack(key, kid, ctr, self.acked(kid), self.clock, self.down.get(kid, []))


class _Handler(BaseHTTPRequestHandler):
    double: ProtocolDouble

    def log_message(self, *a: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path != "/v1/up":
            self._send(404, json.dumps({"error": "not found"}).encode(), "application/json")
            return
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self._send(413, json.dumps({"error": "too large"}).encode(), "application/json")
            return
        body = self.rfile.read(n)
        d = self.double
        with d.lock:
            fault = d.faults.pop(0) if d.faults else ""
            d.seen_faults.append(fault)
        if fault == "drop_request":  # lost on the way in: nothing stored
            self.close_connection = True
            return
        if fault == "500":
            self._send(500, b'{"error": "fault"}', "application/json")
            return
        try:
            reply = d.handle(body)
        except Refused as e:
            self._send(e.status, json.dumps({"error": e.reason}).encode(), "application/json")
            return
        genuine = reply
        if fault == "drop_reply":  # stored, but the answer is lost
            self.close_connection = True
            return
        if fault == "slow":  # stored, answered after the tag gave up
            time.sleep(d.slow_s)
        elif fault == "garbage":
            reply = bytes(range(40))
        elif fault == "forged":
            p = cbor2.loads(O.mac0_decode(reply).payload)
            reply = O.ack(bytes(32), p[1], p[2], p[3], p[4], [])
        elif fault == "stale" and d.last_reply:  # a genuine answer to an earlier request
            reply = d.last_reply
        elif fault == "truncated":
            reply = reply[:-3]
        d.last_reply = genuine
        self._send(200, reply, "application/cose")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a tag that gave up (timeout) resets the connection: expected in these tests


def serve(
    double: ProtocolDouble, tls: tuple[str, str] | None = None
) -> tuple[ThreadingHTTPServer, int]:
    """Serve the double on 127.0.0.1 (a free port) in a thread, over TLS with `tls` =
    (certificate file, key file) if given; returns (server, port)."""
    handler = type("Handler", (_Handler,), {"double": double})
    srv = _Server(("127.0.0.1", 0), handler)
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]

# The uplink's transport on the device: one HTTP/1.1 POST of a COSE_Mac0 body to /v1/up over
# MicroPython's socket (TLS through `ssl` when configured), with a deadline and bounded reads.
# A network that fails never raises: every outcome is a code (socket and TLS errors are
# OSError on MicroPython; a reply's bad number a ValueError); a programming error, such as a
# body that is not bytes, does. The protocol is the core's (tagcore.uplink.client);
# `upload` is the glue the device loop calls: request, POST, then on_reply or on_failure.
import socket
import time

from tagcore.compat import const

OK = const(0)
E_DNS = const(1)  # the host name did not resolve
E_CONNECT = const(2)
E_SEND = const(3)
E_TIMEOUT = const(4)
E_CLOSED = const(5)  # the server closed before a complete reply
E_PROTO = const(6)  # not an HTTP/1.x reply we can read (chunked, no status, bad length)
E_TOO_LONG = const(7)  # head or body beyond the buffer
E_NOMEM = const(8)
E_TLS = const(9)
NAMES = ("ok", "dns", "connect", "send", "timeout", "closed", "proto", "too_long", "nomem", "tls")

HEAD_MAX = const(1024)
REPLY_MAX = const(4096)  # an ack with a 48 h beacon window (~1.6 KB) and a small zones blob


class Link:
    """Where and how to POST, and the buffer replies are read into (its full length is used):
    allocated once, while the heap is whole, or given."""

    def __init__(
        self,
        host,
        port=80,
        path="/v1/up",
        timeout_s=10,
        use_tls=False,
        cadata=None,
        reply_max=REPLY_MAX,
        buf=None,
    ):
        self.host = host
        self.port = port
        self.path = path
        self.timeout_ms = int(timeout_s * 1000)
        self.use_tls = use_tls
        self.cadata = cadata  # DER CA certificate(s) to verify the server with; None: no check
        self.buf = buf if buf is not None else bytearray(HEAD_MAX + reply_max)
        self.counts = {}
        self.addr = None

    def _count(self, code):
        k = NAMES[code] if 0 <= code < len(NAMES) else str(code)
        self.counts[k] = self.counts.get(k, 0) + 1

    def _wrap(self, s):
        import ssl

        if hasattr(ssl, "SSLContext"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            # setattr: MicroPython's SSLContext has verify_mode; the ESP32 stubs lack it.
            if self.cadata is not None:
                setattr(ctx, "verify_mode", ssl.CERT_REQUIRED)  # noqa: B010
                ctx.load_verify_locations(cadata=self.cadata)
            else:
                setattr(ctx, "verify_mode", ssl.CERT_NONE)  # noqa: B010
            return ctx.wrap_socket(s, server_hostname=self.host)
        return ssl.wrap_socket(s, server_hostname=self.host)

    def post(self, body):
        """(code, HTTP status, reply memoryview or None). code OK means a complete reply was
        read (any status); the reply is valid until the next post."""
        try:
            return self._post(body)
        except MemoryError:
            return E_NOMEM, 0, None
        except OSError:  # the socket failed where no step below names the failure
            return E_PROTO, 0, None

    def _post(self, body):
        if self.addr is None:
            try:
                self.addr = socket.getaddrinfo(self.host, self.port)[0][-1]
            except (OSError, IndexError):  # no answer; an empty answer
                return E_DNS, 0, None
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        s = socket.socket()
        try:
            s.settimeout(self.timeout_ms / 1000)
            try:
                s.connect(self.addr)
            except OSError:
                self.addr = None  # resolve again next time (the address may have moved)
                return E_CONNECT, 0, None
            if self.use_tls:
                try:
                    s = self._wrap(s)
                except (OSError, ValueError):  # the handshake; a CA certificate mbedTLS refuses
                    return E_TLS, 0, None
            head = (
                "POST "
                + self.path
                + " HTTP/1.1\r\nHost: "
                + self.host
                + "\r\nContent-Type: application/cose\r\nContent-Length: "
                + str(len(body))
                + "\r\nConnection: close\r\n\r\n"
            )
            if not _write_all(s, head.encode(), deadline) or not _write_all(s, body, deadline):
                return E_SEND if _left(deadline) > 0 else E_TIMEOUT, 0, None
            return self._read_reply(s, deadline)
        finally:
            try:
                s.close()
            except OSError:
                pass

    def _read_reply(self, s, deadline):
        buf = self.buf
        mv = memoryview(buf)
        hmax = HEAD_MAX if HEAD_MAX < len(buf) // 2 else len(buf) // 2
        n = 0
        hend = -1
        while hend < 0:
            if n >= hmax:
                return E_TOO_LONG, 0, None
            k = _read_some(s, mv[n:hmax], deadline)
            if k < 0:
                return E_TIMEOUT, 0, None
            if k == 0:
                return E_CLOSED, 0, None
            n += k
            hend = bytes(mv[:n]).find(b"\r\n\r\n")
        head = bytes(mv[:hend]).lower()
        if not head.startswith(b"http/1.") or len(head) < 12:
            return E_PROTO, 0, None
        try:
            status = int(head[9:12])
        except ValueError:
            return E_PROTO, 0, None
        if b"transfer-encoding:" in head:
            return E_PROTO, status, None  # the protocol's replies carry Content-Length
        clen = -1
        i = head.find(b"content-length:")
        if i >= 0:
            j = head.find(b"\r\n", i)
            try:
                clen = int(head[i + 15 : j if j >= 0 else len(head)].strip())
            except ValueError:
                return E_PROTO, status, None
        start = hend + 4
        cap = len(buf) - start
        if clen > cap:
            return E_TOO_LONG, status, None
        want = clen if clen >= 0 else cap
        have = n - start  # body bytes that came with the head
        while have < want:
            k = _read_some(s, mv[start + have : start + want], deadline)
            if k < 0:
                return E_TIMEOUT, status, None
            if k == 0:
                if clen < 0:
                    break  # no length: the body ends with the connection
                return E_CLOSED, status, None
            have += k
        if clen < 0 and have >= cap:
            return E_TOO_LONG, status, None
        return OK, status, mv[start : start + (clen if clen >= 0 else have)]


def _left(deadline):
    return time.ticks_diff(deadline, time.ticks_ms())


def _write_all(s, data, deadline):
    mv = memoryview(data)
    off = 0
    while off < len(mv):
        if _left(deadline) <= 0:
            return False
        try:
            k = s.write(mv[off:])
        except OSError:
            return False
        if k is None:  # would block (non-blocking TLS): try again
            continue
        if k <= 0:
            return False
        off += k
    return True


def _read_some(s, mv, deadline):
    """Bytes read into mv (0: closed), or -1 past the deadline or on a timeout."""
    if _left(deadline) <= 0:
        return -1
    try:
        k = s.readinto(mv)
    except OSError as e:
        if e.args and e.args[0] in (11, 110, 116):  # EAGAIN, ETIMEDOUT (lwIP: 116)
            return -1
        return 0
    if k is None:
        return -1
    return k


def upload(client, link, now, poll=False):
    """One exchange: the client's next request POSTed, its reply handed back. Returns None when
    nothing was due, else (transport code, HTTP status, the client's verdict or None)."""
    # here, not at the top: the shell imports this module for its buffer sizes before it
    # knows whether the tag has a server (a tag without one never loads tagcore.uplink)
    from tagcore.uplink.client import ACKED

    body = client.request(now, poll)
    if body is None:
        return None
    code, status, reply = link.post(body)
    link._count(code)
    verdict = None
    if code == OK and status == 200:
        verdict = client.on_reply(now, reply)
        if verdict == ACKED:
            return code, status, verdict
    client.on_failure(now)  # no valid answer will come on this exchange: retry later
    return code, status, verdict

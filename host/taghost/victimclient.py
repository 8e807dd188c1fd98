"""A reference client for the victim's phone: `POST /v1/victims/{id}/positions`.

Written from docs/server.md ("Victim proximity", wire format) alone, on cbor2 + pycose, without
the server's code: the tests post with it, and a phone app's author can read the format off it.

    receipt = post_position("https://centre.example", 7, key, lat=48.8566, lon=2.3522, acc_m=12)

One position per request: a COSE_Mac0 (tag 17), alg HMAC 256/64, kid = her id as 8 bytes
big-endian, external aad b"opentag/victim/up/v1", payload the CBOR map
{1: id, 2: counter, 3: time (s since 2000-01-01 UTC), 4: lat, 5: lon (microdegrees),
6: horizontal accuracy (decimetres)}. The counter must go up with every new position (the
server refuses one at or below the last it took, unless it is the same request again); the
default here is the Unix time in milliseconds, which goes up without the phone storing it.
The answer (200) is a COSE_Mac0 under the same key, aad b"opentag/victim/down/v1", payload
{1: id, 2: counter taken, 3: the server's clock (s since 2000)}.
"""

from __future__ import annotations

import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any, NamedTuple

import cbor2
from pycose.algorithms import HMAC25664
from pycose.headers import KID, Algorithm
from pycose.keys import SymmetricKey
from pycose.messages import Mac0Message

UP_AAD = b"opentag/victim/up/v1"
DOWN_AAD = b"opentag/victim/down/v1"
UNIX_2000 = 946_684_800  # 2000-01-01T00:00:00Z in Unix seconds


class Receipt(NamedTuple):
    status: int  # the HTTP status
    ctr: int | None  # the counter the server took (200 only)
    server_t: int | None  # the server's clock, seconds since 2000 (200 only)
    error: str | None  # the server's reason for a refusal ("replayed", "bad_mac", ...)


def kid(victim: int) -> bytes:
    return victim.to_bytes(8, "big")


def encode_position(
    key: bytes, victim: int, ctr: int, t: int, lat: int, lon: int, acc_dm: int
) -> bytes:
    """One position as the request body (integers: s since 2000, microdegrees, decimetres)."""
    payload = cbor2.dumps({1: victim, 2: ctr, 3: t, 4: lat, 5: lon, 6: acc_dm})
    msg = Mac0Message(
        phdr={Algorithm: HMAC25664},
        uhdr={KID: kid(victim)},
        payload=payload,
        external_aad=UP_AAD,
        key=SymmetricKey(k=key),
    )
    return bytes(msg.encode())


def open_receipt(key: bytes, victim: int, body: bytes) -> dict[int, Any] | None:
    """The server's answer if its MAC verifies under her key and it names her, else None."""
    try:
        obj = cbor2.loads(body)
        prot, unprot, payload, tag = obj.value
        msg = Mac0Message.from_cose_obj([prot, dict(unprot), payload, tag], True)
        msg.key = SymmetricKey(k=key)
        msg.external_aad = DOWN_AAD  # type: ignore[misc]  # pycose's setter, declared late
        if not hmac.compare_digest(bytes(msg.compute_tag()), bytes(tag)):
            return None
        m = cbor2.loads(payload)
    except Exception:  # anything that is not a receipt
        return None
    if not isinstance(m, dict) or m.get(1) != victim:
        return None
    return m


def post_body(url: str, victim: int, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST the bytes to the server at `url`; (status, answer). Raises OSError if unreachable."""
    req = urllib.request.Request(
        f"{url.rstrip('/')}/v1/victims/{victim}/positions",
        body,
        {"Content-Type": "application/cose"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post_position(
    url: str,
    victim: int,
    key: bytes,
    lat: float,
    lon: float,
    acc_m: float,
    t: float | None = None,
    ctr: int | None = None,
    timeout: float = 10.0,
) -> Receipt:
    """Post one position (degrees, metres, `t` Unix seconds: default now) and check the
    receipt. A 200 whose receipt does not verify raises ValueError: it is not the server."""
    unix = time.time() if t is None else t
    ctr = int(time.time() * 1000) if ctr is None else ctr
    body = encode_position(
        key,
        victim,
        ctr,
        int(unix) - UNIX_2000,
        round(lat * 1e6),
        round(lon * 1e6),
        round(acc_m * 10),
    )
    status, out = post_body(url, victim, body, timeout)
    if status != 200:
        try:
            reason = str(json.loads(out)["error"])
        except (ValueError, KeyError, TypeError):
            reason = out[:80].decode("utf-8", "replace")
        return Receipt(status, None, None, reason)
    m = open_receipt(key, victim, out)
    if m is None or m.get(2) != ctr:
        raise ValueError("the answer's MAC does not verify under the victim's key")
    return Receipt(status, int(m[2]), int(m[3]), None)


def read_key(hex_key: str | None, key_file: str | None) -> bytes:
    from taghost.errors import UserError

    if (hex_key is None) == (key_file is None):
        raise UserError("give her key: --key HEX or --key-file FILE (one of them)")
    if key_file is not None:
        with open(key_file) as f:
            hex_key = f.read()
    text = hex_key or ""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise UserError("her key is 32 bytes as 64 hex digits (opentag server victim add)")
    return key


def cmd_report(args: Any) -> int:
    """`opentag victim report`: exit 0 taken, 1 refused by the server (its reason on stderr),
    2 bad input or no server there."""
    import sys

    from taghost.errors import EXIT_OK, EXIT_RED, UserError

    key = read_key(args.key, args.key_file)
    if not (-90 <= args.lat <= 90 and -180 <= args.lon <= 180 and 0 <= args.acc_m <= 10_000):
        raise UserError("--lat -90..90, --lon -180..180, --acc-m 0..10000")
    try:
        r = post_position(args.server, args.victim, key, args.lat, args.lon, args.acc_m,
                          args.t, args.ctr)  # fmt: skip
    except (urllib.error.URLError, OSError) as e:
        raise UserError(f"cannot reach {args.server}: {getattr(e, 'reason', e)}") from None
    if r.error is not None:
        print(f"opentag victim report: refused: {r.status} {r.error}", file=sys.stderr)
        return EXIT_RED
    print(f"position {r.ctr} taken by the server")
    return EXIT_OK

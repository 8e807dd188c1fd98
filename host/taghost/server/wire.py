"""Wire format v1 (docs/uplink.md) on the server side: decode with cbor2, verify with pycose.

Independent of the core's own codec on purpose: the server checks every batch with other code
than the code that wrote it. Every way a request can be wrong ends in `Refused(status, reason)`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, NamedTuple

import cbor2
from pycose.algorithms import HMAC25664
from pycose.exceptions import CoseException
from pycose.headers import KID, Algorithm
from pycose.keys import SymmetricKey
from pycose.messages import Mac0Message
from tagcore.store import record as R
from tagcore.uplink import fixdecode

UP_AAD = b"opentag/up/v1"
DOWN_AAD = b"opentag/down/v1"
# The victim's phone (docs/server.md, "Victim proximity"): its own directions, so no tag batch
# or acknowledgement can pass for a victim's position or its answer, even under the same key.
VICTIM_UP_AAD = b"opentag/victim/up/v1"
VICTIM_DOWN_AAD = b"opentag/victim/down/v1"
VICTIM_MAX_BODY = 1024  # one position: about 70 bytes
MAX_LAT = 90_000_000  # microdegrees
MAX_LON = 180_000_000
MAX_ACC_DM = 100_000  # 10 km: a position vaguer than that is refused, not compared
PROTECTED = cbor2.dumps({1: 4})  # alg HMAC 256/64
MAX_BODY = 64 * 1024
TAG_ID_LEN = 8
KEY_LEN = 32
INT_MAX = (1 << 63) - 1  # everything stored fits a signed 64-bit column

# Downlink kinds (docs/uplink.md).
DL_BEACON_WINDOW = 1
DL_ZONES = 2
DL_CONFIG = 3
DL_LOCATE = 4
DOWNLINK_KINDS = {"beacon": 1, "zones": 2, "config": 3, "locate": 4}

FIX_RUN = 0  # the store's fix codec (tagcore.store.record.encode_fixes)
PACKED_FIX_RUN = 1  # what the tag writes: tagcore.uplink.fixcodec
RUN_MAX = 64  # fixes in one packed run at most (docs/uplink.md; tagcore.uplink.batch.RUN_MAX)


class Refused(Exception):
    """A request the server will not take: HTTP status and the counted reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class FixRun(NamedTuple):
    seq: int
    stride: int
    fixes: list[Any]  # tagcore.fix.Fix

    @property
    def last(self) -> int:
        return self.seq + (len(self.fixes) - 1) * self.stride


class Event(NamedTuple):
    kind: int
    seq: int
    t: int
    data: bytes

    @property
    def last(self) -> int:
        return self.seq


class Batch(NamedTuple):
    tag: bytes
    ctr: int
    sent: int
    first: int
    last: int
    recs: list[FixRun | Event]
    held: dict[int, int]


class Envelope(NamedTuple):
    kid: bytes
    msg: Mac0Message


def _uint(v: Any, lo: int = 0) -> bool:
    return type(v) is int and lo <= v <= INT_MAX


def _int(v: Any) -> bool:
    return type(v) is int and -INT_MAX <= v <= INT_MAX


def open_envelope(body: bytes) -> Envelope:
    """The COSE_Mac0 structure and its kid, before any key is known; 400 if it is not one."""
    try:
        obj = cbor2.loads(body, allow_duplicate_keys=False, max_depth=16)
    except cbor2.CBORDecodeError as e:  # cbor2's one type for bad bytes (EOF is one too)
        raise Refused(400, "malformed") from e
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 17:
        raise Refused(400, "malformed")
    v = obj.value
    if not isinstance(v, (list, tuple)) or len(v) != 4:
        raise Refused(400, "malformed")
    prot, unprot, payload, mac = v
    if prot != PROTECTED or not isinstance(unprot, Mapping) or not isinstance(payload, bytes):
        raise Refused(400, "malformed")
    if not isinstance(mac, bytes) or len(mac) != 8 or set(unprot) != {4}:
        raise Refused(400, "malformed")
    kid = unprot[4]
    if not isinstance(kid, bytes) or len(kid) != TAG_ID_LEN:
        raise Refused(400, "malformed")
    try:
        msg = Mac0Message.from_cose_obj([prot, dict(unprot), payload, mac], True)
    except (CoseException, cbor2.CBORDecodeError, ValueError) as e:  # what pycose refuses with
        raise Refused(400, "malformed") from e
    return Envelope(kid, msg)


def verify(env: Envelope, key: bytes, aad: bytes = UP_AAD) -> bytes:
    """The payload if the MAC verifies under `key` with the up-direction aad (a tag's, or
    VICTIM_UP_AAD for a victim's phone), else 401."""
    env.msg.key = SymmetricKey(k=key)
    env.msg.external_aad = aad  # type: ignore[misc]  # pycose's setter, declared late
    # pycose computes (an envelope open_envelope took cannot fail it: what raises here is a
    # bug, not a forged MAC); the comparison is constant-time (pycose's verify_tag uses ==).
    received = bytes(env.msg.auth_tag)
    if not hmac.compare_digest(bytes(env.msg.compute_tag()), received):
        raise Refused(401, "bad_mac")
    return bytes(env.msg.payload or b"")


def _record(r: Any) -> FixRun | Event:
    if not isinstance(r, (list, tuple)) or not r:
        raise Refused(400, "malformed")
    if r[0] in (FIX_RUN, PACKED_FIX_RUN) and type(r[0]) is int:
        if len(r) != 5:
            raise Refused(400, "malformed")
        _, seq, stride, count, b = r
        ok = _uint(seq, 1) and _uint(stride, 1) and _uint(count, 1) and isinstance(b, bytes)
        # A count the bytes cannot hold is refused before decoding: a plain fix takes at least
        # 5 bytes; a packed run its first fix in full, then as little as 0 bits a fix (a wearer
        # at rest), so its count is bounded by the run size the format allows instead.
        if r[0] == FIX_RUN:
            ok = ok and count * 5 <= len(b)
        else:
            ok = ok and count <= RUN_MAX and len(b) >= 5
        if not ok:
            raise Refused(400, "malformed")
        try:
            if r[0] == FIX_RUN:
                fixes = R.decode_fixes(b, 0, len(b), count)
            else:
                fixes = fixdecode.decode(b, count)
        except (ValueError, IndexError, TypeError) as e:
            raise Refused(400, "malformed") from e
        for f in fixes:
            if not all(v is None or _int(v) for v in f):
                raise Refused(400, "malformed")
        run = FixRun(seq, stride, fixes)
        if run.last > INT_MAX:
            raise Refused(400, "malformed")
        return run
    if len(r) != 4:
        raise Refused(400, "malformed")
    kind, seq, t, data = r
    if not (type(kind) is int and R.EV_FIRST <= kind <= 255):
        raise Refused(400, "malformed")
    if not (_uint(seq, 1) and _int(t) and isinstance(data, bytes)):
        raise Refused(400, "malformed")
    return Event(kind, seq, t, data)


def parse_batch(payload: bytes, kid: bytes) -> Batch:
    """The verified payload as a Batch; 400 if its shape breaks docs/uplink.md."""
    try:
        m = cbor2.loads(payload, allow_duplicate_keys=False, max_depth=16)
    except cbor2.CBORDecodeError as e:
        raise Refused(400, "malformed") from e
    if not isinstance(m, dict) or set(m) != {1, 2, 3, 4, 5, 6, 7}:
        raise Refused(400, "malformed")
    tag, ctr, sent, first, last, recs, held = (m[k] for k in range(1, 8))
    if tag != kid:
        raise Refused(400, "malformed")
    if not (_uint(ctr) and _uint(sent) and _uint(first) and _uint(last)):
        raise Refused(400, "malformed")
    # A poll may cover nothing: last = first - 1 with no records (docs/uplink.md, change 1).
    if not (first <= last or (last == first - 1 and not recs)):
        raise Refused(400, "malformed")
    if not isinstance(recs, (list, tuple)) or not isinstance(held, dict):
        raise Refused(400, "malformed")
    for k, v in held.items():
        if not (type(k) is int and 1 <= k <= 255 and _uint(v)):
            raise Refused(400, "malformed")
    out: list[FixRun | Event] = []
    prev = first - 1
    for r in recs:
        rec = _record(r)
        if rec.seq <= prev or rec.last > last:  # ascending, disjoint, inside [first, last]
            raise Refused(400, "malformed")
        prev = rec.last
        out.append(rec)
    return Batch(tag, ctr, sent, first, last, out, dict(held))


def encode_ack(
    key: bytes, tag: bytes, ctr: int, acked: int, now: int, down: list[tuple[int, int, bytes]]
) -> bytes:
    """The signed acknowledgement (COSE_Mac0, down-direction aad)."""
    payload = cbor2.dumps({1: tag, 2: ctr, 3: acked, 4: now, 5: [list(d) for d in down]})
    return mac0(key, tag, payload, DOWN_AAD)


def mac0(key: bytes, kid: bytes, payload: bytes, aad: bytes) -> bytes:
    """A server answer: COSE_Mac0 (HMAC 256/64) over `payload` under `key`, with `kid` and the
    direction's external aad (a tag's acknowledgement, or a victim's receipt)."""
    msg = Mac0Message(
        phdr={Algorithm: HMAC25664},
        uhdr={KID: kid},
        payload=payload,
        external_aad=aad,
        key=SymmetricKey(k=key),
    )
    return bytes(msg.encode())


class Position(NamedTuple):
    """A victim's position as her phone posts it (docs/server.md): the phone's clock in seconds
    since 2000, microdegrees, horizontal accuracy in decimetres."""

    victim: int
    ctr: int
    t: int
    lat: int
    lon: int
    acc_dm: int


def victim_kid(victim: int) -> bytes:
    """The COSE kid of a victim's posts: her id as 8 bytes, big-endian."""
    return victim.to_bytes(TAG_ID_LEN, "big")


def parse_position(payload: bytes, victim: int) -> Position:
    """The verified payload of a victim's post as a Position: 400 if its shape is wrong or it
    names another victim, 422 if a value is outside the world (`check_position`)."""
    try:
        m = cbor2.loads(payload, allow_duplicate_keys=False, max_depth=4)
    except cbor2.CBORDecodeError as e:
        raise Refused(400, "malformed") from e
    if not isinstance(m, dict) or set(m) != {1, 2, 3, 4, 5, 6}:
        raise Refused(400, "malformed")
    p = Position(*(m[k] for k in range(1, 7)))
    if not all(_int(v) for v in p) or p.victim != victim or p.ctr < 0:
        raise Refused(400, "malformed")
    return p


def check_position(p: Position, now: int, future_s: int) -> None:
    """422 for coordinates off the globe, an accuracy below 0 or above 10 km, a time before
    2000 or more than `future_s` ahead of the server's clock `now` (seconds since 2000)."""
    if not (-MAX_LAT <= p.lat <= MAX_LAT and -MAX_LON <= p.lon <= MAX_LON):
        raise Refused(422, "out_of_range")
    if not (0 <= p.acc_dm <= MAX_ACC_DM and 0 <= p.t <= now + future_s):
        raise Refused(422, "out_of_range")


def encode_victim_ack(key: bytes, victim: int, ctr: int, now: int) -> bytes:
    """The answer to a victim's post (COSE_Mac0, VICTIM_DOWN_AAD): her id, the counter taken,
    the server's clock. Nothing about the tag: it is her phone's receipt, no more."""
    payload = cbor2.dumps({1: victim, 2: ctr, 3: now})
    return mac0(key, victim_kid(victim), payload, VICTIM_DOWN_AAD)

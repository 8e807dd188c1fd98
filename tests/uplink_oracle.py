"""Host oracles for docs/uplink.md: COSE_Mac0 with pycose, CBOR with cbor2.

pycose 1.1 cannot decode what cbor2 6 returns for a tagged array (a tuple, and a frozendict
for the unprotected map), so `mac0_decode` decodes with cbor2 and hands pycose plain types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2
from pycose.algorithms import HMAC25664
from pycose.headers import KID, Algorithm
from pycose.keys import SymmetricKey
from pycose.messages import Mac0Message

AAD_UP = b"opentag/up/v1"
AAD_DOWN = b"opentag/down/v1"


def mac0_decode(body: bytes) -> Mac0Message:
    """A Mac0Message from bytes; raises on anything that is not a tagged COSE_Mac0."""
    t = cbor2.loads(bytes(body))
    if not isinstance(t, cbor2.CBORTag) or t.tag != 17:
        raise ValueError("not a tagged COSE_Mac0")
    v = list(t.value)
    if len(v) != 4 or not isinstance(v[1], Mapping):
        raise ValueError("not a COSE_Mac0")
    v[1] = dict(v[1])
    return Mac0Message.from_cose_obj(v, True)


def verify(body: bytes, key: bytes, aad: bytes, kid: bytes) -> Any | None:
    """The decoded payload if pycose verifies `body` (HMAC 256/64, kid) under key and aad."""
    try:
        m = mac0_decode(body)
        if m.phdr.get(Algorithm) is not HMAC25664 or m.uhdr.get(KID) != kid:
            return None
        m.key = SymmetricKey(k=key)
        m.external_aad = aad
        if not m.verify_tag():
            return None
        return cbor2.loads(m.payload)
    except Exception:
        return None


def mac0_encode(payload: bytes, key: bytes, aad: bytes, kid: bytes) -> bytes:
    m = Mac0Message(phdr={Algorithm: HMAC25664}, uhdr={KID: kid}, payload=payload)
    m.external_aad = aad
    m.key = SymmetricKey(k=key)
    return m.encode()


def ack(key: bytes, kid: bytes, ctr: int, acked: int, t: int, down: list) -> bytes:
    """An acknowledgement as the server writes it, with cbor2 and pycose."""
    return mac0_encode(cbor2.dumps({1: kid, 2: ctr, 3: acked, 4: t, 5: down}), key, AAD_DOWN, kid)

"""A host-side uplink kit for the server's tests and bench, built on cbor2 + pycose from
docs/uplink.md alone (not the core's encoder): batches, acknowledgements, and `HostTag`, a model
of the tag's side of the contract (hand out seqs, batch, retry, truncate only on a valid ack)."""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any

import cbor2
from pycose.algorithms import HMAC25664
from pycose.headers import KID, Algorithm
from pycose.keys import SymmetricKey
from pycose.messages import Mac0Message
from tagcore.fix import Fix
from tagcore.store import record as R

UP_AAD = b"opentag/up/v1"
DOWN_AAD = b"opentag/down/v1"


def mac0(key: bytes, kid: bytes, payload: bytes, aad: bytes) -> bytes:
    m = Mac0Message(
        phdr={Algorithm: HMAC25664},
        uhdr={KID: kid},
        payload=payload,
        external_aad=aad,
        key=SymmetricKey(k=key),
    )
    return bytes(m.encode())


def fix_run(seq: int, fixes: list[Fix], stride: int = 1) -> list[Any]:
    return [0, seq, stride, len(fixes), bytes(R.encode_fixes(fixes, bytearray()))]


def event(kind: int, seq: int, t: int, data: bytes = b"") -> list[Any]:
    return [kind, seq, t, data]


def batch_payload(
    tag: bytes,
    ctr: int,
    sent: int,
    first: int,
    last: int,
    recs: list[Any],
    held: dict[int, int] | None = None,
) -> bytes:
    return cbor2.dumps({1: tag, 2: ctr, 3: sent, 4: first, 5: last, 6: recs, 7: held or {}})


def batch(
    key: bytes,
    tag: bytes,
    ctr: int,
    first: int,
    last: int,
    recs: list[Any],
    held: dict[int, int] | None = None,
    sent: int = 850_000_000,
) -> bytes:
    return mac0(key, tag, batch_payload(tag, ctr, sent, first, last, recs, held), UP_AAD)


def open_ack(key: bytes, body: bytes) -> dict[int, Any] | None:
    """The acknowledgement's payload if it is a COSE_Mac0 that verifies (down aad), else None."""
    try:
        obj = cbor2.loads(body)
        v = obj.value
        if obj.tag != 17 or len(v) != 4 or cbor2.loads(v[0]) != {1: 4}:
            return None
        m = Mac0Message.from_cose_obj([v[0], dict(v[1]), v[2], v[3]], True)
        m.key = SymmetricKey(k=key)
        m.external_aad = DOWN_AAD
        if not m.verify_tag():
            return None
        p = cbor2.loads(v[2])
        return p if isinstance(p, dict) else None
    except Exception:
        return None


def make_fix(rng: random.Random, t: int) -> Fix:
    return Fix(
        t,
        rng.randrange(1000),
        50_720_000 + rng.randrange(-20_000, 20_000),
        -1_880_000 + rng.randrange(-20_000, 20_000),
        rng.choice([None, rng.randrange(-100, 3000)]),
        rng.choice([None, rng.randrange(0, 3000)]),
        rng.choice([None, rng.randrange(0, 36000)]),
        rng.randrange(10, 500),
        rng.randrange(50, 900),
        rng.randrange(4, 20),
        1,
        3,
        rng.randrange(4),
    )


class HostTag:
    """The tag's side of docs/uplink.md, on the host: what the core's client must do.

    `log` holds what is on flash (seq -> ("fix", Fix) | ("ev", kind, t, data)); seqs may skip
    (a reboot hands out none for a while) and thinning deletes every other unsent fix, so
    batches carry gaps and strides. `ctr` is persisted before each send (strictly increasing
    across power loss). The log is truncated only on a valid ack of the outstanding request.
    """

    def __init__(self, tag: bytes, key: bytes, seed: int = 0, max_recs: int = 64) -> None:
        self.tag = tag
        self.key = key
        self.rng = random.Random(seed)
        self.log: dict[int, tuple[Any, ...]] = {}
        self.last_seq = 0  # last seq handed out
        self.ctr = 0
        self.acked = 0
        self.outstanding: tuple[int, bytes] | None = None
        self.held: dict[int, int] = {}
        self.downlink: list[tuple[int, int, bytes]] = []
        self.max_recs = max_recs
        self.t = 850_000_000
        self.deleted: list[int] = []  # seqs truncated, in order (checked against the server)
        self.counts: Counter[str] = Counter()

    def add_fixes(self, n: int) -> None:
        for _ in range(n):
            self.t += 60
            self.last_seq += 1
            self.log[self.last_seq] = ("fix", make_fix(self.rng, self.t))

    def add_event(self, kind: int, data: bytes = b"") -> int:
        self.last_seq += 1
        self.log[self.last_seq] = ("ev", kind, self.t, data)
        return self.last_seq

    def skip(self, n: int) -> None:
        """Seqs handed out but never stored (fixes buffered in RAM at a power cut)."""
        self.last_seq += n

    def thin(self) -> None:
        """Delete every other unacknowledged fix, as the store does when flash is full."""
        fixes = [s for s in sorted(self.log) if self.log[s][0] == "fix"]
        for s in fixes[1::2]:
            del self.log[s]

    def pending(self) -> int:
        return len(self.log)

    def build(self, now: int | None = None) -> bytes:
        """The next batch, with a fresh counter (persisted before the send)."""
        self.ctr += 1
        seqs = sorted(self.log)[: self.max_recs]
        if self.last_seq > self.acked:
            first = self.acked + 1
            last = seqs[-1] if len(seqs) < len(self.log) else self.last_seq
        else:  # nothing new: a poll repeats the acknowledged point
            first = last = self.acked
        recs: list[Any] = []
        run: list[int] = []

        def close_run() -> None:
            if run:
                stride = run[1] - run[0] if len(run) > 1 else 1
                recs.append(fix_run(run[0], [self.log[s][1] for s in run], stride))
                run.clear()

        for s in seqs:
            r = self.log[s]
            if r[0] == "fix":
                if len(run) >= 2 and s - run[-1] != run[1] - run[0]:
                    close_run()
                run.append(s)
            else:
                close_run()
                recs.append(event(r[1], s, r[2], r[3]))
        close_run()
        body = batch(
            self.key, self.tag, self.ctr, first, last, recs, dict(self.held), now or self.t
        )
        self.outstanding = (self.ctr, body)
        return body

    def power_loss(self) -> None:
        self.outstanding = None  # RAM is gone; the counter and the log are on flash

    def on_reply(self, status: int | None, body: bytes | None) -> bool:
        """Take a reply to the outstanding request; True if it was a valid ack (log truncated)."""
        if self.outstanding is None:
            self.counts["no_request"] += 1
            return False
        if status != 200 or body is None:
            self.counts["error_status"] += 1
            return False
        p = open_ack(self.key, body)
        if p is None:
            self.counts["forged_or_malformed"] += 1
            return False
        acked = p.get(3)
        if p.get(1) != self.tag or p.get(2) != self.outstanding[0]:
            self.counts["stale"] += 1
            return False
        if type(acked) is not int or not 0 <= acked <= self.last_seq:
            self.counts["malformed"] += 1
            return False
        self.outstanding = None
        for item in p.get(5, []):
            kind, version, data = item
            if version > self.held.get(kind, 0):
                self.held[kind] = version
                self.downlink.append((kind, version, data))
        if acked > self.acked:
            for s in sorted(self.log):
                if s > acked:
                    break
                del self.log[s]
                self.deleted.append(s)
            self.acked = acked
        self.counts["acked"] += 1
        return True

    def all_records(self) -> dict[int, tuple[Any, ...]]:
        """Every record ever written (for oracles): call before anything is truncated."""
        return dict(self.log)


def new_tag(seed: int | None = None) -> tuple[bytes, bytes]:
    """(tag id, key): random, or from a seed for reproducible runs."""
    if seed is None:
        return os.urandom(8), os.urandom(32)
    r = random.Random(seed)
    return r.randbytes(8), r.randbytes(32)

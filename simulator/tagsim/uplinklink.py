"""The uplink's radio path in the simulator: latency, loss and coverage gaps in virtual time.

The tag's real client (tagcore.uplink.client) builds the bytes; a server is any callable
`server(body, t) -> reply bytes` (raising on a refusal): the in-process server, or a loopback
HTTP post. What arrives at the server, and when, is then what an agency would see, so "alert
to server" and "fixes delivered" are measured there (`delivered_at`), not at the tag.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Server = Callable[[bytes, float], bytes]


@dataclass
class LinkModel:
    latency_s: float = 1.5  # request out plus reply back
    loss: float = 0.0  # chance that a request, or its reply, is lost
    gaps: list[tuple[float, float]] = field(default_factory=list)  # [start, end) without coverage
    timeout_s: float = 30.0  # how long the tag waits for a reply it will not get
    seed: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _count(self, k: str) -> None:
        self.counts[k] = self.counts.get(k, 0) + 1

    def covered(self, t: float) -> bool:
        return not any(a <= t < b for a, b in self.gaps)

    def exchange(self, t: float, body: bytes, server: Server) -> tuple[bytes | None, float]:
        """(reply or None, the time the exchange is over) for a request sent at t."""
        if not self.covered(t):
            self._count("no_coverage")
            return None, t
        if self.rng.random() < self.loss:
            self._count("request_lost")
            return None, t + self.timeout_s
        try:
            reply = server(bytes(body), t + self.latency_s / 2)
        except Exception:  # refused by the server: the tag sees an HTTP error
            self._count("refused")
            return None, t + self.latency_s
        if self.rng.random() < self.loss:
            self._count("reply_lost")
            return None, t + self.timeout_s
        self._count("delivered")
        return reply, t + self.latency_s


def upload(client: Any, link: LinkModel, server: Server, now: float, max_exchanges: int = 64):
    """What the app's upload does: exchanges until nothing is due or one fails. Returns
    (the time it ends, acknowledged exchanges, failed exchanges)."""
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

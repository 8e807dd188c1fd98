"""A sealed tag for the evidence tests: the core's Store with its Sealer on an in-memory
filesystem, and the core's UplinkClient feeding a taghost.server.ingest.Ingest."""

from __future__ import annotations

from typing import Any

from seal_run import K0, KID
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from tagcore.uplink.client import UplinkClient
from test_store import MemFs, mkfix

KEY = bytes([3]) * 32
T0 = 800_000_000


class Tag:
    def __init__(self, kid: bytes = KID, k0: bytes = K0, fs: MemFs | None = None) -> None:
        self.fs = fs or MemFs()
        if fs is None:
            S.provision(S.FileSlot(self.fs), k0)
        self.kid = kid
        self.t = T0
        self.store = Store(self.fs, self.t, sealer=S.Sealer(S.FileSlot(self.fs), kid))
        self.up = UplinkClient(self.store, kid, KEY, max_bytes=600)
        self.k = 0

    def walk(self, n: int) -> None:
        for _ in range(n):
            self.t += 30
            self.store.append_fix(self.t, mkfix(self.k, self.t))
            if self.k % 37 == 5:
                self.store.append_event(R.EV_ZONE, self.t, bytes((self.k & 0xFF, 1)))
            self.k += 1

    def upload(self, ingest: Any, tries: int = 200) -> list[int]:
        statuses = []
        self.store.flush()
        for _ in range(tries):
            body = self.up.request(self.t)
            if body is None:
                break
            status, reply, _ = ingest.handle(bytes(body), self.t * 1000)
            statuses.append(status)
            if status != 200:
                break
            self.up.on_reply(self.t, reply)
        return statuses

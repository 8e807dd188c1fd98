"""The GNSS UART as the device shell sees it: bytes arrive at the baud rate and the shell reads
what has collected each time it polls (every 20-80 ms), at most `chunk_bytes` at a time. Optional
line noise flips a bit in a byte (probability per byte), as a loose connector or EMI would."""

from __future__ import annotations

import math
import random


class Uart:
    def __init__(self, baud: int, chunk_bytes: int, noise: float, seed: int) -> None:
        self.bytes_per_s = baud / 10  # 8N1: ten bit times per byte
        self.chunk_bytes = chunk_bytes
        self.noise = noise
        self.rng = random.Random(seed)
        self.corrupted = 0
        self.next_err = self._gap()

    def _gap(self) -> float:
        if self.noise <= 0:
            return math.inf
        return -math.log(1.0 - self.rng.random()) / self.noise

    def chunks(self, data: bytes) -> list[bytes]:
        """The reads that deliver `data`, with noise applied."""
        if self.noise > 0:
            data = self._corrupt(data)
        out = []
        i = 0
        while i < len(data):
            poll = self.rng.uniform(0.02, 0.08)
            n = max(1, min(self.chunk_bytes, int(self.bytes_per_s * poll)))
            out.append(data[i : i + n])
            i += n
        return out

    def _corrupt(self, data: bytes) -> bytes:
        if self.next_err >= len(data):
            self.next_err -= len(data)
            return data
        buf = bytearray(data)
        pos = self.next_err
        while pos < len(buf):
            k = int(pos)
            buf[k] ^= 1 << self.rng.randrange(8)
            self.corrupted += 1
            pos += 1 + self._gap()
        self.next_err = pos - len(buf)
        return bytes(buf)

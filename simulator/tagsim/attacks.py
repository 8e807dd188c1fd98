"""Attacks on the tag's GNSS, as the receiver model meets them (scenario `[[attack]]` tables).

- foil: the wearer wraps the tag (kitchen foil, a crisp bag): every signal loses FOIL_DB,
  ramping in over `wrap_s` (the wrapping) and out again after `minutes`.
- jammer: a van with a jammer passes by (approach and departure at `speed_ms` from JAM_FROM_M)
  and parks `minutes` at `distance_m` from the wearer. Jammer-to-noise at the antenna
  J/N = power_db - 20 log10(d) (free space), and every satellite's C/N0 drops by
  10 log10(1 + J/N): all together, by the same amount (the signature the core looks for).
- spoofer: a transmitter near the wearer replays a position (`place`, say home) for `minutes`;
  the receiver locks on: every satellite at about `cno` dB-Hz (one transmitter, one power),
  the fix at that place, its time `lag_s` behind (a record-and-replay; 0 for a simulator).

Figures and their sources: docs/integrity.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FOIL_DB = 45.0  # two layers of household foil around a wrist unit: 40-50 dB at L1 (field tests)
JAM_FROM_M = 2000.0  # the van's approach starts this far away
KINDS = ("foil", "jammer", "spoofer")


@dataclass(frozen=True)
class Attack:
    kind: str
    start: int  # foil / spoofer: on; jammer: the van begins its approach
    seconds: int  # foil / spoofer: how long; jammer: how long it stays parked
    wrap_s: float = 3.0
    distance_m: float = 30.0
    speed_ms: float = 10.0
    power_db: float = 80.0  # J/N at 1 m: a 10 mW-class "privacy" jammer (see docs/integrity.md)
    lat: float = 0.0  # spoofer: the position it replays
    lon: float = 0.0
    lag_s: int = 0
    cno: float = 45.0

    @property
    def approach_s(self) -> float:
        return (JAM_FROM_M - self.distance_m) / self.speed_ms if self.kind == "jammer" else 0.0

    @property
    def end(self) -> int:
        """When it stops affecting the receiver."""
        return self.start + self.seconds + int(2 * self.approach_s) + int(self.wrap_s) + 1

    @property
    def window(self) -> tuple[int, int]:
        """When the episode is on (what a detection must fall in, for the metrics): the foil on,
        the spoofer on, the jammer within reach (its loss above 20 dB)."""
        if self.kind != "jammer":
            return self.start, self.start + self.seconds
        reach = 10 ** ((self.power_db - 20.0) / 20.0)  # the distance of a 20 dB drop
        d_in = max(0.0, JAM_FROM_M - max(reach, self.distance_m))
        t_in = self.start + d_in / self.speed_ms
        t_out = (
            self.start + self.approach_s + self.seconds + (self.approach_s - d_in / self.speed_ms)
        )
        return int(t_in), int(t_out)

    def loss_db(self, t: int) -> float:
        """Extra loss on every satellite at t (foil, jammer)."""
        if self.kind == "foil":
            a = t - self.start
            b = self.start + self.seconds - t
            if a < 0 or b < -self.wrap_s:
                return 0.0
            return FOIL_DB * max(0.0, min(1.0, a / self.wrap_s, 1.0 + b / self.wrap_s))
        if self.kind == "jammer":
            d = self.distance(t)
            if d is None:
                return 0.0
            jn = self.power_db - 20.0 * math.log10(max(d, 1.0))
            return 10.0 * math.log10(1.0 + 10 ** (jn / 10.0))
        return 0.0

    def distance(self, t: int) -> float | None:
        a = t - self.start
        ap = self.approach_s
        if a < 0 or a > 2 * ap + self.seconds:
            return None
        if a < ap:
            along = JAM_FROM_M - self.distance_m - a * self.speed_ms
        elif a <= ap + self.seconds:
            along = 0.0
        else:
            along = (a - ap - self.seconds) * self.speed_ms
        return math.hypot(along, self.distance_m)

    def spoofing(self, t: int) -> bool:
        return self.kind == "spoofer" and self.start <= t < self.start + self.seconds


def loss_db(attacks: tuple[Attack, ...], t: int) -> float:
    return sum(a.loss_db(t) for a in attacks) if attacks else 0.0


def noise_db(attacks: tuple[Attack, ...], t: int) -> float:
    """How far jammers raise the noise floor at t (dB): what a receiver's interference monitor
    sees (foil takes signal away and adds no noise)."""
    return sum(a.loss_db(t) for a in attacks if a.kind == "jammer") if attacks else 0.0


def spoofer(attacks: tuple[Attack, ...], t: int) -> Attack | None:
    for a in attacks:
        if a.spoofing(t):
            return a
    return None

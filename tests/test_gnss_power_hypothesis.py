"""The receiver power state machine against any sequence of requests and a receiver that loses
replies at random: it never raises, and whenever it is idle, what it believes (powered, asleep,
off) is what the receiver is."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.gnss import mtk, ublox_m8, ublox_m10, unicore
from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF, GnssPower
from tagcore.gnss.rail import rail_action
from tagcore.gnss.ubx import UbxFramer, frame

RAIL = {"method": "pmu", "i2c_addr": 52, "reg": 18, "bit": 3}
DRIVERS = [ublox_m8, ublox_m10, mtk.L76K, unicore]


class FakeReceiver:
    """Powered by the rail; asleep after a backup/standby command until any byte; ACKs every
    UBX frame it gets; speaks once a second while powered and awake. `lose` drops ACKs."""

    def __init__(self, rail: bool, lose: list[bool], stays_awake: bool) -> None:
        self.stays_awake = stays_awake  # ignores backup (an M10 without EXTINT, issue 4061)
        self.powered = not rail
        self.asleep = False
        self.lose = lose
        self.k = 0
        self.out = bytearray()

    def _lost(self) -> bool:
        self.k += 1
        return bool(self.lose) and self.lose[self.k % len(self.lose)]

    def write(self, data: bytes) -> None:
        if not self.powered:
            return
        if self.asleep:
            self.asleep = False
            return
        if data.startswith(b"\xb5\x62"):
            if data[2:4] == b"\x02\x41":
                self.asleep = not self.stays_awake
            elif not self._lost():
                self.out += frame(5, 1, data[2:4])
        elif data.startswith(b"$PCAS12"):
            self.asleep = not self.stays_awake

    def second(self) -> bytes:
        if not self.powered or self.asleep:
            return b""
        out = bytes(self.out) + b"$GPGGA,,,,,,0,00,,,,,,,*66\r\n"
        self.out.clear()
        return out  # NMEA always arrives: a line that says nothing at all looks asleep


events = st.lists(
    st.tuples(st.sampled_from([CONTINUOUS, CYCLIC, BACKUP, OFF]), st.integers(0, 40)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(range(len(DRIVERS))),
    st.booleans(),
    events,
    st.lists(st.booleans(), max_size=7),
    st.booleans(),
)
def test_any_request_sequence_with_lost_replies(
    d: int, has_rail: bool, evs, lose, stays_awake: bool
) -> None:
    on = rail_action(RAIL, True) if has_rail else None
    off = rail_action(RAIL, False) if has_rail else None
    p = GnssPower(DRIVERS[d], on, off)
    rx = FakeReceiver(has_rail, lose, stays_awake)
    fr = UbxFramer()
    now = 0
    for mode, wait in evs:
        p.request(now, mode)
        for _ in range(wait * 4):  # 250 ms polls
            while (a := p.pop()) is not None:
                if a[0] == "uart":
                    rx.write(a[1])
                else:
                    assert has_rail and a[1] in (on, off)
                    rx.powered = a[1] == on
                    rx.asleep = False
            if now % 1000 == 0:
                data = rx.second()
                fr.feed(data)
                while (m := fr.pop()) is not None:
                    p.on_ubx(now, m[0], m[1], m[2])
                if data:
                    p.on_output(now)
            p.tick(now)
            now += 250
        if not p.busy and not p.actions:
            if p.mode == OFF:
                assert not rx.powered
            elif p.mode == BACKUP:
                assert rx.powered and rx.asleep
            else:
                assert rx.powered and not rx.asleep
    assert set(p.counts) <= {
        "ack", "nak", "retry", "no_reply", "ack_unexpected", "setup_incomplete",
        "cyclic_refused", "cyclic_unsupported", "backup_by_rail", "no_power_control",
        "no_rail", "still_awake", "backup_failed", "boot_silent", "wake_retry",
        "wake_by_rail", "wake_failed", "mode_by_rail", "mode_unconfirmed",
    }  # fmt: skip

"""Energy by component from the board profile's currents, and the battery they drain."""

from __future__ import annotations

from tagsim.boards import Board

# One upload, by uplink and success: the (state, seconds) the radio spends, and the MCU's awake
# seconds. Modem: attach + send, then linger before PSM; without coverage it searches 30 s.
# Wi-Fi: associate, DHCP and TLS (receiving), send; without an AP, 5 s of scanning.
UPLINK_PHASES = {
    "modem": {True: ((("tx", 5.0), ("idle", 15.0)), 5.0), False: ((("idle", 30.0),), 5.0)},
    "wifi": {True: ((("rx", 3.0), ("tx", 1.0)), 0.0), False: ((("rx", 5.0),), 0.0)},
}
# The ESP32's own radio (BLE scan, Wi-Fi): the datasheet's RX/TX figures are the whole chip in
# active mode, CPU included, so no MCU current is added on top (it was, until issue 10: a
# scan cost 135 mA instead of 95-100). The LTE-M modem is another chip: the MCU beside it is.
MCU_PER_EPOCH_S = 0.1  # CPU awake per second of GNSS data (UART, parsing); light sleep between
MCU_PER_WAKE_S = 0.2  # boot from deep sleep, decide, sleep again


class PowerMeter:
    def __init__(
        self, board: Board, capacity_mah: float, initial_pct: float, uplink: str = "modem"
    ) -> None:
        self.b = board
        self.uplink = uplink  # "modem" (LTE-M, PSM between uploads) or "wifi" (off between)
        # the modem's sleep current while it holds a registration; Wi-Fi is simply off
        self.link_sleep_ma = board.current_ma["modem"]["psm"] if uplink == "modem" else 0.0
        self.capacity = capacity_mah
        self.charge = capacity_mah * initial_pct / 100.0
        self.mah: dict[str, float] = {
            "mcu": 0.0,
            "gnss": 0.0,
            "ble": 0.0,
            "modem": 0.0,
            "wifi": 0.0,
            "board": 0.0,
        }
        self.charged_mah = 0.0
        # How the MCU sleeps while it sleeps: deep, or light where the core's one rule
        # (tagcore.app.app.deep_sleep_ok: zones, proximity, a receiver in backup, ...) keeps
        # the device shell from deep sleep. The engine sets it from the tag (runtime.Tag.deep).
        self.deep = True

    def mcu_sleep_ma(self) -> float:
        """The MCU asleep: the profile's mcu.deep_sleep, or mcu.light_sleep (self.deep)."""
        m = self.b.current_ma["mcu"]
        return m["deep_sleep"] if self.deep else m["light_sleep"]

    @property
    def pct(self) -> float:
        return 100.0 * self.charge / self.capacity

    @property
    def empty(self) -> bool:
        return self.charge <= 0.0

    def draw(self, comp: str, ma: float, seconds: float) -> None:
        q = ma * seconds / 3600.0
        self.mah[comp] += q
        self.charge -= q

    def sleep_ma(self, gnss_backup: bool) -> float:
        """Total current while everything sleeps (the MCU's sleep, GNSS off or on backup)."""
        c = self.b.current_ma
        g = c["gnss"]["backup"] if gnss_backup else c["gnss"]["off"]
        return self.mcu_sleep_ma() + g + self.link_sleep_ma + self.b.board_overhead_ma

    def sleep(self, seconds: float, gnss_backup: bool) -> None:
        c = self.b.current_ma
        self.draw("mcu", self.mcu_sleep_ma(), seconds)
        self.draw("gnss", c["gnss"]["backup"] if gnss_backup else c["gnss"]["off"], seconds)
        self.draw("modem", self.link_sleep_ma, seconds)
        self.draw("board", self.b.board_overhead_ma, seconds)

    def gnss_off_ma(self) -> float:
        """The receiver with its rail cut: the profile's "off" is what the main battery still
        supplies then (V_BCKP fed from it, or the charge a PMU puts back into a backup cell)."""
        return self.b.current_ma["gnss"]["off"]

    def sleep_gnss(self, seconds: float, gnss_ma: float) -> None:
        """Everything asleep, the receiver drawing gnss_ma (off, or in backup on its rail)."""
        self.draw("mcu", self.mcu_sleep_ma(), seconds)
        self.draw("gnss", gnss_ma, seconds)
        self.draw("modem", self.link_sleep_ma, seconds)
        self.draw("board", self.b.board_overhead_ma, seconds)

    def sleep_gnss_ma(self, gnss_ma: float) -> float:
        return self.mcu_sleep_ma() + gnss_ma + self.link_sleep_ma + self.b.board_overhead_ma

    def gnss_second(self, state: str, mode: str = "continuous", mcu_awake: bool = True) -> None:
        """One second with the receiver powered: acquiring or tracking; tracking in the
        receiver's power save draws its power-save current, asleep its backup current.
        mcu_awake False: the MCU sleeps through it (the model plan between fixes), deep or
        light as self.deep says."""
        c = self.b.current_ma
        g = c["gnss"]
        if state == "asleep":
            ma = g["backup"]
        elif state == "tracking":
            ma = g["power_save"] if mode == "power_save" and "power_save" in g else g["tracking"]
        else:
            ma = g["acquisition"]
        self.draw("gnss", ma, 1.0)
        m = c["mcu"]
        if not mcu_awake:
            self.draw("mcu", self.mcu_sleep_ma(), 1.0)
        else:
            self.draw(
                "mcu",
                m["active"] * MCU_PER_EPOCH_S + m["light_sleep"] * (1 - MCU_PER_EPOCH_S),
                1.0,
            )
        self.draw("modem", self.link_sleep_ma, 1.0)
        self.draw("board", self.b.board_overhead_ma, 1.0)

    def mcu_listen(self, seconds: float) -> None:
        """The MCU reading the UART (active 10 %, light sleep between) instead of asleep (on
        top of a sleep_gnss of the same seconds)."""
        m = self.b.current_ma["mcu"]
        ma = m["active"] * MCU_PER_EPOCH_S + m["light_sleep"] * (1 - MCU_PER_EPOCH_S)
        self.draw("mcu", ma - self.mcu_sleep_ma(), seconds)

    def wake(self) -> None:
        self.draw("mcu", self.b.current_ma["mcu"]["active"], MCU_PER_WAKE_S)

    def scan(self, seconds: float) -> None:
        """A BLE scan with window = interval: the radio listens the whole time (the ESP32's
        figure is the whole chip: no MCU current on top)."""
        self.draw("ble", self.b.current_ma["ble"]["scan"], seconds)

    def upload(self, ok: bool) -> None:
        phases, mcu_s = UPLINK_PHASES[self.uplink][ok]
        cur = self.b.current_ma[self.uplink]
        for state, seconds in phases:
            self.draw(self.uplink, cur[state], seconds)
        self.draw("mcu", self.b.current_ma["mcu"]["active"], mcu_s)

    def charge_for(self, ma: float, seconds: float) -> None:
        q = min(ma * seconds / 3600.0, self.capacity - self.charge)
        if q > 0:
            self.charge += q
            self.charged_mah += q

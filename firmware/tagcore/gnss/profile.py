# From a board profile (boards/*.json as parsed by json.load, on the device or the host) to what
# the GNSS core needs: the driver of the receiver's family, the rail actions, and the energy
# model's inputs in integer units (uA, s).
from tagcore.gnss.energy import Receiver
from tagcore.gnss.rail import rail_action

# family -> (module in tagcore.gnss, the driver's name in it or None: the module is the driver).
# Only the board's own driver is imported: the four together cost 14 KB of heap on MicroPython
# (measured on the unix port: M8 3.0, M10 3.5, MTK 7.0, Unicore 0.7 KB), which an ESP32
# without PSRAM booting the model plan does not have.
DRIVERS = {
    "ublox_m8": ("ublox_m8", None),
    "ublox_m10": ("ublox_m10", None),
    "l76k": ("mtk", "L76K"),
    "unicore": ("unicore", None),
}


def driver(doc):
    """The driver for the profile's receiver family; None for one the core has no driver for."""
    d = DRIVERS.get(doc["gnss"].get("family"))
    if d is None:
        return None
    m = __import__("tagcore.gnss." + d[0], None, None, (d[0],))
    return m if d[1] is None else getattr(m, d[1])


def rails(doc):
    """(rail on, rail off) actions, or (None, None) without rail control."""
    p = doc.get("gnss_power")
    return rail_action(p, True), rail_action(p, False)


def _ua(ma):
    return round(ma * 1000)


def gnss_ma(g):
    """The receiver's currents the model charges (mA by state): the profile's field figure
    where it gives one (current_field_ma: never better than the datasheet's), else the
    datasheet's (current_ma)."""
    c = g["current_ma"]
    f = g.get("current_field_ma")
    if not f:
        return c
    c = dict(c)
    c.update(f)
    return c


def receiver(doc):
    """The energy model's Receiver for a profile. Modes the driver does not support are off
    whatever the profile says, so the model never picks what the receiver cannot do."""
    g = doc["gnss"]
    c = gnss_ma(g)
    d = driver(doc)
    f = g["ttff_field_s"]
    ps = bool(g.get("power_save")) and d is not None and bool(d.CYCLIC)
    sb = bool(g.get("soft_backup")) and d is not None and bool(d.SOFT_BACKUP)
    off = rails(doc)[1]
    # "off": what the main battery still supplies with the rail cut (V_BCKP fed from it, or
    # the charge the PMU puts back into the backup cell); "backup": the commanded backup
    off_ua = _ua(c["off"])
    return Receiver(
        _ua(c["acquisition"]),
        _ua(c["tracking"]),
        _ua(c.get("power_save", 0)) if ps else 0,
        _ua(c["backup"]) if sb else 0,
        off_ua,
        tuple(round(v) for v in f["hot"]),
        tuple(round(v) for v in f["cold"]),
        int(g["hot_window_s"]),
        bool(g.get("backup_on_rail_off")),
        ps,
        sb,
        off is not None,
    )


# One upload over LTE-M: attach and send 5 s at TX, linger 15 s idle before PSM, the MCU awake
# 5 s (the simulator's tagsim.power.UPLINK_PHASES; currents from the profile: SIM7000 Hardware
# Design). MCU per fix: woken, then reading epochs through a hot start and the hold, at 10 %
# active and light sleep between (tagsim.power MCU_PER_EPOCH_S), plus 2 s of set-up replies.
UPLOAD_TX_S = 5
UPLOAD_IDLE_S = 15
UPLOAD_MCU_S = 5
WAKE_MS = 200


def field_cold_s(doc):
    """The profile's worst field cold TTFF (gnss.ttff_field_s.cold, s); 0 without one: the
    fixed plan's search cap after a failure (TagApp cold_s). The device shell reads the same
    figure itself (tagdevice.shell._cold_s: this module costs heap it need not load)."""
    try:
        return int(max(doc["gnss"]["ttff_field_s"]["cold"]))
    except (KeyError, TypeError, ValueError):
        return 0


def budget_costs(doc, battery_mah=0):
    """tagcore.app.budget.Costs for a profile; battery_mah 0: the board's typical cell."""
    from tagcore.app.budget import Costs
    from tagcore.gnss.energy import HOLD_S, mean_s

    c = doc["current_ma"]
    m = c["mcu"]
    g = doc["gnss"]
    modem = c.get("modem", {})
    base = _ua(m["deep_sleep"]) + _ua(c.get("board_overhead", 0)) + _ua(modem.get("psm", 0))
    listen_ua = (_ua(m["active"]) + 9 * _ua(m["light_sleep"])) // 10
    hot = tuple(round(v) for v in g["ttff_field_s"]["hot"])
    mcu_fix = listen_ua * (mean_s(hot) + HOLD_S + 2) + _ua(m["active"]) * WAKE_MS // 1000
    up = _ua(modem.get("tx", 0)) * UPLOAD_TX_S + _ua(modem.get("idle", 0)) * UPLOAD_IDLE_S
    up += _ua(m["active"]) * UPLOAD_MCU_S
    scan = _ua(c["ble"]["scan"])  # the ESP32's whole chip while its radio listens
    mah = battery_mah or doc.get("battery", {}).get("typical_mah", 3000)
    light = _ua(m["light_sleep"]) - _ua(m["deep_sleep"])
    return Costs(base, mcu_fix, up, scan, int(mah) * 1000, light, mean_s(hot) + HOLD_S + 2)


def gnss_for(doc, battery_mah=0, ack_ms=1000):
    """(Receiver, GnssPower, budget Costs) for TagApp's `gnss` argument; None without a
    driver. ack_ms: how long a command waits for its ACK (the device shell adds the second
    its whole-second clock can lose between a command queued and written)."""
    from tagcore.gnss.power import GnssPower

    d = driver(doc)
    if d is None:
        return None
    on, off = rails(doc)
    return receiver(doc), GnssPower(d, on, off, ack_ms=ack_ms), budget_costs(doc, battery_mah)

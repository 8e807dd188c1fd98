# From a board profile (boards/*.json as parsed by json.load, on the device or the host) to what
# the GNSS core needs: the driver of the receiver's family, the rail actions, and the energy
# model's inputs in integer units (uA, s).
from tagcore.gnss import mtk, ublox_m8, ublox_m10, unicore
from tagcore.gnss.energy import Receiver
from tagcore.gnss.rail import rail_action

DRIVERS = {
    "ublox_m8": ublox_m8,
    "ublox_m10": ublox_m10,
    "l76k": mtk.L76K,
    "unicore": unicore,
}


def driver(doc):
    """The driver for the profile's receiver family; None for one the core has no driver for."""
    return DRIVERS.get(doc["gnss"].get("family"))


def rails(doc):
    """(rail on, rail off) actions, or (None, None) without rail control."""
    p = doc.get("gnss_power")
    return rail_action(p, True), rail_action(p, False)


def _ua(ma):
    return round(ma * 1000)


def receiver(doc):
    """The energy model's Receiver for a profile. Modes the driver does not support are off
    whatever the profile says, so the model never picks what the receiver cannot do."""
    g = doc["gnss"]
    c = g["current_ma"]
    d = driver(doc)
    f = g["ttff_field_s"]
    ps = bool(g.get("power_save")) and d is not None and bool(d.CYCLIC)
    sb = bool(g.get("soft_backup")) and d is not None and bool(d.SOFT_BACKUP)
    off = rails(doc)[1]
    # V_BCKP fed from the main battery keeps drawing its backup current while the rail is cut
    off_ua = _ua(c["off"])
    if g.get("backup_on_rail_off") and not g.get("backup_hold_s"):
        off_ua += _ua(c["backup"])
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


def gnss_for(doc):
    """(Receiver, GnssPower) for TagApp's `gnss` argument; None without a driver."""
    from tagcore.gnss.power import GnssPower

    d = driver(doc)
    if d is None:
        return None
    on, off = rails(doc)
    return receiver(doc), GnssPower(d, on, off)

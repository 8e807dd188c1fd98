# u-blox M10 (MAX-M10S, SAM-M10Q) commands: configuration keys through UBX-CFG-VALSET, backup
# through the 16-byte UBX-RXM-PMREQ. The M10 has no flash: set-up goes to RAM and BBR
# (battery-backed RAM), which survives backup but not a rail cut without V_BCKP; the power state
# machine sends set-up again after every rail power-up. Power save needs SBAS off.
from tagcore.compat import const
from tagcore.gnss import ublox_m8
from tagcore.gnss.ubx import frame, u2, u4

FAMILY = "ublox_m10"
SOFT_BACKUP = True
CYCLIC = True

CFG_VALSET = const(0x068A)

LAYER_RAM = const(0x01)
LAYER_BBR = const(0x02)
LAYER_FLASH = const(0x04)

# Key IDs (M10 SPG 5.10 interface description): size in bits 28-30 of the key.
PM_OPERATEMODE = const(0x20D00001)  # E1: 0 FULL, 1 PSMOO (on/off), 2 PSMCT (cyclic tracking)
PM_POSUPDATEPERIOD = const(0x40D00002)  # U4 s
PM_ACQPERIOD = const(0x40D00003)  # U4 s
PM_ONTIME = const(0x30D00005)  # U2 s
PM_MINACQTIME = const(0x20D00006)  # U1 s
PM_MAXACQTIME = const(0x20D00007)  # U1 s
PM_DONOTENTEROFF = const(0x10D00008)  # L
PM_WAITTIMEFIX = const(0x10D00009)  # L
PM_UPDATEEPH = const(0x10D0000A)  # L
PM_LIMITPEAKCURR = const(0x10D00010)  # L
SIGNAL_SBAS_ENA = const(0x10310020)
SIGNAL_SBAS_L1CA_ENA = const(0x10310005)
MSGOUT_NMEA_UART1 = {  # CFG-MSGOUT-NMEA_ID_*_UART1, U1 rate per epoch
    "GGA": 0x209100BB,
    "RMC": 0x209100AC,
    "GSA": 0x209100C0,
    "GSV": 0x209100C5,
    "GLL": 0x209100CA,
    "VTG": 0x209100B1,
    "GST": 0x209100D4,
}

# The receiver's own jamming and spoofing reports on UART1 (U1: once every n epochs), and the
# interference monitor they need (off by default: MON-RF and SEC-SIG say "unknown" without it).
ITFM_ENABLE = const(0x1041000D)  # L
MSGOUT_UBX_MON_RF_UART1 = const(0x2091035A)
MSGOUT_UBX_NAV_STATUS_UART1 = const(0x2091001B)
MSGOUT_UBX_SEC_SIG_UART1 = const(0x20910635)

MODE_FULL = const(0)
MODE_PSMOO = const(1)
MODE_PSMCT = const(2)

_SIZE = (0, 1, 1, 2, 4, 8)  # bytes by the key's size code

WAKE_BYTES = ublox_m8.WAKE_BYTES


def _value(key, v):
    n = _SIZE[(key >> 28) & 7]
    if n == 1:
        return bytes((v & 0xFF,))
    if n == 2:
        return u2(v)
    return u4(v)  # no 8-byte keys are used here


def valset(items, layers=LAYER_RAM):
    """CFG-VALSET version 0 of ((key, value), ...), in the order given."""
    p = bytearray(bytes((0, layers, 0, 0)))
    for key, v in items:
        p += u4(key)
        p += _value(key, v)
    return frame(CFG_VALSET >> 8, CFG_VALSET & 0xFF, p)


def power_save_items(period_s=5, on_time_s=1):
    """Cyclic tracking (Meshtastic's M10 keys): PSMCT, period, on-time, never off, wait for a
    fix, limit the peak current. POSUPDATEPERIOD must be at least 5 s on the M10."""
    return (
        (PM_OPERATEMODE, MODE_PSMCT),
        (PM_POSUPDATEPERIOD, period_s),
        (PM_ONTIME, on_time_s),
        (PM_DONOTENTEROFF, 1),
        (PM_WAITTIMEFIX, 1),
        (PM_LIMITPEAKCURR, 1),
    )


def sbas(on):
    return valset(((SIGNAL_SBAS_ENA, 1 if on else 0), (SIGNAL_SBAS_L1CA_ENA, 1 if on else 0)))


def nmea_out(rates, layers=LAYER_RAM):
    """NMEA output on UART1: rates is ((name, per epoch), ...)."""
    return valset(tuple((MSGOUT_NMEA_UART1[k], r) for k, r in rates), layers)


def integrity_out(every=ublox_m8.INTEGRITY_EVERY, layers=LAYER_RAM):
    """The interference monitor on and MON-RF, NAV-STATUS and SEC-SIG out on UART1 once every
    `every` epochs (the M8's rate and reasons: ublox_m8.INTEGRITY_EVERY; SEC-SIG adds 20
    bytes a report)."""
    return valset(
        (
            (ITFM_ENABLE, 1),
            (MSGOUT_UBX_MON_RF_UART1, every),
            (MSGOUT_UBX_NAV_STATUS_UART1, every),
            (MSGOUT_UBX_SEC_SIG_UART1, every),
        ),
        layers,
    )


def rxm_pmreq(duration_ms):
    return ublox_m8.rxm_pmreq(duration_ms, True)


# GSV at the M8's low rate and for its reasons (ublox_m8.GSV_EVERY)
_NMEA = (
    ("GGA", 1), ("RMC", 1), ("GSA", 1), ("GST", 1), ("GSV", ublox_m8.GSV_EVERY), ("GLL", 0),
    ("VTG", 0),
)  # fmt: skip


def setup():
    """After a power-up: NMEA selection, SBAS off (power save refuses SBAS), the integrity
    reports, in RAM and BBR."""
    both = LAYER_RAM | LAYER_BBR
    return [
        (nmea_out(_NMEA, both), CFG_VALSET),
        (valset(((SIGNAL_SBAS_ENA, 0), (SIGNAL_SBAS_L1CA_ENA, 0)), both), CFG_VALSET),
        (integrity_out(ublox_m8.INTEGRITY_EVERY, both), CFG_VALSET),
    ]


def continuous():
    return [(valset(((PM_OPERATEMODE, MODE_FULL),)), CFG_VALSET)]


def cyclic(period_ms=5000):
    s = max(5, period_ms // 1000)
    return [(valset(power_save_items(s)), CFG_VALSET)]


def backup(duration_ms=0):
    return [(rxm_pmreq(duration_ms), None)]

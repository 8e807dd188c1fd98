# u-blox M8 (and M6) commands: power save through UBX-CFG-RXM / CFG-PM2, backup through
# UBX-RXM-PMREQ, plus the set-up the tag needs (NMEA selection, rate, save). Every builder
# returns a complete frame; tests hold each one against pyubx2 and the shared vectors.
# Each command's `ack` is the (class, id) the receiver acknowledges, or None (RXM-PMREQ is
# never acknowledged: the receiver just goes quiet).
from tagcore.compat import const
from tagcore.gnss.ubx import CLS_MON, CLS_NAV, ID_MON_RF, ID_NAV_STATUS, frame, u2, u4

FAMILY = "ublox_m8"
SOFT_BACKUP = True  # RXM-PMREQ backup keeps ephemeris and configuration in battery-backed RAM
CYCLIC = True  # CFG-RXM power save (cyclic tracking by CFG-PM2)

CFG_RXM = const(0x0611)
CFG_PM2 = const(0x063B)
CFG_MSG = const(0x0601)
CFG_RATE = const(0x0608)
CFG_CFG = const(0x0609)
CFG_RST = const(0x0604)
CFG_ITFM = const(0x0639)
RXM_PMREQ = const(0x0241)
MON_VER = const(0x0A04)

LP_CONTINUOUS = const(0)
LP_POWER_SAVE = const(1)

# CFG-PM2 flags (u-blox 8 protocol spec, UBX-CFG-PM2)
PM2_LIMIT_PEAK = const(0x100)  # limitPeakCurr = 1
PM2_WAIT_TIME_FIX = const(0x400)
PM2_UPDATE_RTC = const(0x800)
PM2_UPDATE_EPH = const(0x1000)
PM2_DO_NOT_ENTER_OFF = const(0x10000)
PM2_CYCLIC = const(0x20000)  # mode 1: cyclic tracking; 0: ON/OFF

# RXM-PMREQ flags and wake-up sources
PMREQ_BACKUP = const(0x02)
PMREQ_FORCE = const(0x04)
WAKE_UARTRX = const(0x08)

# The receiver wakes from backup on UART activity; the first bytes may be lost while it does,
# so the shell sends these before the next command (0xFF is no UBX or NMEA start).
WAKE_BYTES = b"\xff" * 8


def _m(code, payload):
    return frame(code >> 8, code & 0xFF, payload)


def cfg_rxm(lp_mode):
    """CFG-RXM: 0 continuous (max performance), 1 power save."""
    return _m(CFG_RXM, bytes((8, lp_mode)))


def cfg_pm2(update_ms, search_ms, on_time_s, flags, min_acq_s=0, grid_offset_ms=0):
    """CFG-PM2 version 1 (44 bytes): the power-save cycle CFG-RXM lpMode 1 runs."""
    p = bytearray(44)
    p[0] = 1
    p[4:8] = u4(flags)
    p[8:12] = u4(update_ms)
    p[12:16] = u4(search_ms)
    p[16:20] = u4(grid_offset_ms)
    p[20:22] = u2(on_time_s)
    p[22:24] = u2(min_acq_s)
    return _m(CFG_PM2, p)


def cfg_pm2_cyclic(update_ms=1000, search_ms=10000):
    """Cyclic tracking, never entering the inactive state (Meshtastic's M8 payload)."""
    return cfg_pm2(
        update_ms, search_ms, 1, PM2_CYCLIC | PM2_DO_NOT_ENTER_OFF | PM2_UPDATE_EPH | PM2_LIMIT_PEAK
    )


def rxm_pmreq(duration_ms, long_form=False, wake=WAKE_UARTRX):
    """RXM-PMREQ: backup for duration_ms (0 = until woken). The 8-byte form is the M8's; the
    16-byte form (M8 FW 3+, M10) forces it and names the wake-up sources."""
    if not long_form:
        return _m(RXM_PMREQ, u4(duration_ms) + u4(PMREQ_BACKUP))
    return _m(RXM_PMREQ, bytes(4) + u4(duration_ms) + u4(PMREQ_BACKUP | PMREQ_FORCE) + u4(wake))


def cfg_msg(msg_class, msg_id, rate):
    """CFG-MSG, 3-byte form: rate on the port this is sent on."""
    return _m(CFG_MSG, bytes((msg_class, msg_id, rate)))


def cfg_itfm(bb_db=3, cw_db=15, aux=True):
    """CFG-ITFM: the interference monitor on (it is off by default, and MON-RF's jamming state
    says 0, unknown, until it is on). Thresholds in dB above the noise it learnt (u-blox's
    defaults, 3 and 15); algorithmBits 0x16B156 and generalBits 0x31E as the u-blox 8
    specification says they must be; antenna unknown; aux: scan the auxiliary bands too."""
    config = (bb_db & 0xF) | (cw_db & 0x1F) << 4 | 0x16B156 << 9 | 1 << 31
    return _m(CFG_ITFM, u4(config) + u4(0x31E | (0x4000 if aux else 0)))


def cfg_rate(meas_ms, nav_rate=1, time_ref=1):
    return _m(CFG_RATE, u2(meas_ms) + u2(nav_rate) + u2(time_ref))


def cfg_save(device_mask=0x03):
    """CFG-CFG: save every section to BBR and flash, so a cold power-up keeps the set-up."""
    return _m(CFG_CFG, bytes(4) + u4(0xFFFF) + bytes(4) + bytes((device_mask,)))


def mon_ver_poll():
    return _m(MON_VER, b"")


# -- what the power state machine sends, with the (class, id) acknowledged ----------------

# NMEA the tag reads: GGA, RMC, GSA, GST on; GLL, VTG off (saves UART time and MCU wake).
_NMEA_OFF = (0x01, 0x05)
# GSV carries the per-satellite C/N0 the integrity rules read (tagcore.gnss.integrity: jamming,
# shielding, uniform C/N0): on, once every GSV_EVERY epochs. Not lower: the model plan reads
# one epoch a fix (a search from backup ends at its first, 1-2 epochs; cyclic tracking is
# read every fix interval, 10 or 60 s), so GSV every n > 1 epochs misses searches and aliases
# with that cadence (at 2, a 10 s cadence read none: the spoofer went unseen); and the rules'
# 2 s step (shielding in one step) wants consecutive epochs. Its cost: docs/integrity.md.
GSV_EVERY = const(1)
_GSV = const(0x03)
# The receiver's own jamming and spoofing reports (tagcore.gnss.ubx.integrity_of), neither of
# them output by default: once every INTEGRITY_EVERY navigation epochs. The rule wants two
# critical reports in a row (tagcore.gnss.integrity), so a jammed receiver that searches is
# named within 10 s, well inside the C/N0 rules' 50 s hold; each report costs 36 (MON-RF, one
# RF block) + 24 (NAV-STATUS) bytes on the UART (docs/integrity.md prints the hour's cost).
INTEGRITY_EVERY = const(5)
_INTEGRITY = ((CLS_MON, ID_MON_RF), (CLS_NAV, ID_NAV_STATUS))


def setup():
    """After a power-up: NMEA selection (GSV at GSV_EVERY), the interference monitor and the
    integrity reports, 1 Hz, saved. ((frame, ack or None), ...)"""
    out = []
    for mid in _NMEA_OFF:
        out.append((cfg_msg(0xF0, mid, 0), CFG_MSG))
    out.append((cfg_msg(0xF0, _GSV, GSV_EVERY), CFG_MSG))
    out.append((cfg_itfm(), CFG_ITFM))
    for cls, mid in _INTEGRITY:
        out.append((cfg_msg(cls, mid, INTEGRITY_EVERY), CFG_MSG))
    out.append((cfg_rate(1000), CFG_RATE))
    out.append((cfg_save(), CFG_CFG))
    return out


def continuous():
    return [(cfg_rxm(LP_CONTINUOUS), CFG_RXM)]


def cyclic(period_ms=1000):
    return [(cfg_pm2_cyclic(period_ms), CFG_PM2), (cfg_rxm(LP_POWER_SAVE), CFG_RXM)]


def backup(duration_ms=0):
    return [(rxm_pmreq(duration_ms), None)]

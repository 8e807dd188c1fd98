# Boot only (the shell unloads it): the board's unused PMU outputs off, as its profile lists
# them (boards/*.json pmu_outputs), and an OLED that hangs on a kept rail told to sleep. Left
# on, LoRa, OLED and the unused outputs cost about 4.4 mA over the 0.9 mA the profiles charge
# asleep (current_ma.board_states: oled_pmu_left_on against timer_wake_rails_off).
from tagdevice import clock, log


def boot(pmu, i2c, outs, store):
    """At every boot (a deep sleep keeps the PMU's registers, a power-on may not). Outputs a
    bus error left on: logged, reported to the server (a status event), tried again at the
    next boot; never raised."""
    left = off(pmu, outs)
    if left:
        log.error("pmu", "outputs left on (I2C error): " + " ".join(left))
        store.append_event(22, clock.now(), ("pmu on " + " ".join(left)).encode()[:48])
    a = outs.get("display_sleep")
    if a is not None and not display_sleep(i2c, a):
        log.info("pmu", f"no display at 0x{a:02x}: none fitted")


def off(pmu, outs):
    """Clear the enable bit of every output in outs["off"] ({name: [reg, bit]}), one
    read-modify-write a register, the other bits as they were. Never a bit of outs["keep"] (the
    ESP32's own supply is one) nor the GNSS rail's, whatever "off" says: a wrong profile must
    not brown out the chip running this. The names left on (I2C error, counted in pmu.errors)."""
    keep = {pmu.rail_reg: pmu.rail_mask}
    for reg, bit in outs.get("keep", {}).values():
        keep[reg] = keep.get(reg, 0) | (1 << bit)
    regs = {}  # type: dict  # reg -> [(name, mask)]
    for name, (reg, bit) in outs.get("off", {}).items():
        if not keep.get(reg, 0) & (1 << bit):
            regs.setdefault(reg, []).append((name, 1 << bit))
    left = []
    for reg, names in regs.items():
        mask = 0
        for _, m in names:
            mask |= m
        if not pmu._set(reg, mask, 0):
            left += [n for n, _ in names]
    return left


def display_sleep(i2c, addr):
    """An SSD1306 told "display off" (control byte 0x00, command 0xAE): its sleep mode, for an
    OLED whose rail must stay on. False if nothing answered (none fitted, or a bus error)."""
    try:
        i2c.writeto_mem(addr, 0, b"\xae")
        return True
    except OSError:
        return False

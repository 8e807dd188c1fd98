# The T-Beam's power-management chip over I2C: the GNSS rail, battery voltage and charge state.
# Register maps (X-Powers datasheets; XPowersLib):
#   AXP192  0x01 bit 6 charging, bit 5 battery present; 0x12 output enables (bit 3 LDO3 = GNSS
#           on the T-Beam v1.1); 0x82 bit 7 battery-voltage ADC on; 0x78/0x79 battery voltage,
#           12 bits (0x78 high 8, 0x79 low 4), 1.1 mV per step.
#   AXP2101 0x00 bit 3 battery present; 0x01 bits 6:5 current direction (01 charging);
#           0x90 LDO enables (bit 2 ALDO3 = GNSS on the T-Beam v1.2); 0x18 bit 2 backup-cell
#           charging; 0x30 bit 0 battery-voltage ADC on; 0x34/0x35 battery voltage, 14 bits, 1 mV;
#           0xA4 the fuel gauge's percentage.
# A bus error is counted and read as "unknown" (None), never raised.
from tagcore.compat import const

_AXP192_CHG = const(0x01)
_AXP192_ADC_EN = const(0x82)
_AXP192_VBAT = const(0x78)
_AXP2101_STAT1 = const(0x00)
_AXP2101_STAT2 = const(0x01)
_AXP2101_ADC_EN = const(0x30)
_AXP2101_VBAT = const(0x34)
_AXP2101_PCT = const(0xA4)

# A Li-ion cell at rest: (mV, %) from 3.3 V empty to 4.15 V full (typical 18650 curve).
CURVE = ((3300, 0), (3500, 5), (3600, 12), (3700, 30), (3800, 55), (3900, 70), (4000, 82),
         (4100, 94), (4150, 100))  # fmt: skip


def pct_from_mv(mv):
    if mv <= CURVE[0][0]:
        return 0
    for i in range(1, len(CURVE)):
        v, p = CURVE[i]
        if mv <= v:
            v0, p0 = CURVE[i - 1]
            return p0 + (p - p0) * (mv - v0) // (v - v0)
    return 100


class Pmu:
    def __init__(self, i2c, chip, addr, rail_reg, rail_bit, backup=None):
        self.i2c = i2c
        self.axp2101 = chip == "AXP2101"
        self.addr = addr
        self.rail_reg = rail_reg
        self.rail_mask = 1 << rail_bit
        self.errors = 0
        if self.axp2101:
            self._set(_AXP2101_ADC_EN, 1, 1)
            if backup is not None:  # hot starts need the receiver's backup cell charged
                self._set(backup[0], 1 << backup[1], 1 << backup[1])
        else:
            self._set(_AXP192_ADC_EN, 0x80, 0x80)

    def _get(self, reg, n=1):
        try:
            return self.i2c.readfrom_mem(self.addr, reg, n)
        except OSError:
            self.errors += 1
            return None

    def _set(self, reg, mask, value):
        b = self._get(reg)
        if b is None:
            return False
        try:
            self.i2c.writeto_mem(self.addr, reg, bytes(((b[0] & ~mask) | value,)))
            return True
        except OSError:
            self.errors += 1
            return False

    def gnss_rail(self, on):
        """Switch the receiver's rail; the other outputs keep their bits. True if written."""
        return self._set(self.rail_reg, self.rail_mask, self.rail_mask if on else 0)

    def battery_mv(self):
        if self.axp2101:
            b = self._get(_AXP2101_VBAT, 2)
            return None if b is None else ((b[0] & 0x3F) << 8) | b[1]
        b = self._get(_AXP192_VBAT, 2)
        return None if b is None else ((b[0] << 4) | (b[1] & 0x0F)) * 11 // 10

    def charging(self):
        if self.axp2101:
            b = self._get(_AXP2101_STAT2)
            return None if b is None else (b[0] >> 5) & 3 == 1
        b = self._get(_AXP192_CHG)
        return None if b is None else bool(b[0] & 0x40)

    def battery_pct(self):
        """The fuel gauge's figure on the AXP2101, else from the cell voltage; None unknown."""
        if self.axp2101:
            s = self._get(_AXP2101_STAT1)
            p = self._get(_AXP2101_PCT)
            if s is not None and p is not None and s[0] & 0x08 and p[0] <= 100:
                return p[0]
        mv = self.battery_mv()
        return None if mv is None else pct_from_mv(mv)


class AdcBattery:
    """A battery on an ADC pin behind a divider (boards without a PMU)."""

    def __init__(self, pin, divider=2):
        from machine import ADC, Pin

        self.adc = ADC(Pin(pin), atten=ADC.ATTN_11DB)
        self.divider = divider

    def battery_pct(self):
        return pct_from_mv(self.adc.read_uv() * self.divider // 1000)

    def charging(self):
        return None

# The receiver's power rail as data from the board profile (boards/*.json "gnss_power"): a PMU
# output bit (AXP192 LDO3: register 0x12 bit 3; AXP2101 ALDO3/ALDO4: register 0x90 bit 2/3) or a
# GPIO that drives a load switch. The core turns the profile entry into an action the shell
# carries out as it stands:
#   ("i2c", addr, reg, mask, value)  read reg, clear mask, or in value, write it back
#   ("gpio", pin, level)             drive the pin (hold it through deep sleep)
# None for a board without rail control (the power state machine then relies on soft backup).


def rail_action(power, on):
    """The action that switches the rail described by `power` (the profile's gnss_power dict)."""
    if not power:
        return None
    m = power.get("method")
    if m == "pmu":
        mask = 1 << power["bit"]
        return ("i2c", power["i2c_addr"], power["reg"], mask, mask if on else 0)
    if m == "gpio":
        high = power.get("active", "high") == "high"
        return ("gpio", power["pin"], 1 if on == high else 0)
    return None

"""The one alert vocabulary: the name of every alert kind the server opens and of the events
the host shows beside them (an alert's end, a warning to the wearer), with its label and
marker. The server (taghost.server.alerts, rules, seals), the pull, the replay, the evidence
bundle and the report name alerts with these and nothing else.

Alert kinds are stored: the server's `alerts.kind` column and its API hold the names of OPENS,
and so do the evidence bundle's alerts.json. Names written before this vocabulary (a pull's
events.json, `opentag replay --json`: "breach", "breach_end", "location_lost",
"config_expired") are read through `current()`; the server always used these names.
"""

from __future__ import annotations

from typing import NamedTuple

from tagcore.zones import monitor as Z


class Kind(NamedTuple):
    label: str  # what a person reads (report, evidence)
    mark: str | None  # taghost.draw.MARKERS shape on the map and timeline (None: a dot)
    row: int  # the report's timeline row: 0 zones & curfews, 1 other alerts, 3 battery


# ---- alert kinds the server opens (an alert row) -------------------------------------------
ZONE_BREACH = "zone_breach"
ZONES_EXPIRED = "zones_expired"
ZONE = "zone"  # a zone event whose bytes do not decode
LOSS_OF_LOCATION = "loss_of_location"
PROXIMITY_PREALERT = "proximity_prealert"
PROXIMITY = "proximity"  # also a proximity event whose bytes do not decode
PROXIMITY_GNSS_PREALERT = "proximity_gnss_prealert"
PROXIMITY_GNSS = "proximity_gnss"
PROXIMITY_CONTRADICTED = "proximity_contradicted"  # a Bluetooth alert GNSS disagrees with
PROXIMITY_DEAF = "proximity_deaf"  # the scanner lost beacon frames: "no beacon" is not proof
TAMPER = "tamper"  # strap cut, case opened, taken off (tagcore.events.TAMPER_CODES)
LOW_BATTERY = "low_battery"
CIRCUMVENTION = "circumvention"  # GNSS integrity: jamming, shielding, spoofing
POWER = "power"  # a power event whose bytes do not decode
POWER_LOW = "power_low"  # projected life down to 4 h (time to reach a charger)
POWER_CRITICAL = "power_critical"  # ... to 1 h (charge now)
COMM_LOST = "comm_lost"  # the server's rule: an upload overdue
UNSEALED = "unsealed"  # the server's rule: records without a verified seal

OPENS = {
    ZONE_BREACH: Kind("ZONE BREACH (alert)", "breach", 0),
    ZONES_EXPIRED: Kind("zone configuration expired (alert)", "loc_lost", 0),
    ZONE: Kind("zone alert (damaged event)", "breach", 0),
    LOSS_OF_LOCATION: Kind("LOCATION LOST (alert)", "loc_lost", 1),
    PROXIMITY_PREALERT: Kind("victim beacon nearby (pre-alert)", "proximity", 1),
    PROXIMITY: Kind("PROXIMITY (victim beacon) alert", "proximity", 1),
    PROXIMITY_GNSS_PREALERT: Kind("victim's GNSS position nearby (pre-alert)", "proximity", 1),
    PROXIMITY_GNSS: Kind("PROXIMITY (victim's GNSS position) alert", "proximity", 1),
    PROXIMITY_CONTRADICTED: Kind("proximity alert GNSS contradicts", "proximity", 1),
    PROXIMITY_DEAF: Kind("beacon scanner flooded (proximity unproven)", "proximity", 1),
    TAMPER: Kind("TAMPER (alert)", "tamper", 1),
    LOW_BATTERY: Kind("low battery", None, 3),
    CIRCUMVENTION: Kind("GNSS CIRCUMVENTION (jamming, shielding or spoofing) alert", "tamper", 1),
    POWER: Kind("power warning (damaged event)", None, 3),
    POWER_LOW: Kind("POWER LOW: about 4 h left (alert)", None, 3),
    POWER_CRITICAL: Kind("POWER CRITICAL: about 1 h left (alert)", None, 3),
    COMM_LOST: Kind("COMMUNICATION LOST: upload overdue (alert)", "loc_lost", 1),
    UNSEALED: Kind("UNSEALED: records without a verified seal (alert)", "tamper", 1),
}

# ---- events shown beside them that open no alert -------------------------------------------
ZONE_BREACH_END = "zone_breach_end"
LOCATION_BACK = "location_back"
APPROACH = "approach"  # the wearer was warned: nearing an exclusion zone
LOCATION_WARNING = "location_warning"  # the wearer was warned: no fix for a while

NOTES = {
    ZONE_BREACH_END: Kind("zone breach over", "end", 0),
    LOCATION_BACK: Kind("location back", "end", 1),
    APPROACH: Kind("zone approach (wearer warned)", "approach", 0),
    LOCATION_WARNING: Kind("no fix: wearer warned", "loc_lost", 1),
}

KINDS = {**OPENS, **NOTES}

# The zone monitor's alert codes (tagcore.zones.monitor.A_*) by name.
ZONE_ALERTS = {
    Z.A_BREACH: ZONE_BREACH,
    Z.A_BREACH_END: ZONE_BREACH_END,
    Z.A_CONFIG_EXPIRED: ZONES_EXPIRED,
    Z.A_LOC_LOST: LOSS_OF_LOCATION,
    Z.A_LOC_BACK: LOCATION_BACK,
    Z.A_APPROACH: APPROACH,
    Z.A_LOC_WARN: LOCATION_WARNING,
}

# Names the pull and the replay wrote before this vocabulary.
OLD_NAMES = {
    "breach": ZONE_BREACH,
    "breach_end": ZONE_BREACH_END,
    "location_lost": LOSS_OF_LOCATION,
    "config_expired": ZONES_EXPIRED,
}


def current(name: str) -> str:
    """The vocabulary's name for an alert name read from a file (old names mapped)."""
    return OLD_NAMES.get(name, name)


def label(name: str) -> str:
    """What the report says for an alert kind (its name, when it is not in the vocabulary)."""
    k = KINDS.get(current(name))
    return k.label if k else name

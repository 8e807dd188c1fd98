# The tag configuration: what the host compiles (`opentag config compile`) and the tag loads at
# boot. One table of keys (id, name, default, min, max) serves both: the host refuses a value
# out of range naming the key; the tag, given a blob it cannot trust, counts why and runs on
# safe defaults. Bad bytes never raise; a blob that is not bytes-like does (TypeError).
#
# Blob v1 (little-endian): b"OTCF", u8 version, u8 n, n x (u8 key id, i32 value),
#   u8 m, m x (u8 section kind, u32 length, bytes), u32 CRC-32 of everything before it.
# Sections: SEC_ZONES the zone blob (`opentag zones compile`), SEC_BEACON a beacon identifier
# window (`opentag beacon window`). A key id the tag does not know is skipped and counted
# (a newer host), as is a section kind.
#
#   cfg = TagConfig(**overrides)       # defaults (a Settings: attributes only)
#   cfg, counts = load(blob)           # counts: {reason: n}, empty when all was taken
#   unload()                           # drop this module after boot (heap)
# The host's side (check, encode: refusals name the key) is taghost.tagconfig.
import binascii
import struct

MAGIC = b"OTCF"
VERSION = 1
SEC_ZONES = 1
SEC_BEACON = 2

# Upload policies.
UP_INTERVAL = 0  # every upload_interval_s, alerts at once
UP_ALERTS_ONLY = 1  # alerts at once; otherwise only every upload_interval_s x HEARTBEAT_X
HEARTBEAT_X = 4

# (id, name, default, min, max). Ids are forever: a retired key keeps its id unused.
KEYS = (
    (1, "fix_interval_s", 60, 1, 86400),
    (2, "max_search_s", 120, 5, 3600),
    (3, "scan_interval_s", 0, 0, 86400),
    (4, "upload_interval_s", 900, 60, 86400),
    (5, "low_battery_pct", 15, 0, 100),
    (6, "guard_kmh", 130, 0, 250),  # drive-through guard: top speed assumed; 0 off
    (7, "guard_accel_cms2", 250, 10, 2000),  # ... and acceleration (2.5 m/s2: a brisk car)
    (8, "guard_lead_s", 5, 0, 120),  # ... a search's time to its first fix (hot start)
    (9, "minimise", 0, 0, 1),  # data-minimising mode: zone and curfew events only
    (10, "upload_policy", 0, 0, 1),  # UP_INTERVAL or UP_ALERTS_ONLY
    (11, "power_target_h", 0, 0, 8760),  # battery life wanted (h): tagcore.app.budget; 0 none
    (12, "gnss_plan", 0, 0, 1),  # 0 the fixed plan (rail on to search, off between); 1 the model
    (13, "battery_mah", 0, 0, 100000),  # the cell's capacity for the budget; 0 the board's
    (14, "still_fix_s", 90, 0, 150),  # a still wearer's fix interval (model plan); 0 off
)


class Settings:
    """A tag configuration: one attribute per key, plus zones_blob and beacon_blob. No methods,
    so the codec (this module) can be unloaded after boot: the app reads only attributes."""


def TagConfig(**kw):
    """A configuration with the defaults, overridden by keyword (key names)."""
    cfg = Settings()
    for k in KEYS:
        setattr(cfg, k[1], kw.get(k[1], k[2]))
    setattr(cfg, "zones_blob", kw.get("zones_blob"))  # noqa: B010 (attributes only: see Settings)
    setattr(cfg, "beacon_blob", kw.get("beacon_blob"))  # noqa: B010
    return cfg


def _count(counts, k):
    counts[k] = counts.get(k, 0) + 1


def load(blob):
    """(TagConfig, counts) from a blob. A blob that fails its magic, version, length or CRC is
    refused as a whole (defaults, counted); a value out of range or an unknown key is refused
    alone (that key's default, counted); a heap too short to hold the sections gives the
    defaults, counted "no_memory" (its own path: not a bad blob).
    Raises TypeError for a blob that is not bytes-like, and any programming error: bad bytes
    are checked against the length before every read, so nothing else needs catching."""
    cfg = TagConfig()
    counts = {}  # type: dict
    try:
        ok = _parse(blob, cfg, counts)
    except MemoryError:
        ok = False
        _count(counts, "no_memory")
    if not ok:
        cfg = TagConfig()
    return cfg, counts


def _parse(blob, cfg, counts):
    n = len(blob)
    if n < 11 or blob[:4] != MAGIC:
        _count(counts, "bad_magic")
        return False
    if blob[4] != VERSION:
        _count(counts, "bad_version")
        return False
    if struct.unpack_from("<I", blob, n - 4)[0] != binascii.crc32(blob[: n - 4]) & 0xFFFFFFFF:
        _count(counts, "bad_crc")
        return False
    end = n - 4  # the CRC's offset: every field must end before it
    i = 6
    for _ in range(blob[5]):
        if i + 5 > end:
            _count(counts, "malformed")
            return False
        kid, v = struct.unpack_from("<Bi", blob, i)
        i += 5
        k = None
        for e in KEYS:
            if e[0] == kid:
                k = e
        if k is None:
            _count(counts, "unknown_key")
        elif not k[3] <= v <= k[4]:
            _count(counts, "range_" + k[1])  # this key keeps its default
        else:
            setattr(cfg, k[1], v)
    if i >= end:
        _count(counts, "malformed")
        return False
    m = blob[i]
    i += 1
    for _ in range(m):
        if i + 5 > end:
            _count(counts, "malformed")
            return False
        kind, ln = struct.unpack_from("<BI", blob, i)
        i += 5
        if i + ln > end:
            _count(counts, "malformed")
            return False
        if kind == SEC_ZONES:
            setattr(cfg, "zones_blob", bytes(blob[i : i + ln]))  # noqa: B010
        elif kind == SEC_BEACON:
            setattr(cfg, "beacon_blob", bytes(blob[i : i + ln]))  # noqa: B010
        else:
            _count(counts, "unknown_section")
        i += ln
    if i != end:
        _count(counts, "malformed")
        return False
    return True


def unload():
    """Drop this module (the codec) once the configuration is loaded: about 4 KB of heap back
    on a board without PSRAM. The Settings it made stay valid (attributes only)."""
    import sys

    sys.modules.pop("tagcore.app.config", None)
    pkg = sys.modules.get("tagcore.app")
    if pkg is not None and "config" in dir(pkg):
        delattr(pkg, "config")  # the package holds its submodule too

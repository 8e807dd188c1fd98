# The provisioned files (docs/device.md has the contract the host tools write to):
#   /prov/board.json   board profile (boards/*.json)     /prov/config.bin  tag configuration
#   /prov/zones.bin    zone blob                         /prov/beacon.bin  beacon window
#   /prov/tag.key      32-byte MAC key                   /prov/server.json {"url", "tag"}
#   /prov/wifi.json    {"ssid", "password"}
# Each reader returns (value, reason): reason None when the file is good, else why it was
# refused ("missing", "too_large", "not_json", "bad <field>", a codec's count); the caller logs
# the reason and takes the fallback. Nothing here raises.
PROV = "/prov/"


def read(name, maxlen):
    import os

    try:
        n = os.stat(PROV + name)[6]
    except OSError:
        return None, "missing"
    if n > maxlen:
        return None, "too_large"
    try:
        with open(PROV + name, "rb") as f:
            b = f.read(n)  # the file's own size: read(maxlen) takes a maxlen block first
    except OSError:
        return None, "missing"
    except MemoryError:
        return None, "no_memory"
    return b, None


def _json(name, maxlen):
    b, why = read(name, maxlen)
    if b is None:
        return None, why
    import json

    try:
        d = json.loads(b)
    except Exception:  # ValueError on the device; a UnicodeError on bad bytes
        return None, "not_json"
    if not isinstance(d, dict):
        return None, "not_json"
    return d, None


def _int(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d if isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 1 << 24 else None


def board():
    """The board profile; the fields the shell uses are checked (pins as small integers)."""
    d, why = _json("board.json", 8192)
    if d is None:
        return None, why
    if not isinstance(d.get("id"), str):
        return None, "bad id"
    for k in ("rx", "tx", "baud"):
        if _int(d, "pins", "gnss_uart", k) is None:
            return None, "bad pins.gnss_uart." + k
    gp = d.get("gnss_power")
    if gp is not None:
        m = gp.get("method") if isinstance(gp, dict) else None
        if m == "pmu":
            if gp.get("chip") not in ("AXP192", "AXP2101"):
                return None, "bad gnss_power.chip"
            for k in ("i2c_addr", "reg", "bit"):
                if _int(gp, k) is None:
                    return None, "bad gnss_power." + k
            for k in ("sda", "scl"):
                if _int(d, "pins", "i2c", k) is None:
                    return None, "bad pins.i2c." + k
        elif m == "gpio":
            if _int(gp, "pin") is None:
                return None, "bad gnss_power.pin"
        else:
            return None, "bad gnss_power.method"
    return d, None


# The fallback when board.json is missing or refused: the ESP32 DevKitC wiring of
# boards/devkitc_neo_m8n.json (UART2 on GPIO16/17 at 9600 baud, receiver always powered).
FALLBACK_BOARD = {
    "id": "fallback",
    "pins": {"gnss_uart": {"rx": 16, "tx": 17, "baud": 9600}},
}


def config():
    """(Settings, reason): the compiled configuration through the tag's own loader. A blob the
    loader refuses whole gives the defaults and the reason; a value out of range keeps that
    key's default and is reported as a warning reason ("range_<key>")."""
    from tagcore.app import config as C

    b, why = read("config.bin", 16384)
    if b is None:
        cfg = C.TagConfig()
        C.unload()
        return cfg, why
    cfg, counts = C.load(b)
    C.unload()
    b = None
    if not counts:
        return cfg, None
    return cfg, " ".join(sorted(counts))


def zones(cfg):
    """(ZoneMonitor or None, reason). /prov/zones.bin, else the configuration's zone section."""
    b, why = read("zones.bin", 65536)
    if b is None:
        b = getattr(cfg, "zones_blob", None)
        if b is None:
            return None, why
        why = None
    from tagcore.zones.monitor import ZoneMonitor

    try:
        m = ZoneMonitor(b)
    except MemoryError:
        return None, "no_memory"
    if m.error is not None:
        return None, m.error
    return m, None


def beacon(cfg):
    """(IdTable or None, reason): the victim beacon's identifier window."""
    b, why = read("beacon.bin", 16384)
    if b is None:
        b = getattr(cfg, "beacon_blob", None)
        if b is None:
            return None, why
    from tagcore.proximity.idtable import IdTable

    t = IdTable()
    try:
        n = t.load(b)
    except MemoryError:
        return None, "no_memory"
    if n <= 0 or t.counts:
        return None, " ".join(sorted(t.counts)) or "empty"
    return t, None


def key():
    b, why = read("tag.key", 64)
    if b is None:
        return None, why
    if len(b) != 32:
        return None, f"bad length {len(b)} (want 32)"
    return b, None


def server():
    """((host, port, path, tls, tag id bytes), reason) from {"url": ..., "tag": 16 hex}."""
    d, why = _json("server.json", 1024)
    if d is None:
        return None, why
    url = d.get("url")
    tag = d.get("tag")
    if not isinstance(tag, str) or len(tag) != 16:
        return None, "bad tag"
    try:
        import binascii

        tid = binascii.unhexlify(tag)
    except Exception:
        return None, "bad tag"
    if not isinstance(url, str):
        return None, "bad url"
    tls = url.startswith("https://")
    if not tls and not url.startswith("http://"):
        return None, "bad url"
    rest = url[8 if tls else 7 :]
    i = rest.find("/")
    hostport, path = (rest, "/v1/up") if i < 0 else (rest[:i], rest[i:])
    if path in ("", "/"):
        path = "/v1/up"
    port = 443 if tls else 80
    j = hostport.rfind(":")
    if j >= 0:
        try:
            port = int(hostport[j + 1 :])
        except ValueError:
            return None, "bad url"
        hostport = hostport[:j]
    if not hostport or not 0 < port < 65536:
        return None, "bad url"
    return (hostport, port, path, tls, tid), None


def wifi():
    d, why = _json("wifi.json", 1024)
    if d is None:
        return None, why
    ssid = d.get("ssid")
    pw = d.get("password", "")
    if not isinstance(ssid, str) or not 0 < len(ssid) <= 32:
        return None, "bad ssid"
    if not isinstance(pw, str) or len(pw) > 64:
        return None, "bad password"
    return (ssid, pw), None

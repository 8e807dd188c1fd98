# The provisioned files (docs/device.md has the contract the host tools write to):
#   /prov/board.json   board profile (boards/*.json)     /prov/config.bin  tag configuration
#   /prov/zones.bin    zone blob                         /prov/beacon.bin  beacon window
#   /prov/tag.key      32-byte MAC key                   /prov/server.json {"url", "tag"}
#   /prov/wifi.json    {"ssid", "password"}   /prov/seal.key  32-byte initial seal key k0
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
    except ValueError:  # bad JSON; bad UTF-8 (UnicodeError is a ValueError on both runtimes)
        return None, "not_json"
    if not isinstance(d, dict):
        return None, "not_json"
    return d, None


def board():
    """The board profile, through the core's schema check (tagcore.board: the simulator's too,
    without the sources check, which is host data quality). Refused with the first problem's
    path ("bad pins.gnss_uart.baud"), or "not_json"."""
    b, why = read("board.json", 8192)
    if b is None:
        return None, why
    from tagcore import board as boardcheck

    d, problems = boardcheck.load(b, False)  # the shell unloads the check after boot
    b = None
    if d is None:
        return None, "not_json"
    if problems:
        return None, "bad " + problems[0][0][2:]  # "$.pins.gnss_uart.baud" -> its path
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
    except ValueError:  # not hex (binascii.Error is a ValueError)
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


def seal_key():
    b, why = read("seal.key", 64)
    if b is None:
        return None, why
    if len(b) != 32:
        return None, f"bad length {len(b)} (want 32)"
    return b, None


def key_slot(fs, label):
    """(slot, note): where the seals' key lives (docs/evidence.md). The board's raw flash
    partition `label` (its profile's mcu.seal_partition) when the firmware has it: there an old
    key is erased for real (tagcore.store.keyslot). A slot an older firmware left in the log's
    filesystem `fs` moves into it (the higher epoch wins) and its file goes. Otherwise the
    littlefs file slot, where a replaced key stays readable on the chip until its block is
    reused: `note` says why when the board names a partition (None: it names none, as the
    unix and simulator shells' boards may not)."""
    from tagcore.store import seal as S

    fslot = S.FileSlot(fs)
    if not label:
        return fslot, None
    try:
        import esp32

        parts = esp32.Partition.find(esp32.Partition.TYPE_DATA, label=label)
    except (ImportError, AttributeError, OSError):
        parts = None
    if not parts:
        return fslot, f"no partition {label}: key slot on littlefs, old keys not erased"
    from tagcore.store.keyslot import PartSlot

    try:
        slot = PartSlot(parts[0])
    except (ValueError, OSError):
        return fslot, f"partition {label} unusable: key slot on littlefs, old keys not erased"
    old = fslot.load()
    if old is not None:
        o = S.unpack_slot(old)
        cur = S.unpack_slot(slot.load())
        if o is None and cur is None:
            return fslot, None  # a damaged file slot and an empty partition: reported as damaged
        if o is not None and (cur is None or o[0] > cur[0]) and not slot.save(old):
            return fslot, f"partition {label} not written: key slot on littlefs"
        try:
            fs.remove(fslot.name)
        except OSError:
            pass
    return slot, None


def sealer(fs, kid, slot=None):
    """(tagcore.store.seal.Sealer or None, reason) over the key slot `slot` (key_slot's; None:
    the file slot in the log's filesystem `fs`) (docs/evidence.md). The slot holds the evolved
    key and wins: /prov/seal.key (k0) only provisions a tag that has no slot yet, and is
    removed once the slot holds it, so the tag never keeps k0 (forward security). A damaged
    slot is not re-made from k0: the log's seals have moved past epoch 0 and the server would
    refuse the fork. None: the tag runs unsealed (the shell logs and reports the reason; the
    server flags its batches)."""
    if kid is None:
        return None, "no tag id"
    from tagcore.store import seal as S

    if slot is None:
        slot = S.FileSlot(fs)
    b = slot.load()
    if b is None and getattr(slot, "damaged", False):
        return None, "slot damaged"  # a partition holding something that is not a record
    if b is None:
        k0, why = seal_key()
        if k0 is None:
            return None, "no key" if why == "missing" else why
        if not S.provision(slot, k0):
            return None, "slot not written"
        k0 = None
        b = slot.load()
    try:  # the slot exists: k0 goes (a damaged slot is not re-made from it either)
        import os

        os.remove(PROV + "seal.key")
    except OSError:
        pass
    if S.unpack_slot(b) is None:
        return None, "slot damaged"
    return S.Sealer(slot, kid), None

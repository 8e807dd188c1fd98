# The board profile (boards/*.json): its one schema check, for the device shell (/prov/board.json,
# tagdevice.prov), the simulator (tagsim.boards) and the host tools alike, so a profile the
# simulator takes is one the tag takes. MicroPython built-ins only.
#
#   doc, problems = load(text)          # JSON text or bytes; doc None when it is not JSON
#   problems = check(doc, sources=True) # [(path, problem)], empty when the profile is good
#
# A path is JSON-path-like ("$.pins.gnss_uart.baud"); every problem is listed, so a bad profile
# fails loudly with all of them at once. `sources`: every current and time must cite its
# source in $.sources (host data quality; the device skips it to spare its boot heap).
# What reads the checked profile: tagcore.gnss.profile (driver, rails, energy, budget costs),
# the device shell (pins, PMU) and the simulator's power model.

# Component -> states every profile must give a current for (mA).
REQUIRED_CURRENTS = (
    ("mcu", ("active", "light_sleep", "deep_sleep")),
    ("ble", ("off", "scan")),
    ("wifi", ("off", "rx", "tx")),
    ("modem", ("off", "psm", "idle", "tx")),
)
GNSS_CURRENTS = ("off", "backup", "acquisition", "tracking")
TTFF_KINDS = ("cold", "warm", "hot")
# Receiver families the core has a driver for (tagcore.gnss.profile.DRIVERS), and "mtk".
FAMILIES = ("ublox_m8", "ublox_m10", "l76k", "mtk", "unicore")
GNSS_FLAGS = ("power_save", "soft_backup", "backup_on_rail_off", "keeps_config_on_rail_off")
PMU_CHIPS = ("AXP192", "AXP2101")  # what tagdevice.pmu drives
BAUDS = (4800, 9600, 19200, 38400, 57600, 115200, 230400)
MAX_GPIO = 48  # the ESP32-S3's highest GPIO
# Numbers that must cite a source: every leaf below these paths.
CITED = (
    "gnss.current_ma",
    "gnss.ttff_s",
    "gnss.ttff_field_s",
    "gnss.current_field_ma",
    "gnss.hot_window_s",
    "gnss.warm_window_s",
    "gnss.backup_hold_s",
    "current_ma",
)
NUMBER = "number"
_NAMES = {str: "str", int: "int", dict: "dict", list: "list", bool: "bool"}


def load(text, sources=True):
    """(doc, problems) of a profile's JSON text (str or bytes), problems as check() gives them;
    doc None (and one problem at "$") when it is not JSON or not an object. Bad bytes never
    raise; a `text` that is neither str nor bytes raises TypeError."""
    import json

    try:
        doc = json.loads(text)
    except ValueError as e:  # bad JSON; bad UTF-8 (a ValueError on both runtimes)
        return None, [("$", "not valid JSON: " + str(e))]
    problems = check(doc, sources)
    return (doc if isinstance(doc, dict) else None), problems


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Checker:
    def __init__(self):
        self.errs = []

    def bad(self, path, problem):
        self.errs.append((path, problem))

    def need(self, obj, key, path, kind):
        """obj[key] if it is there and of `kind` (a type, or NUMBER), else None (a problem)."""
        p = path + "." + key
        if not isinstance(obj, dict) or key not in obj:
            self.bad(p, "missing")
            return None
        v = obj[key]
        if (kind is NUMBER or kind is int) and not _num(v):
            self.bad(p, f"expected a number, got {v!r}")
            return None
        if kind is not NUMBER and not isinstance(v, kind):
            self.bad(p, "expected {}, got {!r}".format(_NAMES.get(kind, "?"), v))
            return None
        return v

    def nonneg(self, obj, key, path):
        v = self.need(obj, key, path, NUMBER)
        if v is not None and v < 0:
            self.bad(path + "." + key, f"must be >= 0, got {v}")

    def one_of(self, v, path, allowed, what):
        if v is not None and v not in allowed:
            self.bad(path, f"expected {what}, got {v!r}")


def check(doc, sources=True):
    """Every schema problem of a profile document, as (path, problem) pairs; [] when good."""
    if not isinstance(doc, dict):
        return [("$", "a profile must be a JSON object")]
    c = _Checker()
    c.need(doc, "id", "$", str)
    c.need(doc, "name", "$", str)
    mcu = c.need(doc, "mcu", "$", dict)
    if mcu is not None and "seal_partition" in mcu:
        # the raw flash partition of the seals' key slot (docs/evidence.md): a partition label
        lab = c.need(mcu, "seal_partition", "$.mcu", str)
        if lab is not None and not 0 < len(lab) <= 16:
            c.bad("$.mcu.seal_partition", f"a partition label is 1..16 characters: {lab!r}")
    g = c.need(doc, "gnss", "$", dict)
    if g is not None:
        _gnss(c, g)
    pins = c.need(doc, "pins", "$", dict)
    if pins is not None:
        u = c.need(pins, "gnss_uart", "$.pins", dict)
        if u is not None:
            for k in ("rx", "tx"):
                p = c.need(u, k, "$.pins.gnss_uart", int)
                if p is not None and not 0 <= p <= MAX_GPIO:
                    c.bad("$.pins.gnss_uart." + k, f"not an ESP32 GPIO: {p}")
            b = c.need(u, "baud", "$.pins.gnss_uart", int)
            if b is not None and b not in BAUDS:
                c.bad("$.pins.gnss_uart.baud", f"unusual baud rate {b}")
    pw = c.need(doc, "gnss_power", "$", dict)
    if pw is not None:
        m = c.need(pw, "method", "$.gnss_power", str)
        c.one_of(m, "$.gnss_power.method", ("pmu", "gpio"), "pmu or gpio")
        if m == "pmu":
            c.one_of(
                c.need(pw, "chip", "$.gnss_power", str),
                "$.gnss_power.chip",
                PMU_CHIPS,
                "AXP192 or AXP2101",
            )
            for k in ("i2c_addr", "reg", "bit"):
                c.need(pw, k, "$.gnss_power", int)
            i2c = c.need(pins, "i2c", "$.pins", dict) if pins is not None else None
            if i2c is not None:
                for k in ("sda", "scl"):
                    c.need(i2c, k, "$.pins.i2c", int)
        elif m == "gpio":
            c.need(pw, "pin", "$.gnss_power", int)
            c.one_of(
                pw.get("active", "high"), "$.gnss_power.active", ("high", "low"), "high or low"
            )
    if "pmu_outputs" in doc:
        _outputs(c, doc["pmu_outputs"], pw)
    if "lora_sleep" in doc:
        _lora(c, doc["lora_sleep"])
    cur = c.need(doc, "current_ma", "$", dict)
    if cur is not None:
        for comp, states in REQUIRED_CURRENTS:
            cs = c.need(cur, comp, "$.current_ma", dict)
            if cs is not None:
                for s in states:
                    c.nonneg(cs, s, "$.current_ma." + comp)
                for s, v in cs.items():
                    if not _num(v) or v < 0:
                        c.bad(
                            f"$.current_ma.{comp}.{s}",
                            f"must be a number >= 0, got {v!r}",
                        )
        c.nonneg(cur, "board_overhead", "$.current_ma")
    bat = c.need(doc, "battery", "$", dict)
    if bat is not None:
        c.nonneg(bat, "typical_mah", "$.battery")
    if sources:
        _uncited(c, doc)
    return c.errs


def _gnss(c, g):
    c.need(g, "model", "$.gnss", str)
    c.one_of(c.need(g, "talker", "$.gnss", str), "$.gnss.talker", ("GN", "GP"), "GN or GP")
    r = c.need(g, "rate_hz", "$.gnss", int)
    if r is not None and not 1 <= r <= 10:
        c.bad("$.gnss.rate_hz", f"must be 1..10, got {r}")
    tt = c.need(g, "ttff_s", "$.gnss", dict)
    if tt is not None:
        for k in TTFF_KINDS:
            c.nonneg(tt, k, "$.gnss.ttff_s")
        if all(_num(tt.get(k)) for k in TTFF_KINDS) and not tt["hot"] <= tt["warm"] <= tt["cold"]:
            c.bad("$.gnss.ttff_s", "expected hot <= warm <= cold")
    c.nonneg(g, "hot_window_s", "$.gnss")
    c.nonneg(g, "warm_window_s", "$.gnss")
    c.need(g, "backup_supply", "$.gnss", bool)
    c.nonneg(g, "uere_m", "$.gnss")
    cur = c.need(g, "current_ma", "$.gnss", dict)
    if cur is not None:
        for k in GNSS_CURRENTS:
            c.nonneg(cur, k, "$.gnss.current_ma")
    fam = c.need(g, "family", "$.gnss", str)
    c.one_of(fam, "$.gnss.family", FAMILIES, "one of " + ", ".join(FAMILIES))
    flags = {}
    for k in GNSS_FLAGS:
        flags[k] = c.need(g, k, "$.gnss", bool)
    if flags["power_save"] and cur is not None:
        c.nonneg(cur, "power_save", "$.gnss.current_ma")
        if _num(cur.get("power_save")) and _num(cur.get("tracking")):
            if cur["power_save"] >= cur["tracking"]:
                c.bad("$.gnss.current_ma.power_save", "must be below tracking")
    fd = c.need(g, "ttff_field_s", "$.gnss", dict)
    if fd is not None:
        for k in ("hot", "cold"):
            q = c.need(fd, k, "$.gnss.ttff_field_s", list)
            if q is None:
                continue
            p = "$.gnss.ttff_field_s." + k
            if not q or not all(_num(v) and v >= 0 for v in q):
                c.bad(p, "a non-empty list of seconds >= 0")
            elif any(q[i] > q[i + 1] for i in range(len(q) - 1)):
                c.bad(p, "quantiles must not decrease")
    if "backup_hold_s" in g:
        c.nonneg(g, "backup_hold_s", "$.gnss")
    cf = g.get("current_field_ma", {})
    if not isinstance(cf, dict):
        c.bad("$.gnss.current_field_ma", "an object of mA by state")
    elif cur is not None:
        for k, v in cf.items():
            p = "$.gnss.current_field_ma." + k
            if not _num(cur.get(k)):
                c.bad(p, "no datasheet figure to stand for")
            elif not _num(v) or v < cur[k]:  # field figures are the worse ones: else unused
                c.bad(p, "a number no better than current_ma")


def _outputs(c, po, pw):
    """$.pmu_outputs: {"esp32": name, "keep": {name: [reg, bit]}, "off": {...},
    "display_sleep": I2C address}. The ESP32's own output must be kept; no output both kept and
    off; the GNSS rail (gnss_power's own control) in neither."""
    p = "$.pmu_outputs"
    if not isinstance(po, dict):
        c.bad(p, "expected dict")
        return
    if not isinstance(pw, dict) or pw.get("method") != "pmu":
        c.bad(p, "only with gnss_power.method pmu")
    bits = {}  # type: dict  # (reg, bit) -> where it is listed
    for part in ("keep", "off"):
        d = c.need(po, part, p, dict)
        for name, rb in (d or {}).items():
            q = p + "." + part + "." + name
            if not (isinstance(rb, list) and len(rb) == 2 and all(type(v) is int for v in rb)):
                c.bad(q, "expected [register, bit]")
            elif not (0 <= rb[0] <= 255 and 0 <= rb[1] <= 7):
                c.bad(q, f"not a register bit: {rb}")
            elif (rb[0], rb[1]) in bits:
                c.bad(q, "the same bit as " + bits[(rb[0], rb[1])])
            else:
                bits[(rb[0], rb[1])] = part + "." + name
    e = c.need(po, "esp32", p, str)
    if e is not None and not isinstance((po.get("keep") or {}).get(e), list):
        c.bad(p + ".esp32", f"the ESP32's own output {e!r} must be in keep")
    if isinstance(pw, dict) and (pw.get("reg"), pw.get("bit")) in bits:
        c.bad(p, "the GNSS rail is gnss_power's, not listed here")
    if "display_sleep" in po:
        a = c.need(po, "display_sleep", p, int)
        if a is not None and not 0 < a < 128:
            c.bad(p + ".display_sleep", f"not a 7-bit I2C address: {a}")


def _lora(c, ls):
    """$.lora_sleep: {"chip": "SX1262", "spi": bus id, "sck", "mosi", "miso", "nss", "busy":
    GPIOs} (tagdevice.lorasleep), six different pins."""
    p = "$.lora_sleep"
    if not isinstance(ls, dict):
        c.bad(p, "expected dict")
        return
    c.one_of(c.need(ls, "chip", p, str), p + ".chip", ("SX1262",), "SX1262")
    s = c.need(ls, "spi", p, int)
    if s is not None and s not in (1, 2):
        c.bad(p + ".spi", f"the ESP32's SPI buses for users are 1 and 2, got {s}")
    seen = {}  # type: dict  # pin -> its role
    for k in ("sck", "mosi", "miso", "nss", "busy"):
        v = c.need(ls, k, p, int)
        if v is None:
            continue
        if not 0 <= v <= MAX_GPIO:
            c.bad(p + "." + k, f"not an ESP32 GPIO: {v}")
        elif v in seen:
            c.bad(p + "." + k, f"the same pin as {seen[v]}")
        else:
            seen[v] = k


def _leaves(obj, path, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            _leaves(v, path + "." + k, out)
    elif isinstance(obj, list):
        if obj and all(_num(v) for v in obj):
            out.append(path)
    elif _num(obj):
        out.append(path)


def _uncited(c, doc):
    """Every current and time without a source: a `sources` key must equal its path or a
    prefix of it (path components, not characters)."""
    src = doc.get("sources")
    if not isinstance(src, dict):
        c.bad("$.sources", "missing")
        return
    keys = [k for k, v in src.items() if isinstance(v, str) and v.strip()]
    for root in CITED:
        obj = doc
        for part in root.split("."):
            obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            continue
        leaves = []  # type: list
        _leaves(obj, root, leaves)
        for leaf in leaves:
            if not any(leaf == k or leaf.startswith(k + ".") for k in keys):
                c.bad("$." + leaf, "no source cited in $.sources")

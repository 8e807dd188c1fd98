# The whole tag firmware on a simulated board inside the MicroPython unix port: a littlefs image
# (the board's flash, on a host file) mounted at "/" holding /boot.py, /main.py, /lib (the .mpy
# build) and /prov; the fakes (machine, network, esp32, bluetooth) for the hardware; a world
# that moves the virtual clock: a GNSS receiver on the PMU's rail that sends NMEA epochs over
# the UART at the line rate, an access point, tamper inputs, faults. Every reset, deep sleep or
# power cut boots the firmware again from boot.py, with its modules and RAM state gone.
#
# Usage: micropython device_board.py SCENARIO.json   (keys: see tests/test_device_firmware.py)
# Prints the firmware's console, "BOOT n cause" before each boot, and at the end "END t",
# "BOOTS n", "DEEPSLEEPS n", "CUTS n", "WDT n", "HEAP_WORLD bytes" (what the board itself
# takes before the firmware boots), "PEAK bytes".
import gc
import json
import os
import sys

import esp32
import machine
import network
import vfs

BS = 4096  # the ESP32's flash sector, littlefs's block on the device
sc = json.load(open(sys.argv[1]))
if sc.get("rx_commands"):  # the receiver obeys the tag's commands (the model plan); without
    # it the board leaves the command set out: the heap bench counts the board (HEAP_WORLD)
    import device_rx
if sc.get("ble"):  # the victim's beacon: firmware/beacon's app on its own board (imported
    # while the build's tree is still on the path: the flash replaces it below)
    import bluetooth
    import device_air
gc.collect()


class Stop(BaseException):
    pass


class Cut(BaseException):  # power lost in the middle of a flash write
    pass


class Flash:
    """The board's flash partition on a host file. A new object at every boot; the old one is
    killed (writes ignored) so a finaliser of a file from before a reset cannot reach flash."""

    def __init__(self, f, nblk):
        self.f = f
        self.n = nblk
        self.alive = True
        self.writes = 0
        self.cut_after = -1  # a power cut at this write (torn: half its bytes reach flash)

    def readblocks(self, n, buf, off=0):
        if self.alive:
            self.f.seek(n * BS + off)
            self.f.readinto(buf)

    def writeblocks(self, n, buf, off=None):
        if not self.alive:
            return
        self.f.seek(n * BS + (off or 0))
        if self.writes == self.cut_after:
            self.alive = False
            self.f.write(memoryview(buf)[: len(buf) // 2])
            raise Cut()
        self.writes += 1
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return BS
        if op == 6:  # erase: littlefs programs whole blocks after, nothing to do on a file
            return 0
        return None


def copy_tree(src, dst):
    for name in os.listdir(src):
        s = src + "/" + name
        d = dst + "/" + name
        if os.stat(s)[0] & 0x4000:
            try:
                os.mkdir(d)
            except OSError:
                pass
            copy_tree(s, d)
        else:
            with open(s, "rb") as a, open(d, "wb") as b:
                while True:
                    chunk = a.read(1024)
                    if not chunk:
                        break
                    b.write(chunk)


# ---- the flash: formatted and written as `opentag deploy` would, or kept from a run before ----
img = open(sc["image"], "r+b" if sc.get("keep") else "w+b")
NBLK = sc.get("blocks", 256)  # 1 MB
if not sc.get("keep"):
    img.write(bytes(BS) * 0)
    img.seek(NBLK * BS - 1)
    img.write(b"\0")
    fl = Flash(img, NBLK)
    vfs.VfsLfs2.mkfs(fl)
    fs = vfs.VfsLfs2(fl)
    os.mount(fs, "/flash")
    os.mkdir("/flash/lib")
    copy_tree(sc["build"], "/flash/lib")
    for name in ("boot.py", "main.py"):  # run by name from the root, at every reset
        os.rename("/flash/lib/" + name, "/flash/" + name)
    os.mkdir("/flash/prov")
    copy_tree(sc["prov"], "/flash/prov")
    os.umount("/flash")
    fl.alive = False
# the seals' key partition (boards/*.json mcu.seal_partition): a NOR chip in a host file beside
# the image, kept with it ("keep"); "seal_partition": false leaves it out of the table
SEAL = sc["image"] + ".sealkey"
if not sc.get("keep"):
    open(SEAL, "wb").close()  # factory-blank (the fake fills it with 0xff)
if sc.get("seal_partition", True):
    esp32.add_partition("sealkey", 2 * BS, path=SEAL)
os.umount("/")
os.mount(vfs.VfsPosix("/"), "/host")  # the host, for nothing but this driver's own files

# ---- the world ------------------------------------------------------------------------------
T0 = sc["t0"]  # seconds since 2000 at the first boot
END = T0 + sc["duration_s"]
machine.CLOCK[0] = T0 * 1000
board = json.load(open("/host" + sc["prov"] + "/board.json")) if sc.get("board_ok", 1) else {}
gp = board.get("gnss_power") or {}
network.AP["ssid"] = sc.get("ssid")
network.AP["password"] = sc.get("password")
DAYS_OFS = 730425


def civil(n):
    n += DAYS_OFS
    era = (n if n >= 0 else n - 146096) // 146097
    doe = n - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (yoe + era * 400 + (1 if m <= 2 else 0)), m, d


def sentence(body):
    c = 0
    for ch in body:
        c ^= ch
    return b"$" + body + b"*%02X\r\n" % c


def coord(v, width):
    a = -v if v < 0 else v
    deg = a // 1000000
    mins = (a % 1000000) * 6  # minutes x 100000
    return b"%0*d%02d.%05d" % (width, deg, mins // 100000, mins % 100000)


def epoch(s, pos):
    """One receiver epoch (RMC + GGA, talker GP) for second s since 2000; pos None: no fix."""
    y, mo, d = civil(s // 86400)
    hh = s % 86400
    tm = b"%02d%02d%02d.00" % (hh // 3600, hh // 60 % 60, hh % 60)
    dt = b"%02d%02d%02d" % (d, mo, y % 100)
    if pos is None:
        return sentence(b"GPRMC," + tm + b",V,,,,,,," + dt + b",,,N") + sentence(
            b"GPGGA," + tm + b",,,,,0,00,99.99,,,,,,"
        )
    lat, lon = pos
    la = coord(lat, 2) + (b",N" if lat >= 0 else b",S")
    lo = coord(lon, 3) + (b",E" if lon >= 0 else b",W")
    return sentence(b"GPRMC," + tm + b",A," + la + b"," + lo + b",0.8,90.0," + dt + b",,,A") + (
        sentence(b"GPGGA," + tm + b"," + la + b"," + lo + b",1,09,0.9,52.0,M,47.0,M,,")
    )


ROUTE = sc["route"]  # [[s since T0, lat, lon], ...] microdegrees, linear between points


def where(s):
    r = s - T0
    if r <= ROUTE[0][0]:
        return ROUTE[0][1], ROUTE[0][2]
    for i in range(1, len(ROUTE)):
        b = ROUTE[i]
        if r <= b[0]:
            a = ROUTE[i - 1]
            f = b[0] - a[0]
            return a[1] + (b[1] - a[1]) * (r - a[0]) // f, a[2] + (b[2] - a[2]) * (r - a[0]) // f
    return ROUTE[-1][1], ROUTE[-1][2]


class Receiver:
    """The GNSS module: powered through the PMU's rail register (or always, without a PMU);
    from power-on it sends one epoch a second, without a fix for its first ttff_s seconds.
    With rx_commands it also obeys what the tag writes (device_rx.commanded); else it hears
    nothing it understands."""

    def __init__(self):
        self.on_since = None
        self.next_s = 0
        self.q = []  # [start ms, bytes] waiting to cross the wire
        self.ttff = sc.get("ttff_s", 3)
        self.blind = sc.get("blind", [])  # [[from, to], ...] s since T0: no sky (indoors)
        self.epochs = 0

    def powered(self):
        if gp.get("method") != "pmu":
            return True
        for bus in machine.I2CS:
            if bus.regs.get((gp["i2c_addr"], gp["reg"]), 0) & (1 << gp["bit"]):
                return True
        return False

    def next_at(self, now_ms):
        if self.on_since is None:
            return 1 << 62
        return self.next_s * 1000

    def run(self, now_ms):
        on = self.powered()
        s = now_ms // 1000
        if not on:
            if self.on_since is not None:
                self.cut(s)
            self.on_since = None
            return
        if self.on_since is None:
            self.power_on(s)
            return
        for u in machine.UARTS:  # what crossed the wire is in the ring (or lost) by now
            self.catch_up(u)
        if self.silent(s):
            return
        if now_ms >= self.next_s * 1000:
            sky = True
            for b in self.blind:
                if b[0] <= self.next_s - T0 < b[1]:
                    sky = False
            fix = sky and self.next_s - self.on_since >= self.ttff
            if machine.UARTS:  # bytes on a line nobody listens to are gone
                e = epoch(self.next_s, where(self.next_s) if fix else None)
                self.q.append([self.next_s * 1000, self.output(e, fix)])
            self.epochs += 1
            self.next_s += 1
            for u in machine.UARTS:
                u.wire = self

    # what device_rx.commanded changes
    def cut(self, s):
        pass

    def power_on(self, s):
        self.on_since = s
        self.next_s = s + 1

    def silent(self, s):
        return False

    def output(self, e, fix):
        return e

    def write(self, data):
        print("RX", machine.CLOCK[0] // 1000, "not_understood", len(data))

    def catch_up(self, uart):
        now = machine.CLOCK[0]
        while self.q:
            t, b = self.q[0]
            if t > now:
                return
            n = (now - t) * uart.baudrate // 10000
            if n < len(b):
                uart.into_ring(b[:n])
                self.q[0] = [t + n * 10000 // uart.baudrate, b[n:]]
                return
            uart.into_ring(b)
            self.q.pop(0)


if sc.get("rx_commands"):
    Receiver = device_rx.commanded(Receiver, sc, board, T0)


class World:
    def __init__(self):
        self.rx = Receiver()
        self.air = device_air.Air(sc["ble"], T0) if sc.get("ble") else None
        self.events = sorted(sc.get("events", []))  # [[s since T0, what, arg], ...]
        self.cut_pending = None
        self.next_mem = T0 * 1000

    def next_at(self, now_ms):
        t = self.rx.next_at(now_ms)
        if self.events:
            e = (T0 + self.events[0][0]) * 1000
            if e < t:
                t = e
        if LORA is not None:
            t = min(t, LORA.next_at(now_ms))
        if END * 1000 < t:
            t = END * 1000
        return t if t > now_ms else now_ms

    def run(self, now_ms):
        if now_ms >= END * 1000:
            raise Stop()
        if now_ms >= self.next_mem:  # what the heap holds, hourly (a leak shows here)
            self.next_mem += 3600000
            gc.collect()
            print("MEM", now_ms // 1000, gc.mem_alloc(), gc.mem_free())
            if PROFILE is not None:  # the interned names: pools the heap never gets back
                micropython.qstr_info()
        fired = False
        while self.events and (T0 + self.events[0][0]) * 1000 <= now_ms:
            e = self.events.pop(0)
            what = e[1]
            arg = e[2] if len(e) > 2 else None
            print("WORLD", now_ms // 1000, what)
            if what in ("strap_cut", "case_open", "strap_restore", "case_close"):
                pin = board["pins"]["tamper_strap" if what[:5] == "strap" else "tamper_case"]
                fired = (
                    machine.sim_set_pin(pin, 1 if what in ("strap_cut", "case_open") else 0)
                    or fired
                )
            elif what == "link":
                network.AP["up"] = bool(arg)
            elif what == "hang":
                machine.FAULTS["uart_hang"] = True
            elif what == "uart_init_fails":
                machine.FAULTS["uart_init"] = arg
            elif what == "power_cut":  # at the arg-th flash write from now (0: the next)
                self.cut_pending = arg
                FLASH[0].cut_after = FLASH[0].writes + arg
            elif what == "battery_mv":
                set_battery(arg)
        if self.air is not None:
            self.air.run(now_ms)
        if LORA is not None:
            LORA.run(now_ms)
        self.rx.run(now_ms)
        return fired


def set_battery(mv):
    """The PMU's battery-voltage registers (and fuel gauge) follow the cell."""
    BATT[0] = mv
    for bus in machine.I2CS:
        pmu_regs(bus)


BATT = [sc.get("battery_mv", 3950)]


def pmu_regs(bus):
    if gp.get("method") != "pmu":
        return
    a = gp["i2c_addr"]
    mv = BATT[0]
    if gp["chip"] == "AXP192":
        v = mv * 10 // 11
        bus.regs[(a, 0x78)] = (v >> 4) & 0xFF
        bus.regs[(a, 0x79)] = v & 0x0F
        bus.regs[(a, 0x01)] = bus.regs.get((a, 0x01), 0) | 0x20  # battery present
    else:
        bus.regs[(a, 0x34)] = (mv >> 8) & 0x3F
        bus.regs[(a, 0x35)] = mv & 0xFF
        bus.regs[(a, 0x00)] = bus.regs.get((a, 0x00), 0) | 0x08
        bus.regs[(a, 0xA4)] = max(0, min(100, (mv - 3300) * 100 // 850))


# The PMU's output enables (boards/*.json pmu_outputs, gnss_power): one bit each, the chip's
# other bits untouched, as the AXP192/AXP2101 datasheets give them. Every power-on starts with
# all of them on and the OLED lit: the worst case, as the chip's defaults or another firmware
# (Meshtastic powers LoRa and lights the display) may leave the board. Clearing the ESP32's own
# output kills the board (ESP32_RAIL_CUT): nothing but a battery pull brings it back.
# "pmu_nack": [reg, n]: the next n writes to that register are not acknowledged (OSError 19).
PO = board.get("pmu_outputs") or {}
OUTS = []  # [(name, reg, bit, role)], role "keep" / "off" / "gnss"
for _role in ("keep", "off"):
    for _n, _rb in PO.get(_role, {}).items():
        OUTS.append((_n, _rb[0], _rb[1], _role))
if gp.get("method") == "pmu":
    OUTS.append((gp.get("rail", "GNSS"), gp["reg"], gp["bit"], "gnss"))
OLED = {"addr": PO.get("display_sleep") if sc.get("oled", True) else None, "lit": True}
NACK = list(sc.get("pmu_nack", [0, 0]))


def pmu_power_on():
    PMU_REGS.clear()
    if gp.get("method") != "pmu":
        return
    for _, reg, bit, _ in OUTS:
        k = (gp["i2c_addr"], reg)
        PMU_REGS[k] = PMU_REGS.get(k, 0) | (1 << bit)
    OLED["lit"] = True


def output_on(name):
    for n, reg, bit, _ in OUTS:
        if n == name:
            return bool(PMU_REGS.get((gp["i2c_addr"], reg), 0) & (1 << bit))
    return None


def sleep_ua():
    """The board's draw asleep (ESP32 in deep sleep, GNSS rail apart), from the profile's
    measured states: timer_wake_rails_off once every output pmu_outputs.off lists is off and no
    OLED is lit, else oled_pmu_left_on. The references give no split by rail."""
    s = board["current_ma"]["board_states"]
    on = [n for n, _, _, role in OUTS if role == "off" and output_on(n)]
    lit = OLED["addr"] is not None and OLED["lit"]
    return int(1000 * s["oled_pmu_left_on" if on or lit else "timer_wake_rails_off"] + 0.5)


class Sx1262:
    """The board's LoRa radio (boards/*.json lora_sleep) as the SX1261/2 datasheet has it: on
    an always-on supply, in STDBY_RC (0.6 mA) from power-on; SetSleep (0x84, one parameter)
    taken only while BUSY is low and NSS low; asleep (0.16 uA cold start) BUSY reads high; a
    falling NSS wakes it, BUSY high until its boot (3.5 ms) is done. Other commands counted.
    Scenario "lora_hung": its BUSY never falls (a chip that does not answer)."""

    STDBY_UA, SLEEP_UA, WAKE_MS = 600, 0.16, 4

    def __init__(self, cfg):
        self.nss, self.busy = cfg["nss"], cfg["busy"]
        self.other = 0
        machine.SPI_CHIPS[self.nss] = self
        machine.Pin.watch[self.nss] = self.edge
        self.power_on()

    def power_on(self):
        self.state = "stdby_rc"
        self.ready_ms = machine.CLOCK[0] + self.WAKE_MS  # its own power-on boot
        machine.Pin.levels[self.nss] = 1  # the module's pull-up
        machine.Pin.levels[self.busy] = 1

    def edge(self, level):
        if level == 0 and self.state == "sleep":
            self.state = "stdby_rc"
            self.ready_ms = machine.CLOCK[0] + self.WAKE_MS
            machine.Pin.levels[self.busy] = 1

    def next_at(self, now_ms):
        return self.ready_ms if self.ready_ms > now_ms else 1 << 62

    def run(self, now_ms):
        if self.state != "sleep" and now_ms >= self.ready_ms and not sc.get("lora_hung"):
            machine.Pin.levels[self.busy] = 0

    def spi_in(self, data, mode):
        if machine.Pin.levels.get(self.busy) or mode != (0, 0):
            self.other += 1  # sent while busy (ignored by the chip), or in the wrong SPI mode
        elif data[0] == 0x84 and len(data) == 2:
            self.state = "sleep"
            machine.Pin.levels[self.busy] = 1
        else:
            self.other += 1

    def ua(self):
        return self.SLEEP_UA if self.state == "sleep" else self.STDBY_UA


LORA = Sx1262(board["lora_sleep"]) if "lora_sleep" in board and sc.get("lora", True) else None


_I2C_init = machine.I2C.__init__
_I2C_write = machine.I2C.writeto_mem


def _i2c_init(self, *a, **kw):
    _I2C_init(self, *a, **kw)
    self.devices = {gp["i2c_addr"]} if gp.get("method") == "pmu" else set()
    if OLED["addr"] is not None:
        self.devices.add(OLED["addr"])
    if gp.get("method") == "pmu":
        self.regs.update(PMU_REGS)  # the chip keeps its registers across an ESP32 reset
        self.regs = PMU_REGS
        pmu_regs(self)


def _i2c_write(self, addr, reg, buf):
    if addr == OLED["addr"]:  # SSD1306: control byte 0x00, then display off 0xAE / on 0xAF
        self._check(addr)
        if reg == 0 and buf[:1] in (b"\xae", b"\xaf"):
            OLED["lit"] = buf[:1] == b"\xaf"
        return
    if gp.get("method") == "pmu" and addr == gp["i2c_addr"] and reg == NACK[0] and NACK[1] > 0:
        NACK[1] -= 1
        raise OSError(19)
    _I2C_write(self, addr, reg, buf)
    if PO and output_on(PO["esp32"]) is False:
        print("ESP32_RAIL_CUT", machine.CLOCK[0] // 1000)
        raise Stop()


PMU_REGS = {}
machine.I2C.__init__ = _i2c_init
machine.I2C.writeto_mem = _i2c_write
world = World()


def _uart_write(self, data):
    world.rx.write(bytes(data))
    return len(data)


machine.UART.write = _uart_write  # the receiver hears the tag at once (commands are short)
machine.WORLD[0] = world
FLASH = [None]
# With "romfs": the packages as a ROMFS image (MicroPython >= 1.25; on an ESP32 a flash
# partition the bytecode runs from in place). Here it has to sit in RAM: HEAP_ROM says how
# much of the heap that takes, which a board does not pay.
ROM = None
if sc.get("romfs"):
    with open("/host" + sc["romfs"], "rb") as f:
        ROM = bytearray(f.seek(0, 2))
        f.seek(0)
        f.readinto(ROM)
    print("HEAP_ROM", len(ROM))
KEEP = ("__main__", "machine", "network", "esp32", "bluetooth", "vfs", "json", "os", "sys", "gc")


def deep_sleep(ms):
    """Asleep: only the RTC runs. The ext1 inputs the firmware armed wake it early (any high).
    Returns 1 if an input woke it."""

    machine._WDT[0] = None  # a reset stops the watchdog
    machine.Pin.irqs.clear()
    woke = [0]

    def wake(_pin):
        woke[0] = 1

    ext1 = esp32.WAKE["ext1"]
    esp32.WAKE["ext1"] = None
    if ext1 is not None:
        for p in ext1[0]:
            if machine.Pin.levels.get(p, 0):  # already high: wakes at once
                return 1
            machine.Pin.irqs[p] = (None, wake, machine.Pin.IRQ_RISING)
    machine.sim_advance(ms, True)
    machine.Pin.irqs.clear()
    return woke[0]


# With "profile": the heap each import keeps (its own, without the imports it makes), at the
# first boot, as "IMPORT name own_bytes with_children_bytes" lines (bench/bench_device_heap.py
# prints the breakdown). Collects around every import: for figures, not for the heap's edge.
PROFILE = None
if sc.get("profile"):
    PROFILE = []
    import builtins

    import micropython

    _import = builtins.__import__

    def _profiled(name, g=None, lo=None, fromlist=(), level=0):
        key = name if level == 0 else (g or {}).get("__name__", "?") + ":" + name
        if boots > 1 or key in sys.modules:
            return _import(name, g, lo, fromlist, level)
        gc.collect()
        a = gc.mem_alloc()
        PROFILE.append(0)
        try:
            return _import(name, g, lo, fromlist, level)
        finally:
            gc.collect()
            inner = PROFILE.pop()
            d = gc.mem_alloc() - a
            if PROFILE:
                PROFILE[-1] += d
            if d:
                print("IMPORT", key, fromlist, d - inner, d)

    builtins.__import__ = _profiled

# ---- boots ----------------------------------------------------------------------------------
gc.collect()
print("HEAP_WORLD", gc.mem_alloc())
if PROFILE is not None:
    micropython.qstr_info()
boots = deeps = cuts = wdts = 0


def boot_loop():
    global boots, deeps, cuts, wdts
    cause = machine.PWRON_RESET
    ms_wake = 0
    while True:
        for name in list(sys.modules):
            if name not in KEEP:
                del sys.modules[name]
        if ROM is not None:
            try:
                os.umount("/rom")
            except OSError:
                pass
        if FLASH[0] is not None:
            FLASH[0].alive = False
            try:
                os.umount("/")
            except OSError:
                pass
        if world.air is not None:  # the tag's BLE died with the reset; the board's stay
            bluetooth.AIR[:] = world.air.own
        gc.collect()
        FLASH[0] = Flash(img, NBLK)
        if world.cut_pending is not None:  # a cut due but not reached before this reset
            FLASH[0].cut_after = world.cut_pending
        os.mount(vfs.VfsLfs2(FLASH[0]), "/")
        os.chdir("/")
        sys.path[:] = ["", "/lib"]
        if ROM is not None:
            os.mount(vfs.VfsRom(ROM), "/rom")
            sys.path[:] = ["", "/rom", "/lib"]
        machine.sim_boot(cause, machine.EXT1_WAKE if ms_wake else 0)
        if cause == machine.PWRON_RESET:
            pmu_power_on()  # the PMU lost power too
            if LORA is not None:
                LORA.power_on()
        boots += 1
        if boots > sc.get("max_boots", 1 << 30):  # a crash loop: the answer is known
            print("MAX_BOOTS")
            raise Stop()
        print("BOOT", boots, cause)
        machine.CLOCK[0] += 500  # a boot takes about half a second (ROM, bootloader, port)
        try:
            from tagdevice import clock

            clock.now = machine.sim_now
            clock.ticks_ms = machine.sim_ticks_ms
            clock.sleep_ms = machine.sim_advance
            exec(open("/boot.py").read())
            exec(open("/main.py").read(), {"__name__": "__main__"})
            print("MAIN_RETURNED")
            break
        except machine.Reset as r:
            cause = r.kind
            ms_wake = 0
            if r.kind == machine.DEEPSLEEP_RESET:
                deeps += 1
                ms_wake = deep_sleep(r.ms)
            elif r.kind == machine.WDT_RESET:
                wdts += 1
                print("WDT_RESET", machine.CLOCK[0] // 1000)
                machine.FAULTS["uart_hang"] = False  # the stuck driver is gone after a reset
        except Cut:
            cuts += 1
            cause = machine.PWRON_RESET
            world.cut_pending = None
            print("POWER_CUT", machine.CLOCK[0] // 1000, FLASH[0].writes)
            machine.CLOCK[0] += 5000  # off for a moment
        gc.collect()


try:
    boot_loop()
except Stop:
    pass
print("END", machine.CLOCK[0] // 1000)
print("BOOTS", boots)
print("DEEPSLEEPS", deeps)
print("CUTS", cuts)
print("WDT", wdts)
print("SLEEPS", machine.STATE["sleeps"])
print("LIGHT_MS", machine.STATE["light_ms"])
print("IDLE_MS", machine.STATE["idle_ms"])
print("EPOCHS", world.rx.epochs)
if LORA is not None:  # the radio's state as the run left it
    print("LORA", LORA.state, LORA.ua(), LORA.other)
if PO:  # the PMU's output-enable registers as the run left them, and the board's sleep draw
    for r in sorted(set(o[1] for o in OUTS)):
        print("PMU_REG", r, PMU_REGS.get((gp["i2c_addr"], r), 0))
    print("OLED_LIT", int(OLED["addr"] is not None and OLED["lit"]))
    print("SLEEP_UA", sleep_ua())

# A stand-in for the ESP32 port's `machine` module, for device-shell tests in the unix port.
# UART behaves as the ESP32 UART driver does: bytes arrive at the line rate (10 bits a byte)
# into a receive ring of `rxbuf` bytes; when the ring is full, further bytes are lost; any()
# says how many wait; readinto() with timeout=0 returns what is there, or None.
# The whole-firmware board (tests/mpy/device_board.py) adds, below the UART: a virtual clock
# that only sleeps move, Pin IRQs, ADC, WDT, RTC memory, reset_cause / wake_reason and
# deepsleep / lightsleep, as the MicroPython ESP32 docs describe them.


FAULTS = {}  # injected by the board: "uart_init": n boots, "uart_hang": True
UARTS = []  # every UART opened (the simulated receiver attaches to the GNSS one)


class UART:
    def __init__(self, uart_id, baudrate=9600, rx=-1, tx=-1, rxbuf=256, timeout=0):
        self.id = uart_id
        self.baudrate = baudrate
        self.timeout = timeout
        self.ring = bytearray(rxbuf)
        self.head = 0  # next byte to read
        self.count = 0  # bytes waiting
        self.lost = 0  # bytes dropped on overflow
        self.src = None  # the simulated receiver's output, a file
        self.sent = 0
        self.t0 = 0
        self.wire = None  # the board's simulated receiver (device_board): bytes on the clock
        if FAULTS.get("uart_init", 0) > 0:  # the driver install fails (an injected fault)
            FAULTS["uart_init"] -= 1
            raise RuntimeError("UART driver install failed")
        UARTS.append(self)

    # -- the simulated receiver side --

    def transmit(self, f, t0_ms):
        """The receiver starts sending the contents of file `f` at t0_ms."""
        self.src = f
        self.sent = 0
        self.t0 = t0_ms

    def advance(self, now_ms):
        """Bytes that have crossed the wire by now_ms enter the ring (or are lost)."""
        due = (now_ms - self.t0) * self.baudrate // 10000 - self.sent
        if due <= 0 or self.src is None:
            return
        data = self.src.read(due)
        if not data:
            self.src = None
            return
        self.sent += len(data)
        self.into_ring(data)

    def into_ring(self, data):
        """Bytes off the wire into the receive ring; past its size they are lost."""
        size = len(self.ring)
        for c in data:
            if self.count < size:
                self.ring[(self.head + self.count) % size] = c
                self.count += 1
            else:
                self.lost += 1

    # -- the machine.UART API --

    def any(self):
        if self.wire is not None:
            self.wire.catch_up(self)
        return self.count

    def readinto(self, buf, nbytes=-1):
        while FAULTS.get("uart_hang"):  # a driver that never returns: only the watchdog helps
            sim_advance(1000)
        if self.wire is not None:
            self.wire.catch_up(self)
        if self.count == 0:
            return None
        if nbytes < 0 or nbytes > len(buf):
            nbytes = len(buf)
        n = self.count if self.count < nbytes else nbytes
        size = len(self.ring)
        for i in range(n):
            buf[i] = self.ring[(self.head + i) % size]
        self.head = (self.head + n) % size
        self.count -= n
        return n


# -- for tagdevice.gnsspower: what the shell writes to the receiver, the PMU and its pins --


def _uart_write(self, data):
    if not hasattr(self, "written"):
        self.written = []
    self.written.append(bytes(data))
    return len(data)


UART.write = _uart_write


class I2C:
    """A bus of register files: regs[(addr, reg)] = byte. fail=True makes every access raise;
    with `devices` set, an address not in it does not answer (OSError ENODEV, as the ESP32's
    driver raises on a NACK). The board's PMU (device_board.py: its output enables and their
    power-on state) keeps its registers here."""

    def __init__(self, i2c_id=0, scl=None, sda=None, freq=400000):
        self.regs = {}
        self.fail = False
        self.log = []
        self.devices = None
        I2CS.append(self)

    def _check(self, addr):
        if self.fail or (self.devices is not None and addr not in self.devices):
            raise OSError(19)

    def scan(self):
        return sorted(self.devices) if self.devices is not None else []

    def readfrom_mem(self, addr, reg, n):
        self._check(addr)
        return bytes(self.regs.get((addr, reg + i), 0) for i in range(n))

    def writeto_mem(self, addr, reg, buf):
        self._check(addr)
        for i in range(len(buf)):
            self.regs[(addr, reg + i)] = buf[i]
            if len(self.log) < LOG_MAX:  # the first writes, for tests; a day of them is too many
                self.log.append((addr, reg + i, buf[i]))


I2CS = []
LOG_MAX = 64


class SPI:
    """machine.SPI (controller): bytes written reach the board's chips whose chip-select pin
    the firmware holds low (SPI_CHIPS: {nss pin: chip with spi_in(bytes)}); reads give 0xFF
    (MISO idles high) but for what such a chip answers (spi_out(n), if it has one)."""

    def __init__(self, spi_id, baudrate=1000000, polarity=0, phase=0, sck=None, mosi=None,
                 miso=None):  # fmt: skip
        self.id = spi_id
        self.mode = (polarity, phase)
        self.baudrate = baudrate
        self.on = True

    def _chips(self):
        if not self.on:
            raise OSError(5)  # deinit'ed: the ESP32 driver refuses
        return [c for p, c in SPI_CHIPS.items() if not Pin.levels.get(p, 0)]

    def write(self, buf):
        for c in self._chips():
            c.spi_in(bytes(buf), self.mode)

    def read(self, n, write=0xFF):
        for c in self._chips():
            if hasattr(c, "spi_out"):
                return c.spi_out(n)
        return b"\xff" * n

    def deinit(self):
        self.on = False


SPI_CHIPS = {}


class Pin:
    OUT = 1
    IN = 0
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2
    levels = {}  # pin -> level (driven by the firmware, or set by the board for inputs)
    held = {}
    watch = {}  # pin -> the board's chip on that line: watch[pin](level) at each edge driven
    irqs = {}  # pin -> (Pin, handler, trigger)

    def __init__(self, pin_id, mode=-1, pull=-1, value=None, hold=None):
        self.id = pin_id
        if hold is not None:
            Pin.held[pin_id] = hold
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, value=None, hold=None):
        if hold is not None:
            Pin.held[self.id] = hold

    def value(self, v=None):
        if v is None:
            return Pin.levels.get(self.id, 0)
        if Pin.held.get(self.id):
            return None  # a held pin keeps its level
        old = Pin.levels.get(self.id, 0)
        Pin.levels[self.id] = v
        w = Pin.watch.get(self.id)
        if w is not None and bool(old) != bool(v):
            w(1 if v else 0)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, handler=None, trigger=3, wake=None):
        if handler is None:
            Pin.irqs.pop(self.id, None)
        else:
            Pin.irqs[self.id] = (self, handler, trigger)


def sim_set_pin(pin_id, level):
    """The board drives an input (a strap loop opening, a case switch). A change calls the
    pin's IRQ handler if its trigger matches, as the ESP32's GPIO ISR does (soft IRQ: at once
    here). Returns True if a handler ran."""
    old = Pin.levels.get(pin_id, 0)
    Pin.levels[pin_id] = level
    h = Pin.irqs.get(pin_id)
    if h is None or old == level:
        return False
    if (level and h[2] & Pin.IRQ_RISING) or (not level and h[2] & Pin.IRQ_FALLING):
        h[1](h[0])
        return True
    return False


# -- ADC: read_uv() gives what the board puts on the pin (after the divider), in microvolts --


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3
    uv = {}  # pin -> microvolts

    def __init__(self, pin, atten=0):
        self.pin = pin.id if isinstance(pin, Pin) else pin

    def atten(self, a):
        pass

    def read_uv(self):
        return ADC.uv.get(self.pin, 0)

    def read_u16(self):
        v = ADC.uv.get(self.pin, 0) * 65535 // 3300000
        return v if v < 65536 else 65535


# -- the virtual clock, sleeps, resets -------------------------------------------------------
# Time moves only when the firmware sleeps (time.sleep_ms through tagdevice.clock, lightsleep,
# deepsleep): the board's world (device_board) says when its next event is and does it.

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
PIN_WAKE = EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
SLEEP = 2
DEEPSLEEP = 4

CLOCK = [0]  # ms since 2000-01-01 (the ESP32 port's epoch)
WORLD = [None]  # the board's world: next_at(ms) -> ms, run(ms) -> True if an IRQ fired
# light_ms: time spent in light sleep; idle_ms: of it, in sleeps longer than a poll step
# (SEARCH_POLL_MS): the tag waiting for its next wake, where a deep sleep could have been
STATE = {"cause": PWRON_RESET, "wake": 0, "rtc": b"", "sleeps": 0, "deepsleeps": 0}
STATE["light_ms"] = STATE["idle_ms"] = 0
_WDT = [None, 0]  # the running watchdog: [timeout ms, deadline ms]


class Reset(BaseException):
    """The chip restarts (the board driver boots the firmware again). kind: a reset cause."""

    def __init__(self, kind, ms=0):
        self.kind = kind
        self.ms = ms


def sim_now():
    return CLOCK[0] // 1000


def sim_ticks_ms():
    return CLOCK[0]  # within the unix port's ticks period (2**62 on 64 bits): never wraps


def sim_advance(ms, wake_on_irq=False):
    """Let `ms` pass: the world's events happen in order; the watchdog bites if its deadline
    passes first. With wake_on_irq, return at the first pin IRQ (light sleep's GPIO wake)."""
    end = CLOCK[0] + ms
    w = WORLD[0]
    while True:
        t = end
        if w is not None:
            tn = w.next_at(CLOCK[0])
            if tn < t:
                t = tn
        if _WDT[0] is not None and _WDT[1] < t:
            CLOCK[0] = _WDT[1] if _WDT[1] > CLOCK[0] else CLOCK[0]
            raise Reset(WDT_RESET)
        if t > CLOCK[0]:
            CLOCK[0] = t
        fired = w.run(CLOCK[0]) if w is not None else False
        if CLOCK[0] >= end or (fired and wake_on_irq):
            return


class WDT:
    """machine.WDT: once started it cannot be stopped; feed() before `timeout` ms pass."""

    def __init__(self, id=0, timeout=5000):
        _WDT[0] = timeout
        _WDT[1] = CLOCK[0] + timeout

    def feed(self):
        _WDT[1] = CLOCK[0] + _WDT[0]


class RTC:
    """RTC slow memory survives deep sleep and watchdog or soft resets, not power loss."""

    def memory(self, data=None):
        if data is None:
            return STATE["rtc"]
        if len(data) > 2048:
            raise ValueError("buffer too long")
        STATE["rtc"] = bytes(data)
        return None

    def datetime(self, dt=None):
        return None


def reset_cause():
    return STATE["cause"]


def wake_reason():
    return STATE["wake"]


def unique_id():
    return b"\x24\x0a\xc4\x12\x34\x56"


def freq(hz=None):
    return 80000000 if hz is None else None


def idle():
    pass


def lightsleep(ms=None):
    """CPU paused, RAM kept; a GPIO IRQ (tamper) or the timer wakes it."""
    STATE["sleeps"] += 1
    t0 = CLOCK[0]
    sim_advance(ms if ms is not None else 1 << 40, True)
    STATE["light_ms"] += CLOCK[0] - t0
    if ms is None or ms > 250:
        STATE["idle_ms"] += CLOCK[0] - t0


def deepsleep(ms=None):
    """Everything but RTC memory is lost; the chip boots again (the board driver)."""
    STATE["deepsleeps"] += 1
    raise Reset(DEEPSLEEP_RESET, ms if ms is not None else 1 << 40)


def reset():
    raise Reset(HARD_RESET)


def soft_reset():
    raise Reset(SOFT_RESET)


def sim_boot(cause, wake=0):
    """The board driver, before each boot: what reset_cause / wake_reason report; a power-on
    clears RTC memory; the watchdog stops (a reset stops it on the chip)."""
    STATE["cause"] = cause
    STATE["wake"] = wake
    if cause == PWRON_RESET:
        STATE["rtc"] = b""
    _WDT[0] = None
    Pin.irqs.clear()
    del UARTS[:]
    del I2CS[:]

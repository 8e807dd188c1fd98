# A stand-in for the ESP32 port's `machine` module, for device-shell tests in the unix port.
# Only UART, and it behaves as the ESP32 UART driver does: bytes arrive at the line rate (10
# bits a byte) into a receive ring of `rxbuf` bytes; when the ring is full, further bytes are
# lost; any() says how many wait; readinto() with timeout=0 returns what is there, or None.


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
        size = len(self.ring)
        for c in data:
            if self.count < size:
                self.ring[(self.head + self.count) % size] = c
                self.count += 1
            else:
                self.lost += 1
        self.sent += len(data)

    # -- the machine.UART API --

    def any(self):
        return self.count

    def readinto(self, buf, nbytes=-1):
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
    """A PMU's register file: regs[(addr, reg)] = byte; fail=True makes every access raise."""

    def __init__(self, i2c_id=0, scl=None, sda=None, freq=400000):
        self.regs = {}
        self.fail = False
        self.log = []

    def readfrom_mem(self, addr, reg, n):
        if self.fail:
            raise OSError(19)
        return bytes((self.regs.get((addr, reg), 0),))

    def writeto_mem(self, addr, reg, buf):
        if self.fail:
            raise OSError(19)
        self.regs[(addr, reg)] = buf[0]
        self.log.append((addr, reg, buf[0]))


class Pin:
    OUT = 1
    IN = 0
    levels = {}  # pin -> level driven
    held = {}

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
        Pin.levels[self.id] = v
        return None

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

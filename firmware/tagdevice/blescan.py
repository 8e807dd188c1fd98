# The tag's passive Bluetooth scan (device-only: bluetooth). The core decides when and how
# long to scan (Proximity.next_scan); this runs the scan and hands the results to the core.
#
# Scan results arrive in the IRQ handler as memoryviews into the bluetooth module's internal
# buffer, valid only during the call: they are copied into a fixed ring of preallocated slots
# (no allocation in the handler) and fed to the core later, outside the IRQ. The ring has one
# writer (the IRQ) and one reader (drain), each with its own index, so neither can corrupt the
# other's count. The indices run modulo twice the slot count (full and empty stay distinct):
# ever-growing ones would pass the ESP32's 31-bit small ints after months of wear, and the IRQ
# would then allocate a long int at every result.
from tagcore.compat import const

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
SLOTS = const(16)
SLOT_BYTES = const(64)  # legacy advertisements are 31 bytes; longer reports are counted
# Scan with window = interval (the radio listens all the time while scanning): the beacon's
# advertisements are caught whenever they are sent, at about 100 mA.
SCAN_INTERVAL_US = const(30000)


class BleScanner:
    def __init__(self, ble, slots=SLOTS):
        self.ble = ble
        self.n = slots
        self.addr = [bytearray(6) for _ in range(slots)]
        self.adv = [bytearray(SLOT_BYTES) for _ in range(slots)]
        self.alen = [0] * slots
        self.rssi = [0] * slots
        self.w = 0  # written by the IRQ only
        self.r = 0  # read by drain only
        self.done = False
        self.dropped = 0  # ring full
        self.too_long = 0  # longer than a slot
        ble.irq(self.irq)

    def irq(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            _addr_type, addr, _adv_type, rssi, adv = data
            w = self.w
            if (w - self.r) % (2 * self.n) >= self.n:
                self.dropped += 1
                return
            n = len(adv)
            if n > SLOT_BYTES:
                self.too_long += 1
                return
            s = w % self.n
            self.adv[s][:n] = adv  # copies: the memoryview dies with this call
            self.addr[s][:] = addr
            self.alen[s] = n
            self.rssi[s] = rssi
            self.w = (w + 1) % (2 * self.n)
        elif event == _IRQ_SCAN_DONE:
            self.done = True

    def start(self, duration_ms):
        self.done = False
        self.ble.gap_scan(duration_ms, SCAN_INTERVAL_US, SCAN_INTERVAL_US, False)

    def stop(self):
        self.ble.gap_scan(None)

    def drain(self, prox, now):
        """Feed the copied results to the core (Proximity); when the scan has ended, tell it.
        Returns how many results were fed."""
        fed = 0
        while self.r != self.w:
            s = self.r % self.n
            prox.on_scan(now, self.addr[s], self.rssi[s], memoryview(self.adv[s])[: self.alen[s]])
            self.r = (self.r + 1) % (2 * self.n)
            fed += 1
        if self.done:
            self.done = False
            prox.on_scan_end(now)
        return fed

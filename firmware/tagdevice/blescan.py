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
#
# In a crowd (a bus, a shop: tens to a thousand other devices advertising per second) a ring of
# 16 drained once a second would keep a few percent of the beacon's reports: the handler keeps
# only reports that carry the beacon's frame (an AD structure: manufacturer data, company
# 0xFFFF, format 1; proximity.advdata), walking the AD structures by index without allocating,
# and counts the others (`foreign`). Reports lost to a full ring are counted (`dropped`) and
# handed to the core at the next drain (Proximity.on_lost), which counts them and stores an
# event: a flooded tag says so instead of recording "no beacon".
from tagcore.compat import const

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
SLOTS = const(16)
_WRAP = const(0x3FFFFFFF)
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
        self.dropped = 0  # ring full (beacon frames lost)
        self.too_long = 0  # longer than a slot
        self.foreign = 0  # reports without the beacon's frame (not kept)
        self.told = 0  # dropped + too_long already handed to the core
        ble.irq(self.irq)

    def irq(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            _addr_type, addr, _adv_type, rssi, adv = data
            n = len(adv)
            # The beacon's frame: an AD structure 0xFF | 0xFFFF | 0x01 (proximity.advdata). The
            # counters wrap below 2**30: a long int would allocate here.
            i = 0
            ours = False
            while i + 4 < n:
                ln = adv[i]
                if ln == 0:
                    break
                if adv[i + 1] == 0xFF and adv[i + 2] == 0xFF and adv[i + 3] == 0xFF:
                    ours = ln >= 4 and adv[i + 4] == 1
                    if ours:
                        break
                i += 1 + ln
            if not ours:
                self.foreign = (self.foreign + 1) & _WRAP
                return
            w = self.w
            if (w - self.r) % (2 * self.n) >= self.n:
                self.dropped = (self.dropped + 1) & _WRAP
                return
            if n > SLOT_BYTES:
                self.too_long = (self.too_long + 1) & _WRAP
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
        lost = (self.dropped + self.too_long - self.told) & _WRAP
        if lost:
            self.told = (self.told + lost) & _WRAP
            prox.on_lost(now, lost)
        while self.r != self.w:
            s = self.r % self.n
            prox.on_scan(now, self.addr[s], self.rssi[s], memoryview(self.adv[s])[: self.alen[s]])
            self.r = (self.r + 1) % (2 * self.n)
            fed += 1
        if self.done:
            self.done = False
            prox.on_scan_end(now)
        return fed

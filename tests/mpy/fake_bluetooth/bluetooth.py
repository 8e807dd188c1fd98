# A stand-in for MicroPython's `bluetooth` module, for device-shell tests in the unix port.
# Several BLE() objects share one simulated air (bluetooth.BLE() is a singleton on a board;
# here each object is one board). As with the real stack:
# - scan results reach the IRQ handler as read-only-in-spirit memoryviews into one internal
#   buffer that is overwritten (scribbled) as soon as the handler returns, so a handler that
#   keeps them instead of copying sees garbage;
# - gap_advertise(None) stops advertising; adv_data None reuses the previous payload;
# - config(mac=...) is refused as by the stock ESP32 port (unless ACCEPT_MAC), and
#   config(addr_mode=3) draws a fresh non-resolvable private address;
# - a scan ends with _IRQ_SCAN_DONE after its duration.
_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6

AIR = []
ACCEPT_MAC = False
_BUF = bytearray(300)  # the stack's event ring buffer
_seed = [12345]


def _rand():
    _seed[0] = (_seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return _seed[0] >> 8


class BLE:
    def __init__(self):
        self.on = False
        self.handler = None
        self.addr = bytes(6)
        self.addr_mode = 0
        self.adv = None  # (interval_us, payload, connectable) while advertising
        self.last_payload = b""
        self.scan = None  # [end_ms, interval_us, window_us] while scanning
        self.rssi = -60  # what others receive from this board
        self.txpower = None
        self.history = []  # (addr, payload, connectable, interval_us) at each advertising start
        AIR.append(self)

    def active(self, v=None):
        if v is None:
            return self.on
        self.on = bool(v)
        return None

    def config(self, *args, **kw):
        if args:
            if args[0] == "mac":
                return (1, self.addr)
            raise ValueError("unknown config param")
        for k in kw:
            v = kw[k]
            if k == "mac":
                if not ACCEPT_MAC:
                    raise ValueError("unknown config param")
                self.addr = bytes(v)
            elif k == "addr_mode":
                self.addr_mode = v
                if v == 3:
                    a = bytearray(6)
                    for i in range(6):
                        a[i] = _rand() & 0xFF
                    a[0] &= 0x3F
                    self.addr = bytes(a)
            elif k == "txpower":
                raise ValueError("unknown config param")
            else:
                raise ValueError("unknown config param")
        return None

    def irq(self, handler):
        self.handler = handler

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        if not self.on:
            raise OSError(19)
        if interval_us is None:
            self.adv = None
            return
        if adv_data is not None:
            if len(adv_data) > 31:
                raise ValueError("advertising data too long")
            self.last_payload = bytes(adv_data)
        self.adv = (interval_us, self.last_payload, connectable)
        self.history.append((self.addr, self.last_payload, connectable, interval_us))

    def gap_scan(self, duration_ms, interval_us=1280000, window_us=11250, active=False):
        if duration_ms is None:
            if self.scan is not None:
                self.scan = None
                self._deliver(_IRQ_SCAN_DONE, ())
            return
        self.scan = [duration_ms, interval_us, window_us, None]

    def _deliver(self, event, data):
        if self.handler is not None:
            self.handler(event, data)


def air_run(t0_ms, t1_ms, rssi_of=None):
    """Everything on the air between t0_ms and t1_ms: each advertiser sends at multiples of
    its interval; scanners that listen at that moment get the report. rssi_of(tx, rx) may
    override the RSSI (None: lost). Scans whose duration is over end with SCAN_DONE."""
    for rx in AIR:
        sc = rx.scan
        if sc is not None and sc[3] is None:
            sc[3] = t0_ms  # a scan starts at the first air_run after gap_scan
    events = []
    for tx in AIR:
        if tx.adv is None:
            continue
        iv = tx.adv[0] // 1000
        t = (t0_ms + iv - 1) // iv * iv
        while t < t1_ms:
            events.append((t, tx))
            t += iv
    events.sort(key=lambda e: e[0])
    for t, tx in events:
        for rx in AIR:
            sc = rx.scan
            if rx is tx or sc is None or not (sc[3] <= t < sc[3] + sc[0]):
                continue
            if (t - sc[3]) * 1000 % sc[1] >= sc[2]:  # between the scan's windows
                continue
            rssi = tx.rssi if rssi_of is None else rssi_of(tx, rx)
            if rssi is None:
                continue
            payload = tx.adv[1]
            n = len(payload)
            _BUF[0:6] = tx.addr
            _BUF[6 : 6 + n] = payload
            mv = memoryview(_BUF)
            adv_type = 0 if tx.adv[2] else 3
            rx._deliver(_IRQ_SCAN_RESULT, (1, mv[0:6], adv_type, rssi, mv[6 : 6 + n]))
            for i in range(6 + n):  # the stack reuses its buffer once the handler returns
                _BUF[i] = 0xA5
    for rx in AIR:
        sc = rx.scan
        if sc is not None and sc[0] and sc[3] + sc[0] <= t1_ms:
            rx.scan = None
            rx._deliver(_IRQ_SCAN_DONE, ())


def inject(rx, addr, rssi, payload, adv_type=0):
    """A report from a device outside the model (a phone, a malformed frame)."""
    n = len(payload)
    if n > len(_BUF) - 6:
        n = len(_BUF) - 6
    _BUF[0:6] = addr
    _BUF[6 : 6 + n] = payload[:n]
    mv = memoryview(_BUF)
    rx._deliver(_IRQ_SCAN_RESULT, (1, mv[0:6], adv_type, rssi, mv[6 : 6 + n]))
    for i in range(6 + n):
        _BUF[i] = 0xA5

# A stand-in for MicroPython's `network` module (ESP32 port): one station interface whose
# association follows the board's access point (device_board): connect() starts it; after
# CONNECT_MS of virtual time status() is STAT_GOT_IP if the AP is in range and the password
# right, STAT_WRONG_PASSWORD / STAT_NO_AP_FOUND otherwise (the ESP32 port's status codes).
import machine

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
CONNECT_MS = 2500

AP = {"ssid": None, "password": None, "up": True}  # the board's access point
COUNTS = {"connect": 0, "disconnect": 0}  # no list: the board's heap is measured too


class WLAN:
    def __init__(self, iface=STA_IF):
        self.on = False
        self.want = None
        self.since = 0

    def active(self, v=None):
        if v is None:
            return self.on
        self.on = bool(v)
        if not self.on:
            self.want = None
        return None

    def connect(self, ssid=None, key=None):
        if not self.on:
            raise OSError("Wifi Not Started")
        self.want = (ssid, key)
        self.since = machine.CLOCK[0]
        COUNTS["connect"] += 1

    def disconnect(self):
        self.want = None
        COUNTS["disconnect"] += 1

    def status(self, param=None):
        if param == "rssi":
            return -60
        if self.want is None:
            return STAT_IDLE
        if machine.CLOCK[0] - self.since < CONNECT_MS:
            return STAT_CONNECTING
        if not AP["up"] or self.want[0] != AP["ssid"]:
            return STAT_NO_AP_FOUND
        if self.want[1] != AP["password"]:
            return STAT_WRONG_PASSWORD
        return STAT_GOT_IP

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self, cfg=None):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")

    def config(self, *a, **kw):
        if a and a[0] == "mac":
            return b"\x24\x0a\xc4\x12\x34\x57"
        return None

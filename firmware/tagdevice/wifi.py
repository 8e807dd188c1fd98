# The Wi-Fi uplink's link: network.WLAN station, brought up only to upload and dropped after
# (connected it costs 3-100 mA). Every wait has a timeout; the outcome is logged by name.
from tagcore.compat import const

from tagdevice import clock, log

CONNECT_MS = const(15000)
POLL_MS = const(200)


class Wifi:
    def __init__(self, ssid, password):
        self.ssid = ssid
        self.password = password
        self.wlan = None
        self.fails = 0

    def up(self, timeout_ms=CONNECT_MS, feed=None):
        """Associate and get an address within timeout_ms. True when connected."""
        import network

        if self.wlan is None:
            self.wlan = network.WLAN(network.STA_IF)
        w = self.wlan
        try:
            w.active(True)
            if w.isconnected():
                return True
            w.connect(self.ssid, self.password)
            waited = 0
            while waited < timeout_ms:
                st = w.status()
                if st == network.STAT_GOT_IP:
                    self.fails = 0
                    return True
                if st in (network.STAT_WRONG_PASSWORD, network.STAT_NO_AP_FOUND):
                    break
                clock.sleep_ms(POLL_MS)
                waited += POLL_MS
                if feed is not None:
                    feed()
            why = {network.STAT_WRONG_PASSWORD: "wrong password", network.STAT_NO_AP_FOUND:
                   "no access point"}.get(w.status(), "timeout")  # fmt: skip
        except OSError as e:
            why = f"error {e}"
        self.fails += 1
        log.warn("wifi", f"{self.ssid}: not connected ({why})")
        self.down()
        return False

    def down(self):
        w = self.wlan
        if w is None:
            return
        try:
            w.disconnect()
            w.active(False)
        except OSError:
            pass

# "Send another batch now?" after each reply, decided by the simulator's seam
# (tagcore.uplink.appseam.AppClient.drain) and by the device shell's send loop (tagdevice.shell:
# Shell._send, then the loop's client.due()), for the same cases: each must come out the same.
# Reads one case a line from stdin: "N ALERT MODES", N records of backlog, ALERT the position
# of a tamper alert among them (0: none), MODES one letter an exchange: a (the server double
# takes the batch), s (a stuck server: a valid ack that acknowledges nothing new), g (a reply
# that fails its MAC). Prints, a line per case, "app DECISIONS" and "shell DECISIONS" (1/0
# for each exchange, up to the first 0), then how many records are left unacknowledged.
import sys

from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.uplink import ack as A
from tagcore.uplink import cbor, cose
from tagcore.uplink.appseam import AppClient
from tagcore.uplink.client import UplinkClient
from tagdevice.shell import AppUplink, Shell
from tagdevice.uplink_http import OK
from test_store import MemFs
from uplinkserver import ServerDouble

KEY = bytes(range(1, 33))
TID = b"SENDON01"
T0 = 800000000
MAX_BYTES = 300  # small batches: a backlog of a few hundred records takes several


def fill(st, n, alert):
    seq = 0
    for k in range(n):
        t = T0 + 10 * k
        if k + 1 == alert:
            seq, _ = st.append_event(R.EV_TAMPER, t, b"\x01")
        else:
            d = (k * 7919) % 5003  # a wandering track: packed runs stay a few bytes a fix
            st.append_fix(t, Fix(t, 0, 50726000 + d, -1879500 - d, 520, 30, 0, 36, 9, 9, 1, 3, 0))
    st.flush()
    return seq


class Server:
    """The server double, or a stuck or forging one, by the case's letter."""

    def __init__(self):
        self.srv = ServerDouble(KEY, TID)

    def reply(self, mode, body, now):
        if mode == "a":
            return self.srv.handle(body, now)
        if mode == "s":
            ctr = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])[2]
            return bytes(A.encode(KEY, TID, ctr, self.srv.acked(), now, []))
        return b"\xd1\x84forged"


def app_decisions(n, alert, modes, now):
    app = TagApp(TagConfig(max_search_s=3600), MemFs(), T0)
    c = AppClient(app.store, TID, KEY, max_bytes=MAX_BYTES)
    app.uplink = c
    seq = fill(app.store, n, alert)
    app.link(now, True)
    srv = Server()
    out = []
    for m in modes:
        if seq > c.acked:
            c.alert(seq)  # as the shell arms it, before every request
        app.upload(now)
        body = app.uplink_request
        if body is None:
            break
        app.uplink_reply(now, srv.reply(m, bytes(body), now))  # the simulator's runtimes
        out.append(1 if c.drain else 0)
        if not c.drain:
            break
        now += 1
    return out, app.store.next_seq - 1 - c.acked


class Wifi:
    def up(self, feed=None):
        return True

    def down(self):
        pass


class Link:
    def __init__(self, srv):
        self.srv = srv
        self.mode = "a"

    def post(self, body):
        return OK, 200, self.srv.reply(self.mode, bytes(body), self.now)

    def _count(self, code):
        pass


class Wdt:
    def feed(self):
        pass


class BareShell(Shell):
    def __init__(self):  # only what _send uses: the rest needs the board
        pass


def shell_decisions(n, alert, modes, now):
    app = TagApp(TagConfig(max_search_s=3600), MemFs(), T0)
    up = AppUplink()
    c = UplinkClient(app.store, TID, KEY, max_bytes=MAX_BYTES)
    up.client = c
    app.uplink = up
    seq = fill(app.store, n, alert)
    app.link(now, True)
    sh = BareShell()
    sh.app, sh.uplink, sh.wifi, sh.wdt, sh.retry_at = app, up, Wifi(), Wdt(), 0
    sh.link = Link(Server())
    out = []
    for m in modes:
        if seq > c.acked:
            c.alert(seq)
        if app.alert_seq > c.acked:  # as Shell.step arms the app's own alerts (its L events)
            c.alert(app.alert_seq)
        app.upload(now)
        if app.uplink_request is None:
            break
        sh.link.mode, sh.link.now = m, now
        more = sh._send(now) and c.due()  # the shell's loop goes on exactly then
        out.append(1 if more else 0)
        if not more:
            break
        now += 1
    return out, app.store.next_seq - 1 - c.acked


def main():
    for ln in sys.stdin.read().split("\n"):
        f = ln.split()
        if not f:
            continue
        n, alert, modes = int(f[0]), int(f[1]), f[2]
        now = T0 + 10 * n + 5  # within the first search: no loss-of-location alert of its own
        a, a_acked = app_decisions(n, alert, modes, now)
        s, s_acked = shell_decisions(n, alert, modes, now)
        print("app", "".join(str(x) for x in a), a_acked)
        print("shell", "".join(str(x) for x in s), s_acked)


main()

# The board's receiver (tests/mpy/device_board.py) hearing the tag: its command set, loaded
# only for scenarios of the model plan (the board's own heap is counted by the heap bench).
import machine

# Written from the protocol specifications (u-blox 8 / M10 interface descriptions, MediaTek
# PMTK, CASIC $PCAS), not from tagcore's builders, as the simulator's receiver reads them
# with pyubx2 (tagsim.gnsscmd): a wrong byte shows up as a receiver that ignores or refuses
# the command. u-blox: a frame is B5 62 class id len16 payload ck_a ck_b (8-bit Fletcher over
# class..payload); every CFG message it knows is answered ACK-ACK (05 01), one it does not
# ACK-NAK (05 00), with the class and id acknowledged as payload.
UBX_NAMES = {
    0x0601: "CFG-MSG",
    0x0604: "CFG-RST",
    0x0608: "CFG-RATE",
    0x0609: "CFG-CFG",
    0x0611: "CFG-RXM",
    0x0639: "CFG-ITFM",
    0x063B: "CFG-PM2",
    0x068A: "CFG-VALSET",
    0x0241: "RXM-PMREQ",
}
M8_CFG = ("CFG-MSG", "CFG-RST", "CFG-RATE", "CFG-CFG", "CFG-RXM", "CFG-PM2", "CFG-ITFM")
PM_OPERATEMODE = 0x20D00001  # CFG-PM-OPERATEMODE (M10): 0 full power, 1 on/off, 2 cyclic
ITFM_ENABLE = 0x1041000D  # CFG-ITFM-ENABLE (M10): the interference monitor
# the integrity reports: by CFG-MSG class and id (M8), by CFG-MSGOUT-*_UART1 key (M10)
REPORTS = {0x0A38: "MON-RF", 0x0103: "NAV-STATUS", 0x2709: "SEC-SIG"}
MSGOUT = {0x2091035A: "MON-RF", 0x2091001B: "NAV-STATUS", 0x20910635: "SEC-SIG"}
GSV_MSG = 0xF003  # CFG-MSG class F0 id 03: NMEA GSV (M8)
GSV_MSGOUT = 0x209100C5  # CFG-MSGOUT-NMEA_ID_GSV_UART1 (M10)
# the sky in GSV: PRN, elevation, azimuth, C/N0 in open sky (spread as a real sky is: a
# uniform sky is what a spoofer looks like)
SKY = (
    (2, 71, 45, 45),
    (5, 52, 300, 43),
    (7, 40, 120, 40),
    (9, 33, 200, 38),
    (13, 25, 80, 35),
    (16, 20, 250, 33),
    (20, 15, 10, 30),
    (27, 12, 160, 27),
    (30, 8, 340, 24),
)
JAM_DB_S = 8  # a jammer coming on: every satellite's C/N0 falls this much a second together
VALSET_SIZE = (0, 1, 1, 2, 4, 8, 0, 0)  # a key's value size by bits 28-30 of its id


def fletcher(b):
    ca = cb = 0
    for x in b:
        ca = (ca + x) & 0xFF
        cb = (cb + ca) & 0xFF
    return bytes((ca, cb))


def ubx(cls, mid, payload):
    body = bytes((cls, mid, len(payload) & 0xFF, len(payload) >> 8)) + payload
    return b"\xb5\x62" + body + fletcher(body)


def u32(b, i):
    return b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24


def mon_rf(jamming, jam_ind):
    """UBX-MON-RF version 0 with one RF block: flags bits 0-1 the jamming state (1 ok,
    3 critical), agcCnt at 14, jamInd at 16 (u-blox 8 protocol specification)."""
    blk = bytearray(24)
    blk[1] = jamming
    blk[14] = 0x58
    blk[15] = 0x02  # agcCnt 600
    blk[16] = jam_ind
    return ubx(0x0A, 0x38, bytes((0, 1, 0, 0)) + blk)


def report(name, jamming, spoof):
    """A due integrity report: MON-RF as above; NAV-STATUS (16 bytes, flags2 bits 3-4
    spoofDetState); SEC-SIG version 1 (12 bytes: jamFlags at 4, spfFlags at 8, bit 0 each
    detection's enable, the state above it)."""
    if name == "MON-RF":
        return mon_rf(jamming, 230 if jamming == 3 else 20)
    if name == "NAV-STATUS":
        p = bytearray(16)
        p[7] = spoof << 3
        return ubx(0x01, 0x03, p)
    p = bytearray(12)
    p[0] = 1
    p[4] = (1 | jamming << 1) if jamming else 0
    p[8] = 1 | spoof << 1
    return ubx(0x27, 0x09, p)


def gsv(sc, t):
    """The epoch's GSV sentences at t s since t0 (GP, 4 satellites each): SKY outside the
    scenario's jam and blind windows; every C/N0 falling together at JAM_DB_S from a jam's
    start (no value once below 10: tracked no more); no satellite in view while blind."""
    for b in sc.get("blind", []):
        if b[0] <= t < b[1]:
            return sentence_of(b"GPGSV,1,1,00")
    drop = 0
    for b in sc.get("jam", []):
        if b[0] <= t < b[1]:
            drop = (t - b[0] + 1) * JAM_DB_S
    n = len(SKY)
    msgs = (n + 3) // 4
    out = b""
    for m in range(msgs):
        body = b"GPGSV,%d,%d,%02d" % (msgs, m + 1, n)
        for prn, el, az, cn0 in SKY[4 * m : 4 * m + 4]:
            c = cn0 - drop
            body += b",%02d,%02d,%03d," % (prn, el, az) + (b"%02d" % c if c >= 10 else b"")
        out += sentence_of(body)
    return out


def sentence_of(body):
    x = 0
    for ch in body:
        x ^= ch
    return b"$" + body + b"*%02X\r\n" % x


def split_commands(data):
    """[(kind, name, payload or fields)] of every well-formed command in data, and how many
    bytes were not one (wake bytes, noise, bad checksums)."""
    out = []
    junk = 0
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0xB5 and i + 8 <= n and data[i + 1] == 0x62:
            ln = data[i + 4] | data[i + 5] << 8
            end = i + 8 + ln
            if end <= n and fletcher(data[i + 2 : end - 2]) == data[end - 2 : end]:
                code = data[i + 2] << 8 | data[i + 3]
                name = UBX_NAMES.get(code, f"{code:04X}")
                out.append(("ubx", name, data[i + 6 : end - 2]))
                i = end
                continue
        elif c == 0x24:  # $...*hh
            e = data.find(b"\n", i)
            e = n if e < 0 else e + 1
            line = data[i:e].strip()
            star = line.find(b"*")
            x = 0
            for ch in line[1:star]:
                x ^= ch
            if star > 0 and line[star + 1 :] == b"%02X" % x:
                f = line[1:star].split(b",")
                out.append(("text", f[0].decode(), f[1:]))
            else:
                junk += e - i
            i = e
            continue
        junk += 1
        i += 1
    return out, junk


def _ack(rx, name, ok):
    # the class and id acknowledged are the command's own: found back from its name
    for code in UBX_NAMES:
        if UBX_NAMES[code] == name:
            rx.send(ubx(0x05, 0x01 if ok else 0x00, bytes((code >> 8, code & 0xFF))))
    return "ack" if ok else "nak"


def handle(rx, kind, name, arg, s):
    """What the receiver `rx` (device_board.Receiver) does with one command; returns the
    outcome it prints."""
    fam = rx.family
    if name in rx.mute:
        return "mute"
    if fam[:5] == "ublox" and kind == "ubx":
        if name == "RXM-PMREQ":
            n = len(arg)
            dur, flags = (u32(arg, 0), u32(arg, 4)) if n == 8 else (u32(arg, 4), u32(arg, 8))
            if n not in (8, 16) or not flags & 2:  # bit 1: backup
                return "ignored"
            rx.asleep = True
            rx.q = []  # what it had not yet sent dies with its output
            rx.wake_s = s + (dur + 999) // 1000 if dur else None
            return "backup"
        if fam == "ublox_m8" and name in M8_CFG:
            if name == "CFG-RXM":
                if len(arg) != 2:
                    return _ack(rx, name, False)
                if arg[1] == 1 and not rx.ps_ok:
                    return _ack(rx, name, False)
                rx.mode = "power_save" if arg[1] == 1 else "continuous"
                _ack(rx, name, True)
                return rx.mode
            if name == "CFG-MSG" and len(arg) == 3:  # the rate on the port it came in on
                if arg[0] << 8 | arg[1] == GSV_MSG:
                    rx.gsv_every = arg[2]
                r = REPORTS.get(arg[0] << 8 | arg[1])
                if r and r != "SEC-SIG":
                    rx.rates[r] = arg[2]
            if name == "CFG-ITFM" and len(arg) == 8:
                rx.itfm = bool(arg[3] & 0x80)  # config bit 31: enable
            return _ack(rx, name, True)
        if fam == "ublox_m10" and name == "CFG-VALSET":
            i = 4
            while i + 4 <= len(arg):
                key = u32(arg, i)
                size = VALSET_SIZE[(key >> 28) & 7]
                if key == PM_OPERATEMODE:
                    rx.mode = "power_save" if arg[i + 4] in (1, 2) else "continuous"
                elif key == ITFM_ENABLE:
                    rx.itfm = bool(arg[i + 4])
                elif key in MSGOUT:
                    rx.rates[MSGOUT[key]] = arg[i + 4]
                elif key == GSV_MSGOUT:
                    rx.gsv_every = arg[i + 4]
                i += 4 + size
            return _ack(rx, name, True)
        return _ack(rx, name, False) if name[:4] == "CFG-" else "ignored"
    if fam in ("l76k", "mtk") and kind == "text":
        if name == "PCAS12" or name == "PMTK161":
            secs = int(arg[0] or 0) if name == "PCAS12" else 0
            rx.asleep = True
            rx.q = []
            rx.wake_s = s + secs if 0 < secs < 65535 else None
            return "standby"
        if name[:4] == "PMTK":  # PMTK001,<cmd>,3: valid and done
            rx.send(sentence_of(b"PMTK001," + name[4:].encode() + b",3"))
        return "accepted"
    return "ignored"


def commanded(Base, sc, board, t0):
    """device_board's Receiver, obeying the commands the tag writes: set-up and power save
    acknowledged (u-blox), backup / standby (RXM-PMREQ, $PCAS12, $PMTK161: silent until a UART
    byte or the duration wakes it, RAM kept: the next start is hot, hot_ttff_s), $PMTK
    answered $PMTK001; a rail cut keeps RAM only with a backup cell (the profile's
    backup_supply, rx_backup_cell: the next start hot within the hot window, else cold; the
    simulator's receiver does the same, without its backup_hold_s). Scenario keys:
    rx_power_save (false: CFG-RXM power save refused with a NAK), rx_mute (command names it
    never answers: the tag's timeout), jam ([[from, to], ...] s since t0: a jammer, no fix
    then), rx_gsv (the sky's GSV, see gsv()). Its integrity reports (MON-RF, NAV-STATUS;
    SEC-SIG on the M10) go out only as the tag configures them (CFG-MSG / CFG-MSGOUT: once
    every n epochs), MON-RF's jamming state 0 until the interference monitor is on (CFG-ITFM
    / CFG-ITFM-ENABLE) and it had a fix, then 1, 3 (critical) while jammed; kept through a
    rail cut where the profile's receiver keeps its configuration. Prints RX lines: what it
    heard and what it did."""
    g = board.get("gnss") or {}

    class Commanded(Base):
        def __init__(self):
            Base.__init__(self)
            self.cold = self.ttff
            self.hot = sc.get("hot_ttff_s", self.cold)
            self.family = g.get("family", "ublox_m8")
            self.ps_ok = sc.get("rx_power_save", g.get("power_save", True))
            self.mute = sc.get("rx_mute", [])
            self.jam = sc.get("jam", [])
            self.blind = self.blind + self.jam  # critical: interference and no fix
            self.keeps = g.get("keeps_config_on_rail_off", True)
            self.rates = {}  # integrity report: once every n epochs (none from the factory)
            self.itfm = False
            self.nav = 0  # epochs sent, for the reports' rate
            # rx_gsv: the sky in GSV, once every gsv_every epochs (1 from the factory, as
            # u-blox ships it; 0 off); without it the scenario's receiver sends no GSV
            self.sky = sc.get("rx_gsv", False)
            self.gsv_every = 1
            self.hot_window = g.get("hot_window_s", 7200)
            # a backup cell on V_BCKP keeps RAM through a rail cut (the profile's
            # backup_supply); rx_backup_cell false: a flat cell
            self.cell = sc.get("rx_backup_cell", g.get("backup_supply", False))
            self.asleep = False  # backup / standby: powered, silent, RAM kept
            self.wake_s = None  # a timed backup ends here
            self.fix_s = None  # the last second with a fix (ephemeris in RAM); None: none
            self.mode = "continuous"

        def next_at(self, now_ms):
            if self.on_since is not None and self.asleep:
                return (1 << 62) if self.wake_s is None else self.wake_s * 1000
            return Base.next_at(self, now_ms)

        def _start(self, s, why):
            hot = self.fix_s is not None and s - self.fix_s < self.hot_window
            self.ttff = self.hot if hot else self.cold
            self.on_since = s
            self.next_s = s + 1
            print("RX", s, why, "hot" if hot else "cold")

        def cut(self, s):
            print("RX", s, "rail off")
            if not self.cell:  # RAM gone with the rail: the next start is cold
                self.fix_s = None
            if not self.keeps:
                self.rates = {}
                self.itfm = False
                self.gsv_every = 1
            self.asleep = False
            self.q = []

        def power_on(self, s):
            self.mode = "continuous"  # it boots at full power
            self._start(s, "rail on")

        def silent(self, s):
            if not self.asleep:
                return False
            if self.wake_s is None or s < self.wake_s:
                return True
            self._wake(s)
            return False

        def output(self, e, fix):
            if fix:
                self.fix_s = self.next_s
            self.nav += 1
            t = self.next_s - t0
            if self.sky and self.gsv_every and self.nav % self.gsv_every == 0:
                e += gsv(sc, t)
            if not self.rates:
                return e
            jam = 0
            if self.itfm and self.fix_s is not None:
                jam = 1
                for b in self.jam:
                    if b[0] <= t < b[1]:
                        jam = 3
            for name in self.rates:
                r = self.rates[name]
                if r and self.nav % r == 0 and (name != "SEC-SIG" or self.family == "ublox_m10"):
                    e += report(name, jam, 0 if self.fix_s is None else 1)
            return e

        def _wake(self, s):
            self.asleep = False
            self.wake_s = None
            self._start(s, "woken")

        def send(self, b):
            self.q.append([machine.CLOCK[0], b])
            for u in machine.UARTS:
                u.wire = self

        def write(self, data):
            """Bytes the tag writes to the receiver's UART."""
            s = machine.CLOCK[0] // 1000
            if self.powered() and self.on_since is None:
                self.run(machine.CLOCK[0])  # the rail came on just now
            if self.on_since is None:
                print("RX", s, "unpowered", len(data))
                return
            if self.asleep:  # any byte wakes it; the bytes that woke it are lost
                self._wake(s)
                return
            for kind, name, arg in split_commands(data)[0]:
                print("RX", s, name, handle(self, kind, name, arg, s))

    return Commanded

"""A GNSS receiver that reacts to power: off, acquiring, tracking; its output is NMEA bytes.

- Sky: GPS and GLONASS satellites on circular-ish tracks (period 11 h 58 m / 11 h 16 m), seeded.
  A satellite is tracked when its C/N0 (elevation gain minus the environment's loss) clears the
  tracking threshold; urban canyons also block everything below 30 degrees.
- Acquisition: time to first fix is drawn from the board profile (hot if the receiver was off
  for less than hot_window_s and has a backup supply, warm within warm_window_s, else cold) and
  only accrues while satellites are in view: indoors it takes longer, underground never ends.
- Tracking: position error is first-order Gauss-Markov per axis (tau 30 s) with sigma scaled by
  UERE x HDOP and the environment; urban canyons and indoors add multipath jumps that the
  receiver's own GST estimate does not know about. Fewer than 4 satellites: no fix that epoch;
  4 s without one and it is back to (hot) acquisition.
- Power modes (the same the core drives, tagcore.gnss.power): `power()` is the rail; `write()`
  takes the bytes the tag sends and acts on what pyubx2/pynmea2 make of them (tagsim.gnsscmd):
  power save (u-blox M8 CFG-RXM, M10 CFG-VALSET OPERATEMODE, effective on the M10 only with
  SBAS off), backup/standby (RXM-PMREQ, $PCAS12: no output until woken by a UART byte or the
  duration; RAM kept, so the next start is hot), ACK/NAK to u-blox CFG messages, and nothing
  for anything it does not understand. Power save tracks worse in canyons and indoors (longer
  integration gaps: a few dB less margin). A rail cut keeps RAM only with a backup supply, for
  at most backup_hold_s, and configuration only if the receiver keeps it; lose_backup() is the
  backup supply running out: every start after it is cold.
- Integrity reports (tagsim.gnsscmd.report): none until the tag configures them, as a u-blox
  ships: MON-RF, NAV-STATUS (and SEC-SIG on the M10) once every n epochs as CFG-MSG /
  CFG-MSGOUT set, kept through a rail cut as the rest of the configuration is. MON-RF's
  jamming state is 0 until the interference monitor is on (CFG-ITFM / CFG-ITFM-ENABLE) and
  the receiver has had a fix, then 1, or with jammers raising the noise more than
  ITFM_BB_DB: 2 with a fix, 3 without (u-blox's integration manuals). Spoofing is indicated
  (2) only when the receiver tracked real signals as the spoofer came on (it sees the
  transition; started up into a spoofed sky it says 1), as u-blox describes its detection.
- NMEA GSV (its per-satellite C/N0): every epoch from the factory, then as CFG-MSG F0 03 (M8) /
  CFG-MSGOUT-NMEA_ID_GSV_UART1 (M10) set it (0 off, n once every n epochs), kept through a
  rail cut as the rest of the configuration is. The other NMEA messages it always sends.
- C/N0 in ordinary wear: walls and streets do not block every satellite alike (indoors each
  satellite loses the environment's loss +-SPREAD_DB, by direction: a window, a wall; urban
  +-3 dB besides the canyon), and the loss changes at a walker's pace between environments
  (SLEW_FOOT dB/s: a doorway takes seconds, stairs down to a platform ~15 s; SLEW_VEHICLE in a
  vehicle: a tunnel portal). Attacks (tagsim.attacks: foil, a jammer, a spoofer) act on top.
- TTFF: "datasheet" (default: the profile's ttff_s with a 20 % log-normal spread) or "field"
  (drawn from the profile's ttff_field_s deciles: real hot starts 2-30 s, often ~10 s).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tagsim import attacks, geo, gnsscmd, nmeagen
from tagsim.boards import Gnss
from tagsim.simtime import to_datetime
from tagsim.truth import Point

OFF, ACQUIRING, TRACKING = "off", "acquiring", "tracking"
TAU_S = 30.0
CNO_TRACK = 24  # dB-Hz needed to track (and to count as "used")
LOSS_DB = {"open": 0.0, "urban": 6.0, "indoor": 14.0, "underground": 60.0}
NOISE_FACTOR = {"open": 1.0, "urban": 1.8, "indoor": 2.5, "underground": 3.0}
MULTIPATH_RATE = {"open": 0.0, "urban": 0.004, "indoor": 0.006, "underground": 0.0}
SPREAD_DB = {"open": 0.0, "urban": 3.0, "indoor": 3.0, "underground": 0.0}
SLEW_FOOT, SLEW_VEHICLE = 4.0, 30.0  # dB/s the environment's loss changes by, on foot / faster
VEHICLE_MS = 4.0
LOSE_AFTER_S = 4
CONTINUOUS, POWER_SAVE = "continuous", "power_save"
# Power save integrates in short windows: less margin where the signal is already weak.
PS_LOSS_DB = {"open": 0.0, "urban": 8.0, "indoor": 5.0, "underground": 0.0}
# ... and its shorter tracking windows follow reflections less well: noisier positions.
PS_NOISE = {"open": 1.0, "urban": 1.5, "indoor": 1.5, "underground": 1.0}
UBX_ACKED_M8 = (
    "CFG-MSG",
    "CFG-RATE",
    "CFG-PM2",
    "CFG-PMS",
    "CFG-RST",
    "CFG-CFG",
    "CFG-RXM",
    "CFG-ITFM",
)
ITFM_BB_DB = 3.0  # the interference monitor's broadband threshold (the tag sets u-blox's 3 dB)


@dataclass
class EpochOut:
    data: bytes
    fix: bool
    sats: int
    hdop: float
    view: list | None = None  # (system, prn, elevation, azimuth, C/N0 or 0) as its GSVs say
    point: Point | None = None  # where the fix claims to be (a spoofer's place while spoofed)


class Sky:
    def __init__(self, rng: random.Random) -> None:
        self.sats = []  # (prn, system, period, phase, az0)
        for prn in range(1, 25):
            self.sats.append((prn, 1, 43080.0, rng.uniform(0, 2 * math.pi), rng.uniform(0, 360)))
        for prn in range(65, 83):
            self.sats.append((prn, 2, 40544.0, rng.uniform(0, 2 * math.pi), rng.uniform(0, 360)))

    def view(
        self,
        t: int,
        env: str,
        rng: random.Random,
        extra_loss: float = 0.0,
        env_loss: float | None = None,
        key: int = 0,
        spoof_cno: float | None = None,
    ) -> list[tuple[int, int, int, int, int]]:
        """(system, prn, elevation, azimuth, C/N0 or 0) of the satellites above the horizon.
        env_loss: the environment's loss now (default LOSS_DB[env]); key: the spot (each
        satellite's own loss there); spoof_cno: a spoofer's power, which every satellite has."""
        out = []
        loss = (LOSS_DB[env] if env_loss is None else env_loss) + extra_loss
        spread = SPREAD_DB[env]
        for prn, system, period, phase, az0 in self.sats:
            w = 2 * math.pi * t / period + phase
            elv = 80 * math.sin(w) - 15
            if elv < 5:
                continue
            az = int(az0 + 360 * t / period) % 360
            cno = 28 + 18 * math.sin(math.radians(elv)) - loss + rng.gauss(0, 2)
            if env == "urban" and elv < 30:
                cno -= 20
            if spread:
                cno -= spread * (((prn * 7919 + key) % 13) - 6) / 6
            if spoof_cno is not None:
                cno = spoof_cno + rng.gauss(0, 0.5) - extra_loss
            out.append((system, prn, int(elv), az, int(cno) if cno >= CNO_TRACK else 0))
        return out


class Receiver:
    def __init__(self, gnss: Gnss, seed: int, ttff: str = "datasheet") -> None:
        if ttff not in ("datasheet", "field"):
            raise ValueError(f"ttff model {ttff!r}: expected datasheet or field")
        self.g = gnss
        self.ttff_model = ttff
        self.rng = random.Random(seed)
        self.sky = Sky(random.Random(seed ^ 0x5EED))
        self.state = OFF
        self.off_since: int | None = None  # None: never had a fix since the battery went in
        self.last_track: int | None = None
        self.need = 0.0  # sky-seconds still needed for the first fix
        self.start_kind = ""
        self.no_fix_s = 0
        self.err: list[float] | None = None  # Gauss-Markov state per axis (east, north), m
        self.jump = (0, 0.0, 0.0)  # (until t, east m, north m)
        self.starts = {"cold": 0, "warm": 0, "hot": 0}
        # power modes
        self.mode = CONTINUOUS  # asked for by the last command
        self.saved_mode = CONTINUOUS  # what survives a rail cut (flash / BBR)
        self.sbas = True  # receivers ship with SBAS on
        self.asleep = False  # soft backup / standby: powered, silent, RAM kept
        self.wake_at: int | None = None  # a timed backup ends here
        self.replies = bytearray()  # ACK/NAK waiting to go out with the next epoch
        # integrity reports: {name: once every n epochs} and the interference monitor, as set
        # and as saved (flash / BBR); the epochs counted for their rate; real signals tracked
        self.rates: dict[str, int] = {}
        self.itfm = False
        self.saved_rates: dict[str, int] = {}
        self.saved_itfm = False
        self.nav_epochs = 0
        self.gsv_every = 1  # NMEA GSV once every n epochs (0 off), as set and as saved
        self.saved_gsv_every = 1
        self.out_bytes = 0  # everything it sent, and of that its integrity reports (benchmarks)
        self.report_bytes = 0
        self.gsv_bytes = 0  # ... and its GSV sentences, in gsv_epochs epochs
        self.gsv_epochs = 0
        self.genuine_t: int | None = None  # the last fix on real signals, ...
        self.acquired_t = 0  # ... and the last (re)start
        self.heard: list[tuple[int, str, str]] = []  # (t, command, outcome) for tests, reports
        self.ignored_bytes = 0  # written but not a command it understood
        self.attacks: tuple[attacks.Attack, ...] = ()  # the scenario's attacks on its signals
        self.text = True  # False: no NMEA written (benchmarks that read `view` directly)
        self.env_loss: float | None = None  # the environment's loss reached (dB), ...
        self.env_t = -1  # ... at this epoch

    @property
    def power_mode(self) -> str:
        """The mode the receiver really runs: an M10 in power save with SBAS on stays full."""
        if self.mode == POWER_SAVE and not (self.g.family == "ublox_m10" and self.sbas):
            return POWER_SAVE
        return CONTINUOUS

    def power(self, on: bool, t: int) -> None:
        """The rail."""
        if on and self.state == OFF:
            if not self.g.keeps_config_on_rail_off:
                self.mode, self.sbas = CONTINUOUS, True
                self.rates, self.itfm = {}, False
                self.gsv_every = 1
            else:
                self.mode = self.saved_mode
                self.rates, self.itfm = dict(self.saved_rates), self.saved_itfm
                self.gsv_every = self.saved_gsv_every
            self._acquire(t, self._start_kind(t))
        elif not on and self.state != OFF:
            self.state = OFF
            self.off_since = t
            self.asleep = False
            self.wake_at = None
            self.replies.clear()

    def lose_backup(self) -> None:
        """The backup supply ran out (a flat coin cell, an empty main battery): RAM is gone."""
        self.last_track = None

    def _start_kind(self, t: int) -> str:
        if not self.g.backup_supply or self.last_track is None:
            return "cold"
        hold = self.g.backup_hold_s
        if hold is not None and self.off_since is not None and t - self.off_since > hold:
            return "cold"  # the backup cell ran flat while the rail was off
        return self._kind_from_ram(t)

    def _kind_from_ram(self, t: int) -> str:
        if self.last_track is None:
            return "cold"
        off = t - self.last_track
        return (
            "hot" if off < self.g.hot_window_s else "warm" if off < self.g.warm_window_s else "cold"
        )

    def _acquire(self, t: int, kind: str) -> None:
        self.state = ACQUIRING
        self.acquired_t = t
        self.start_kind = kind
        self.starts[kind] += 1
        if self.ttff_model == "field" and self.g.ttff_field_s:
            self.need = self._field_ttff(kind)
        else:
            self.need = self.g.ttff_s[kind] * math.exp(self.rng.gauss(0, 0.2))
        self.err = None  # drawn at the first fix, from where the receiver then is

    def _field_ttff(self, kind: str) -> float:
        """A draw from the field deciles (linear between them); warm scales the cold ones by
        the datasheet's warm/cold ratio (no field figures for warm starts)."""
        q = self.g.ttff_field_s["hot" if kind == "hot" else "cold"]
        u = self.rng.random() * (len(q) - 1)
        i = int(u)
        v = q[i] + (u - i) * (q[min(i + 1, len(q) - 1)] - q[i])
        if kind == "warm":
            v *= self.g.ttff_s["warm"] / self.g.ttff_s["cold"]
        return v

    # -- commands from the tag ------------------------------------------------------------------

    def write(self, data: bytes, t: int) -> None:
        """Bytes the tag writes to the receiver's UART."""
        if self.state == OFF:  # no power: nothing happens
            self.ignored_bytes += len(data)
            return
        if self.asleep:  # any byte wakes it; the bytes that woke it are lost
            self._wake(t)
            self.heard.append((t, "wake", "woken"))
            return
        cmds, junk = gnsscmd.split(data)
        self.ignored_bytes += junk
        for c in cmds:
            self.heard.append((t, c.name, self._handle(c, t)))

    def _reply(self, c: gnsscmd.Command, ok: bool) -> str:
        self.replies += gnsscmd.ack(c, ok)
        return "ack" if ok else "nak"

    def _handle(self, c: gnsscmd.Command, t: int) -> str:
        fam = self.g.family
        if fam in ("ublox_m8", "ublox_m10") and c.kind == "ubx":
            if c.name == "RXM-PMREQ":
                if not c.fields.get("backup"):
                    return "ignored"
                self.asleep = True
                d = c.fields.get("duration", 0)
                self.wake_at = t + max(1, d // 1000) if d else None
                return "backup"
            if fam == "ublox_m8":
                if c.name == "CFG-RXM":
                    lp = c.fields.get("lpMode")
                    if lp == 1 and not self.g.power_save:
                        return self._reply(c, False)
                    self.mode = POWER_SAVE if lp == 1 else CONTINUOUS
                elif c.name == "CFG-CFG":
                    self._save()
                elif c.name == "CFG-ITFM":
                    self.itfm = bool(c.fields.get("enable"))
                elif c.name == "CFG-MSG":
                    r = gnsscmd.msg_rate(c)
                    if r is not None and r[0] == gnsscmd.GSV:
                        self.gsv_every = r[1]
                    elif r is not None and r[0] != "SEC-SIG":  # an M10 message
                        self.rates[r[0]] = r[1]
                elif c.name not in UBX_ACKED_M8:
                    return self._reply(c, False) if c.name.startswith("CFG-") else "ignored"
                return self._reply(c, True)
            if c.name != "CFG-VALSET":  # the M10 keeps only the configuration database
                return self._reply(c, False) if c.name.startswith("CFG-") else "ignored"
            f = c.fields
            if "CFG_PM_OPERATEMODE" in f:
                self.mode = POWER_SAVE if f["CFG_PM_OPERATEMODE"] in (1, 2) else CONTINUOUS
            if "CFG_SIGNAL_SBAS_ENA" in f:
                self.sbas = bool(f["CFG_SIGNAL_SBAS_ENA"])
            if "CFG_ITFM_ENABLE" in f:
                self.itfm = bool(f["CFG_ITFM_ENABLE"])
            for key, name in gnsscmd.MSGOUT_UART1.items():
                if key in f:
                    self.rates[name] = f[key]
            if gnsscmd.MSGOUT_GSV_UART1 in f:
                self.gsv_every = f[gnsscmd.MSGOUT_GSV_UART1]
            if f.get("bbr"):
                self._save()
            return self._reply(c, True)
        if fam in ("l76k", "mtk") and c.kind == "text":
            if c.name == "PCAS12" or c.name == "PMTK161":
                self.asleep = True
                s = int(c.fields["args"][0] or 0) if c.name == "PCAS12" else 0
                self.wake_at = t + s if 0 < s < 65535 else None
                return "standby"
            return "accepted"
        return "ignored"

    def _save(self) -> None:
        """What survives a rail cut (CFG-CFG to flash on the M8, a VALSET to BBR on the M10)."""
        self.saved_mode = self.mode
        self.saved_rates, self.saved_itfm = dict(self.rates), self.itfm
        self.saved_gsv_every = self.gsv_every

    def _wake(self, t: int) -> None:
        self.asleep = False
        self.wake_at = None
        self._acquire(t, self._kind_from_ram(t))

    def sigma(self, hdop: float, env: str) -> float:
        ps = PS_NOISE[env] if self.power_mode == POWER_SAVE else 1.0
        return self.g.uere_m * hdop * NOISE_FACTOR[env] * ps / math.sqrt(2)

    def epoch(self, p: Point, silent: bool = False) -> EpochOut:
        """One second of output while powered, for the wearer at truth point p. silent: nobody
        reads the UART this second (the MCU sleeps): the state advances, no NMEA is built."""
        t = p.t
        if self.asleep:
            if self.wake_at is None or t < self.wake_at:
                return EpochOut(b"", False, 0, 0.0)
            self._wake(t)
        extra = PS_LOSS_DB[p.env] if self.power_mode == POWER_SAVE else 0.0
        target = LOSS_DB[p.env]
        if self.env_loss is None or t - self.env_t > LOSE_AFTER_S:  # off meanwhile: it is there
            self.env_loss = target
        else:
            step = SLEW_VEHICLE if p.speed > VEHICLE_MS else SLEW_FOOT
            self.env_loss += max(-step, min(step, target - self.env_loss))
        self.env_t = t
        sp = attacks.spoofer(self.attacks, t) if self.attacks else None
        if self.attacks:
            extra += attacks.loss_db(self.attacks, t)
        key = int(p.lat * 2000) * 31 + int(p.lon * 2000)  # ~50 m spots
        cno_sp = None if sp is None else sp.cno
        view = self.sky.view(t, p.env, self.rng, extra, self.env_loss, key, cno_sp)
        if sp is not None:  # the fix is where the spoofer says, its time behind by the lag
            p = Point(t - sp.lag_s, sp.lat, sp.lon, "open", 0.0, 0.0, False)
        used = [v for v in view if v[4] > 0 and v[0] == 1][:12]  # a GSA lists 12 per system
        used += [v for v in view if v[4] > 0 and v[0] == 2][:12]
        n = len(used)
        hdop = min(20.0, 0.5 + 5.5 / max(n - 2, 1)) * (1.0 if p.env == "open" else 1.3)
        fix = False
        if self.state == ACQUIRING:
            self.need -= min(1.0, n / 8)
            if self.need <= 0 and n >= 4:
                self.state = TRACKING
                self.no_fix_s = 0
        if self.state == TRACKING:
            if n >= 4:
                fix = True
                self.no_fix_s = 0
                self.last_track = t
            else:
                self.no_fix_s += 1
                if self.no_fix_s >= LOSE_AFTER_S:
                    self._acquire(t, self._start_kind(t))
        if fix and sp is None:
            self.genuine_t = t
        self.nav_epochs += 1
        if silent:
            return EpochOut(b"", fix, n, hdop)
        data = self._nmea(p, view, used, hdop, fix) if self.text else b""
        if self.rates:
            rep = self._reports(t, fix, sp)
            self.report_bytes += len(rep)
            data += rep
        if self.replies:
            data = bytes(self.replies) + data
            self.replies.clear()
        self.out_bytes += len(data)
        return EpochOut(data, fix, n, hdop, view, p)

    def _reports(self, t: int, fix: bool, sp: attacks.Attack | None) -> bytes:
        """The integrity reports due this epoch (none unless configured)."""
        due = [k for k, r in self.rates.items() if r and self.nav_epochs % r == 0]
        if not due:
            return b""
        noise = attacks.noise_db(self.attacks, t)
        jam = 0
        if self.itfm and self.last_track is not None:  # the monitor needs a fix to learn from
            jam = 1 if noise <= ITFM_BB_DB else 2 if fix else 3
        spf = 0 if self.last_track is None else 1
        g = self.genuine_t
        if sp is not None and g is not None and g >= sp.start - 1 and self.acquired_t <= g:
            spf = 2  # it was tracking real signals when the spoofer came on, and since
        out = b""
        for name in due:
            if name != "SEC-SIG" or self.g.family == "ublox_m10":
                out += gnsscmd.report(name, jam, spf, noise, (t % 604800) * 1000)
        return out

    def _nmea(self, p: Point, view: list, used: list, hdop: float, fix: bool) -> bytes:
        tk = self.g.talker
        when = to_datetime(p.t)
        out: list[bytes] = []
        if fix:
            lat, lon, sig = self._position(p, hdop)
            speed = max(0.0, p.speed + self.rng.gauss(0, 0.1))
            course = p.course if p.moving else 0.0
            alt = 35.0 + self.rng.gauss(0, sig * 1.5)
            out.append(nmeagen.rmc(tk, when, lat, lon, speed, course))
            out.append(nmeagen.gga(tk, when, lat, lon, len(used), hdop, alt))
        else:
            out.append(nmeagen.rmc_nofix(tk, when))
            out.append(nmeagen.gga_nofix(tk, when, len(used)))
        pdop, vdop = hdop * 1.6, hdop * 1.3
        for system in (1, 2):
            prns = [v[1] for v in used if v[0] == system]
            out.append(nmeagen.gsa(tk, prns, fix, pdop, hdop, vdop, system))
        gsv = self.gsv_every > 0 and self.nav_epochs % self.gsv_every == 0
        self.gsv_epochs += gsv
        for system, talker in ((1, "GP"), (2, "GL")) if gsv else ():
            sats = [(v[1], v[2], v[3], v[4]) for v in view if v[0] == system]
            if sats:
                lines = nmeagen.gsv(talker, sats)
                self.gsv_bytes += sum(len(x) for x in lines)
                out.extend(lines)
        if fix:
            s = self.sigma(hdop, p.env)
            out.append(nmeagen.gst(tk, when, s, s, s * 1.5))
        return b"".join(out)

    def _position(self, p: Point, hdop: float) -> tuple[float, float, float]:
        sig = self.sigma(hdop, p.env)
        if self.err is None:  # a fresh solution: the stationary distribution
            self.err = [self.rng.gauss(0, sig), self.rng.gauss(0, sig)]
        else:
            a = math.exp(-1.0 / TAU_S)
            k = math.sqrt(1 - a * a) * sig
            self.err = [
                a * self.err[0] + k * self.rng.gauss(0, 1),
                a * self.err[1] + k * self.rng.gauss(0, 1),
            ]
        e, n = self.err
        until, je, jn = self.jump
        if p.t >= until and self.rng.random() < MULTIPATH_RATE[p.env]:
            r, ang = self.rng.uniform(20, 80), self.rng.uniform(0, 2 * math.pi)
            until, je, jn = p.t + self.rng.randint(5, 30), r * math.sin(ang), r * math.cos(ang)
            self.jump = (until, je, jn)
        if p.t < until:
            e, n = e + je, n + jn
        lat, lon = geo.offset(p.lat, p.lon, e, n)
        return lat, lon, sig

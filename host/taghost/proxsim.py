"""The victim beacon's radio at the tag: ONE seeded model, used by the bench
(bench/bench_proximity.py) and by the simulator (tagsim.radio), driving the core's proximity
check (tagcore.proximity.monitor) through its public API. Two named parameter sets:

CURRENT (the model the project's figures were first measured on): RSSI = P1m + cal
- 10 n log10(d) + body shadow (two-state, clear / about -10 dB, 20 s dwell) + fading (Gaussian,
correlated over 2 s); 30 % of advertisements lost; nothing below -97 dBm.

FIELD (built from published field measurements; every number's source is beside it in
FIELD below and in docs/proximity.md "The field model"):
- carry loss held for the whole posture: pocket, bag, hand 3-10 dB; a body in the way 10-25 dB
  (Leith & Farrell, "Coronavirus contact tracing: evaluating the potential of using Bluetooth
  received signal strength for proximity detection", ACM SIGCOMM CCR 50(4), 2020: orientation,
  body absorption and handbags move RSS by this much); walking, a posture holds a couple of
  minutes; seated, the whole encounter, and fading is correlated over a minute while both are
  still, not a shadow that clears every 20 s;
- outdoors a two-ray path loss: free-space slope (n = 2) up to the breakpoint 4 h_t h_r / lambda,
  40 dB/decade beyond (Rappaport, Wireless Communications, 2nd ed., 4.6): about 32 m for a tag
  and a beacon both 1 m up (belt), 3 m for a tag at the ankle (0.1 m);
- indoors n = 3 (ITU-R P.1238, distance power loss coefficient N = 30 for offices at 2.4 GHz),
  walls 6-12 dB each (ITU-R P.2040 / P.1238 floor and wall penetration at 2.4 GHz);
- in a vehicle signal strength barely follows distance: -0.36 dB per metre over 0.5-5 m (a fit
  to Leith & Farrell's public tram dataset, PLoS ONE 15(9) e0239943, 2020), with +-10 dB as
  people move (Leith & Farrell, commuter bus, June 2020: changing the people holding a pair of
  handsets moved the GAEN attenuation +-10 dB);
- calibration +-4 dB (GAEN per-model RSSI corrections: handsets differ by several dB at 1 m);
- loss growing with distance (the reception probability falls to zero over the last 10 dB
  above the ESP32's -97 dBm sensitivity, ESP32 datasheet) and with crowding (collisions);
- the beacon's real advertising interval: 500 ms plus the random advDelay of 0-10 ms the
  controller adds to every event (Bluetooth Core 5.3, Vol 6, Part B, 4.4.2.2.1), and its
  identifier schedule (tagcore.proximity.beaconid.on_air, with its silences);
- the core's own scan schedule (Proximity.next_scan): the tag only hears what falls in a scan.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tagcore.fix import Fix
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.idtable import IdTable
from tagcore.proximity.monitor import F_LOW_CONF, K_NEAR, Profile, Proximity
from tagkit.beaconwindow import window_blob

WAVELENGTH_M = 0.125  # 2.4 GHz


@dataclass(frozen=True)
class Radio:
    name: str = "current"
    measured: bool = False  # False: the CURRENT model's terms; True: the FIELD model's
    tx1m: float = -50.0  # nominal RSSI at 1 m at the beacon's default +9 dBm (Profile.tx1m)
    cal_db: float = 3.0  # the beacon's real 1 m power differs from nominal, uniform +-cal_db
    sens_dbm: float = -97.0  # ESP32 BLE receiver sensitivity (ESP32 datasheet)
    adv_ms: int = 500  # the beacon's advertising interval (firmware/beacon ADV_MS)
    adv_delay_ms: float = 0.0  # random advDelay added to every advertising event
    loss: float = 0.3  # advertisements lost for other reasons (collisions, channel, antenna)
    sigma: float = 8.0  # fading, dB (Gaussian, AR(1) correlated)
    fade_s: float = 2.0  # fading correlation time while moving
    # CURRENT terms
    n: float = 3.0  # path-loss exponent
    shadow_db: float = 10.0  # body shadow depth (two-state process)
    shadow_dwell_s: float = 20.0
    # FIELD terms
    carry_db: tuple[float, float] = (3.0, 10.0)  # pocket, bag, hand
    body_db: tuple[float, float] = (10.0, 25.0)  # a body in the way
    body_p: float = 0.3  # share of postures with a body in the way
    posture_s: float = 120.0  # mean time a posture holds while walking
    still_fade_s: float = 60.0  # fading correlation time while both are still
    tag_h_m: float = 1.0  # the tag's height: belt 1.0, ankle 0.1
    beacon_h_m: float = 1.0  # the beacon in a pocket or bag at the hip
    indoor_n: float = 3.0
    wall_db: tuple[float, float] = (6.0, 12.0)
    vehicle_db_m: float = 0.36
    shuffle_db: float = 10.0
    shuffle_s: float = 60.0  # people move: a new +-shuffle_db offset about this often
    edge_db: float = 10.0  # reception falls to 0 over the last edge_db above sensitivity


CURRENT = Radio()
FIELD = Radio(
    name="field",
    measured=True,
    cal_db=4.0,
    sigma=6.0,
    fade_s=2.0,
    adv_delay_ms=10.0,
    loss=0.2,
)


@dataclass(frozen=True)
class Env:
    """Where an episode happens (FIELD model): "indoor", "outdoor" or "vehicle"; walls between
    the two; both still (seated) or not; extra loss from crowding (collisions)."""

    place: str = "indoor"
    walls: int = 0
    still: bool = False
    crowd_loss: float = 0.0
    speed_cms: int = 0  # the wearer's GNSS speed (a vehicle at road speed)


def two_ray_db(d: float, ht: float, hr: float) -> float:
    """Path gain (dB, relative to 1 m) of the two-ray model: 20 dB/decade to the breakpoint
    4 ht hr / lambda, 40 dB/decade beyond."""
    d = max(d, 0.5)
    db = max(4 * ht * hr / WAVELENGTH_M, 1.0)
    if d <= db:
        return -20 * math.log10(d)
    return -20 * math.log10(db) - 40 * math.log10(d / db)


def mean_db(radio: Radio, env: Env, d: float) -> float:
    """The distance term of the model (dB relative to 1 m)."""
    d = max(d, 0.5)
    if not radio.measured:
        return -10 * radio.n * math.log10(d)
    if env.place == "outdoor":
        return two_ray_db(d, radio.tag_h_m, radio.beacon_h_m)
    if env.place == "vehicle":
        return -radio.vehicle_db_m * max(d - 1.0, 0.0)
    return -10 * radio.indoor_n * math.log10(d)


def received(radio: Radio, rng: random.Random, rssi: float, extra_loss: float = 0.0) -> bool:
    """Whether an advertisement at this RSSI is heard: lost at random, more often near the
    receiver's sensitivity (FIELD), never below it."""
    if rssi < radio.sens_dbm:
        return False
    p = 1.0 - radio.loss - extra_loss
    if radio.measured:
        p *= min(1.0, (rssi - radio.sens_dbm) / radio.edge_db)
    return rng.random() < p


class Channel:
    """One episode's radio between the beacon and the tag: call rssi(t, d) at every
    advertisement, in time order."""

    def __init__(self, radio: Radio, env: Env, rng: random.Random, t0: float) -> None:
        self.r, self.env, self.rng = radio, env, rng
        self.cal = rng.uniform(-radio.cal_db, radio.cal_db)
        self.t = t0
        self.fade = rng.gauss(0, radio.sigma)
        # CURRENT: the two-state body shadow
        self.depth = radio.shadow_db + rng.gauss(0, 2)
        self.shadowed = rng.random() < 0.5
        self.switch = t0 + rng.expovariate(1 / radio.shadow_dwell_s)
        # FIELD: posture (carry loss), walls, vehicle shuffle
        self.carry = self._posture()
        self.next_posture = math.inf if env.still else t0 + rng.expovariate(1 / radio.posture_s)
        self.walls = sum(rng.uniform(*radio.wall_db) for _ in range(env.walls))
        self.shuffle = rng.uniform(-radio.shuffle_db, radio.shuffle_db)
        self.next_shuffle = t0 + rng.expovariate(1 / radio.shuffle_s)

    def _posture(self) -> float:
        r, rng = self.r, self.rng
        loss = rng.uniform(*r.carry_db)
        if rng.random() < r.body_p:
            loss += rng.uniform(*r.body_db)
        return loss

    def rssi(self, t: float, d: float) -> float:
        r, rng, env = self.r, self.rng, self.env
        dt = max(t - self.t, 0.0)
        self.t = t
        tau = r.still_fade_s if (r.measured and env.still) else r.fade_s
        rho = math.exp(-dt / tau)
        self.fade = rho * self.fade + math.sqrt(1 - rho * rho) * rng.gauss(0, r.sigma)
        x = r.tx1m + self.cal + mean_db(r, env, d) + self.fade
        if not r.measured:
            while t > self.switch:
                self.shadowed = not self.shadowed
                self.switch += rng.expovariate(1 / r.shadow_dwell_s)
            return x - (self.depth if self.shadowed else 0.0)
        while t > self.next_posture:
            self.carry = self._posture()
            self.next_posture += rng.expovariate(1 / r.posture_s)
        x -= self.carry + self.walls
        if env.place == "vehicle":
            while t > self.next_shuffle:
                self.shuffle = rng.uniform(-r.shuffle_db, r.shuffle_db)
                self.next_shuffle += rng.expovariate(1 / r.shuffle_s)
            x += self.shuffle
        return x


T0 = 830_000_000  # 2026-04-20, seconds since 2000: any time works, the window is made for it
SECRET = bytes(range(16))


@dataclass
class Outcome:
    alert_t: float | None  # first K_NEAR, seconds after the start of the episode
    sightings: int
    scan_s: float  # seconds the tag spent scanning
    length_s: float
    events: list[tuple] = field(default_factory=list)
    low_conf: bool = False  # the first "near" was flagged F_LOW_CONF
    heard: list[int] = field(default_factory=list)  # the authenticated sightings' RSSIs


def make_proximity(profile: Profile, t0: int, hours: int = 48) -> Proximity:
    table = IdTable()
    k0 = beaconid.interval_of(t0)
    table.load(window_blob(SECRET, 0, k0 - 8, hours * 4 + 16))
    return Proximity(table, profile)


def run_episode(
    rng: random.Random,
    radio: Radio,
    profile: Profile,
    distance: Callable[[float], float | None],
    length_s: float,
    lead_s: float,
    env: Env = Env(),
) -> Outcome:
    """The tag runs from -lead_s to length_s; distance(t) is the beacon's distance in metres at
    t (None: out of the area). Returns when "near" was first raised (t >= 0) and what it cost.
    With env.speed_cms the wearer's GNSS reports that speed every 5 s (a vehicle)."""
    t0 = T0 + rng.randrange(86400)
    prox = make_proximity(profile, t0)
    ch = Channel(radio, env, rng, -lead_s)
    adv_s = radio.adv_ms / 1000
    alert_t = None
    low_conf = False
    sightings = 0
    heard: list[int] = []
    scan_s = 0.0
    events = []
    ta = -lead_s + rng.uniform(0, adv_s)  # the beacon's next advertisement
    next_fix = -lead_s
    t = -lead_s
    while t < length_s:
        start, dur_ms = prox.next_scan(t0 + math.floor(t))
        s = max(t, start - t0)
        e = s + dur_ms / 1000
        if s >= length_s:
            break
        while ta < s:  # advertisements while the tag does not listen: the channel moves on
            ch.rssi(ta, distance(ta) or 1000.0)
            ta += adv_s + rng.uniform(0, radio.adv_delay_ms / 1000)
        while ta < e:
            while env.speed_cms and next_fix <= ta:
                ft = t0 + math.floor(next_fix)
                prox.on_fix(ft, Fix(ft, 0, 0, 0, None, env.speed_cms, None, 50, 90, 8, 1, 3, 0))
                next_fix += 5
            d = distance(ta)
            rssi = ch.rssi(ta, d if d is not None else 1000.0)
            when = ta
            ta += adv_s + rng.uniform(0, radio.adv_delay_ms / 1000)
            if d is None or not received(radio, rng, rssi, env.crowd_loss):
                continue
            now = t0 + math.floor(when)
            k = beaconid.on_air(SECRET, now)[0] if radio.measured else beaconid.interval_of(now)
            if k < 0:
                continue  # the beacon's silence between two identifiers
            ident = beaconid.rolling_id(SECRET, k)
            r = max(-127, round(rssi))
            if prox.on_scan(now, b"\x00" * 6, r, build_adv(ident)) >= 0:
                sightings += 1
                heard.append(r)
        scan_s += e - s
        prox.on_scan_end(t0 + math.floor(e))
        while True:
            ev = prox.pop_event()
            if ev is None:
                break
            events.append(ev)
            if ev.kind == K_NEAR and alert_t is None and ev.t - t0 >= 0:
                alert_t = ev.t - t0
                low_conf = bool(ev.flags & F_LOW_CONF)
        t = e
    return Outcome(alert_t, sightings, scan_s, length_s + lead_s, events, low_conf, heard)


def encounter(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """The beacon appears (out of a door, around a corner) within 10 m and stays 60-300 s,
    wandering; the tag's scan phase is random."""
    stay = rng.uniform(60, 300)
    r0 = max(1.0, 10 * math.sqrt(rng.random()))
    a0 = rng.uniform(0, 2 * math.pi)
    pts = [(r0 * math.cos(a0), r0 * math.sin(a0))]
    for _ in range(int(stay / 10) + 2):  # a waypoint every 10 s, kept within 10 m
        x, y = pts[-1]
        while True:
            nx, ny = x + rng.uniform(-6, 6), y + rng.uniform(-6, 6)
            if 1 <= math.hypot(nx, ny) <= 10:
                break
        pts.append((nx, ny))

    def dist(t: float) -> float | None:
        if t < 0 or t >= stay:
            return None
        i = int(t // 10)
        f = t / 10 - i
        (x0, y0), (x1, y1) = pts[i], pts[i + 1]
        return math.hypot(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)

    out = run_episode(rng, radio, profile, dist, stay, lead_s=rng.uniform(0, 90))
    if out.alert_t is not None and out.alert_t > stay:
        out.alert_t = None
    return out


def passing(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """The beacon passes at 30-50 m (closest approach), walking, from 150 m before to 150 m
    after; pauses of up to a minute on the way."""
    b = rng.uniform(30, 50)
    v = rng.uniform(0.8, 1.5)
    pause_at = rng.uniform(-40, 40)  # metres along the path
    pause = rng.uniform(0, 60)

    def dist(t: float) -> float | None:
        x = -150 + v * t
        if x > pause_at:
            x = max(pause_at, -150 + v * (t - pause))
        return math.hypot(b, x)

    length = 300 / v + pause
    return run_episode(rng, radio, profile, dist, length, lead_s=rng.uniform(0, 60))


def lingering(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """The beacon stays 10-60 min at 30-50 m (a neighbour's flat, the next table in a cafe):
    not what the targets are set for, reported to show where the Bluetooth rule ends."""
    b = rng.uniform(30, 50)
    stay = rng.uniform(600, 3600)
    return run_episode(rng, radio, profile, lambda t: b, stay, lead_s=rng.uniform(0, 60))


@dataclass
class Figures:
    detected: float  # fraction of encounters that raised "near"
    delay_median: float
    delay_p90: float
    delay_p95: float
    false_per_day: float  # any "near" from a pass
    passes_per_day: int
    encounters: int
    passes: int
    scan_duty_idle: float  # fraction of time scanning with nothing around
    silent_per_day: float = 0.0  # ... of which not flagged low confidence


def measure(
    radio: Radio,
    profile: Profile,
    encounters: int,
    passes: int,
    seed: int = 1,
    passes_per_day: int = 48,
) -> Figures:
    rng = random.Random(seed)
    delays = []
    for _ in range(encounters):
        o = encounter(rng, radio, profile)
        if o.alert_t is not None:
            delays.append(o.alert_t)
    false = silent = 0
    for _ in range(passes):
        o = passing(rng, radio, profile)
        if o.alert_t is not None:
            false += 1
            silent += not o.low_conf
    delays.sort()
    idle = run_episode(rng, radio, profile, lambda t: None, 3600, 0)

    def pct(q: float) -> float:
        # Over all encounters: one that never alerted counts as infinitely late.
        j = int(q * encounters)
        return delays[j] if j < len(delays) else math.inf

    return Figures(
        detected=len(delays) / encounters,
        delay_median=pct(0.5),
        delay_p90=pct(0.9),
        delay_p95=pct(0.95),
        false_per_day=false / passes * passes_per_day,
        passes_per_day=passes_per_day,
        encounters=encounters,
        passes=passes,
        scan_duty_idle=idle.scan_s / idle.length_s,
        silent_per_day=silent / passes * passes_per_day,
    )


# -- the FIELD model's conditions (Env per episode) --

CONDITIONS = ("walking", "seated", "bag", "outdoor", "8-10 m")


def _wander(rng: random.Random, stay: float, rmin: float, rmax: float) -> Callable:
    # A waypoint every 10 s, kept between rmin and rmax metres from the tag.
    r0 = rng.uniform(rmin, rmax)
    a0 = rng.uniform(0, 2 * math.pi)
    pts = [(r0 * math.cos(a0), r0 * math.sin(a0))]
    for _ in range(int(stay / 10) + 2):
        x, y = pts[-1]
        while True:
            nx, ny = x + rng.uniform(-6, 6), y + rng.uniform(-6, 6)
            if rmin <= math.hypot(nx, ny) <= rmax:
                break
        pts.append((nx, ny))

    def dist(t: float) -> float | None:
        if t < 0 or t >= stay:
            return None
        i = int(t // 10)
        f = t / 10 - i
        (x0, y0), (x1, y1) = pts[i], pts[i + 1]
        return math.hypot(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)

    return dist


def field_encounter(rng: random.Random, radio: Radio, profile: Profile, cond: str) -> Outcome:
    """An encounter of 60-300 s within 10 m under one condition: walking indoors (the beacon
    carried, postures changing), seated (both still: posture and fading held), beacon in a bag
    (its loss at the top of the carry range, a body in the way half the time), outdoors
    (two-ray), or at 8-10 m."""
    stay = rng.uniform(60, 300)
    r = radio
    env = Env("indoor")
    rmin, rmax = 1.0, 10.0
    if cond == "seated":
        env = Env("indoor", still=True)
        d0 = rng.uniform(1.0, 10.0)

        def dist(t: float) -> float | None:
            return d0 if 0 <= t < stay else None

    else:
        if cond == "bag":
            r = replace(radio, carry_db=(7.0, 10.0), body_p=0.5)
        elif cond == "outdoor":
            env = Env("outdoor")
        elif cond == "8-10 m":
            rmin = 8.0
        dist = _wander(rng, stay, rmin, rmax)
    out = run_episode(rng, r, profile, dist, stay, lead_s=rng.uniform(0, 90), env=env)
    if out.alert_t is not None and out.alert_t > stay:
        out.alert_t = None
    return out


def field_pass(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """Outdoors (two-ray), the beacon walks by at 15-50 m (closest), 0.8-1.5 m/s, pausing up to
    a minute: 48 a day."""
    b = rng.uniform(15, 50)
    v = rng.uniform(0.8, 1.5)
    pause_at = rng.uniform(-40, 40)
    pause = rng.uniform(0, 60)

    def dist(t: float) -> float | None:
        x = -150 + v * t
        if x > pause_at:
            x = max(pause_at, -150 + v * (t - pause))
        return math.hypot(b, x)

    length = 300 / v + pause
    return run_episode(rng, radio, profile, dist, length, rng.uniform(0, 60), Env("outdoor"))


def neighbour(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """The beacon 15-30 m away through one or two walls for 10-60 min, both still (a
    neighbour's flat): one a day."""
    b = rng.uniform(15, 30)
    stay = rng.uniform(600, 3600)
    env = Env("indoor", walls=rng.choice((1, 2)), still=True)
    return run_episode(rng, radio, profile, lambda t: b, stay, rng.uniform(0, 60), env)


def bus_ride(rng: random.Random, radio: Radio, profile: Profile) -> Outcome:
    """The beacon 10-15 m away in the same bus for 10-40 min, both moving at road speed; the
    bus is crowded (a third more advertisements lost to collisions): one a day."""
    b = rng.uniform(10, 15)
    stay = rng.uniform(600, 2400)
    env = Env("vehicle", crowd_loss=0.3, speed_cms=rng.randrange(600, 1400))
    return run_episode(rng, radio, profile, lambda t: b, stay, rng.uniform(0, 60), env)


@dataclass
class FieldFigures:
    detected: dict[str, float]  # per condition
    p95: dict[str, float]  # s, an encounter never alerted counts as infinitely late
    detected_all: float
    p95_all: float
    pass_silent: float  # false "near" a day from passes (48), unflagged
    pass_flagged: float  # ... flagged low confidence
    neighbour: float  # share of neighbour episodes raising "near"
    neighbour_silent: float  # ... an unflagged one
    bus_silent: float  # share of bus rides raising an unflagged "near"
    bus_flagged: float
    silent_per_day: float  # 48 passes + one neighbour episode + one bus ride
    flagged_per_day: float
    confident: dict[str, float] = field(default_factory=dict)  # per condition, not flagged


def _p95(delays: list[float], n: int) -> float:
    delays = sorted(delays)
    j = int(0.95 * n)
    return delays[j] if j < len(delays) else math.inf


def measure_field(
    radio: Radio, profile: Profile, per_condition: int, passes: int, others: int, seed: int = 1
) -> FieldFigures:
    rng = random.Random(seed)
    det: dict[str, float] = {}
    p95: dict[str, float] = {}
    every: list[float] = []
    conf: dict[str, float] = {}
    for cond in CONDITIONS:
        delays = []
        sure = 0
        for _ in range(per_condition):
            o = field_encounter(rng, radio, profile, cond)
            if o.alert_t is not None:
                delays.append(o.alert_t)
                sure += not o.low_conf
        det[cond] = len(delays) / per_condition
        conf[cond] = sure / per_condition
        p95[cond] = _p95(delays, per_condition)
        every += delays
    silent = flagged = 0
    for _ in range(passes):
        o = field_pass(rng, radio, profile)
        if o.alert_t is not None:
            flagged += o.low_conf
            silent += not o.low_conf
    ns = nf = 0
    for _ in range(others):
        o = neighbour(rng, radio, profile)
        if o.alert_t is not None:
            nf += o.low_conf
            ns += not o.low_conf
    bs = bf = 0
    for _ in range(others):
        o = bus_ride(rng, radio, profile)
        if o.alert_t is not None:
            bf += o.low_conf
            bs += not o.low_conf
    ps, pf = 48 * silent / passes, 48 * flagged / passes
    return FieldFigures(
        det,
        p95,
        len(every) / (per_condition * len(CONDITIONS)),
        _p95(every, per_condition * len(CONDITIONS)),
        ps,
        pf,
        (ns + nf) / others,
        ns / others,
        bs / others,
        bf / others,
        ps + (ns + bs) / others,
        pf + (nf + bf) / others,
        conf,
    )

"""The virtual clock: the world and the tag advance together, event by event.

While the tag's receiver is powered the world steps one second at a time (each second is one
NMEA epoch delivered over the UART). While it is off, the clock jumps straight to the earliest
of: the wake time the tag asked for, a world event (tamper, coverage or charger edge), the
battery running out, the end of the run. A day in deep sleep costs a handful of iterations.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from tagcore.app import config as appconfig
from tagcore.gnss import profile as gnssprofile

from tagsim import geo, runtime, taglines
from tagsim.power import PowerMeter
from tagsim.radio import BeaconRadio
from tagsim.receiver import OFF, Receiver
from tagsim.scenario import Scenario, Window, seal_identity
from tagsim.truth import Trajectory
from tagsim.uart import Uart
from tagsim.uplinklink import LinkModel, SimServer

BATTERY_SAMPLE_S = 300
REVIVE_PCT = 2.0  # a dead tag boots again once the charger has put this much back


@dataclass
class RunLog:
    tag_lines: list[tuple[int, str]] = field(default_factory=list)  # (t, event line) from the tag
    world: list[dict[str, Any]] = field(default_factory=list)  # what the world did
    battery: list[tuple[int, float]] = field(default_factory=list)
    scans: list[tuple[int, float, int | None]] = field(default_factory=list)  # t, true m, rssi
    gnss_seconds: dict[str, int] = field(default_factory=lambda: {"acquiring": 0, "tracking": 0})
    # the model plan (gnss_plan 1): seconds the receiver spent in each power mode, by state
    gnss_mode_s: dict[str, int] = field(default_factory=dict)
    scan_s: float = 0.0  # seconds the BLE radio listened
    iterations: int = 0
    end: int = 0
    died_at: int | None = None
    out_of_memory: str | None = None  # where the MicroPython tag hit a MemoryError (it died)


@dataclass
class Run:
    scenario: Scenario
    truth: Trajectory
    beacon_truth: Trajectory | None
    log: RunLog
    power: PowerMeter
    receiver: Receiver
    uart: Uart
    runtime: str
    # [server] runs: what the real server holds at the end (SimServer.view) and the link's counts
    server: dict[str, Any] | None = None
    link_counts: dict[str, int] | None = None


def _next_edge(windows: tuple[Window, ...], t: int) -> int:
    """The first time after t at which any window starts or ends."""
    best = math.inf
    for w in windows:
        if w.daily:
            day = t - t % 86400
            for edge in (w.start, w.end):
                e = day + edge
                while e <= t:
                    e += 86400
                best = min(best, e)
        else:
            for e in (w.start, w.end):
                if e > t:
                    best = min(best, e)
    return int(best) if best != math.inf else 1 << 62


def _victim_fix(tr: Trajectory, t: int, rng: random.Random) -> tuple[int, int, int]:
    """The victim's position as her phone reports it: truth plus ~10 m of error (microdegrees,
    accuracy in decimetres), measured a minute before it reaches the tag."""
    p = tr.at(t - 60)
    e, n = rng.gauss(0, 7), rng.gauss(0, 7)
    lat, lon = geo.offset(p.lat, p.lon, e, n)
    return round(lat * 1e6), round(lon * 1e6), 100


def _gnss_off(rx: Receiver, state: str, t: int, world: list[dict[str, Any]]) -> str:
    if state != OFF:
        rx.power(False, t)
        world.append({"t": t, "ev": "gnss_off"})
    return OFF


def _inside(windows: tuple[Window, ...], t: int) -> bool:
    return any(w.contains(t) for w in windows)


def run(
    sc: Scenario,
    runtime_name: str = "cpython",
    zones: object = None,
    proximity: object = None,
    max_jump_s: int = 1 << 62,
    tag: runtime.Tag | None = None,
    ttff: str = "datasheet",
    server: SimServer | None = None,
) -> Run:
    """Run a scenario. max_jump_s=1 turns the event-driven clock into a naive 1 Hz one (the
    benchmark's reference): the tag is woken every second whether it asked or not. `tag`: a
    runtime.Tag made by the caller instead of runtime_name's default one (with [server], made
    with uplink=(tag id, key)). ttff: the simulated receiver's TTFF model ("datasheet" or
    "field"). `server`: with [server], a SimServer the caller keeps running after the run (else
    one is started here and stopped at the end).

    With the tag's gnss_plan 1 (and a receiver family the core drives) the tag's receiver
    commands and rail actions are carried out through the simulated receiver (it reads the
    bytes with pyubx2/pynmea2): the world steps a second at a time while the tag listens or the
    receiver runs, the MCU sleeps while it runs between fixes, and TTFF follows the start the
    mode really gives (hot after backup, cold after a rail cut without backup)."""
    truth = Trajectory(sc.itinerary, sc.places, sc.start, sc.seed)
    btruth = None
    radio = None
    if sc.beacon is not None:
        btruth = Trajectory(sc.beacon.itinerary, sc.places, sc.start, sc.seed + 7)
        radio = BeaconRadio(sc.beacon, sc.seed + 11)
    rx = Receiver(sc.board.gnss, sc.seed + 1, ttff)
    rx.attacks = sc.attacks  # foil, jammers, spoofers act on its signals (tagsim.attacks)
    vrng = random.Random(sc.seed + 13)
    uart = Uart(sc.board.gnss.baud, sc.chunk_bytes, sc.line_noise, sc.seed + 3)
    pm = PowerMeter(sc.board, sc.battery_mah, sc.battery_initial_pct, sc.tag.uplink)
    log = RunLog()
    backup = sc.board.gnss.backup_supply
    settings = dict(sc.tag.settings)
    settings.setdefault("battery_mah", int(sc.battery_mah))  # the tag knows its cell
    cfg = appconfig.TagConfig(**settings)
    plan = bool(cfg.gnss_plan) and sc.board.gnss.family in gnssprofile.DRIVERS
    sl = sc.server
    creds = (sl.tag_id, sl.key) if sl is not None else None
    if tag is None:
        heap = runtime.heap_for(sc.board)  # the heap the board gives MicroPython
        rom = runtime.romfs_for(sc.board)  # and how its deploy puts the core there
        tag = runtime.make(
            runtime_name, zones, proximity, heap=heap, romfs=rom, uplink=creds,
            seal=seal_identity(sc),
        )  # fmt: skip
    else:  # a tag made by the caller (a MicroPython one with another heap cap, say)
        runtime_name = type(tag).__name__
    end = sc.start + sc.duration
    t = sc.start
    world = log.world

    last_victim = [-1]  # when the victim's position was last brought down
    # [server]: the tag's requests go over the link model to the real server; the one in
    # flight is answered at inflight[0] (reply bytes, or None: lost, refused, no coverage).
    srv = server
    link: LinkModel | None = None
    inflight: list[Any] = []
    if sl is not None:
        try:
            if srv is None:
                srv = SimServer(sl.db_url)
            seal = getattr(tag, "seal", None)  # its k0, if it seals: the server checks its seals
            srv.provision(
                sl.tag_id, sl.key, sc.tag.upload_interval_s, sc.name, seal[1] if seal else None
            )
        except BaseException:  # a database the run cannot use: nothing left running
            if srv is not None and server is None:
                srv.stop()
            tag.close()
            raise
        gaps = sc.coverage_gaps
        link = LinkModel(
            sl.latency_s,
            sl.loss,
            timeout_s=sl.timeout_s,
            seed=sc.seed + 17,
            in_gap=lambda x: _inside(gaps, int(x)),
        )

    def send(body: bytes, now: int) -> None:
        assert link is not None and srv is not None
        on_air = link.covered(now)  # the modem sent it (lost or not): its energy is spent
        reply, done = link.exchange(now, body, srv.post)
        inflight[:] = [max(math.ceil(done), now + 1), reply, on_air]

    def scan_second(t: int, scan_end: int) -> int | None:
        # One second of a running scan: the tag gets what it heard; None once the scan ended.
        now_heard = [a for ta, a in heard if ta == t]
        done = t + 1 >= scan_end
        if now_heard or done:
            emit(tag.scan(t, now_heard, done), t)
        return None if done else scan_end

    def emit(lines: list[str], now: int, sent: bool = False) -> None:
        """The tag's event lines at `now`. sent: its failed upload (U 0) did go on air."""
        req = tag.request if link is not None else None  # made by the call that gave `lines`
        ok = False
        for ln in lines:
            log.tag_lines.append((now, ln))
            u = taglines.parse(ln) if ln.startswith("U ") else None
            if isinstance(u, taglines.Upload):
                # no link, nothing sent (unless a [server] exchange went out and failed)
                pm.upload(u.status != taglines.UPLOAD_NO_LINK or sent)
                ok = ok or u.acked
        # A successful upload brings the victim's latest position back (once a second at most:
        # an alert it causes uploads again).
        if ok and btruth is not None and sc.beacon is not None and sc.beacon.victim_gnss:
            if last_victim[0] != now:
                last_victim[0] = now
                lat, lon, acc = _victim_fix(btruth, now, vrng)
                emit(tag.victim(now, lat, lon, acc), now)
        if req is not None and not inflight:
            send(req, now)

    def apply_actions(now: int) -> None:
        # the tag's receiver commands and rail actions, in order (the model plan)
        for kind, val in tag.take_gnss_actions():
            if kind == "uart":
                assert not isinstance(val, bool)  # a uart action carries the bytes to write
                rx.write(val, now)
            elif val and rx.state == OFF:
                rx.power(True, now)
                world.append({"t": now, "ev": "gnss_on", "start": rx.start_kind})
            elif not val and rx.state != OFF:
                rx.power(False, now)
                world.append({"t": now, "ev": "gnss_off"})

    # the board: the model plan's receiver driver and energy model; the fixed plan's cold TTFF
    tag.use_board(sc.board.raw)
    try:
        emit(tag.boot(cfg, t), t)
        alive = True
        link_up = True
        charging = _inside(sc.charging, t)
        tampers = list(sc.tamper)
        last_pct = -1
        last_sample = -BATTERY_SAMPLE_S
        rx_state = OFF
        running = False  # the model plan: the receiver runs (the world must step)
        awake = False  # the model plan: the MCU read epochs the second before (not asleep)
        # How the MCU sleeps through a jump: deep or light, decided as it went to sleep (the
        # core's rule, tag.deep, as the device shell decides it); None: awake since.
        asleep_deep: bool | None = None
        scan_end: int | None = None  # a scan is running until then
        heard: list[tuple[int, runtime.Adv]] = []  # its advertisements received, by second
        while t < end:
            log.iterations += 1
            if srv is not None and link is not None:
                srv.tick(t)  # the server's own rules run on, tag dead or alive
            # -- the world at t ------------------------------------------------------------
            ch = _inside(sc.charging, t)
            if ch != charging:
                charging = ch
                world.append({"t": t, "ev": "charger", "on": ch})
            up = not _inside(sc.coverage_gaps, t)
            if t - last_sample >= BATTERY_SAMPLE_S:
                log.battery.append((t, round(pm.pct, 2)))
                last_sample = t
            if not alive:
                if charging and pm.pct >= REVIVE_PCT:
                    alive = True
                    world.append({"t": t, "ev": "boot", "battery_pct": round(pm.pct, 1)})
                    inflight.clear()  # the old request died with the tag's RAM
                    emit(tag.reboot(t), t)
                    link_up, last_pct = True, -1
                else:
                    nxt = min(_next_edge(sc.charging, t), end)
                    if charging:  # time until REVIVE_PCT is reached
                        need = (REVIVE_PCT / 100 * pm.capacity - pm.charge) * 3600 / sc.charge_ma
                        nxt = min(nxt, t + max(1, math.ceil(need)))
                        pm.charge_for(sc.charge_ma, nxt - t)
                    t = nxt
                    continue
            if up != link_up:
                link_up = up
                world.append({"t": t, "ev": "coverage", "up": up})
                emit(tag.link(t, up), t)
            while tampers and tampers[0][0] <= t:
                asleep_deep = None  # the tamper input wakes the MCU
                _, kind = tampers.pop(0)
                world.append({"t": t, "ev": "tamper", "kind": kind})
                emit(tag.tamper(t, kind), t)
            pct = max(0, min(100, int(pm.pct)))
            if pct != last_pct:
                last_pct = pct
                emit(tag.battery(t, pct), t)
            # -- the tag ---------------------------------------------------------------------
            if inflight and t >= inflight[0]:  # the uplink exchange is over: its answer
                reply, on_air = inflight[1], inflight[2]
                inflight.clear()
                if reply is None:
                    emit(tag.uplink_failed(t), t, on_air)
                else:
                    emit(tag.uplink_reply(t, reply), t)
            if t >= tag.wake_at:
                asleep_deep = None
                if not awake:  # a wake from deep sleep (not a timer while reading epochs)
                    pm.wake()
                emit(tag.wake(t), t)
            if tag.want_scan and scan_end is None:  # a scan of scan_ms starts now
                pm.scan(tag.scan_ms / 1000)
                log.scan_s += tag.scan_ms / 1000
                scan_end = t + max(1, math.ceil(tag.scan_ms / 1000))
                heard = []
                if radio is not None and btruth is not None:
                    for ta, d, r, addr, adv in radio.scan(t, tag.scan_ms, truth, btruth):
                        log.scans.append((int(ta), round(d, 1), r))
                        if r is not None:
                            heard.append((int(ta), (addr, r, adv)))
            if plan:
                apply_actions(t)
                running = rx.state != OFF and not (rx.asleep and rx.wake_at is None)
            if plan and (tag.gnss_listen or running or scan_end is not None):
                listen = tag.gnss_listen
                asleep_deep = None
                # not reading epochs, the MCU sleeps as the rule says (light while the receiver
                # runs or sleeps in backup); a scan's figure is the whole ESP32, CPU included
                pm.deep = tag.deep or scan_end is not None
                if rx.state != OFF:
                    ep = rx.epoch(truth.at(t), not listen)
                    st = "asleep" if rx.asleep else rx.state
                    key = st if st == "asleep" else st + " " + rx.power_mode
                    log.gnss_mode_s[key] = log.gnss_mode_s.get(key, 0) + 1
                    if st != "asleep":
                        log.gnss_seconds[st] += 1
                        pm.gnss_second(st, rx.power_mode, listen)
                    else:
                        pm.sleep_gnss(1, sc.board.current_ma["gnss"]["backup"])
                        if listen:  # the MCU waits for the receiver's silence: awake
                            pm.mcu_listen(1)
                    data = ep.data
                else:
                    pm.sleep_gnss(1, pm.gnss_off_ma())
                    if listen:
                        pm.mcu_listen(1)
                    data = b""
                awake = listen or scan_end is not None
                if listen:  # the MCU reads the epoch (an empty one: the timeouts run)
                    emit(tag.uart(t, uart.chunks(data) if data else []), t)
                if scan_end is not None:
                    scan_end = scan_second(t, scan_end)
                if charging:
                    pm.charge_for(sc.charge_ma, 1)
                t += 1
            elif plan:  # receiver off or asleep until woken, MCU asleep: jump
                awake = False
                if asleep_deep is None:
                    asleep_deep = tag.deep
                pm.deep = asleep_deep
                g_ma = sc.board.current_ma["gnss"]["backup"]  # asleep on its rail
                if rx.state == OFF:
                    g_ma = pm.gnss_off_ma()
                nxt = min(
                    tag.wake_at, _next_edge(sc.charging, t), _next_edge(sc.coverage_gaps, t), end
                )
                if tampers:
                    nxt = min(nxt, tampers[0][0])
                nxt = max(min(nxt, t + max_jump_s), t + 1)
                net = pm.sleep_gnss_ma(g_ma) - (sc.charge_ma if charging else 0.0)
                if net > 0:
                    step = pm.capacity / 100
                    to_next = pm.charge - (math.ceil(pm.charge / step) - 1) * step
                    nxt = min(nxt, t + max(1, math.ceil(to_next * 3600 / net)))
                nxt = min(nxt, t + BATTERY_SAMPLE_S) if charging else nxt
                pm.sleep_gnss(nxt - t, g_ma)
                if charging:
                    pm.charge_for(sc.charge_ma, nxt - t)
                t = nxt
            elif tag.gnss_on or scan_end is not None:  # awake: the world steps one second
                asleep_deep = None
                pm.deep = True  # the MCU reads epochs, or scans (the whole chip's figure)
                if tag.gnss_on:
                    rx.power(True, t)
                    if rx_state == OFF:
                        world.append({"t": t, "ev": "gnss_on", "start": rx.start_kind})
                    ep = rx.epoch(truth.at(t))
                    rx_state = rx.state
                    log.gnss_seconds[rx_state] += 1
                    pm.gnss_second(rx_state)
                    emit(tag.uart(t, uart.chunks(ep.data)), t)
                else:
                    rx_state = _gnss_off(rx, rx_state, t, world)
                    pm.sleep(1, backup)  # the scan's own cost was drawn when it started
                if scan_end is not None:
                    scan_end = scan_second(t, scan_end)
                if charging:
                    pm.charge_for(sc.charge_ma, 1)
                t += 1
            else:
                rx_state = _gnss_off(rx, rx_state, t, world)
                if asleep_deep is None:  # asleep until woken: deep or light, by the rule
                    asleep_deep = tag.deep
                pm.deep = asleep_deep
                nxt = min(
                    tag.wake_at, _next_edge(sc.charging, t), _next_edge(sc.coverage_gaps, t), end
                )
                if tampers:
                    nxt = min(nxt, tampers[0][0])
                if inflight:
                    nxt = min(nxt, inflight[0])
                nxt = max(min(nxt, t + max_jump_s), t + 1)
                net = pm.sleep_ma(backup) - (sc.charge_ma if charging else 0.0)
                if net > 0:  # stop where the battery would cross the next whole percent
                    step = pm.capacity / 100
                    to_next = pm.charge - (math.ceil(pm.charge / step) - 1) * step
                    nxt = min(nxt, t + max(1, math.ceil(to_next * 3600 / net)))
                nxt = min(nxt, t + BATTERY_SAMPLE_S) if charging else nxt
                pm.sleep(nxt - t, backup)
                if charging:
                    pm.charge_for(sc.charge_ma, nxt - t)
                t = nxt
            if pm.empty:
                alive = False
                scan_end = None
                inflight.clear()
                pm.charge = 0.0
                log.died_at = log.died_at or t
                world.append({"t": t, "ev": "battery_empty"})
                if rx_state != OFF or rx.state != OFF:
                    rx.power(False, t)
                    rx_state = OFF
        log.battery.append((t, round(pm.pct, 2)))
        log.end = t
    except runtime.TagOutOfMemory as e:  # on its board the tag would die here: so it does
        log.out_of_memory = e.where
        world.append({"t": t, "ev": "out_of_memory", "where": e.where})
        log.battery.append((t, round(pm.pct, 2)))
        log.end = t
    finally:
        tag.close()
        view = srv.view(sl.tag_id) if srv is not None and sl is not None else None
        if srv is not None and server is None:
            srv.stop()
    counts = dict(link.counts) if link is not None else None
    return Run(sc, truth, btruth, log, pm, rx, uart, runtime_name, view, counts)

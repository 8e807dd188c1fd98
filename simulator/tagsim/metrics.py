"""Measured outcomes of a run: truth (what really happened) against what the tag reported.

Zone truth comes from the 1 Hz trajectory tested against the zones with shapely, during each
zone's active UTC windows (the host's schedule expansion over the run, as the tag's blob has
them); alerts come from the stream the tag produced ("A" lines from tagcore.zones.monitor,
"P" from tagcore.proximity.monitor). Alerts are matched as (t, id, code): code 1 = a
confirmed breach (A_BREACH) or a proximity alert kind; the rest (ends, loss of location,
approach) is not matched. Without a zone or proximity core in the run the metrics that need it
are None.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from tagcore.proximity.monitor import K_GNSS_IN, K_NEAR, Profile
from tagcore.zones.monitor import A_APPROACH, A_BREACH, A_LOC_LOST
from taghost.units import offset_m

from tagsim import taglines as L
from tagsim.engine import Run
from tagsim.geo import M_PER_DEG
from tagsim.runtime import heap_for
from tagsim.scenario import EXPECT_KEYS, Scenario, Zone
from tagsim.truth import Trajectory

EARLY_S = 120  # an alert this much before the truth entry still counts (fix noise near an edge)
MATCH_S = 1800  # an alert later than this after the entry does not explain it
MERGE_S = 300  # beacon contacts this close together are one encounter
PROX_ALERT_KINDS = (K_NEAR, K_GNSS_IN)
VICTIM_ZONE_M = Profile().excl_m  # the core's GNSS exclusion radius around the victim (500 m)


@dataclass(frozen=True)
class TruthEvent:
    t: int
    id: int
    kind: str  # "entry" (exclusion), "curfew" (outside an inclusion zone on schedule), "encounter"
    until: int | None = None  # when the episode ended (None: still on at the end of the run)


def truth_series(tr: Trajectory, t0: int, t1: int) -> dict[str, np.ndarray]:
    pts = [tr.at(t) for t in range(t0, t1)]
    return {
        "t": np.arange(t0, t1, dtype=np.int64),
        "lat": np.fromiter((p.lat for p in pts), float, len(pts)),
        "lon": np.fromiter((p.lon for p in pts), float, len(pts)),
    }


def _rising(mask: np.ndarray) -> np.ndarray:
    """Indices where mask turns True (index 0 counts when it starts True)."""
    m = mask.astype(np.int8)
    return np.flatnonzero(np.diff(np.concatenate(([0], m))) == 1)


def _episode_end(mask: np.ndarray, i: int, ts: np.ndarray) -> int | None:
    """The time the episode starting at index i ends (first False after it), or None."""
    rest = mask[i:]
    if rest.all():
        return None
    return int(ts[i + int(np.argmin(rest))])


Windows = dict[int, list[tuple[int, int]] | None]  # zone id: active UTC windows, None: always


def _scheduled(win: list[tuple[int, int]] | None, ts: np.ndarray) -> np.ndarray:
    if win is None:
        return np.ones(len(ts), bool)
    if not win:
        return np.zeros(len(ts), bool)
    w = np.asarray(win, np.int64)
    k = np.searchsorted(w[:, 1], ts, side="right")  # first window ending after t
    kk = np.minimum(k, len(w) - 1)
    return (k < len(w)) & (w[kk, 0] <= ts)


def zone_truth(
    zones: tuple[Zone, ...], ser: dict[str, np.ndarray], windows: Windows | None = None
) -> list[TruthEvent]:
    out = []
    for z in zones:
        inside = shapely.contains_xy(z.geometry, ser["lon"], ser["lat"])
        on = _scheduled((windows or {}).get(z.id), ser["t"])
        if z.kind == "exclusion":
            bad, kind = inside & on, "entry"
        else:
            bad, kind = ~inside & on, "curfew"
        out += [
            TruthEvent(int(ser["t"][i]), z.id, kind, _episode_end(bad, i, ser["t"]))
            for i in _rising(bad)
        ]
    return sorted(out, key=lambda e: e.t)


def unseen_entries(
    zones: tuple[Zone, ...], truth: list[TruthEvent], fixes: list[L.FixStored], end: int
) -> int:
    """Exclusion-zone entries with not one stored fix inside the zone during the episode (a
    drive-through the tag never saw)."""
    geom = {z.id: z.geometry for z in zones}
    ts = np.array([f.t for f in fixes], dtype=np.int64)
    lat = np.array([f.lat / 1e6 for f in fixes])
    lon = np.array([f.lon / 1e6 for f in fixes])
    n = 0
    for ev in truth:
        if ev.kind != "entry":
            continue
        on = (ts >= ev.t) & (ts <= (ev.until if ev.until is not None else end))
        if not on.any() or not shapely.contains_xy(geom[ev.id], lon[on], lat[on]).any():
            n += 1
    return n


def encounter_truth(
    tag: dict[str, np.ndarray],
    beacon: dict[str, np.ndarray],
    near_m: float,
    bid: int = 0,
    kind: str = "encounter",
) -> list[TruthEvent]:
    """Episodes of the beacon within near_m of the wearer; contacts less than MERGE_S apart
    are one episode."""
    lat0 = np.radians(tag["lat"])  # units.offset_m over the arrays: from the wearer
    dn = (beacon["lat"] - tag["lat"]) * M_PER_DEG
    de = (beacon["lon"] - tag["lon"]) * M_PER_DEG * np.cos(lat0)
    close = np.hypot(de, dn) < near_m
    out: list[TruthEvent] = []
    for i in _rising(close):
        t = int(tag["t"][i])
        end = _episode_end(close, i, tag["t"])
        if out and out[-1].until is not None and t - out[-1].until <= MERGE_S:
            out[-1] = TruthEvent(out[-1].t, bid, kind, end)  # the same encounter goes on
        else:
            out.append(TruthEvent(t, bid, kind, end))
    return out


def match_alerts(truth: list[TruthEvent], alerts: Sequence[tuple[int, ...]]) -> dict[str, Any]:
    """Pair each truth event with the first unused alert for the same id (code 1) in
    [t - EARLY_S, t + MATCH_S]. alerts: (t, id, code). An unpaired alert while an episode of the
    same id is still on (up to EARLY_S either side) is a repeat; any other is false."""
    used = [False] * len(alerts)
    delays = []
    pairs = []
    missed = 0
    for ev in truth:
        for k, (t, aid, code, *_) in enumerate(alerts):
            if not used[k] and code == 1 and aid == ev.id and ev.t - EARLY_S <= t <= ev.t + MATCH_S:
                used[k] = True
                delays.append(max(0, t - ev.t))
                pairs.append((ev.t, t))
                break
        else:
            missed += 1
    repeats = false = 0
    for k, (t, aid, code, *_) in enumerate(alerts):
        if code != 1 or used[k]:
            continue
        during = any(
            ev.id == aid and ev.t - EARLY_S <= t and (ev.until is None or t <= ev.until + EARLY_S)
            for ev in truth
        )
        if during:
            repeats += 1
        else:
            false += 1
    return {
        "detected": len(delays),
        "missed": missed,
        "false": false,
        "repeats": repeats,
        "delay_max_s": max(delays) if delays else None,
        "delay_median_s": statistics.median(delays) if delays else None,
        "delays_s": delays,
        "pairs": pairs,  # (truth time, alert time) of each detected event
    }


def _pct(xs: list[float], q: float) -> float | None:
    return float(np.percentile(xs, q)) if xs else None


def _alerts(lines: list[tuple[int, str]], tag: str) -> list[tuple[int, int, int, int]]:
    """(t, id, code, kind) of the tag's "A" (zone: `A zone kind ...`) or "P" (proximity:
    `P beacon kind ...`) lines; code 1 for a confirmed zone breach or the proximity core's alert
    kinds (K_NEAR, K_GNSS_IN), 0 for the rest."""
    out = []
    if tag == "A":
        for t, a in L.records(lines, L.ZoneAlert):
            out.append((t, a.zone, 1 if a.kind == A_BREACH else 0, a.kind))
    else:
        for t, p in L.records(lines, L.ProximityEvent):
            out.append((t, p.beacon, 1 if p.kind in PROX_ALERT_KINDS else 0, p.kind))
    return out


def server_delays(pairs: list[tuple[int, int]], lines: list[tuple[int, str]]) -> list[int]:
    """Seconds from each true event to the first acknowledged upload at or after its alert was
    stored (the alert is then at the monitoring centre); an alert never uploaded is left out."""
    ups = L.acked_uploads(lines)
    out = []
    for t_true, t_alert in pairs:
        k = int(np.searchsorted(ups, t_alert))
        if k < len(ups):
            out.append(max(0, ups[k] - t_true))
    return out


# Alerts the tag stores for the server, by event line: tamper, proximity alert kinds, confirmed
# zone breaches and loss of location (the zone monitor's A_BREACH, A_LOC_LOST), and without a
# zone core the app's own "L" (EV_LOC_LOST).
def stored_alerts(lines: list[tuple[int, str]], zones: bool = False) -> list[tuple[int, str]]:
    """(time stored, event code) of every alert the tag stored for the server. zones: a zone
    core ran (its monitor, not the app's "L", decides loss of location)."""
    out = []
    for t, r in L.records(lines):
        c = type(r)
        if c is L.Tamper or (c is L.LocLost and not zones):
            out.append((t, L.code(r)))
        elif isinstance(r, L.ProximityEvent) and r.kind in PROX_ALERT_KINDS:
            out.append((t, "P"))
        elif isinstance(r, L.ZoneAlert) and r.kind in (A_BREACH, A_LOC_LOST):
            out.append((t, "A"))
    return out


def alert_upload_delays(lines: list[tuple[int, str]], zones: bool = False) -> list[int]:
    """Seconds from each stored alert to the first acknowledged upload at or after it (the
    alert is then at the server); an alert never uploaded is left out."""
    ups = L.acked_uploads(lines)
    out = []
    for t, _ in stored_alerts(lines, zones):
        k = int(np.searchsorted(ups, t))
        if k < len(ups):
            out.append(ups[k] - t)
    return out


SERVER_KEYS = (
    "fixes_delivered",
    "fixes_delivered_pct",
    "records_at_server",
    "records_stored_twice",
    "records_not_from_tag",
    "alerts_at_server",
    "alert_to_server_max_s",
    "alert_to_server_median_s",
    "server_acked",
    "comm_lost_alerts",
)


def server_figures(run: Run) -> dict[str, Any]:
    """What the real server holds at the end of a [server] run (Run.server, read from its
    database), against what the tag stored: fixes delivered, each record once, and "alert to
    server": from the tag's alert event (its time) to the server's alert row (its receive
    time, the run's virtual clock)."""
    v = run.server
    if v is None:
        return {}
    tag_fixes = {int(ln.split()[7]) for _, ln in run.log.tag_lines if ln.startswith("F ")}
    tag_fixes.discard(0)  # data-minimising: fixes not stored
    seqs = [s for s, _, _ in v["fixes"]] + [s for s, _, _, _ in v["events"]]
    delays = [a["at"] - a["t"] for a in v["alerts"]]
    got = {s for s, _, _ in v["fixes"]}
    return {
        "fixes_delivered": len(got & tag_fixes),
        "fixes_delivered_pct": round(100 * len(got & tag_fixes) / len(tag_fixes), 2)
        if tag_fixes
        else None,
        "records_at_server": len(seqs),
        "records_stored_twice": len(seqs) - len(set(seqs)),
        "records_not_from_tag": len(got - tag_fixes),
        "alerts_at_server": len(v["alerts"]),
        "alert_to_server_max_s": round(max(delays), 3) if delays else None,
        "alert_to_server_median_s": round(statistics.median(delays), 3) if delays else None,
        "server_acked": v["acked"],
        "comm_lost_alerts": sum(1 for a in v["server_alerts"] if a["kind"] == "comm_lost"),
    }


def server_zone_delays(run: Run, pairs: list[tuple[int, int]]) -> tuple[list[float], int]:
    """Truth to the server's zone-breach row for each (truth time, tag alert time) pair: the
    first unused row whose event time is at or before the tag's alert, received after it.
    Returns (delays, pairs with no row at the server)."""
    assert run.server is not None
    rows = [a for a in run.server["alerts"] if a["kind"] == "zone_breach"]
    used = [False] * len(rows)
    out, missing = [], 0
    for t_true, t_alert in pairs:
        for k, a in enumerate(rows):
            if not used[k] and a["t"] <= t_alert <= a["at"]:
                used[k] = True
                out.append(max(0.0, a["at"] - t_true))
                break
        else:
            missing += 1
    return out, missing


ZONE_ALERT_KEYS = (
    "zone_alerts",
    "alerts_matched",
    "missed_entries",
    "false_alerts",
    "repeat_alerts",
    "alert_delay_max_s",
    "alert_delay_median_s",
    "server_delay_max_s",
    "server_delay_median_s",
    "alerts_not_uploaded",
    "loc_lost_alerts",
    "wearer_warnings",
)
PROXIMITY_ALERT_KEYS = (
    "encounters_detected",
    "encounter_delay_max_s",
    "victim_zone_alerts_matched",
    "victim_zone_delay_max_s",
    "proximity_false_alerts",
    "proximity_repeat_alerts",
)


def _or_none(keys: tuple[str, ...], vals: dict[str, Any]) -> dict[str, Any]:
    """Every key: its value, or None when the core that would produce it is not plugged in."""
    return {k: vals.get(k) for k in keys}


def fix_error_m(truth: Trajectory, t: int, lat: float, lon: float) -> float:
    """Metres between a reported position (degrees) and the truth at t: units.offset_m from
    the truth, the exact inverse of the units.offset the receiver model placed the fix with
    (tagsim.receiver), so a modelled error reads back as itself. np.hypot, not math.hypot:
    they differ in the last bit for about 0.5 % of inputs, and the figures stay as they were."""
    p = truth.at(t)
    return float(np.hypot(*offset_m(p.lat, p.lon, lat, lon)))


def compute(run: Run, zones_active: bool = False, proximity_active: bool = False) -> dict[str, Any]:
    sc, log = run.scenario, run.log

    def count(kind: type) -> int:
        return sum(1 for _ in L.records(log.tag_lines, kind))

    end = max(log.end, sc.start + 1)
    ser = truth_series(run.truth, sc.start, end)
    fixes = [f for _, f in L.records(log.tag_lines, L.FixStored)]
    errs, covered = [], 0
    for f in fixes:
        e = fix_error_m(run.truth, f.t, f.lat / 1e6, f.lon / 1e6)
        errs.append(e)
        if f.acc_dm is not None and e <= f.acc_dm / 10:
            covered += 1
    from tagsim.hooks import zone_windows

    zt = zone_truth(sc.zones, ser, {z.id: zone_windows(sc, z) for z in sc.zones})
    m: dict[str, Any] = {
        "scenario": sc.name,
        "seed": sc.seed,
        "runtime": run.runtime,
        "board": sc.board.id,
        "simulated_s": end - sc.start,
        "iterations": log.iterations,
        "fixes_recorded": len(fixes),
        "fixes_per_hour": round(len(fixes) * 3600 / (end - sc.start), 2),
        "fix_error_median_m": round(statistics.median(errs), 2) if errs else None,
        "fix_error_p95_m": round(_pct(errs, 95) or 0, 2) if errs else None,
        "fix_error_max_m": round(max(errs), 2) if errs else None,
        "accuracy_covers_error_pct": round(100 * covered / len(errs), 1) if errs else None,
        "fixes_rejected": count(L.FixRefused),
        "loc_lost_events": count(L.LocLost),
        "gnss_on_s": dict(log.gnss_seconds),
        "gnss_starts": dict(run.receiver.starts),
        "uploads": sum(1 for _, u in L.records(log.tag_lines, L.Upload) if u.acked),
        "uploads_failed": sum(1 for _, u in L.records(log.tag_lines, L.Upload) if not u.acked),
        "tamper_events": count(L.Tamper),
        "alerts_stored": len(stored_alerts(log.tag_lines, zones_active)),
        "alert_upload_delay_max_s": max(
            alert_upload_delays(log.tag_lines, zones_active), default=None
        ),
        "alerts_never_uploaded": len(stored_alerts(log.tag_lines, zones_active))
        - len(alert_upload_delays(log.tag_lines, zones_active)),
        "low_battery_events": count(L.LowBattery),
        "energy_mah": {k: round(v, 3) for k, v in run.power.mah.items()},
        "energy_total_mah": round(sum(run.power.mah.values()), 3),
        "charged_mah": round(run.power.charged_mah, 1),
        "battery_end_pct": round(run.power.pct, 2),
        "battery_empty": log.died_at is not None,
        "battery_died_at_s": (log.died_at - sc.start) if log.died_at is not None else None,
        "uart_bytes_corrupted": run.uart.corrupted,
        "out_of_memory": log.out_of_memory,  # where the tag ran out of its board's heap
        "heap_kb": heap_for(sc.board) // 1024,
        "truth_zone_entries": sum(1 for e in zt if e.kind == "entry"),
        "truth_curfew_breaches": sum(1 for e in zt if e.kind == "curfew"),
        "truth_events": [e.__dict__ for e in zt],
        "unseen_entries": unseen_entries(sc.zones, zt, fixes, end) if sc.zones else None,
    }
    used = sum(run.power.mah.values())
    days = (end - sc.start) / 86400
    if log.died_at is not None:
        m["battery_life_days"] = round((log.died_at - sc.start) / 86400, 2)
    else:  # a full battery at this run's average drain, without charging
        m["battery_life_days"] = round(days * sc.battery_mah / used, 2) if used > 0 else None
    zone: dict[str, Any] = {}
    if zones_active:
        za = _alerts(log.tag_lines, "A")
        r = match_alerts(zt, za)
        up: Sequence[float]
        if run.server is not None:  # measured at the real server
            up, not_up = server_zone_delays(run, r["pairs"])
        else:  # modelled: the first acknowledged upload after the alert
            up = server_delays(r["pairs"], log.tag_lines)
            not_up = len(r["pairs"]) - len(up)
        zone = {
            "zone_alerts": sum(1 for a in za if a[2] == 1),
            "alerts_matched": r["detected"],
            "missed_entries": r["missed"],
            "false_alerts": r["false"],
            "repeat_alerts": r["repeats"],
            "alert_delay_max_s": r["delay_max_s"],
            "alert_delay_median_s": r["delay_median_s"],
            "server_delay_max_s": max(up) if up else None,
            "server_delay_median_s": statistics.median(up) if up else None,
            "alerts_not_uploaded": not_up,
            "loc_lost_alerts": sum(1 for a in za if a[3] == A_LOC_LOST),
            # The tag's approach warnings: each a vibration for the wearer (never stored).
            "wearer_warnings": sum(1 for a in za if a[3] == A_APPROACH),
        }
    m.update(_or_none(ZONE_ALERT_KEYS, zone))
    srv = server_figures(run)
    m.update(_or_none(SERVER_KEYS, srv))
    m["measured_at"] = "server" if run.server is not None else "tag"
    m["uplink_link"] = run.link_counts
    if run.server is not None:  # any alert to the server: its alert rows, not the tag's log
        m["alert_upload_delay_max_s"] = srv["alert_to_server_max_s"]
        m["alerts_never_uploaded"] = max(0, m["alerts_stored"] - srv["alerts_at_server"])
    et: list[TruthEvent] = []
    vz: list[TruthEvent] = []
    if run.beacon_truth is not None and sc.beacon is not None:
        bser = truth_series(run.beacon_truth, sc.start, end)
        et = encounter_truth(ser, bser, sc.beacon.encounter_m)
        vz = encounter_truth(ser, bser, VICTIM_ZONE_M, kind="victim_zone")
        heard = [r for _, _, r in log.scans if r is not None]
        m["beacon_adv_in_scans"] = len(log.scans)  # sent while the tag listened
        m["beacon_adv_heard"] = len(heard)
    m["truth_encounters"] = len(et)
    m["truth_victim_zone_entries"] = len(vz)
    prox: dict[str, Any] = {}
    if proximity_active:
        # Bluetooth "near" against encounters; the GNSS check against the zone around the victim
        alerts = _alerts(log.tag_lines, "P")
        r = match_alerts(et, [a for a in alerts if a[3] == K_NEAR])
        g = match_alerts(vz, [a for a in alerts if a[3] == K_GNSS_IN])
        prox = {
            "encounters_detected": r["detected"],
            "encounter_delay_max_s": r["delay_max_s"],
            "victim_zone_alerts_matched": g["detected"],
            "victim_zone_delay_max_s": g["delay_max_s"],
            "proximity_false_alerts": r["false"] + g["false"],
            "proximity_repeat_alerts": r["repeats"] + g["repeats"],
        }
    m.update(_or_none(PROXIMITY_ALERT_KEYS, prox))
    return m


def check(sc: Scenario, m: dict[str, Any]) -> list[dict[str, Any]]:
    """Each expectation: key, wanted, got, status pass / fail / pending (marked pending in the
    file and not met, e.g. it needs the zone core that is not plugged in yet)."""
    out = []
    for key, want in sc.expect.items():
        metric, how = EXPECT_KEYS[key]
        got = m.get(metric)
        if got is None:
            ok = None
        elif how == "min":
            ok = got >= want
        elif how == "max":
            ok = got <= want
        else:
            ok = got == want
        if key in sc.pending and not ok:
            status = "pending"  # waits for a core (or for it to get good enough)
        else:
            status = "pass" if ok else "fail"  # a metric nobody can compute is a failure
        out.append({"key": key, "metric": metric, "want": want, "got": got, "status": status})
    if m.get("out_of_memory") is not None:  # the tag dies on its board: always red
        out.append(
            {
                "key": "fits_heap",
                "metric": "out_of_memory",
                "want": f"fits the board's {m['heap_kb']} KB MicroPython heap",
                "got": f"MemoryError at {m['out_of_memory']}",
                "status": "fail",
            }
        )
    return out

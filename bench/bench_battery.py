"""Battery life at 1 fix/min on a 3,000 mAh 18650, per board, without and with a victim beacon
configured (no encounter: the scans the proximity core asks for, hearing nothing), for a
typical day of the `week` scenario and for the worst case (always near a zone: 15 s fixes), with
the mean current by part. Four plans in the same run: the model plan (gnss_plan 1: the planner
drives the receiver from the board's energy model, with the still-wearer rate: still_fix_s 120),
the same without the still rate (still_fix_s 0: before it), today's fixed plan (gnss_plan 0: rail
on to search, off between) and a naive tracker (the receiver always on, continuous). All with field
TTFF (the profile's ttff_field_s deciles: hot 2-30 s, often ~10 s). Then the budget: a
configured target life met across seeds, and the energy per fix and TTFF per receiver family.

Figures come from the simulator (tagsim.engine, tagsim.power.PowerMeter) charging the board
profiles' currents (boards/*.json: each current names its source there). Life = 3,000 mAh /
mean current: the day's draw repeated (charging excluded: it does not change what is drawn).
Run: .venv/bin/python bench/bench_battery.py [--quick]"""

from __future__ import annotations

import copy
import dataclasses
import functools
import statistics
import sys
import time

from tagcore.gnss import energy, profile
from tagcore.gnss.power import NAMES
from tagsim import boards, engine, hooks, runner, runtime, scenario

CELL_MAH = 3000.0
QUICK = "--quick" in sys.argv
DAY_S = 6 * 3600 if QUICK else 86400  # the week's first day: home, bus, work, home
NEAR_S = 2 * 3600 if QUICK else 6 * 3600  # the worst case is the same every hour: 6 h of it
BOARDS = ("tbeam_v12_axp2101", "tbeam_supreme_m10")
TARGETS = {"tbeam_v12_axp2101": (21, 10), "tbeam_supreme_m10": (30, 14)}  # days w/o, with beacon
PARTS = (("GNSS", ("gnss",)), ("MCU", ("mcu",)), ("radio", ("ble", "modem", "wifi")))
PLANS = ("model", "no still", "fixed", "naive")
STILL_N: dict[tuple, int] = {}  # run_one's key -> fixes the planner followed by the still rate


class AlwaysNear:
    """The worst case: a zone core that always asks for the near rate (15 s)."""

    def wanted_interval(self, now: int) -> int:
        return 15

    def on_fix(self, now: int, fix: object) -> list:
        return []

    def on_no_fix(self, now: int) -> list:
        return []


def naive_doc(doc: dict) -> dict:
    """The board as a naive tracker drives it: no power save, no backup, a rail cut loses RAM
    (so off is always cold and never fits a minute): the energy model keeps it continuous."""
    d = copy.deepcopy(doc)
    d["gnss"].update(power_save=False, soft_backup=False, backup_on_rail_off=False)
    return d


def _scenario(bid: str, plan: int, hours: float = 0, **more: int) -> scenario.Scenario:
    sc = scenario.load(runner.SCENARIOS / "week.toml")
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, gnss_plan=plan, **more).items()))
    return dataclasses.replace(
        sc, board=boards.load(bid), tag=tag, duration=int(hours * 3600) if hours else DAY_S
    )


def _prox(sc: scenario.Scenario) -> object:
    bi = scenario.load(runner.SCENARIOS / "beacon_indoor.toml")
    return hooks.proximity(dataclasses.replace(sc, beacon=bi.beacon))


@functools.cache
def run_one(
    bid: str,
    plan: str,
    worst: bool,
    beacon: bool,
    seed: int = 7,
    hours: float = 0,
    ttff: str = "field",
) -> engine.Run:
    more = {"still_fix_s": 0} if plan in ("no still", "naive") else {}
    h = hours or (NEAR_S if worst else DAY_S) / 3600
    sc = _scenario(bid, 0 if plan == "fixed" else 1, h, **more)
    sc = dataclasses.replace(sc, seed=seed)
    if plan == "naive":
        raw = naive_doc(sc.board.raw)
        sc = dataclasses.replace(sc, board=dataclasses.replace(sc.board, raw=raw))
    tag = runtime.LocalTag(
        zones=AlwaysNear() if worst else None,
        proximity=_prox(sc) if beacon else None,
        zone_blob=None if worst else hooks.zone_blob(sc),
    )
    r = engine.run(sc, tag=tag, ttff=ttff)
    if tag.t is not None:
        STILL_N[(bid, plan, worst, beacon, seed, hours, ttff)] = tag.t.planner.still_n
    return r


def parts_ma(r: engine.Run) -> dict[str, float]:
    h = (r.log.end - r.scenario.start) / 3600
    m = r.power.mah
    out = {name: sum(m[k] for k in keys) / h for name, keys in PARTS}
    out["board"] = m["board"] / h
    out["total"] = sum(m.values()) / h
    return out


def life_table() -> dict[tuple, float]:
    print(f"Battery life on {CELL_MAH:.0f} mAh at 1 fix/min, field TTFF: the first day of `week`")
    print("(home, bus, work; uploads every 15 min over LTE-M) and the worst case (a zone always")
    print("near: 15 s fixes, 6 h). Mean current by part, mA; life = 3,000 mAh / total.")
    print()
    print("| board | case | beacon | plan | GNSS | MCU | radio | board | total mA | days | fix/h |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    days = {}
    for bid in BOARDS:
        for worst in (False, True):
            for beacon in (False, True):
                for plan in PLANS:
                    r = run_one(bid, plan, worst, beacon)
                    p = parts_ma(r)
                    d = CELL_MAH / p["total"] / 24
                    days[(bid, worst, beacon, plan)] = d
                    h = (r.log.end - r.scenario.start) / 3600
                    fx = sum(1 for _, ln in r.log.tag_lines if ln.startswith("F ")) / h
                    case = "near zone" if worst else "week day"
                    print(
                        f"| {bid} | {case} | {'yes' if beacon else 'no'} | {plan} | "
                        f"{p['GNSS']:.2f} | {p['MCU']:.2f} | {p['radio']:.2f} | "
                        f"{p['board']:.2f} | {p['total']:.2f} | {d:.1f} | {fx:.0f} |",
                        flush=True,
                    )
    print()
    print("Targets (issue 10, field TTFF), model plan, typical week day:")
    for bid, (t0, t1) in TARGETS.items():
        a, b = days[(bid, False, False, "model")], days[(bid, False, True, "model")]
        print(
            f"  {bid}: {a:.1f} days without a beacon (target {t0}: "
            f"{'met' if a >= t0 else 'NOT met'}), {b:.1f} with one (target {t1}: "
            f"{'met' if b >= t1 else 'NOT met'})"
        )
    return days


def still_table(days: dict[tuple, float]) -> None:
    """The still-wearer rate's effect per board: before (still_fix_s 0) and after in this run,
    and how much of the day the rule held."""
    from tagcore.app.config import TagConfig
    from tagcore.app.guard import reach_dm
    from tagcore.gnss import rate
    from tagcore.zones.monitor import ZoneMonitor

    still = TagConfig().still_fix_s
    print()
    print(f"The still-wearer rate (model plan, week day, field TTFF): one fix every {still} s once")
    print(f"the fixes have stayed within twice their accuracy and slow for {rate.STILL_AFTER_S} s,")
    print("far from every zone, curfew change and the victim (docs/app.md). Held = fixes followed")
    print(f"by the still rate x {still} s / the day (an estimate: a gap ends early on movement).")
    print("| board | beacon | days before | days after | GNSS mA before | after | fix/h | held |")
    print("|---|---|---|---|---|---|---|---|")
    for bid in BOARDS:
        for beacon in (False, True):
            a = run_one(bid, "model", False, beacon)
            b = run_one(bid, "no still", False, beacon)
            n = STILL_N.get((bid, "model", False, beacon, 7, 0, "field"), 0)
            span = a.log.end - a.scenario.start
            fx = sum(1 for _, ln in a.log.tag_lines if ln.startswith("F ")) / (span / 3600)
            held = 100 * min(1.0, n * still / span)
            print(
                f"| {bid} | {'yes' if beacon else 'no'} | "
                f"{days[(bid, False, beacon, 'no still')]:.1f} | "
                f"{days[(bid, False, beacon, 'model')]:.1f} | {parts_ma(b)['GNSS']:.2f} | "
                f"{parts_ma(a)['GNSS']:.2f} | {fx:.0f} | {held:.0f} % |",
                flush=True,
            )
    sc = _scenario(BOARDS[0], 1)
    zm = ZoneMonitor(hooks.zone_blob(sc))
    far = ", ".join(
        f"{p.name} {zm.nearest_dm(round(p.lat * 1e6), round(p.lon * 1e6)) / 10000:.1f} km"
        for p in sc.places.values()
        if p.name in ("home", "work")
    )
    reach = reach_dm(0, 250, 130 * 100000 // 3600, still + 5) / 10000
    print("Limits of the wearer model (tagsim.truth): in a place the wearer stands in one spot")
    print("for 2-10 min (SPOT_MIN_S/MAX_S), then appears at another within the place's radius")
    print("(home 6 m, work 15 m). Indoors that jump is inside the fixes' noise (1-sigma accuracy")
    print("about 10-15 m), so a spell rarely ends at home or at work, and the held share is the")
    print("model's, not a measured wearer's: people at a desk or asleep are still, but they also")
    print("walk about rooms, which the model does not do. The bench's `week` runs with the")
    print("drive-through guard off (the scenario's guard_kmh 0): the still rate then needs every")
    print(f"exclusion zone {rate.STILL_FAR_DM / 10000:.0f} km away (nearest zone box: {far}).")
    print(f"With the guard at 130 km/h it needs {reach:.1f} km (from rest in {still + 5} s) and")
    print("would not fire on this week.")


def budget_table() -> None:
    seeds = (3, 11) if QUICK else (3, 11, 29, 41)
    print()
    print("Budget: the week on a small cell (60 mAh, from full, no charger), target 12 h, field")
    print("TTFF; life without a target for reference. Ratio = life / target.")
    print("| seed | no target h | target 12 h | ratio | top level | critical, min left |")
    print("|---|---|---|---|---|---|")
    for seed in seeds:
        out = []
        for target in (0, 12):
            sc = _scenario("tbeam_v12_axp2101", 1, 24, power_target_h=target)
            sc = dataclasses.replace(
                sc, seed=seed, battery_mah=60.0, battery_initial_pct=100, charging=()
            )
            r = engine.run(sc, ttff="field")
            end = r.log.died_at or r.log.end
            lv = [int(ln.split()[2]) for _, ln in r.log.tag_lines if ln.startswith("D ")]
            crit = [t for t, ln in r.log.tag_lines if ln.startswith("W ") and ln.split()[2] == "3"]
            left = (end - crit[0]) // 60 if crit else -1
            out.append(((end - sc.start) / 3600, max(lv, default=0), left))
        print(
            f"| {seed} | {out[0][0]:.2f} | {out[1][0]:.2f} | {out[1][0] / 12:.3f} | {out[1][1]} | "
            f"{out[1][2]} |",
            flush=True,
        )


def fix_table() -> None:
    print()
    print("Energy per fix and TTFF the model plan achieved, per receiver family (the week's")
    print("first day; 6 h for the L76K and UC6580 boards), field TTFF: receiver charge per stored")
    print("fix; search = receiver on to the fix stored (the early start included).")
    print("| board | family | receiver s by state | uAh/fix | search s p10/p50/p90 | hot/cold |")
    print("|---|---|---|---|---|---|")
    more = ("tbeam_supreme_s3", "heltec_wireless_tracker_v11")
    for bid in (*BOARDS, *more):
        r = run_one(bid, "model", False, False, hours=6 if bid in more else 0)
        lines = r.log.tag_lines
        fixes = [t for t, ln in lines if ln.startswith("F ")]
        ons = [t for t, ln in lines if ln.startswith("M ") and ln.split()[2] == "0"]
        took = []
        for t in ons:
            nxt = [f for f in fixes if f >= t]
            if nxt and nxt[0] - t < 900:
                took.append(nxt[0] - t)
        q = statistics.quantiles(took, n=10) if len(took) > 10 else [0] * 9
        modes = ", ".join(f"{k} {v}" for k, v in sorted(r.log.gnss_mode_s.items()))
        st = r.receiver.starts
        print(
            f"| {bid} | {r.scenario.board.gnss.family} | {modes} | "
            f"{1000 * r.power.mah['gnss'] / max(1, len(fixes)):.0f} | "
            f"{q[0]:.0f} / {q[4]:.0f} / {q[8]:.0f} | {st['hot']} / {st['cold']} |",
            flush=True,
        )


def gnss_ma_at(rx: energy.Receiver, interval_s: int) -> float:
    """The receiver's mean current (mA) at one fix per interval_s, in the mode the energy
    model picks (energy.choose on the profile's currents and field TTFF deciles)."""
    return energy.choose(interval_s, rx)[1] / interval_s / 1000


def physics_table(days: dict[tuple, float]) -> None:
    """Where a target is not met: by how much, and what stands in the way, with the numbers
    and where each comes from (the board profiles cite theirs)."""
    print()
    print("What stands in the way (model plan, week day; the receiver's figures from the energy")
    print("model on the profile: gnss.current_field_ma or current_ma, gnss.ttff_field_s.hot):")
    for bid, targets in TARGETS.items():
        doc = boards.load(bid).raw
        rx = profile.receiver(doc)
        ds = dict(rx._asdict(), hot_s=(round(doc["gnss"]["ttff_s"]["hot"]),))
        rx_ds = energy.Receiver(**ds)  # the datasheet's hot start instead of the field's
        hot = energy.mean_s(rx.hot_s)
        for beacon, target in zip((False, True), targets, strict=True):
            p = parts_ma(run_one(bid, "model", False, beacon))
            want = CELL_MAH / (target * 24)
            rest = p["total"] - p["GNSS"]
            g60 = gnss_ma_at(rx, 60)
            d = days[(bid, False, beacon, "model")]
            print(
                f"  {bid}, {'with' if beacon else 'without'} a beacon: {d:.1f} days against "
                f"{target} ({'met' if d >= target else f'short by {target - d:.1f} days'}): "
                f"{target} days allow {want:.2f} mA; the model plan draws {p['total']:.2f}"
            )
            print(
                f"    receiver at 1 fix/min by the energy model: {g60:.2f} mA "
                f"({rx.acq_ua / 1000:.1f} mA x {hot} s mean field hot start + "
                f"{rx.track_ua / 1000:.1f} mA x {energy.HOLD_S} s hold per 60 s, in "
                f"{NAMES[energy.choose(60, rx)[0]]}); with the datasheet's {rx_ds.hot_s[0]} s hot "
                f"start {gnss_ma_at(rx_ds, 60):.2f} mA"
            )
            room = want - rest
            if d >= target:
                continue
            if beacon:
                ble = p["radio"] - parts_ma(run_one(bid, "model", False, False))["radio"]
                print(
                    f"    BLE scanning alone {ble:.2f} mA (the proximity core's cadence, the "
                    f"ESP32's 100 mA while it listens: current_ma.ble.scan)"
                )
            if room <= 0:
                print(
                    f"    MCU + radio + board already draw {rest:.2f} mA: no receiver plan "
                    f"meets {target} days"
                )
                continue
            iv = next((t for t in range(60, 1801, 15) if gnss_ma_at(rx, t) <= room), None)
            print(
                f"    the receiver may draw {room:.2f} mA beside MCU, radio and board "
                f"({rest:.2f} mA as run): "
                + (f"met at one fix every {iv} s" if iv else "not met at any interval <= 30 min")
            )


def datasheet_table() -> None:
    """The same plan with the datasheet's TTFF: what the field TTFF costs."""
    print()
    print("The same model plan with datasheet TTFF (hot 1 s, 20 % spread) instead of field:")
    print("| board | beacon | GNSS mA | total mA | days (field TTFF days above) |")
    print("|---|---|---|---|---|")
    for bid in BOARDS:
        for beacon in (False, True):
            p = parts_ma(run_one(bid, "model", False, beacon, ttff="datasheet"))
            pf = parts_ma(run_one(bid, "model", False, beacon))
            print(
                f"| {bid} | {'yes' if beacon else 'no'} | {p['GNSS']:.2f} | {p['total']:.2f} | "
                f"{CELL_MAH / p['total'] / 24:.1f} ({CELL_MAH / pf['total'] / 24:.1f}) |",
                flush=True,
            )


def main() -> None:
    t0 = time.perf_counter()
    days = life_table()
    still_table(days)
    physics_table(days)
    datasheet_table()
    budget_table()
    fix_table()
    print(f"\n(bench wall time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()

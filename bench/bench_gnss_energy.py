"""GNSS energy per fix: per board and receiver family, the energy model's expected charge per
fix and mean receiver current of each power mode at fix intervals of 15 s, 60 s and 300 s, the
mode the model picks, and beside it what the simulated receiver really drew when the core's
power state machine drove it in that mode (field TTFF draws, open sky). The model and the
simulator share the profile's figures but not their arithmetic: the ratio column says how far
the model's closed form is from a second-by-second run. Every figure's source is printed below
its board. Figures are charge, not time: the machine's load does not change them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "firmware"))
sys.path.insert(0, str(ROOT / "simulator"))
from tagcore.gnss import energy, profile  # noqa: E402
from tagcore.gnss.power import NAMES  # noqa: E402
from tagsim import boards  # noqa: E402
from tagsim.gnssloop import GnssLoop  # noqa: E402

INTERVALS = (15, 60, 300)
CITED = (
    "gnss.current_ma",
    "gnss.current_field_ma",
    "gnss.ttff_s",
    "gnss.ttff_field_s",
    "gnss.hot_window_s",
    "gnss.backup_hold_s",
)


def simulated_ma(bid: str, mode: int, interval: int, slots: int, seed: int) -> tuple[float, int]:
    """Mean receiver current over `slots` fix intervals of duty cycling, after a warm-up fix
    and one unmeasured interval in the mode; and the share (percent) of slots with a fix."""
    lp = GnssLoop(bid, seed=seed, ttff="field")
    lp.run(60, 0)  # first fix and ephemeris: every mode starts from the same receiver
    while lp.p.busy or not lp.fixes:
        lp.step()
    lp.duty_cycle(mode, interval, interval)
    seconds = slots * interval
    before = lp.pm.mah["gnss"]
    got = lp.duty_cycle(mode, interval, seconds)
    ma = (lp.pm.mah["gnss"] - before) * 3600 / seconds
    return ma, round(100 * got / (seconds // interval))


def sources(doc: dict) -> list[str]:
    src = doc["sources"]
    return [f"    {k}: {v}" for k, v in src.items() if k.startswith(CITED)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--slots", type=int, default=20, help="simulated fix intervals per cell")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--boards", nargs="*", default=None)
    a = ap.parse_args()
    for bid in a.boards or boards.available():
        doc = json.loads((boards.BOARDS_DIR / f"{bid}.json").read_text())
        rx = profile.receiver(doc)
        g = doc["gnss"]
        print(f"{bid}: {g['model']} ({g['family']}), rail {doc['gnss_power'].get('rail', 'GPIO')}")
        print(
            f"  model inputs: acq {rx.acq_ua} uA, track {rx.track_ua} uA, cyclic {rx.cyclic_ua} uA,"
            f" backup {rx.backup_ua} uA, off {rx.off_ua} uA; hot TTFF mean"
            f" {energy.mean_s(rx.hot_s)} s (max {max(rx.hot_s)}), cold mean"
            f" {energy.mean_s(rx.cold_s)} s (max {max(rx.cold_s)})"
        )
        print(
            f"  {'interval':>8} {'mode':>10} {'model mC/fix':>12} {'model mA':>9}"
            f" {'sim mA':>7} {'sim/model':>9} {'fixes %':>7}"
        )
        for t in INTERVALS:
            pick, _ = energy.choose(t, rx)
            for m in energy.MODES:
                q = energy.charge_per_fix(m, t, rx)
                if q is None:
                    why = "unsupported" if not energy.supported(m, rx) else "infeasible"
                    print(f"  {t:>7}s {NAMES[m]:>10} {why:>12}")
                    continue
                model_ma = q / t / 1000
                sim_ma, pct = simulated_ma(bid, m, t, a.slots, a.seed)
                mark = "  <- picked" if m == pick else ""
                print(
                    f"  {t:>7}s {NAMES[m]:>10} {q / 1000:>12.1f} {model_ma:>9.3f}"
                    f" {sim_ma:>7.3f} {sim_ma / model_ma:>9.2f} {pct:>7}{mark}"
                )
        print("  sources:")
        print("\n".join(sources(doc)))
        print()
    print(
        "model: tagcore/gnss/energy.py (hold 2 s after the fix, 30 s of tracking per half hot"
        " window for ephemeris, infeasible when the worst start + hold does not fit the interval)."
        " sim: simulator/tagsim/gnssloop.py with field TTFF draws; it has no ephemeris term and"
        " its power save tracks like continuous under open sky."
    )


if __name__ == "__main__":
    main()

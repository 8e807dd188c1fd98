"""The drive-through guard (issue 14 item 2): the guarantee and what it costs.

Prints the guarantee the planner gives (tagcore/app/guard.py) with its parameters, then runs,
side by side in one process, each scenario with the guard off and on:
- drive_through.toml: ten crossings of an 800 m exclusion zone at 120 km/h (the guarantee's
  case): how many crossings the tag saw (a stored fix inside), fixes, GNSS energy;
- commute.toml (a bus ride ~200 m past a zone) and one day of week.toml (home and work within
  a few km of the victim's street): the cost in everyday wear (fixes, GNSS and total mAh,
  battery days projected), as ratios guard on / off.
Usage: python bench/bench_drive_through.py [--days N]
"""

from __future__ import annotations

import argparse
import dataclasses

from tagcore.app.config import KEYS
from tagsim import runner, scenario

DEFAULTS = {k[1]: k[2] for k in KEYS}


def with_guard(sc: scenario.Scenario, kmh: int) -> scenario.Scenario:
    more = (*((k, v) for k, v in sc.tag.more if k != "guard_kmh"), ("guard_kmh", kmh))
    return dataclasses.replace(sc, tag=dataclasses.replace(sc.tag, more=more))


def row(name: str, sc: scenario.Scenario, kmh: int) -> dict:
    m = runner.run_scenario(with_guard(sc, kmh)).metrics
    seen = m["truth_zone_entries"] - (m["unseen_entries"] or 0)
    gnss = m["energy_mah"].get("gnss", 0.0)
    print(
        f"  {name:22} guard {kmh:3} km/h: crossings seen {seen}/{m['truth_zone_entries']}, "
        f"fixes {m['fixes_recorded']}, GNSS {gnss:.1f} mAh, total {m['energy_total_mah']:.1f} "
        f"mAh, battery {m['battery_life_days']} days"
    )
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=1.0, help="days of week.toml to run")
    ap.add_argument("--kmh", type=int, default=130)
    args = ap.parse_args()
    a = DEFAULTS["guard_accel_cms2"] / 100
    lead = DEFAULTS["guard_lead_s"]
    print(
        f"Guarantee: with guard_kmh = V ({args.kmh}), no exclusion zone is reached between two "
        f"fix searches by a wearer whose speed stays <= V and who accelerates at <= "
        f"{a:g} m/s2 from the last fix's speed (first fix of a search within {lead} s); "
        "within that reach the receiver stays on (1 Hz), so a crossing of W m at V km/h has "
        "about W / (V / 3.6) fixes inside (800 m at 120 km/h: 24) while the receiver has a "
        "signal. It says nothing in a tunnel or under a jammer."
    )
    cases = [
        ("drive_through", scenario.load(runner.SCENARIOS / "drive_through.toml")),
        ("commute", scenario.load(runner.SCENARIOS / "commute.toml")),
    ]
    wk = scenario.load(runner.SCENARIOS / "week.toml")
    cases.append(
        (f"week ({args.days:g} d)", dataclasses.replace(wk, duration=int(args.days * 86400)))
    )
    for name, sc in cases:
        off, on = row(name, sc, 0), row(name, sc, args.kmh)
        g0 = off["energy_mah"].get("gnss", 0.0) or 1e-9
        fx = on["fixes_recorded"] / max(1, off["fixes_recorded"])
        print(
            f"  {'':22} ratio on/off: fixes {fx:.2f}x, "
            f"GNSS energy {on['energy_mah'].get('gnss', 0.0) / g0:.2f}x, total "
            f"{on['energy_total_mah'] / off['energy_total_mah']:.2f}x"
        )


if __name__ == "__main__":
    main()

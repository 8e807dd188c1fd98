"""`opentag sim`: run wear scenarios in virtual time (docs/simulator.md)."""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

from tagsim import boards, runner, scenario
from tagsim.simtime import iso

SUMMARY_KEYS = (
    "fixes_recorded",
    "fix_error_median_m",
    "fix_error_p95_m",
    "uploads",
    "truth_zone_entries",
    "truth_curfew_breaches",
    "zone_alerts",
    "alerts_matched",
    "missed_entries",
    "false_alerts",
    "repeat_alerts",
    "alert_delay_median_s",
    "alert_delay_max_s",
    "server_delay_max_s",
    "truth_encounters",
    "encounters_detected",
    "encounter_delay_max_s",
    "proximity_false_alerts",
    "battery_end_pct",
    "battery_life_days",
    "energy_total_mah",
)


def _load(path: str | None) -> scenario.Scenario:
    return scenario.load(path or runner.DEFAULT_SCENARIO)


def _summary(res: runner.Result) -> str:
    m = res.metrics
    lines = [
        f"{m['scenario']} (seed {m['seed']}, {m['runtime']}): "
        f"{m['simulated_s'] / 3600:.1f} h of wear "
        f"in {res.wall_s:.2f} s ({m['sim_seconds_per_wall_second']}x real time)",
        f"  fixes {m['fixes_recorded']}, error median {m['fix_error_median_m']} m, "
        f"p95 {m['fix_error_p95_m']} m; uploads {m['uploads']} (+{m['uploads_failed']} failed)",
        f"  truth: zone entries {m['truth_zone_entries']}, curfew breaches "
        f"{m['truth_curfew_breaches']}, beacon encounters {m['truth_encounters']}",
        *_zone_line(m),
        f"  battery {m['battery_end_pct']}% at the end, {m['energy_total_mah']} mAh used "
        f"(projected life {m['battery_life_days']} days)"
        + (f", EMPTY after {m['battery_died_at_s'] / 3600:.1f} h" if m["battery_empty"] else ""),
    ]
    for c in res.checks:
        lines.append(f"  [{c['status']:7}] {c['key']} = {c['want']!r}: got {c['got']!r}")
    lines.append("  verdict: " + ("RED" if res.red else "green"))
    return "\n".join(lines)


def _zone_line(m: dict) -> list[str]:
    """The zone core's outcome (none without zones in the scenario)."""
    if m.get("zone_alerts") is None:
        return []
    line = (
        f"  zones: {m['zone_alerts']} breach alerts, {m['alerts_matched']} matched to truth, "
        f"{m['missed_entries']} missed, {m['false_alerts']} false, {m['repeat_alerts']} repeats"
    )
    if m.get("alert_delay_max_s") is not None:  # only when a true entry was alerted
        line += (
            f"; delay to alert max {m['alert_delay_max_s']} s, "
            f"to the server max {m['server_delay_max_s']} s"
        )
    return [line]


def cmd_run(a: argparse.Namespace) -> int:
    sc = _load(a.file)
    if a.seed is not None:
        sc.seed = a.seed
    res = runner.run_scenario(sc, a.runtime)
    out = Path(a.out) if a.out else Path("out") / "sim" / sc.name
    paths = runner.write(res, out)
    print(_summary(res))
    print(f"  report: {paths['report'].resolve()}")
    return 1 if res.red else 0


def cmd_sweep(a: argparse.Namespace) -> int:
    base = _load(a.file)
    results = []
    for k in range(a.seeds):
        sc = dataclasses.replace(base, seed=base.seed + k)
        res = runner.run_scenario(sc, a.runtime)
        results.append(res)
        red = "RED" if res.red else "ok"
        print(
            f"seed {sc.seed:4}: {red:3} fixes {res.metrics['fixes_recorded']:5} "
            f"p95 {res.metrics['fix_error_p95_m']} m, battery {res.metrics['battery_end_pct']}%"
        )
    print(f"\n{base.name}: {a.seeds} seeds, {sum(r.red for r in results)} red")
    print(f"  {'metric':28} {'min':>10} {'median':>10} {'max':>10}")
    for key in SUMMARY_KEYS:
        vals = [r.metrics[key] for r in results if isinstance(r.metrics.get(key), (int, float))]
        if vals:
            print(f"  {key:28} {min(vals):10.4g} {statistics.median(vals):10.4g} {max(vals):10.4g}")
    return 1 if any(r.red for r in results) else 0


def cmd_list(a: argparse.Namespace) -> int:
    for p in sorted(runner.SCENARIOS.glob("*.toml")):
        sc = scenario.load(p)
        print(f"{p.name:28} {sc.duration / 3600:7.1f} h from {iso(sc.start)}  {sc.description}")
    print("\nboards: " + ", ".join(boards.available()))
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opentag sim", description=__doc__)
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="run a scenario (default: the commute) and write its report")
    r.add_argument("file", nargs="?", help="scenario TOML (default: scenarios/commute.toml)")
    r.add_argument("--out", help="output directory (default: out/sim/NAME)")
    r.add_argument("--runtime", choices=("cpython", "micropython"), default="cpython")
    r.add_argument("--seed", type=int, help="override the scenario's seed")
    r.set_defaults(func=cmd_run)
    s = sub.add_parser("sweep", help="run a scenario over several seeds and summarise the spread")
    s.add_argument("file", nargs="?")
    s.add_argument("--seeds", type=int, default=10)
    s.add_argument("--runtime", choices=("cpython", "micropython"), default="cpython")
    s.set_defaults(func=cmd_sweep)
    ls = sub.add_parser("list", help="the scenario library and the board profiles")
    ls.set_defaults(func=cmd_list)
    if not argv or argv[0] not in ("run", "sweep", "list", "-h", "--help"):
        argv = ["run", *argv]  # `opentag sim [FILE] [options]`: run (the default scenario)
    a = p.parse_args(argv)
    try:
        return int(a.func(a))
    except (scenario.ScenarioError, boards.BoardError) as e:
        print(f"opentag sim: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`opentag sim`: run wear scenarios in virtual time (docs/simulator.md). The handlers; their
options are wired in `taghost.cli.COMMANDS`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from pathlib import Path

from taghost.errors import EXIT_OK, EXIT_RED

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


def summary(res: runner.Result) -> str:
    """The run in a few lines (`opentag sim run` prints it; so does the demo)."""
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
        *_server_line(m),
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


def _server_line(m: dict) -> list[str]:
    """[server] runs: what the real server holds (measured in its database)."""
    if m.get("measured_at") != "server":
        return []
    return [
        f"  server: fixes delivered {m['fixes_delivered']} ({m['fixes_delivered_pct']}%), "
        f"records {m['records_at_server']} ({m['records_stored_twice']} stored twice), "
        f"alerts {m['alerts_at_server']}, alert to server max {m['alert_to_server_max_s']} s; "
        f"link {m['uplink_link']}"
    ]


def cmd_run(a: argparse.Namespace) -> int:
    sc = _load(a.file)
    if a.seed is not None:
        sc.seed = a.seed
    res = runner.run_scenario(sc, a.runtime)
    out = Path(a.out) if a.out else Path("out") / "sim" / sc.name
    if not a.json:  # the summary first: whatever happens writing the files, it is not lost
        print(summary(res), flush=True)
    paths = runner.write(res, out)
    if a.json:
        doc = {
            "verdict": "red" if res.red else "green",
            "metrics": res.metrics,
            "expectations": res.checks,
            "files": {k: str(p.resolve()) for k, p in paths.items()},
        }
        print(json.dumps(doc, indent=1, default=str))
    else:
        print(f"  report: {paths['report'].resolve()}")
    return EXIT_RED if res.red else EXIT_OK


def cmd_sweep(a: argparse.Namespace) -> int:
    base = _load(a.file)
    results = []
    for k in range(a.seeds):
        sc = dataclasses.replace(base, seed=base.seed + k)
        res = runner.run_scenario(sc, a.runtime)
        results.append(res)
        red = "RED" if res.red else "ok"
        if not a.json:
            print(
                f"seed {sc.seed:4}: {red:3} fixes {res.metrics['fixes_recorded']:5} "
                f"p95 {res.metrics['fix_error_p95_m']} m, "
                f"battery {res.metrics['battery_end_pct']}%",
                flush=True,
            )
    spread = {}
    for key in SUMMARY_KEYS:
        vals = [r.metrics[key] for r in results if isinstance(r.metrics.get(key), (int, float))]
        if vals:
            spread[key] = {"min": min(vals), "median": statistics.median(vals), "max": max(vals)}
    red_seeds = [r.metrics["seed"] for r in results if r.red]
    if a.json:
        doc = {
            "scenario": base.name,
            "seeds": [r.metrics["seed"] for r in results],
            "red_seeds": red_seeds,
            "spread": spread,
        }
        print(json.dumps(doc, indent=1))
    else:
        print(f"\n{base.name}: {a.seeds} seeds, {len(red_seeds)} red")
        print(f"  {'metric':28} {'min':>10} {'median':>10} {'max':>10}")
        for key, v in spread.items():
            print(f"  {key:28} {v['min']:10.4g} {v['median']:10.4g} {v['max']:10.4g}")
    return EXIT_RED if red_seeds else EXIT_OK


def cmd_list(a: argparse.Namespace) -> int:
    rows = []
    for p in sorted(runner.SCENARIOS.glob("*.toml")):
        sc = scenario.load(p)
        rows.append(
            {
                "file": p.name,
                "name": sc.name,
                "hours": round(sc.duration / 3600, 1),
                "start": iso(sc.start),
                "description": sc.description,
            }
        )
    if a.json:
        print(json.dumps({"scenarios": rows, "boards": boards.available()}, indent=1))
        return EXIT_OK
    for r in rows:
        print(f"{r['file']:28} {r['hours']:7.1f} h from {r['start']}  {r['description']}")
    print("\nboards: " + ", ".join(boards.available()))
    return EXIT_OK


def main(argv: list[str]) -> int:
    """`opentag sim ARGS`, for callers that hold this module. The options are wired in
    `taghost.cli.COMMANDS`, the one front end."""
    from taghost import cli

    return cli.main(["sim", *argv])

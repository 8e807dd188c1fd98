"""Simulator benchmark: simulated time per wall-clock second.

- The week-long scenario (simulator/scenarios/week.toml: one fix a minute, uploads every 15
  minutes, nightly charging, the zone/curfew core checking every fix and every empty epoch)
  with the core in CPython and inside MicroPython (lockstep over a pipe, the board's heap).
  Target: a week of wear in under 60 s on CPython. Also without the zone core, for its cost.
- Reference: the same engine as a naive clock that ticks every second whether the tag sleeps or
  not (the tag is called every second), measured over one day and scaled to a week.
- How the cost grows with the fix rate: one day of the same wear at several fix intervals,
  without zones (the zone core caps the interval at its slow_s, 60 s).
Usage: python bench/bench_simulator.py [--days N] [--skip-micropython]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from tagsim import engine, hooks, runner, runtime, scenario
from tagsim import taglines as L

WEEK = runner.SCENARIOS / "week.toml"


def timed(
    sc: scenario.Scenario, rt: str, max_jump_s: int = 1 << 62, zones: bool = False
) -> tuple[float, engine.Run]:
    """One run; zones: the scenario's zone core on (built from its blob in either runtime)."""
    t0 = time.perf_counter()
    blob = hooks.zone_blob(sc) if zones and sc.zones else None
    tag = runtime.make(rt, zone_blob=blob, heap=runtime.heap_for(sc.board))
    r = engine.run(sc, max_jump_s=max_jump_s, tag=tag)
    return time.perf_counter() - t0, r


def proximity(skip_micropython: bool) -> None:
    """The beacon scenario with the proximity core scanning (1.5 s every 20 s, back to back
    while the beacon is near), a full run (metrics included) in each runtime."""
    sc = scenario.load(runner.SCENARIOS / "beacon_indoor.toml")
    print(f"\n{sc.name}: proximity core scanning, a full run")
    for rt in ("cpython",) if skip_micropython else ("cpython", "micropython"):
        t0 = time.perf_counter()
        res = runner.run_scenario(sc, rt)
        w = time.perf_counter() - t0
        print(row(f"{rt}, scanned {res.run.log.scan_s:.0f} s", sc.duration, w, res.run))


def heap_sweep(base: scenario.Scenario) -> None:
    """One day of the week (zone core on) under MicroPython at several heap caps, against
    CPython's stream."""
    day = dataclasses.replace(base, duration=86400)
    blob = hooks.zone_blob(day)
    want = engine.run(day, tag=runtime.make("cpython", zone_blob=blob)).log.tag_lines
    print("\nMicroPython heap cap (one day of the week, zone core on): stream against CPython")
    for kb in (80, 88, 96, 112):
        tag = runtime.MicroPythonTag(heap=kb * 1024, zone_blob=blob)
        try:
            got = engine.run(day, tag=tag).log.tag_lines
        except RuntimeError as e:
            print(f"  {kb:4d} KB: the tag died ({str(e).splitlines()[-1]})")
            continue
        unread = sum(1 for _, u in L.records(got, L.Upload) if u.status == L.UPLOAD_UNREAD)
        same = "identical" if got == want else "differs"
        print(f"  {kb:4d} KB: {same}; uploads with an unreadable segment (retried): {unread}")


def row(label: str, sim_s: int, wall: float, r: engine.Run | None) -> str:
    it = f"{r.log.iterations:9d}" if r else f"{'-':>9}"
    fixes = sum(1 for _, ln in r.log.tag_lines if ln.startswith("F ")) if r else 0
    return (
        f"  {label:42} {sim_s / 86400:5.1f} d {wall:8.2f} s {sim_s / wall:10.0f}x "
        f"{it} {fixes if r else '-':>7}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--skip-micropython", action="store_true")
    a = ap.parse_args()
    base = scenario.load(WEEK)
    sc = dataclasses.replace(base, duration=int(a.days * 86400))
    head = f"  {'run':42} {'sim':>7} {'wall':>10} {'sim/wall':>11} {'iters':>9} {'fixes':>7}"
    print(f"week scenario ({WEEK.name}), 1 fix/min, board {sc.board.id}")
    print(head)
    wall, r = timed(sc, "cpython", zones=True)
    print(row("event-driven, core + zones in CPython", sc.duration, wall, r))
    cp_lines = r.log.tag_lines
    w0, r0 = timed(sc, "cpython")
    print(row("  the same without the zone core", sc.duration, w0, r0))
    if not a.skip_micropython:
        wall_m, rm = timed(sc, "micropython", zones=True)
        print(row("event-driven, core + zones in MicroPython", sc.duration, wall_m, rm))
        w0m, r0m = timed(sc, "micropython")
        print(row("  the same without the zone core", sc.duration, w0m, r0m))
        print(f"  MicroPython event stream identical to CPython's: {rm.log.tag_lines == cp_lines}")
    t0 = time.perf_counter()
    res = runner.run_scenario(sc)
    print(
        row("the same + truth metrics (a full run)", sc.duration, time.perf_counter() - t0, res.run)
    )
    day = dataclasses.replace(sc, duration=86400)
    nd, rn = timed(day, "cpython", max_jump_s=1)
    print(
        row(
            "reference: naive 1 Hz clock (1 d, scaled)", sc.duration, nd * sc.duration / 86400, None
        )
    )
    print(f"    (one day naive: {rn.log.iterations} iterations, {nd:.2f} s)")
    verdict = "met" if wall * 7 * 86400 / sc.duration < 60 else "NOT met"
    print(f"  target (a week in < 60 s on CPython): {verdict}")
    proximity(a.skip_micropython)
    if not a.skip_micropython:
        heap_sweep(base)
    print("\ncost against fix rate (one day of the same wear, core in CPython)")
    print(
        f"  {'fix interval':>12} {'wall':>9} {'sim/wall':>10} {'iters':>7} {'fixes':>6}"
        f" {'naive 1 Hz':>11} {'speed-up':>9}"
    )
    for iv in (10, 30, 60, 300, 900, 3600):
        d = dataclasses.replace(
            base, duration=86400, tag=dataclasses.replace(base.tag, fix_interval_s=iv)
        )
        w, rr = timed(d, "cpython")
        wn, _ = timed(d, "cpython", max_jump_s=1)
        fixes = sum(1 for _, ln in rr.log.tag_lines if ln.startswith("F "))
        print(
            f"  {iv:>10} s {w:7.2f} s {86400 / w:9.0f}x {rr.log.iterations:7d} {fixes:6d}"
            f" {wn:9.2f} s {wn / w:8.1f}x"
        )


if __name__ == "__main__":
    main()

"""Run a scenario end to end: engine, metrics, expectations (and files, if asked)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagcore.app import config as appconfig
from taghost import paths

from tagsim import engine, hooks, metrics, output
from tagsim import runtime as runtime_mod
from tagsim.scenario import Scenario, seal_identity

SCENARIOS = paths.SCENARIOS  # a checkout's simulator/scenarios/, or the installed copy
DEFAULT_SCENARIO = SCENARIOS / "commute.toml"


@dataclass
class Result:
    run: engine.Run
    metrics: dict[str, Any]
    checks: list[dict[str, Any]]
    wall_s: float

    @property
    def red(self) -> bool:
        return any(c["status"] == "fail" for c in self.checks)


def run_scenario(sc: Scenario, runtime: str = "cpython", server: Any = None) -> Result:
    """The scenario with every core that exists plugged in (hooks.py), in either runtime.
    server: with [server], a running tagsim.uplinklink.SimServer to use (kept running)."""
    t0 = time.perf_counter()
    up = (sc.server.tag_id, sc.server.key) if sc.server is not None else None
    seal = seal_identity(sc)  # the store seals its log (docs/evidence.md)
    blob = hooks.zone_blob(sc) if sc.zones else None
    heap = runtime_mod.heap_for(sc.board)
    table = hooks.id_table_blob(sc) if sc.beacon is not None else None
    if runtime == "cpython":
        prox = hooks.proximity(sc)
        tag = runtime_mod.make(runtime, None, prox, zone_blob=blob, uplink=up, seal=seal)
        r = engine.run(sc, tag=tag, server=server)
        prox_on = prox is not None
        if heap < runtime_mod.PSRAM_HEAP and r.log.out_of_memory is None:
            # CPython cannot see the board's heap: boot the same tag once in MicroPython there
            cfg = appconfig.TagConfig(**sc.tag.settings)
            rom = runtime_mod.romfs_for(sc.board)
            r.log.out_of_memory = runtime_mod.boot_probe(
                cfg, sc.start, heap, table, blob, rom, up, seal
            )
    else:
        tag = runtime_mod.make(
            runtime,
            id_table=table,
            heap=heap,
            zone_blob=blob,
            romfs=runtime_mod.romfs_for(sc.board),
            uplink=up,
            seal=seal,
        )
        r = engine.run(sc, tag=tag, server=server)
        prox_on = table is not None
    r.runtime = runtime
    wall = time.perf_counter() - t0
    m = metrics.compute(r, zones_active=blob is not None, proximity_active=prox_on)
    m["wall_s"] = round(wall, 3)
    m["sim_seconds_per_wall_second"] = round(m["simulated_s"] / max(wall, 1e-9))
    return Result(r, m, metrics.check(sc, m), wall)


def write(res: Result, out: Path) -> dict[str, Path]:
    return output.write(res.run, res.metrics, res.checks, out)

"""The simulator's uploads into the real `opentag server`, measured at the server.

simulator/scenarios/zone_entry_server.toml (a zone entry during a 26-minute coverage gap, 2 s
latency, 10 % of requests or replies lost) in both runtimes: alert to server and fixes
delivered read from the server's database, duplicates the server received, wall time beside
the same scenario without the server; then the smallest MicroPython heap (8 KB steps) in which
the tag with its zone core and its uplink client boots, ROMFS and .mpy deploys.
Sources: every number is measured here (virtual time for the delays, this machine's wall
clock for the speeds); the link's latency and loss are the scenario's assumptions.
Run: .venv/bin/python bench/bench_sim_uplink.py"""

from __future__ import annotations

import dataclasses
import time

from tagcore.app import config as appconfig
from tagsim import hooks, runner, runtime, scenario

KEYS = (
    "alert_to_server_max_s",
    "server_delay_max_s",
    "alert_delay_max_s",
    "fixes_recorded",
    "fixes_delivered",
    "fixes_delivered_pct",
    "records_at_server",
    "records_stored_twice",
    "comm_lost_alerts",
    "uploads",
    "uploads_failed",
    "energy_total_mah",
)


def main() -> None:
    sc = scenario.load(runner.SCENARIOS / "zone_entry_server.toml")
    gap_end = max(w.end for w in sc.coverage_gaps)
    for rt in ("cpython", "micropython"):
        t0 = time.perf_counter()
        res = runner.run_scenario(sc, rt)
        wall = time.perf_counter() - t0
        m, v = res.metrics, res.run.server
        assert v is not None
        alert = min(a["t"] for a in v["alerts"])
        print(f"{sc.name} in {rt}: {m['simulated_s'] / 3600:.1f} h of wear in {wall:.1f} s")
        for k in KEYS:
            print(f"  {k:24} {m[k]}")
        print(f"  {'coverage back after':24} {gap_end - alert} s (from the tag's alert)")
        print(f"  {'duplicates received':24} {v['counts'].get('records_duplicate', 0)}")
        print(f"  {'batches accepted':24} {v['batches']}; link {m['uplink_link']}")
    plain = dataclasses.replace(sc, server=None, coverage_gaps=())
    t0 = time.perf_counter()
    runner.run_scenario(plain)
    print(f"the same without [server] or gap (cpython): {time.perf_counter() - t0:.1f} s")
    cfg = appconfig.TagConfig(**sc.tag.settings)
    assert sc.server is not None
    up = (sc.server.tag_id, sc.server.key)
    blob = hooks.zone_blob(sc)
    for rom in (True, False):
        need = None
        for kb in range(96, 257, 8):
            if runtime.boot_probe(cfg, sc.start, kb * 1024, None, blob, rom, up) is None:
                need = kb
                break
        alone = runtime.boot_probe(cfg, sc.start, 96 * 1024, None, None, rom, up)
        deploy = "ROMFS" if rom else ".mpy files"
        print(
            f"heap to boot with zones + uplink client ({deploy}): {need} KB; "
            f"without zones at 96 KB: {alone or 'boots'}"
        )


if __name__ == "__main__":
    main()

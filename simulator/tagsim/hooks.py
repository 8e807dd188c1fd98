"""Where the zone/curfew core (issue 4) and the proximity core (issue 6) plug into a run.

Each function builds the core object for a scenario, or returns None while that core does not
exist; the tag adapter (tagapp/adapter.py) then runs as a plain tracker and the metrics that need
alerts stay None (expectations on them pending). When a core lands, fill in its function:

    zone_monitor(sc)  -> ZoneMonitor(blob): .on_fix(fix, now) -> alerts, .on_no_fix(now) -> alerts,
                         .wanted_interval(now) -> seconds | None; blob compiled from
                         sc.zones_geojson (the scenario's GeoJSON, schedules in properties)
    proximity(sc)     -> Proximity(...): .on_scan(now, addr, rssi, adv) -> alerts,
                         .next_scan(now) -> time; the beacon's address is sc.beacon.addr

An alert is a tuple of ints starting (zone or beacon id, code) with code 1 for an entry, a
curfew breach or an encounter: tagsim.metrics matches those against truth.
"""

from __future__ import annotations

from tagsim.scenario import Scenario


def zone_monitor(sc: Scenario) -> object | None:
    return None  # issue 4 lands tagcore's zone monitor here


def proximity(sc: Scenario) -> object | None:
    return None  # issue 6 lands tagcore's proximity detector here

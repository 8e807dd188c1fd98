"""Where the zone/curfew core (issue 4) and the proximity core (issue 6) plug into a run.

Each function builds the core object for a scenario, or returns None while that core does not
exist; the tag adapter (tagapp/adapter.py) then runs as a plain tracker and the metrics that need
alerts stay None (expectations on them pending). When a core lands, fill in its function:

    zone_monitor(sc)  -> ZoneMonitor(blob): .on_fix(fix, now) -> alerts, .on_no_fix(now) -> alerts,
                         .wanted_interval(now) -> seconds | None; blob compiled from
                         sc.zones_geojson (the scenario's GeoJSON, schedules in properties)
    proximity(sc)     -> tagcore.proximity.Proximity (landed): built here with the beacon's
                         identifier window; the adapter drives its real API

An alert is a tuple of ints starting (zone or beacon id, code) with code 1 for an entry, a
curfew breach or an encounter: tagsim.metrics matches those against truth.
"""

from __future__ import annotations

from tagsim.scenario import Scenario


def zone_monitor(sc: Scenario) -> object | None:
    return None  # issue 4 lands tagcore's zone monitor here


def proximity(sc: Scenario) -> object | None:
    """tagcore.proximity (issue 6) with the beacon's identifier window loaded, as
    `opentag beacon window` would give it: the run's intervals plus 2 h either side."""
    if sc.beacon is None:
        return None
    from tagcore.proximity import Profile, Proximity

    return Proximity(id_table(sc), Profile())


def id_table_blob(sc: Scenario) -> bytes:
    from tagcore.beaconid import interval_of
    from tagcore.beacontable import window_blob

    assert sc.beacon is not None
    k0 = interval_of(sc.start) - 8
    return window_blob(sc.beacon.secret, 0, k0, sc.duration // 900 + 17)


def id_table(sc: Scenario) -> object:
    from tagcore.beacontable import IdTable

    t = IdTable()
    t.load(id_table_blob(sc))
    return t

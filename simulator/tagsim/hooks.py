"""Where the zone/curfew core (issue 4) and the proximity core (issue 6) plug into a run.

Each function builds the core object for a scenario (None when the scenario has no zones or no
beacon); the core app (tagcore.app.app.TagApp) drives their real APIs:

    zone_monitor(sc)  -> tagcore.zones.monitor.ZoneMonitor over zone_blob(sc): the scenario's
                         GeoJSON compiled by the host's compiler (taghost.zoneconfig),
                         schedules expanded into UTC windows (taghost.zoneschedule) over the
                         run's horizon
    proximity(sc)     -> tagcore.proximity.monitor.Proximity with the beacon's identifier window
"""

from __future__ import annotations

import datetime as dt

from taghost.units import seconds_2000, to_datetime

from tagsim.scenario import Scenario, Zone

WEEK_S = 7 * 86400


def zone_horizon(sc: Scenario) -> tuple[dt.date, int]:
    """(first day, weeks) of the schedule horizon covering the whole run, as the host would
    compile it before the tag goes out (from 00:00 UTC of the first day)."""
    day = to_datetime(sc.start).date()
    h0 = seconds_2000(dt.datetime.combine(day, dt.time(), dt.timezone.utc))
    return day, (sc.start + sc.duration - h0) // WEEK_S + 1


def zone_windows(sc: Scenario, z: Zone) -> list[tuple[int, int]] | None:
    """The zone's active UTC windows over the run (None: always active)."""
    from taghost.zoneschedule import windows

    return None if z.schedule is None else windows(z.schedule, *zone_horizon(sc))


def zone_blob(sc: Scenario) -> bytes:
    from taghost.zoneconfig import compile_blob

    specs = [s for z in sc.zones for s in z.specs]
    return compile_blob(specs, zone_horizon(sc)[0])  # the rules, enforced for years


def zone_monitor(sc: Scenario) -> object | None:
    """tagcore.zones.monitor (issue 4) loaded with the scenario's zones, or None without zones."""
    if not sc.zones:
        return None
    from tagcore.zones.monitor import ZoneMonitor

    m = ZoneMonitor(zone_blob(sc))
    if m.error is not None:  # compile_blob checks with the same loader: a bug if it happens
        raise ValueError(f"the tag refused the zone blob: {m.error}")
    return m


def proximity(sc: Scenario) -> object | None:
    """tagcore.proximity.monitor (issue 6) with the beacon's identifier window loaded, as
    `opentag beacon window` would give it: the run's intervals plus 2 h either side."""
    if sc.beacon is None:
        return None
    from tagcore.proximity.monitor import Profile, Proximity

    return Proximity(id_table(sc), Profile())


def id_table_blob(sc: Scenario) -> bytes:
    from tagcore.proximity.beaconid import interval_of
    from tagkit.beaconwindow import window_blob

    assert sc.beacon is not None
    k0 = interval_of(sc.start) - 8
    return window_blob(sc.beacon.secret, 0, k0, sc.duration // 900 + 17)


def id_table(sc: Scenario) -> object:
    from tagcore.proximity.idtable import IdTable

    t = IdTable()
    t.load(id_table_blob(sc))
    return t

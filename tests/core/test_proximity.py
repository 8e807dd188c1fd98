# The tag's proximity state machine (Bluetooth and GNSS rules), on both runtimes.
from beaconkit import T0, adv_at, table_for
from tagcore.fix import Fix
from tagcore.proximity import monitor as P
from tagcore.proximity.idtable import IdTable
from tagcore.store import record as R

# The rooms' packages (tagcore.proximity, tagcore.store) and the event vocabulary cost this
# module's largest case its 64 KB margin.
MPY_HEAP = 73728


def test_beacon_and_tag_agree_over_the_whole_window():
    tab = table_for(T0)
    prox = P.Proximity(tab)
    hits = 0
    for t in range(T0, T0 + 48 * 3600, 450):
        assert prox.on_scan(t, b"\x00" * 6, -60, adv_at(t)) == 0
        hits += 1
    assert prox.counts["sightings"] == hits
    assert "outside_window" not in prox.counts


def test_replayed_identifiers_outside_their_window_raise_nothing():
    tab = table_for(T0)
    prox = P.Proximity(tab)
    # Two hours, captured 4 h ago. (A capture under 90 min old is taken for a beacon whose
    # clock slipped: flagged, test_a_beacon_an_hour_off_at_first_contact_is_found_and_flagged.)
    for j in range(120):
        assert prox.on_scan(T0 + j, b"\x00" * 6, -40, adv_at(T0 - 4 * 3600 + 60 * j)) == -1
        prox.on_scan_end(T0 + j)
    assert prox.pop_event() is None and prox.state() == P.ABSENT
    assert prox.counts["outside_window"] + prox.counts["unknown_id"] == 120
    # Identifiers of another beacon (another secret) are unknown.
    assert prox.on_scan(T0, b"", -40, adv_at(T0, b"someone else")) == -1


def test_learns_a_drifting_beacon_clock():
    tab = table_for(T0, hours=48, margin=16)
    prox = P.Proximity(tab)
    # The beacon's clock gains 5% (a poor RC clock): after 40 h it is 2 h = 8 intervals ahead,
    # far beyond the +-2 intervals tolerated without learning.
    for t in range(T0, T0 + 40 * 3600, 300):
        tb = t + (t - T0) // 20
        assert prox.on_scan(t, b"", -60, adv_at(tb)) == 0, (t - T0) // 3600
    assert prox.tracks[0].skew == 8
    prox = tab = None  # one table at a time in a small heap
    # A tag that has not learned the skew refuses the same identifier.
    fresh = P.Proximity(table_for(T0, hours=48, margin=16))
    assert fresh.on_scan(t, b"", -60, adv_at(tb)) == -1
    assert fresh.counts["outside_window"] == 1


def run_near(prox, t, seconds, rssi, step=1, late=0):
    for s in range(0, seconds, step):
        prox.on_scan(t + s, b"", rssi, adv_at(t + s + late))
        prox.on_scan_end(t + s)
    return t + seconds


def drain(prox):
    out = []
    while True:
        e = prox.pop_event()
        if e is None:
            return out
        out.append(e)


def test_state_machine_pre_alert_alert_exit_with_evidence():
    prof = P.Profile()
    prox = P.Proximity(table_for(T0), prof)
    assert prox.next_scan(T0)[1] == prof.slow_scan_ms and not prox.urgent()
    strong = prof.near_dbm + 10
    t = run_near(prox, T0, 5, strong)
    ev = drain(prox)
    assert [e[1] for e in ev] == [P.K_NEARBY]
    assert prox.urgent() and prox.next_scan(t)[1] == prof.fast_scan_ms
    t = run_near(prox, t, prof.dwell_in_s + prof.decide_samples, strong)
    ev = drain(prox)
    assert [e[1] for e in ev] == [P.K_NEAR]
    alert = ev[0]
    assert alert.flags & P.F_BLE and alert.flags & P.F_BLE_ONLY  # no GNSS: says so
    assert alert.rssi == strong and len(alert.rssis) >= prof.min_samples
    assert alert.times[-1] == alert.t and alert.dist_dm == -1
    # Evidence goes to the store as an EV_PROXIMITY record and comes back intact.
    data = P.encode_event(alert)
    assert P.decode_event(alert.t, data) == alert
    fr = R.frame(R.EV_PROXIMITY, 7, R.event_payload(alert.t, data))
    ((_seq, kind, (tt, back)),) = R.frame_records(fr, 0, R.check_frame(fr, 0, len(fr)))
    assert kind == R.EV_PROXIMITY and P.decode_event(tt, back) == alert
    # Weak sightings (well below threshold - hysteresis) for dwell_out: exit "near", still nearby.
    t = run_near(prox, t, prof.window_s + prof.dwell_out_s + 2, prof.near_dbm - 20)
    assert [e[1] for e in drain(prox)] == [P.K_NEAR_EXIT] and prox.state() == P.NEARBY
    # Nothing seen for absent_s: gone, and scanning slows down again.
    prox.on_scan_end(t + prof.absent_s)
    assert [e[1] for e in drain(prox)] == [P.K_GONE] and not prox.urgent()
    s = prox.next_scan(t + prof.absent_s)
    assert s == (t + prof.absent_s + prof.slow_period_s - prof.slow_scan_ms // 1000, 520)


def test_a_few_strong_sightings_or_a_short_burst_do_not_alert():
    prof = P.Profile()
    prox = P.Proximity(table_for(T0), prof)
    strong = prof.near_dbm + 15
    run_near(prox, T0, prof.min_samples - 1, strong)  # too few samples
    run_near(prox, T0 + 200, prof.dwell_in_s, -99, step=1)  # weak: far away
    assert [e[1] for e in drain(prox)] == [P.K_NEARBY]
    # Hysteresis: in "near", a median just below the entry threshold does not leave it.
    t = run_near(prox, T0 + 400, prof.dwell_in_s + prof.window_s, strong)
    assert P.K_NEAR in [e[1] for e in drain(prox)]
    run_near(prox, t, prof.dwell_out_s * 2, prof.near_dbm - prof.hyst_db + 2)
    assert drain(prox) == [] and prox.state() == P.NEAR


def fix_at(t, lat, lon, acc_dm=50):
    return Fix(t, 0, lat, lon, None, None, None, acc_dm, 90, 8, 1, 3, 0)


def test_gnss_exclusion_zone_with_pre_alert_ring_and_hysteresis():
    prox = P.Proximity(IdTable())
    lat0 = 51500000
    lon0 = -120000
    prox.on_victim_position(T0, lat0, lon0, 80)
    kinds = []
    # The wearer walks north towards the victim and back: 1 m is 8.99 microdegrees of latitude.
    path = [2000, 1100, 990, 700, 510, 490, 300, 520, 590, 610, 800, 1050, 1150, 1200]
    for j in range(len(path)):
        t = T0 + 10 * j
        prox.on_victim_position(t, lat0, lon0, 80)
        prox.on_fix(t, fix_at(t, lat0 - path[j] * 8993 // 1000, lon0))
        kinds += [e[1] for e in drain(prox)]
    assert kinds == [P.K_GNSS_PRE, P.K_GNSS_IN, P.K_GNSS_EXIT, P.K_GNSS_OUT]
    # Stale positions decide nothing.
    prox.on_fix(T0 + 1000, fix_at(T0 + 1000, lat0, lon0))
    assert drain(prox) == []


def test_bluetooth_alert_corroborated_or_contradicted_by_gnss():
    prof = P.Profile()
    for far, kind, flag in ((20, P.K_CORROBORATED, P.F_CORROBORATED), (3000, P.K_CONTRADICTED, 0)):
        prox = prox2 = None  # one table at a time in a small heap
        prox = P.Proximity(table_for(T0), prof)
        t = run_near(prox, T0, prof.dwell_in_s + prof.decide_samples + 2, prof.near_dbm + 10)
        ev = drain(prox)
        assert ev[-1][1] == P.K_NEAR and ev[-1][3] & P.F_BLE_ONLY
        prox.on_victim_position(t, 51500000, 0, 50)
        prox.on_fix(t, fix_at(t, 51500000 + far * 9, 0))
        ev = [e for e in drain(prox) if e[1] in (P.K_CORROBORATED, P.K_CONTRADICTED)]
        assert len(ev) == 1 and ev[0][1] == kind and ev[0][5] > 0
        # With fresh GNSS already at hand, the alert carries the check itself.
        prox = None
        prox2 = P.Proximity(table_for(T0), prof)
        prox2.on_victim_position(T0, 51500000, 0, 50)
        prox2.on_fix(T0, fix_at(T0, 51500000 + far * 9, 0))
        run_near(prox2, T0, prof.dwell_in_s + prof.decide_samples + 2, prof.near_dbm + 10)
        near = next(e for e in drain(prox2) if e[1] == P.K_NEAR)
        assert not near[3] & P.F_BLE_ONLY
        assert near[3] & (P.F_CORROBORATED | P.F_CONTRADICTED) == (flag or P.F_CONTRADICTED)


def test_bad_inputs_are_counted():
    prox = P.Proximity(table_for(T0))
    for adv, rssi in ((None, -50), (b"\x03", -50), (adv_at(T0), 127), (adv_at(T0), "x")):
        assert prox.on_scan(T0, b"", rssi, adv) == -1
    prox.on_victim_position(T0, 95000000, 0, 10)
    prox.on_victim_position(T0, 51000000, 0.5, 10)
    prox.on_victim_position(T0, 51000000, 0, None)
    assert prox.counts["bad_rssi"] == 2 and prox.counts["adv_type"] == 1
    assert prox.counts["bad_position"] == 3 and prox.victim[0] is None
    assert P.lg100(10) == 100 and P.lg100(2) == 30 and P.lg100(1) == 0


def test_malformed_event_bytes_are_counted_and_decode_to_none():
    ev = P.Event(T0, P.K_NEAR, 0, P.F_BLE, -70, -1, [T0 - 3, T0], [-72, -70])
    data = P.encode_event(ev)
    assert P.decode_event(T0, data).kind == P.K_NEAR
    counts = {}
    bad = (b"", b"\x09\x02\x00\x01\x00", data[:-1], data + b"\x00", b"\x01\x02\x00\x01\x8c\x00\xff")
    for b in bad:  # empty, wrong version, truncated, trailing, a sample count beyond the bytes
        assert P.decode_event(T0, b, counts) is None
    assert P.decode_event(T0, None) is None  # not bytes at all: the same defined outcome
    assert counts == {"bad_event": len(bad)}


def test_event_queue_is_bounded():
    prox = P.Proximity(table_for(T0))
    for j in range(40):  # appear and vanish repeatedly, nobody collects the events
        prox.on_scan(T0 + j * 1000, b"", -60, adv_at(T0 + j * 1000))
        prox.on_scan_end(T0 + j * 1000 + 500)
    assert len(prox.events) == P.MAX_EVENTS and prox.counts["events_dropped"] > 0


def test_gnss_jump_out_and_stale_positions():
    prox = P.Proximity(IdTable())
    lat0 = 51500000
    prox.on_victim_position(T0, lat0, 0, 80)
    prox.on_fix(T0, fix_at(T0, lat0 + 300 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_IN] and prox.urgent()
    prox.on_victim_position(T0 + 5, lat0, 0, 80)
    prox.on_fix(T0 + 5, fix_at(T0 + 5, lat0 + 5000 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_EXIT, P.K_GNSS_OUT]
    prox.on_fix(T0 + 10, fix_at(T0 + 10, lat0 + 300 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_IN]
    # Once the victim's position is older than max_age_s it decides nothing, and the tag stops
    # scanning fast on its account.
    later = T0 + prox.p.max_age_s + 60
    prox.on_fix(later, fix_at(later, lat0 + 5000 * 9, 0))
    assert drain(prox) == [] and not prox.urgent()
    # Back within the pre-alert ring of her last known position (an hour old at most): no
    # alert, but the tag scans fast there.
    prox.on_fix(later + 10, fix_at(later + 10, lat0 + 800 * 9, 0))
    assert drain(prox) == [] and prox.urgent()
    assert prox.next_scan(later + 10)[1] == prox.p.fast_scan_ms
    late = T0 + prox.p.area_age_s + 60
    prox.on_fix(late, fix_at(late, lat0 + 800 * 9, 0))
    assert not prox.urgent()


def test_gnss_episode_survives_stale_positions():
    # Victim positions come with uploads (every 15 min here) and go stale in between: one
    # breach is one alert, however many uploads it lasts; leaving ends it; a long silence
    # forgets it, and the next fresh pair inside starts a new episode.
    prox = P.Proximity(IdTable())
    lat0 = 51500000
    kinds = []
    t = T0
    for k in range(6):
        t = T0 + k * 900
        prox.on_victim_position(t, lat0, 0, 80)
        for j in range(0, 900, 60):  # the wearer's fixes, 300 m from her, every minute
            prox.on_fix(t + j, fix_at(t + j, lat0 + 300 * 9, 0))
        kinds.extend(e[1] for e in drain(prox))
    assert kinds == [P.K_GNSS_IN]
    t += 900
    prox.on_victim_position(t, lat0, 0, 80)
    prox.on_fix(t, fix_at(t, lat0 + 5000 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_EXIT, P.K_GNSS_OUT]
    prox.on_victim_position(t + 60, lat0, 0, 80)
    prox.on_fix(t + 60, fix_at(t + 60, lat0 + 300 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_IN]
    late = t + 60 + prox.p.area_age_s + 60
    prox.on_fix(late, fix_at(late, lat0 + 300 * 9, 0))
    assert drain(prox) == [] and prox.gstate[0] == P.G_UNKNOWN
    prox.on_victim_position(late + 1, lat0, 0, 80)
    prox.on_fix(late + 1, fix_at(late + 1, lat0 + 300 * 9, 0))
    assert [e[1] for e in drain(prox)] == [P.K_GNSS_IN]

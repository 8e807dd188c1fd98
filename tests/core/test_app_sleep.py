# May the MCU deep-sleep now (tagcore.app.app.deep_sleep_ok, TagApp.may_deepsleep): the one rule
# the device shell sleeps by, the simulator charges by and the budget projects by. A deep sleep
# loses RAM, so only a tag with nothing there to keep (no zone or proximity core, no BLE stack,
# no uplink request, the receiver off and its state machine idle) sleeps deeply, and only for
# DEEPSLEEP_MIN_S or more; else the MCU light-sleeps (~0.8 mA on an ESP32). Both runtimes.
from gnsstest import COSTS, M8
from tagcore.app.app import DEEPSLEEP_MIN_S, GNSS_BACKUP, GNSS_OFF, TagApp, deep_sleep_ok
from tagcore.app.budget import Budget
from tagcore.app.config import TagConfig
from tagcore.gnss import ublox_m8
from tagcore.gnss.power import GnssPower
from tagkit.memfs import MemFs

T0 = 800000000
MPY_HEAP = 196608


class FarZones:
    """A zone core that is configured but never near: it only keeps RAM state."""

    def wanted_interval(self, now):
        return None

    def on_fix(self, now, fix):
        return []

    def on_no_fix(self, now):
        return []


def _between_fixes(tag, now):
    # a fix came at `now`: the search ends, the receiver goes off (or to backup) until the next
    tag.planner.fix_taken(now, None)
    tag.plan(now)
    tag.take_events()
    return tag


def _tag(**kw):
    cfg = dict(upload_interval_s=86400)
    zones = kw.pop("zones", None)
    gnss = kw.pop("gnss", None)
    cfg.update(kw)
    return TagApp(TagConfig(**cfg), MemFs(), T0, zones=zones, gnss=gnss)


def test_the_rule_itself():
    assert deep_sleep_ok(False, True, False, DEEPSLEEP_MIN_S)
    assert not deep_sleep_ok(False, True, False, DEEPSLEEP_MIN_S - 1)  # too short: light
    assert not deep_sleep_ok(True, True, False, 3600)  # RAM held (zones, proximity, BLE)
    assert not deep_sleep_ok(False, False, False, 3600)  # the receiver not off (backup)
    assert not deep_sleep_ok(False, True, True, 3600)  # an uplink request outstanding


def test_a_plain_tracker_deep_sleeps_between_fixes_not_while_searching():
    tag = _tag()
    assert tag.gnss_on and not tag.may_deepsleep(T0)  # the first search: the rail is on
    _between_fixes(tag, T0 + 10)
    assert not tag.gnss_on and tag.wake_at == T0 + 70
    assert tag.may_deepsleep(T0 + 10)
    assert tag.may_deepsleep(tag.wake_at - DEEPSLEEP_MIN_S)
    assert not tag.may_deepsleep(tag.wake_at - DEEPSLEEP_MIN_S + 1)  # too short: light
    tag.uplink_request = b"x"  # a request the shell has not carried out yet
    assert not tag.may_deepsleep(T0 + 10)


def test_zones_or_a_ble_stack_keep_the_mcu_in_light_sleep():
    tag = _between_fixes(_tag(zones=FarZones()), T0 + 10)
    assert not tag.gnss_on and tag.held and not tag.may_deepsleep(T0 + 10)
    # scanning configured: the shell brings its BLE stack up at the first scan and keeps it
    tag = _tag(scan_interval_s=300)
    assert tag.want_scan and tag.held
    tag.scan_done(T0 + 2)
    _between_fixes(tag, T0 + 10)
    assert not tag.want_scan and not tag.may_deepsleep(T0 + 10)


def test_a_receiver_in_backup_or_a_command_in_flight_keep_the_mcu_in_light_sleep():
    pw = GnssPower(ublox_m8, "on", "off")
    tag = _tag(gnss_plan=1, gnss=(M8, pw, COSTS))
    _between_fixes(tag, T0 + 40)
    assert tag.gnss_mode == GNSS_BACKUP  # 1 fix/min on an M8: backup between fixes
    pw.mode, pw.phase, pw.seq = GNSS_BACKUP, 0, []  # as the ACKs would leave it
    tag.plan(T0 + 40)  # (while the commands were in flight it woke every second)
    assert not pw.busy and tag.wake_at - (T0 + 40) >= DEEPSLEEP_MIN_S
    assert not tag.may_deepsleep(T0 + 40)
    pw.mode = GNSS_OFF  # its rail cut, nothing in flight: a deep sleep may start
    assert tag.may_deepsleep(T0 + 40)
    pw.seq = [(b"", None, 0)]  # a command still to send: its reply must be read awake
    assert pw.busy and not tag.may_deepsleep(T0 + 40)


def test_the_budget_projects_the_mcu_light_sleep_where_the_rule_keeps_it():
    # 3 h between fixes (beyond the hot window): the M8's rail is cut (OFF), so the MCU may
    # sleep deeply unless RAM is held; at 1 min the receiver sleeps in backup: light sleep,
    # held or not
    iv = 3 * 3600
    b = Budget(TagConfig(gnss_plan=1, fix_interval_s=iv), COSTS, M8, T0)
    free = b.draw_ua(T0, 0)
    b.held = True
    held = b.draw_ua(T0, 0)
    assert held - free == COSTS.light_ua * (iv - COSTS.listen_s) // iv
    b = Budget(TagConfig(gnss_plan=1), COSTS, M8, T0)
    free = b.draw_ua(T0, 0)
    b.held = True
    assert b.draw_ua(T0, 0) == free
    assert free >= COSTS.base_ua + COSTS.light_ua * (60 - COSTS.listen_s) // 60
    # the app hands the budget the rule's RAM part
    tag = _tag(gnss_plan=1, gnss=(M8, GnssPower(ublox_m8, "on", "off"), COSTS), zones=FarZones())
    assert tag.budget.held
    tag = _tag(gnss_plan=1, gnss=(M8, GnssPower(ublox_m8, "on", "off"), COSTS))
    assert not tag.budget.held

# The receiver power state machine, sans-I/O: the planner asks for a mode, this sends the
# family's commands and switches the rail, and is told what came back (UBX messages, "the
# receiver sent bytes", the time). Every reply and every silence has a defined outcome:
#
#   ACK           the next command goes out
#   NAK           set-up: skipped and counted; cyclic: power save is marked unsupported and the
#                 receiver is put back to continuous; continuous: counted, the rail is cycled
#   no ACK        resent up to `retries` times, then as for a NAK (counted `no_reply`)
#   backup sent   the receiver must go quiet: output more than `grace_ms` after the command means
#                 it is still searching ("GPS off" at 70 mA): resent, then the rail is cut
#   wake sent     output must follow within `wake_ms`: resent, then the rail is cycled
#   rail on       output must follow within `wake_ms` (the receiver booted): set-up is sent again
#                 every time, because UC6580s and M10s without V_BCKP forget it
#
# Modes: CONTINUOUS, CYCLIC (the receiver's own power save), BACKUP (soft backup or standby,
# hot start), OFF (rail cut). A mode the receiver or the board cannot do is mapped to the
# nearest one that it can (counted): CYCLIC -> CONTINUOUS, BACKUP -> OFF (no soft sleep),
# OFF -> BACKUP (no rail). Actions out, for the shell to carry out in order:
#   ("uart", bytes)  write to the receiver
#   ("rail", a)      a from tagcore.gnss.rail.rail_action: switch the rail
# `now` is a millisecond counter that may wrap at 2**30 (time.ticks_ms on the device).
from tagcore.compat import const
from tagcore.gnss.ubx import ack_of

CONTINUOUS = const(0)
CYCLIC = const(1)
BACKUP = const(2)
OFF = const(3)
NAMES = ("continuous", "cyclic", "backup", "off")

_IDLE = const(0)
_ACK = const(1)  # a command is waiting for its ACK
_QUIET = const(2)  # a backup command was sent: waiting for the receiver to go quiet
_WAKE = const(3)  # wake bytes or rail-on: waiting for output

_K_SETUP = const(0)
_K_MODE = const(1)
_K_BACKUP = const(2)

_PERIOD = const(0x40000000)


def ticks_diff(a, b):
    """a - b for a counter that wraps at 2**30, as time.ticks_diff does."""
    return ((a - b + (_PERIOD >> 1)) & (_PERIOD - 1)) - (_PERIOD >> 1)


def _bump(counts, key):
    counts[key] = counts.get(key, 0) + 1


class GnssPower:
    def __init__(
        self,
        driver,
        rail_on=None,
        rail_off=None,
        ack_ms=1000,
        retries=2,
        grace_ms=1500,
        quiet_ms=3000,
        wake_ms=3000,
        cyclic_ms=1000,
    ):
        self.d = driver
        self.rail_on = rail_on
        self.rail_off = rail_off
        self.ack_ms = ack_ms
        self.retries = retries
        self.grace_ms = grace_ms
        self.quiet_ms = quiet_ms
        self.wake_ms = wake_ms
        self.cyclic_ms = cyclic_ms
        self.cyclic_ok = bool(driver.CYCLIC)
        self.backup_ok = bool(driver.SOFT_BACKUP)
        self.mode = OFF  # what the receiver is in, as far as replies have shown
        self.target = OFF
        self.awake_mode = CONTINUOUS  # the mode it returns to from backup
        self.phase = _IDLE
        self.seq = []  # (frame, ack code or None, kind) still to send
        self.cur = None  # the command in flight
        self.since = 0  # when the phase began
        self.tries = 0
        self.actions = []
        self.counts = {}

    # -- inputs --------------------------------------------------------------------------------

    def request(self, now, mode):
        """Ask for a mode; the actions to get there are queued (see pop)."""
        if mode == CYCLIC and not self.cyclic_ok:
            _bump(self.counts, "cyclic_unsupported")
            mode = CONTINUOUS
        if mode == BACKUP and not self.backup_ok:
            if self.rail_off is not None:
                _bump(self.counts, "backup_by_rail")
                mode = OFF
            else:
                _bump(self.counts, "no_power_control")
                mode = CONTINUOUS
        if mode == OFF and self.rail_off is None:
            _bump(self.counts, "no_rail")
            mode = BACKUP if self.backup_ok else CONTINUOUS
        self.target = mode
        if mode == OFF and (self.mode != OFF or self.phase != _IDLE):
            # a rail cut preempts whatever is in flight (a boot too: the rail is on then)
            self.seq = []
            self._rail_cut(now)
        elif self.phase == _IDLE:
            self._plan(now)

    def on_ubx(self, now, cls, mid, payload):
        """A UBX message from the framer."""
        a = ack_of(cls, mid, payload)
        if a is None:
            return
        ok, acls, aid = a
        cur = self.cur
        if self.phase != _ACK or cur is None or cur[1] != (acls << 8 | aid):
            _bump(self.counts, "ack_unexpected")
            return
        if ok:
            _bump(self.counts, "ack")
            self._sent_ok(now)
        else:
            _bump(self.counts, "nak")
            self._failed(now)

    def on_output(self, now):
        """The receiver sent bytes (any: NMEA or UBX)."""
        ph = self.phase
        if ph == _WAKE:
            self.phase = _IDLE
            self.mode = self.awake_mode
            self._next(now)
        elif ph == _QUIET and ticks_diff(now, self.since) > self.grace_ms:
            _bump(self.counts, "still_awake")
            self.tries += 1
            if self.tries <= self.retries:
                self._send(self.cur, now)
            elif self.rail_off is not None:
                _bump(self.counts, "backup_by_rail")
                self.target = OFF
                self._rail_cut(now)
            else:  # no rail to cut: it stays on, and says so
                _bump(self.counts, "backup_failed")
                self.phase = _IDLE
                self.cur = None
                self.target = self.mode

    def tick(self, now):
        """Call at least every few hundred ms while busy: timeouts are decided here."""
        ph = self.phase
        if ph == _IDLE:
            return
        age = ticks_diff(now, self.since)
        if ph == _ACK and age >= self.ack_ms:
            self.tries += 1
            if self.tries <= self.retries:
                _bump(self.counts, "retry")
                self._send(self.cur, now)
            else:
                _bump(self.counts, "no_reply")
                self._failed(now)
        elif ph == _QUIET and age >= self.quiet_ms:
            self.phase = _IDLE
            self.mode = BACKUP
            self.cur = None
            self._next(now)
        elif ph == _WAKE and age >= self.wake_ms:
            self.tries += 1
            if self.mode == OFF:  # the rail came on and the receiver says nothing
                _bump(self.counts, "boot_silent")
                if self.tries <= 1:
                    self._power_cycle(now)
                else:  # set-up goes out anyway; its timeouts are counted
                    self.phase = _IDLE
                    self.mode = CONTINUOUS
                    self._next(now)
            elif self.tries <= self.retries:
                _bump(self.counts, "wake_retry")
                self.since = now
                self._emit_wake()
            elif self.rail_off is not None:
                _bump(self.counts, "wake_by_rail")
                self._power_cycle(now)
            else:  # nothing else can wake it: keep trying, counted
                _bump(self.counts, "wake_failed")
                self.since = now
                self._emit_wake()

    def pop(self):
        """The next action for the shell, or None."""
        a = self.actions
        return a.pop(0) if a else None

    @property
    def busy(self):
        return self.phase != _IDLE or bool(self.seq)

    # -- internals -----------------------------------------------------------------------------

    def _plan(self, now):
        t = self.target
        m = self.mode
        if t == m:
            return
        if t == OFF:
            self.seq = []
            self._rail_cut(now)
            return
        if m == OFF:
            self._power_up(now)
            return
        if m == BACKUP:
            self._emit_wake()
            self.phase = _WAKE
            self.since = now
            self.tries = 0
            return
        d = self.d
        if t == BACKUP:
            self.awake_mode = m
            self._queue(d.backup(0), _K_BACKUP)
        elif t == CYCLIC:
            self._queue(d.cyclic(self.cyclic_ms), _K_MODE)
            self.seq.append((None, t, _K_MODE))  # marks the mode reached
        else:
            self._queue(d.continuous(), _K_MODE)
            self.seq.append((None, t, _K_MODE))
        self._next(now)

    def _queue(self, cmds, kind):
        for f, ack in cmds:
            self.seq.append((f, ack, kind))

    def _emit_wake(self):
        wb = self.d.WAKE_BYTES
        if wb:
            self.actions.append(("uart", wb))

    def _power_up(self, now):
        if self.rail_on is not None:
            self.actions.append(("rail", self.rail_on))
        self.mode = OFF  # until it speaks
        self.awake_mode = CONTINUOUS  # receivers boot in continuous mode
        self.seq = []
        self._queue(self.d.setup(), _K_SETUP)
        self.phase = _WAKE
        self.since = now
        self.tries = 0

    def _power_cycle(self, now):
        tries = self.tries  # one cycle per failure, not one per timeout
        if self.rail_off is not None:
            self.actions.append(("rail", self.rail_off))
        self._power_up(now)
        self.tries = tries

    def _rail_cut(self, now):
        self.phase = _IDLE
        self.cur = None
        self.seq = []
        self.actions.append(("rail", self.rail_off))
        self.mode = OFF

    def _next(self, now):
        while self.seq:
            c = self.seq.pop(0)
            if c[0] is None:  # a mode reached
                self.mode = c[1]
                continue
            self.tries = 0
            self._send(c, now)
            return
        self.cur = None
        self.phase = _IDLE
        self._plan(now)  # the target may have changed meanwhile

    def _send(self, c, now):
        self.cur = c
        self.actions.append(("uart", c[0]))
        self.since = now
        if c[2] == _K_BACKUP:
            self.phase = _QUIET
        elif c[1] is not None:
            self.phase = _ACK
        else:  # unacknowledged: on to the next
            self.phase = _IDLE
            self._next(now)

    def _sent_ok(self, now):
        self.phase = _IDLE
        self._next(now)

    def _failed(self, now):
        """A NAK, or no ACK after every retry."""
        cur = self.cur
        kind = cur[2] if cur is not None else _K_MODE
        self.phase = _IDLE
        self.cur = None
        if kind == _K_SETUP:
            _bump(self.counts, "setup_incomplete")
            self._next(now)
            return
        self.seq = []  # the rest of this mode change is moot
        if self.target == CYCLIC:
            _bump(self.counts, "cyclic_refused")
            self.cyclic_ok = False
            self.target = CONTINUOUS
            self._queue(self.d.continuous(), _K_MODE)
            self.seq.append((None, CONTINUOUS, _K_MODE))
            self._next(now)
        elif self.rail_off is not None:  # continuous refused: only a power cycle is certain
            _bump(self.counts, "mode_by_rail")
            self._power_cycle(now)
        else:
            _bump(self.counts, "mode_unconfirmed")
            self.mode = CONTINUOUS
            self._plan(now)

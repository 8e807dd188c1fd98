"""Where the tag's code runs: in this CPython process, or inside the real MicroPython interpreter
in lockstep over a pipe. Both expose the same calls and the same outputs (gnss_on, want_scan,
wake_at and the tag's events as text lines), so the engine cannot tell them apart and their
event streams can be compared line for line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Protocol

import tagkit
from tagcore.app.app import TagApp
from tagcore.app.config import Settings, TagConfig  # noqa: F401 (runtime.TagConfig)
from tagcore.gnss.profile import field_cold_s
from taghost import build, paths, tagconfig
from tagkit import simseal
from tagkit.memfs import MemFs

from tagsim.boards import Board

TAGAPP = Path(__file__).resolve().parent / "tagapp"
TAGKIT = Path(tagkit.__file__).resolve().parent  # the driver's filesystems (tagcore.store.osfs)
FIRMWARE = paths.FIRMWARE
ESP32_HEAP = 96 * 1024  # ESP32 without PSRAM: 56 KiB at start, about 110 KB once grown
# The ROMFS image's own block in the simulated heap (on the device it is flash, not heap): its
# bytearray header and the GC's 16-byte block rounding. The mount itself (128 B) is real heap.
ROMFS_SLACK = 64
PSRAM_HEAP = 2 * 1024 * 1024  # with PSRAM MicroPython's heap is megabytes (most of the 4-8 MB)


def heap_for(board: Board) -> int:
    """The MicroPython heap a board gives the tag: its profile's `mcu.micropython_heap_kb`,
    else small without PSRAM and megabytes with it."""
    mcu = board.raw.get("mcu", {})
    if "micropython_heap_kb" in mcu:
        return int(mcu["micropython_heap_kb"]) * 1024
    return PSRAM_HEAP if mcu.get("psram_mb", 0) > 0 else ESP32_HEAP


def romfs_for(board: Board) -> bool:
    """Whether the board's deploy puts the core in a ROMFS image (`mcu.core_deploy`: "romfs",
    bytecode runs from flash) rather than .mpy files (copied to the heap on import)."""
    return board.raw.get("mcu", {}).get("core_deploy", "files") == "romfs"


Adv = tuple[str, int, bytes]  # one advertisement heard: address (hex), RSSI dBm, payload
Uplink = tuple[bytes, bytes]  # the tag's uplink identity: tag id (8 bytes), MAC key (32)
Seal = tuple[bytes, bytes]  # the seals' identity (docs/evidence.md): tag id (kid), k0 (32 bytes)


class TagOutOfMemory(RuntimeError):
    """The MicroPython tag ran out of heap (a MemoryError): on its board it would die there."""

    def __init__(self, where: str, detail: str = "") -> None:
        super().__init__(f"MicroPython tag ran out of memory (MemoryError) at {where}: {detail}")
        self.where = where


def oom_detail(stderr: str) -> str:
    """The MicroPython driver's last traceback lines, for TagOutOfMemory ("" when none)."""
    return " | ".join(stderr.strip().splitlines()[-3:])


def _line(e: tuple) -> str:
    return " ".join(str(x) for x in e)


class Tag(Protocol):
    gnss_on: bool
    gnss_listen: bool  # the tag wants the receiver's epochs (the model plan; else = gnss_on)
    # the MCU may deep-sleep from the last call's now until wake_at (the core's one rule,
    # tagcore.app.app.TagApp.may_deepsleep, as the device shell sleeps): else it light-sleeps
    deep: bool
    want_scan: bool
    wake_at: int

    def use_board(self, doc: dict) -> None: ...
    def take_gnss_actions(self) -> list[tuple[str, bytes | bool]]: ...

    def boot(self, cfg: Settings, now: int) -> list[str]: ...
    def reboot(self, now: int) -> list[str]: ...
    def wake(self, now: int) -> list[str]: ...
    def uart(self, now: int, chunks: list[bytes]) -> list[str]: ...

    scan_ms: int

    def scan(self, now: int, results: list[Adv], done: bool) -> list[str]: ...
    def battery(self, now: int, pct: int) -> list[str]: ...
    def victim(self, now: int, lat: int, lon: int, acc_dm: int) -> list[str]: ...
    def tamper(self, now: int, kind: str) -> list[str]: ...
    def link(self, now: int, up: bool) -> list[str]: ...
    def close(self) -> None: ...

    # With an uplink (tag id, key): `request` is a new uplink body the tag wants sent (set by
    # the call that made it, None otherwise); the shell answers with one of these two.
    request: bytes | None

    def uplink_reply(self, now: int, body: bytes) -> list[str]: ...
    def uplink_failed(self, now: int) -> list[str]: ...


class LocalTag:
    """The core app in this process (CPython). zones / proximity: the hook objects."""

    def __init__(
        self,
        zones: object = None,
        proximity: object = None,
        zone_blob: bytes | None = None,
        uplink: Uplink | None = None,
        seal: Seal | None = None,
    ) -> None:
        """zone_blob: build a fresh zone monitor over it at every boot (as the device
        and MicroPythonTag do), instead of the `zones` object kept across reboots. uplink: the
        tag's real client (tagcore.uplink.appseam) sends batches the shell carries. seal: the
        store seals its log (tagcore.store.seal)."""
        self.fs = MemFs()
        self.seal = seal
        self.zones, self.proximity, self.zone_blob = zones, proximity, zone_blob
        self.uplink = uplink
        self.cfg: Settings | None = None
        self.t: TagApp | None = None
        self.board: dict | None = None
        self.actions: list[tuple[str, bytes | bool]] = []

    def use_board(self, doc: dict) -> None:
        """The board profile: the tag builds its receiver driver and energy model from it."""
        self.board = doc

    def take_gnss_actions(self) -> list[tuple[str, bytes | bool]]:
        a, self.actions = self.actions, []
        return a
        self.request: bytes | None = None
        self._sent: object = None

    def _out(self, now: int) -> list[str]:
        assert self.t is not None
        t = self.t
        self.gnss_on, self.want_scan, self.wake_at, self.scan_ms = (
            t.gnss_on,
            t.want_scan,
            t.wake_at,
            t.scan_ms,
        )
        self.gnss_listen = t.gnss_listen
        self.deep = t.may_deepsleep(now)
        for kind, val in t.take_gnss_actions():  # a rail action as on (True) / off
            on = t.power is not None and val == t.power.rail_on
            self.actions.append((kind, val if kind == "uart" else on))
        req = t.uplink_request
        self.request = bytes(req) if req is not None and req is not self._sent else None
        self._sent = req
        return [_line(e) for e in self.t.take_events()]

    def boot(self, cfg: Settings, now: int) -> list[str]:
        self.cfg = cfg
        if self.zone_blob is not None:
            from tagcore.zones.monitor import ZoneMonitor

            self.zones = ZoneMonitor(self.zone_blob)
        gnss = None
        if self.board is not None:
            from tagcore.gnss.profile import gnss_for

            # Settings' attributes are set from tagcore.app.config.KEYS at run time
            gnss = gnss_for(self.board, cfg.battery_mah)  # type: ignore[attr-defined]
        self.actions = []  # a reboot: what the old app had not handed over is gone
        sl = None if self.seal is None else simseal.sealer(self.fs, *self.seal)
        cold = 0 if self.board is None else field_cold_s(self.board)
        self.t = TagApp(
            cfg, self.fs, now, self.zones, self.proximity, sealer=sl, gnss=gnss, cold_s=cold
        )
        self._sent = None
        if self.uplink is not None:
            from tagcore.uplink.appseam import AppClient

            self.t.uplink = AppClient(self.t.store, *self.uplink)
        return self._out(now)

    def reboot(self, now: int) -> list[str]:
        assert self.cfg is not None
        return self.boot(self.cfg, now)

    def wake(self, now: int) -> list[str]:
        assert self.t is not None
        self.t.wake(now)
        return self._out(now)

    def uart(self, now: int, chunks: list[bytes]) -> list[str]:
        assert self.t is not None
        for c in chunks:
            self.t.uart(now, c)
        self.t.uart_idle(now)
        return self._out(now)

    def scan(self, now: int, results: list[Adv], done: bool) -> list[str]:
        assert self.t is not None
        for addr, rssi, adv in results:
            self.t.scan_result(now, addr, rssi, adv)
        if done:
            self.t.scan_done(now)
        return self._out(now)

    def battery(self, now: int, pct: int) -> list[str]:
        assert self.t is not None
        self.t.battery(now, pct)
        return self._out(now)

    def victim(self, now: int, lat: int, lon: int, acc_dm: int) -> list[str]:
        assert self.t is not None
        self.t.victim(now, lat, lon, acc_dm)
        return self._out(now)

    def tamper(self, now: int, kind: str) -> list[str]:
        assert self.t is not None
        self.t.tamper(now, kind)
        return self._out(now)

    def link(self, now: int, up: bool) -> list[str]:
        assert self.t is not None
        self.t.link(now, up)
        return self._out(now)

    def uplink_reply(self, now: int, body: bytes) -> list[str]:
        assert self.t is not None
        self.t.uplink_reply(now, body)
        return self._out(now)

    def uplink_failed(self, now: int) -> list[str]:
        assert self.t is not None
        self.t.uplink_failed(now)
        return self._out(now)

    def close(self) -> None:
        pass


def micropython_binary() -> str:
    here = Path(sys.executable).parent / "micropython"
    return str(here) if here.exists() else "micropython"


class MicroPythonTag:
    """The same core app inside the MicroPython unix port, heap capped at ESP32 size.

    The modules are compiled with mpy-cross -O3 first, as deployed (compiling on the target
    would take its RAM from the same heap; tracebacks still name the file and function), into a
    private directory removed on close()."""

    def __init__(
        self,
        heap: int = ESP32_HEAP,
        id_table: bytes | None = None,
        zone_blob: bytes | None = None,
        romfs: bool = False,
        uplink: Uplink | None = None,
        seal: Seal | None = None,
    ) -> None:
        """id_table: a beacon identifier window (tagcore.proximity.idtable blob): the tag inside
        runs tagcore.proximity.monitor on it, as hooks.proximity does in CPython. zone_blob: a zone
        configuration (hooks.zone_blob): the tag inside runs tagcore.zones.monitor on it. romfs: the
        core is deployed as a ROMFS image (bytecode runs in place from flash, as on the
        device); the image is loaded first into extra heap beyond `heap`, so the tag still has
        exactly `heap` for itself. romfs=False: .mpy files on the filesystem (copied to heap).
        uplink: (tag id, key): the tag inside runs its real uplink client on them. seal: (tag
        id, k0): its store seals its log."""
        self.tmp = Path(tempfile.mkdtemp(prefix="tagsim-mpy-"))
        files = []
        for name, blob in (("idtable.bin", id_table), ("zones.bin", zone_blob)):
            if blob is not None:
                (self.tmp / name).write_bytes(blob)
            files.append(str(self.tmp / name) if blob is not None else "-")
        self.seal = seal
        files.append(_identity(uplink, seal))
        self.core_args = " " + " ".join(files)
        self.request: bytes | None = None
        build.build(self.tmp / "fw", march="x64", src=FIRMWARE, opt=3)
        build.build(self.tmp / "app", march="x64", src=TAGAPP, opt=3)
        # tagcore.store.osfs (the store's filesystem off the device) beside the core, in its ROMFS
        # image too: OsFs was part of tagcore.store.log until it left the firmware image.
        build.build(self.tmp / "fw" / "tagkit", march="x64", src=TAGKIT, opt=3)
        total = heap
        if romfs:  # the driver mounts it first: one block at the start of the heap
            img = build.romfs_image(self.tmp / "fw", ("tagcore", "tagkit"))
            (self.tmp / "core.romfs").write_bytes(img)
            total += len(img) + ROMFS_SLACK
        self.heap_total = total
        self.boot_blob = ""  # the configuration as boot() loaded it: a reboot loads it again
        self.p = self._start()
        self.gnss_on = self.want_scan = self.gnss_listen = self.deep = False
        self.wake_at = self.scan_ms = 0
        self.actions: list[tuple[str, bytes | bool]] = []

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:fw:app"
        return subprocess.Popen(
            [micropython_binary(), "-X", f"heapsize={self.heap_total}", "-m", "driver"],
            cwd=self.tmp,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def use_board(self, doc: dict) -> None:
        """The board profile, as a file the driver reads (as the device reads it from flash),
        and its worst field cold TTFF (the fixed plan's search cap after a failure: the driver
        does not read the file then, which would cost heap the device's shell has to spare)."""
        import json

        (self.tmp / "board.json").write_text(json.dumps(doc))
        if self.core_args.count(" ") < 4:  # after TABLE ZONES UPLINK
            self.core_args += f" {self.tmp / 'board.json'} {field_cold_s(doc)}"

    def take_gnss_actions(self) -> list[tuple[str, bytes | bool]]:
        a, self.actions = self.actions, []
        return a

    def _call(self, header: str, payload: bytes = b"") -> list[str]:
        assert self.p.stdin is not None and self.p.stdout is not None
        self.p.stdin.write(header.encode() + b"\n" + payload)
        self.p.stdin.flush()
        head = self.p.stdout.readline().decode()
        if head.startswith("! MemoryError"):  # the driver caught it: where the tag would die
            assert self.p.stdin is not None
            self.p.stdin.close()
            self.p.wait(timeout=10)
            err = self.p.stderr.read().decode() if self.p.stderr else ""
            where = "boot" if header.startswith("c ") else header.split()[0]
            raise TagOutOfMemory(where, oom_detail(err))
        if not head.startswith("="):
            try:
                self.p.stdin.close()
                self.p.wait(timeout=10)  # its traceback complete on stderr
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
            err = self.p.stderr.read().decode() if self.p.stderr else ""
            if "MemoryError" in err:  # at import, before the driver could catch it
                raise TagOutOfMemory("boot" if header.startswith("c ") else header, err)
            raise RuntimeError(f"MicroPython tag died on {header!r}: {head}{err}")
        _, g, s, w, ms, n, li, dp, na, *req = head.split()
        self.gnss_on, self.want_scan, self.wake_at, self.scan_ms = (
            g == "1",
            s == "1",
            int(w),
            int(ms),
        )
        self.gnss_listen = li == "1"
        self.deep = dp == "1"
        for _ in range(int(na)):  # "u HEX": bytes to the receiver; "r 1|0": the rail
            k, v = self.p.stdout.readline().decode().split()
            self.actions.append(("uart", bytes.fromhex(v)) if k == "u" else ("rail", v == "1"))
        lines = [self.p.stdout.readline().decode().rstrip("\n") for _ in range(int(n))]
        self.request = self.p.stdout.read(int(req[0])) if req else None
        return lines

    def boot(self, cfg: Settings, now: int) -> list[str]:
        flash = self.tmp / "flash"  # the log on real files: on the device it is not on the heap
        flash.mkdir(exist_ok=True)
        blob = tagconfig.encode(tagconfig.values(cfg)).hex()  # loaded inside as the device loads it
        self.boot_blob = blob
        return self._call(f"c {blob} {now} {flash}{self.core_args}")

    def reboot(self, now: int) -> list[str]:
        """A reboot is a reset on the device: a new interpreter with a whole heap boots from
        the same flash (a reboot inside the old process kept its fragmented heap, and a board
        without PSRAM then died in the new Store's buffer where the device would not)."""
        self.actions = []
        self._quit()
        self.p = self._start()
        return self._call(f"c {self.boot_blob} {now} {self.tmp / 'flash'}{self.core_args}")

    def wake(self, now: int) -> list[str]:
        return self._call(f"w {now}")

    def uart(self, now: int, chunks: list[bytes]) -> list[str]:
        sizes = " ".join(str(len(c)) for c in chunks)
        return self._call(f"u {now} {sizes}", b"".join(chunks))

    def scan(self, now: int, results: list[Adv], done: bool) -> list[str]:
        body = "".join(f"{a} {r} {adv.hex()}\n" for a, r, adv in results).encode()
        return self._call(f"s {now} {len(results)} {int(done)}", body)

    def battery(self, now: int, pct: int) -> list[str]:
        return self._call(f"b {now} {pct}")

    def victim(self, now: int, lat: int, lon: int, acc_dm: int) -> list[str]:
        return self._call(f"v {now} {lat} {lon} {acc_dm}")

    def tamper(self, now: int, kind: str) -> list[str]:
        return self._call(f"t {now} {kind}")

    def link(self, now: int, up: bool) -> list[str]:
        return self._call(f"l {now} {int(up)}")

    def uplink_reply(self, now: int, body: bytes) -> list[str]:
        return self._call(f"y {now} {len(body)}", body)

    def uplink_failed(self, now: int) -> list[str]:
        return self._call(f"n {now}")

    def _quit(self) -> None:
        if self.p.poll() is None:
            assert self.p.stdin is not None
            self.p.stdin.write(b"q\n")
            self.p.stdin.close()
            self.p.wait(timeout=10)

    def close(self) -> None:
        self._quit()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _identity(uplink: Uplink | None, seal: Seal | None) -> str:
    """The driver's UPLINK field: TAGIDHEX:KEYHEX[:K0HEX] (KEYHEX empty: no uplink client)."""
    if uplink is None and seal is None:
        return "-"
    tid = (uplink or seal or (b"", b""))[0]
    out = f"{tid.hex()}:{uplink[1].hex() if uplink else ''}"
    if seal is not None:
        if seal[0] != tid:
            raise ValueError("the seals' kid is the uplink's tag id")
        out += ":" + seal[1].hex()
    return out


def boot_probe(
    cfg: Settings,
    now: int,
    heap: int,
    id_table: bytes | None,
    zone_blob: bytes | None,
    romfs: bool = False,
    uplink: Uplink | None = None,
    seal: Seal | None = None,
) -> str | None:
    """Boot the tag once inside MicroPython at `heap`: None if it boots, else where it ran out
    of memory (for a CPython run, which cannot see the board's heap itself)."""
    tag = MicroPythonTag(
        heap=heap, id_table=id_table, zone_blob=zone_blob, romfs=romfs, uplink=uplink, seal=seal
    )
    try:
        tag.boot(cfg, now)
        return None
    except TagOutOfMemory as e:
        return e.where
    finally:
        tag.close()


def make(
    runtime: str,
    zones: object = None,
    proximity: object = None,
    id_table: bytes | None = None,
    heap: int = ESP32_HEAP,
    zone_blob: bytes | None = None,
    romfs: bool | None = None,
    uplink: Uplink | None = None,
    seal: Seal | None = None,
) -> Tag:
    """A tag in `runtime`. CPython takes the hook objects (or builds its zone monitor from
    `zone_blob` at each boot); MicroPython builds its cores inside from `id_table` and
    `zone_blob` (objects cannot cross the pipe); romfs None: a ROMFS deploy below PSRAM_HEAP."""
    if runtime == "cpython":
        return LocalTag(zones, proximity, zone_blob, uplink, seal)
    if runtime == "micropython":
        if zones is not None:
            raise ValueError("MicroPython builds its zone monitor inside: pass zone_blob")
        if romfs is None:  # as the no-PSRAM boards deploy (boards/*.json: core_deploy)
            romfs = heap < PSRAM_HEAP
        return MicroPythonTag(
            heap=heap, id_table=id_table, zone_blob=zone_blob, romfs=romfs, uplink=uplink,
            seal=seal,
        )  # fmt: skip
    raise ValueError(f"unknown runtime {runtime!r} (cpython or micropython)")

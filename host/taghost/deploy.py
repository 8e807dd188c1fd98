"""`opentag deploy`: build the firmware, copy it to a board with mpremote, provision, verify.

Steps, each stopping the deploy with a one-line reason when it fails:
1. Connect (mpremote's serial transport; its soft reset stops a running main.py) and ask the
   board what it is: `os.uname().machine` (chip family), its heap (PSRAM or not) and
   `sys.implementation._mpy` (the .mpy format its MicroPython loads).
2. Refuse a board profile that does not match (wrong chip, PSRAM expected and missing) and a
   MicroPython whose .mpy version differs from the build's, naming the firmware to flash.
3. Build `.mpy` (mpy-cross, -O3) into a temporary tree; copy `tagcore/` and `tagdevice/` to
   `/lib` as .mpy and firmware's top-level `boot.py`/`main.py` as source (the port runs only
   those as source); remove stale modules there; write the provisioned files under `/prov`
   (the initial seal key k0 goes instead into the board's seal key partition when its profile
   names one, mcu.seal_partition, written and read back before the build: write_seal_slot).
   With --romfs the packages go instead as one ROMFS image (taghost.build.romfs_image) into
   the board's romfs partition, written as `mpremote romfs deploy` writes it (the ESP32 port
   mounts it at /rom, ahead of /lib, and runs the bytecode in place: docs/device.md's heap
   figures), and the .mpy files in /lib are removed; a MicroPython without a ROMFS partition,
   or one too small for the image, is refused.
4. Read back the SHA-256 of every file written, computed on the board (`hashlib`) (and of the
   ROMFS partition's image bytes).
5. Reset the board and wait for its boot banner (docs/device.md):
   `opentag-boot version=<v> board=<name> mpy=<n> cause=<c> mode=<normal|safe>`.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taghost.errors import EXIT_OK, EXIT_RED, UserError
from taghost.paths import BOARDS, FIRMWARE

PACKAGES = ("tagcore", "tagdevice")  # what the tag imports from /lib (firmware/beacon is not it)
BANNER = re.compile(rb"opentag-boot ((?:\w+=\S*\s?)+)")
PSRAM_HEAP = 1024 * 1024  # a heap this large means PSRAM (no-PSRAM ESP32s give ~110 KB at most)

# What the board is; run through mpremote. The unix-port virtual board has no os.uname() and
# says what it emulates in its `virtualboard` module (taghost.vboard).
PROBE = """
import os, sys, gc
try:
    _m = os.uname().machine
    _mpy = sys.implementation._mpy
except AttributeError:
    import virtualboard
    _m = virtualboard.MACHINE
    _mpy = getattr(virtualboard, "MPY", sys.implementation._mpy)
gc.collect()
_h = gc.mem_free() + gc.mem_alloc()
try:  # the virtual board's heap also holds its ROMFS partition: the board's share of it
    _h = _h * virtualboard.HEAP // (virtualboard.HEAP + virtualboard.ROMFS)
except (NameError, AttributeError):
    pass
print(repr((_m, _mpy, sys.implementation.version, _h)))
"""

# The PMU's chip-ID register (0x03) as XPowersLib and the datasheets give it: what tells a
# T-Beam v1.1 (AXP192) from a v1.2 (AXP2101), which are the same ESP32 with the same PSRAM.
PMU_CHIP_ID = {"AXP192": 0x03, "AXP2101": 0x4A}
PMU_PROBE = """
from machine import I2C, Pin
try:
    _v = I2C(0, scl=Pin({scl}), sda=Pin({sda}), freq=400000).readfrom_mem({addr}, 3, 1)[0]
except OSError:
    _v = -1
print(_v)
"""

# esptool's flash offset of a MicroPython image: 0x1000 on the ESP32, 0 on the S3.
FLASH = {
    "ESP32": ("ESP32_GENERIC", "esp32", "0x1000"),
    "ESP32S3": ("ESP32_GENERIC_S3", "esp32s3", "0"),
}


def board_profile(name: str) -> dict[str, Any]:
    """The profile boards/NAME.json (NAME may also be a path to a profile)."""
    p = Path(name)
    if not p.is_file():
        p = BOARDS / f"{name}.json"
    if not p.is_file():
        known = ", ".join(sorted(f.stem for f in BOARDS.glob("*.json")))
        raise UserError(f"no board profile {name!r}; one of {known}")
    from tagcore import board as boardcheck

    doc, problems = boardcheck.load(p.read_bytes())  # the check the tag runs on it
    if problems:
        bad = "\n  ".join(f"{path}: {problem}" for path, problem in problems)
        raise UserError(f"{p}: not a board profile the tag takes:\n  {bad}")
    return doc


def chip_family(chip: str) -> str:
    """ESP32 or ESP32S3, from a profile's chip ("ESP32-S3FN8") or os.uname().machine."""
    c = chip.upper().replace("-", "")
    return "ESP32S3" if "ESP32S3" in c else "ESP32"


def mpy_version(mpy: int) -> tuple[int, int]:
    """(version, sub-version) of a sys.implementation._mpy value."""
    return mpy & 0xFF, (mpy >> 8) & 3


def file_mpy_version(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:4]
    if len(head) < 4 or head[0] != ord("M"):
        raise UserError(f"{path}: not a .mpy file")
    return head[1], head[2] & 3


def check_pmu(prof: dict[str, Any], got: int | None) -> None:
    if got is None:
        return
    want = prof["gnss_power"]["chip"]
    if got == PMU_CHIP_ID[want]:
        return
    names = {v: k for k, v in PMU_CHIP_ID.items()}
    seen = f"an {names[got]}" if got in names else ("no PMU" if got < 0 else f"chip ID 0x{got:02x}")
    others = [
        f.stem
        for f in sorted(BOARDS.glob("*.json"))
        if names.get(got) and names[got] in f.read_text()
    ]
    hint = f" (profiles with an {names[got]}: {', '.join(others)})" if others else ""
    raise UserError(
        f"board profile {prof.get('id')} has an {want} PMU but the board's I2C at "
        f"0x{prof['gnss_power'].get('i2c_addr', 0x34):02x} answers as {seen}: "
        f"pick the profile of the board on the port{hint}"
    )


def check_board(prof: dict[str, Any], board: dict[str, Any], build_mpy: tuple[int, int]) -> None:
    """Refuse a profile the board does not match, or a MicroPython that cannot load the build."""
    want = chip_family(prof["mcu"]["chip"])
    have = chip_family(board["machine"])
    name = prof.get("id", "?")
    if want != have:
        raise UserError(
            f"board profile {name} is an {want} board but the board reports {board['machine']!r} "
            f"({have}): pick the profile of the board on the port (opentag sim list)"
        )
    if prof["mcu"].get("psram_mb", 0) and board["heap"] < PSRAM_HEAP:
        raise UserError(
            f"board profile {name} has {prof['mcu']['psram_mb']} MB PSRAM but the board's heap is "
            f"{board['heap'] // 1024} KB (no PSRAM, or firmware built without it): flash the "
            "SPIRAM build of MicroPython, or pick a profile without PSRAM"
        )
    got = mpy_version(board["mpy"])
    if got[0] != build_mpy[0]:
        image, esp, offset = FLASH[have]
        raise UserError(
            f"the board's MicroPython {'.'.join(map(str, board['version'][:3]))} loads .mpy "
            f"v{got[0]}.{got[1]}, this build makes v{build_mpy[0]}.{build_mpy[1]} "
            f"({mpy_cross_version()}): flash that MicroPython ({image}, "
            f"https://micropython.org/download/{image}/) with esptool (pip install esptool): "
            f"esptool --chip {esp} --port PORT erase_flash; esptool --chip {esp} --port PORT "
            f"--baud 460800 write_flash {offset} {image}-<date>-<version>.bin"
        )


def mpy_cross_full_version() -> str:
    import subprocess

    from taghost.build import mpy_cross

    return subprocess.run([mpy_cross(), "--version"], capture_output=True, text=True).stdout


def mpy_cross_version() -> str:
    return mpy_cross_full_version().strip().split(";")[0] or "mpy-cross"


def mpy_cross_format() -> tuple[int, int]:
    """The .mpy (version, sub-version) mpy-cross writes ("... mpy-cross emitting mpy v6.3")."""
    m = re.search(r"mpy v(\d+)\.(\d+)", mpy_cross_full_version())
    if not m:
        raise UserError(f"cannot tell the .mpy format of {mpy_cross_full_version()!r}")
    return int(m.group(1)), int(m.group(2))


def deploy_files(build_dir: Path, src: Path, romfs: bool = False) -> dict[str, bytes]:
    """{board path: bytes}: the compiled packages under /lib (not with romfs: they go in the
    ROMFS image) and the top-level boot/main.py."""
    files: dict[str, bytes] = {}
    for pkg in () if romfs else PACKAGES:
        for mpy in sorted((build_dir / pkg).rglob("*.mpy")):
            files["/lib/" + mpy.relative_to(build_dir).as_posix()] = mpy.read_bytes()
    for name in ("boot.py", "main.py"):
        if (src / name).is_file():
            files["/" + name] = (src / name).read_bytes()
    return files


ROM_PROBE = """
import vfs
_n = vfs.rom_ioctl(1) if hasattr(vfs, "rom_ioctl") else -1
_d = vfs.rom_ioctl(2, 0) if _n > 0 else -1
print(len(_d) if not isinstance(_d, int) else -1)
"""
ROM_SHA = """
import vfs, hashlib
print(repr(hashlib.sha256(memoryview(vfs.rom_ioctl(2, 0))[:{n}]).digest()))
"""


class _RomfsState:
    """What mpremote's `romfs deploy` needs of its command state: the transport, in raw REPL."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport

    def ensure_raw_repl(self) -> None:
        pass  # the deploy holds the raw REPL already

    def did_action(self) -> None:
        pass


# Host data quality the tag never reads: the citations behind every current and time, and the
# notes. Left in, they were 60-70 % of board.json (the Supreme M10's 7.3 KB against the 8 KB the
# tag reads at most), and the parsed profile stays in the tag's heap for its whole run.
HOST_ONLY = frozenset(("sources", "source", "notes"))


def device_profile(prof: Any) -> Any:
    """The board profile as the tag needs it: every HOST_ONLY key dropped, at any depth."""
    if isinstance(prof, dict):
        return {k: device_profile(v) for k, v in prof.items() if k not in HOST_ONLY}
    if isinstance(prof, list):
        return [device_profile(v) for v in prof]
    return prof


def provisioned(prof: dict[str, Any], args: argparse.Namespace) -> dict[str, bytes]:
    """The /prov files (docs/device.md) from the options given; board.json always (the tag's
    part of the profile: device_profile)."""
    files = {"/prov/board.json": json.dumps(device_profile(prof), sort_keys=True).encode()}
    for opt, name in (
        ("config", "config.bin"),
        ("zones", "zones.bin"),
        ("beacon", "beacon.bin"),
        ("key", "tag.key"),
    ):
        path = getattr(args, opt, None)
        if path:
            try:
                files[f"/prov/{name}"] = Path(path).read_bytes()
            except OSError as e:
                raise UserError(f"--{opt} {path}: {e.strerror}") from None
    k0 = seal_k0(args)
    if k0 is not None and not seal_partition(prof):
        # raw bytes on the tag, as tag.key; the tag keeps it only until its key slot holds it
        # (a board with a key partition gets it there instead: write_seal_slot)
        files["/prov/seal.key"] = k0
    if getattr(args, "server", None):
        if not getattr(args, "tag", None):
            raise UserError("--server needs --tag (the tag id the server knows)")
        doc = {"url": args.server, "tag": args.tag}
        files["/prov/server.json"] = json.dumps(doc).encode()
    if getattr(args, "wifi", None):
        ssid, sep, password = args.wifi.partition(":")
        if not sep or not ssid:
            raise UserError("--wifi takes SSID:PASSWORD")
        files["/prov/wifi.json"] = json.dumps({"ssid": ssid, "password": password}).encode()
    return files


def seal_k0(args: argparse.Namespace) -> bytes | None:
    """k0 from --seal-key / --seal-key-file, or None if neither is given."""
    if getattr(args, "seal_key", None) or getattr(args, "seal_key_file", None):
        from taghost.verify import k0_arg

        return k0_arg(args.seal_key, args.seal_key_file)
    return None


def seal_partition(prof: dict[str, Any]) -> str | None:
    """The label of the board's seal key partition (mcu.seal_partition), or None."""
    return prof.get("mcu", {}).get("seal_partition") or None


class _Blocks:
    """The first bytes of each block of a key partition, as tagcore.store.keyslot reads them."""

    def __init__(self, heads: list[bytes]) -> None:
        self.heads = heads

    def readblocks(self, n: int, buf: bytearray, off: int = 0) -> None:
        buf[:] = self.heads[n][off : off + len(buf)]

    def ioctl(self, op: int, arg: int) -> int:
        return {4: len(self.heads), 5: 4096}.get(op, 0)  # 6 (erase): the host only reads


def slot_of(heads: list[bytes]) -> tuple[int, int, bytes, bytes] | None:
    """(epoch, last sealed seq, key, prev mac) of the newest valid key slot record among the
    partition's block heads, or None."""
    from tagcore.store import keyslot as KS
    from tagcore.store import seal as S

    return S.unpack_slot(KS.PartSlot(_Blocks(heads)).load())


def write_seal_slot(board: Board, label: str, k0: bytes, say: Callable[[str], None]) -> None:
    """k0 into the board's key partition as the slot's first record (epoch 0), so that it never
    touches littlefs, where a removed file stays readable on the chip (docs/evidence.md). A
    partition already holding a valid slot keeps it: the tag's chain has moved on from k0, and
    starting it again would fork what the server holds (the device shell's rule for
    /prov/seal.key too). Raises UserError if the board has no such partition or the write does
    not read back."""
    from tagcore.store import keyslot as KS
    from tagcore.store import seal as S

    heads = board.partition_heads(label)
    if heads is None or len(heads) < 2:
        raise UserError(
            f"the board profile keeps the seal key in flash partition {label!r}, and the "
            f"board's MicroPython has none of two or more 4 KB blocks: flash MicroPython with "
            f"a partition table that has a data partition {label!r} (8 KB), or deploy without "
            "--seal-key"
        )
    have = slot_of(heads)
    if have is not None:
        say(f"seal key partition {label}: holds the tag's key at epoch {have[0]}: kept")
        return
    rec = bytes(KS.record(1, S.pack_slot(0, 0, k0, bytes(S.MAC_LEN))))
    board.partition_write(label, rec)
    got = slot_of(board.partition_heads(label) or [])
    if got is None or got[0] != 0 or got[2] != k0:
        raise UserError(f"seal key partition {label}: the key did not read back")
    say(f"wrote the initial seal key into partition {label} (epoch 0) and read it back")


class Board:
    """A board on a serial port, through mpremote's transport (raw REPL, raw-paste)."""

    def __init__(self, port: str) -> None:
        from mpremote.transport_serial import SerialTransport

        try:
            self.t = SerialTransport(port, baudrate=115200)
        except Exception as e:  # mpremote wraps serial.SerialException in its own types
            raise UserError(f"cannot open {port}: {e}") from None
        self.port = port
        try:
            self.t.enter_raw_repl(soft_reset=True)  # stops main.py as mpremote always does
        except Exception as e:
            self.t.close()
            raise UserError(f"{port}: no MicroPython REPL answers ({e})") from None

    def eval_repr(self, code: str) -> Any:
        return ast.literal_eval(self.t.exec(code).decode().strip())

    def probe(self) -> dict[str, Any]:
        machine, mpy, version, heap = self.eval_repr(PROBE)
        return {"machine": machine, "mpy": mpy, "version": list(version), "heap": heap}

    def pmu_id(self, prof: dict[str, Any]) -> int | None:
        """The chip ID the profile's PMU address answers with (-1: none answers); None if the
        profile has no PMU."""
        gp, i2c = prof.get("gnss_power") or {}, (prof.get("pins") or {}).get("i2c")
        if gp.get("chip") not in PMU_CHIP_ID or not i2c:
            return None
        code = PMU_PROBE.format(scl=i2c["scl"], sda=i2c["sda"], addr=gp.get("i2c_addr", 0x34))
        return int(self.t.exec(code).decode().strip())

    def makedirs(self, path: str) -> None:
        self.t.exec(
            "import os\n"
            f"_p = ''\nfor _d in {path!r}.strip('/').split('/'):\n"
            " _p += '/' + _d\n try:\n  os.mkdir(_p)\n except OSError:\n  pass\n"
        )

    def listing(self, top: str) -> list[str]:
        """Every file under `top` on the board (empty if it does not exist)."""
        code = (
            "import os\n_o = []\ndef _w(d):\n try:\n  _e = list(os.ilistdir(d))\n"
            " except OSError:\n  return\n for _x in _e:\n  _q = d + '/' + _x[0]\n"
            "  if _x[1] & 0x4000:\n   _w(_q)\n  else:\n   _o.append(_q)\n"
            f"_w({top.rstrip('/')!r})\nprint(repr(_o))\n"
        )
        return list(self.eval_repr(code))

    def write(self, path: str, data: bytes) -> None:
        self.t.fs_writefile(path, data, chunk_size=2048)

    def read(self, path: str) -> bytes:
        return bytes(self.t.fs_readfile(path, chunk_size=1024))

    def remove(self, path: str) -> None:
        self.t.exec(f"import os\nos.remove({path!r})")

    def sha256(self, path: str) -> bytes:
        return bytes(self.t.fs_hashfile(path, "sha256", chunk_size=1024))

    def sha256_all(self, paths: list[str], batch: int = 32) -> dict[str, bytes | None]:
        """{path: SHA-256 the board computes (None: unreadable)}, one exec per `batch` files
        (fs_hashfile takes two round trips per file). The board prints one line per file as
        it goes: nothing of the batch is held on its heap (a repr of 32 digests, 4 KB in one
        block, failed on a 94 KB board with its heap in pieces)."""
        out: dict[str, bytes | None] = {}
        for i in range(0, len(paths), batch):
            out.update(self._sha256_batch(paths[i : i + batch]))
        return out

    def _sha256_batch(self, paths: list[str]) -> dict[str, bytes | None]:
        code = (
            "import hashlib, binascii\n_b = bytearray(1024)\n"
            f"for _p in {paths!r}:\n"
            " try:\n  _h = hashlib.sha256()\n  with open(_p, 'rb') as _f:\n"
            "   while True:\n    _n = _f.readinto(_b)\n    if not _n:\n     break\n"
            "    _h.update(_b if _n == 1024 else _b[:_n])\n"
            "  print(binascii.hexlify(_h.digest()).decode())\n"
            " except OSError:\n  print('-')\n"
        )
        from mpremote.transport import TransportExecError

        try:
            lines = self.t.exec(code).decode().split()
        except TransportExecError as e:
            raise UserError(f"{self.port}: the board could not hash its files ({e})") from None
        if len(lines) != len(paths):
            raise UserError(f"{self.port}: {len(lines)} hashes for {len(paths)} files")
        return {
            p: None if h == "-" else bytes.fromhex(h) for p, h in zip(paths, lines, strict=True)
        }

    def reset_and_read(self, until: Callable[[bytes], bool], timeout: float) -> bytes:
        """machine.reset(), then what the board prints until `until(output)` or the timeout."""
        self.t.exec_raw_no_follow("import time, machine\ntime.sleep_ms(50)\nmachine.reset()")
        self.t.in_raw_repl = False
        ser = self.t.serial
        out = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end and not until(out):
            chunk = ser.read(ser.in_waiting or 1)
            out += chunk
        return out

    def partition_heads(self, label: str) -> list[bytes] | None:
        """The first 128 bytes of each block of data partition `label`, or None if the board
        has none (esp32.Partition.find)."""
        code = (
            "import binascii\ntry:\n import esp32\n"
            f" _p = esp32.Partition.find(esp32.Partition.TYPE_DATA, label={label!r})\n"
            "except (ImportError, AttributeError):\n _p = []\n"
            "if not _p:\n print('none')\n"
            "else:\n"
            " _b = bytearray(128)\n"
            " for _i in range(_p[0].ioctl(4, 0)):\n"
            "  _p[0].readblocks(_i, _b, 0)\n"
            "  print(binascii.hexlify(_b).decode())\n"
        )
        out = self.t.exec(code).decode().split()
        if not out or out == ["none"]:
            return None
        return [bytes.fromhex(h) for h in out]

    def partition_write(self, label: str, rec: bytes) -> None:
        """Erase every block of data partition `label`, then write `rec` at block 0's start."""
        self.t.exec(
            "import esp32, binascii\n"
            f"_p = esp32.Partition.find(esp32.Partition.TYPE_DATA, label={label!r})[0]\n"
            "for _i in range(_p.ioctl(4, 0)):\n _p.ioctl(6, _i)\n"
            f"_p.writeblocks(0, binascii.unhexlify({rec.hex()!r}), 0)\n"
        )

    def romfs_size(self) -> int:
        """The size of the board's ROMFS partition 0 (-1: its MicroPython has none)."""
        return int(self.t.exec(ROM_PROBE).decode().strip())

    def write_romfs(self, image: bytes) -> None:
        """The image into ROMFS partition 0, as `mpremote romfs deploy` writes it."""
        import contextlib
        import io
        import types

        from mpremote.commands import _do_romfs_deploy

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "tag.romfs"
            path.write_bytes(image)
            args = types.SimpleNamespace(path=str(path), partition=0, mpy=False)
            with contextlib.redirect_stdout(io.StringIO()):  # its progress lines
                _do_romfs_deploy(_RomfsState(self.t), args)

    def romfs_sha256(self, n: int) -> bytes:
        return bytes(self.eval_repr(ROM_SHA.format(n=n)))

    def close(self) -> None:
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
        finally:
            self.t.close()


def banner_done(out: bytes) -> bool:
    i = out.find(b"opentag-boot ")
    return i >= 0 and b"\n" in out[i:]


def parse_banner(text: bytes) -> dict[str, str] | None:
    m = BANNER.search(text)
    if not m:
        return None
    pairs = m.group(1).decode("ascii", "replace").split()
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def deploy(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    prof = board_profile(args.board)
    src = Path(args.firmware or os.environ.get("OPENTAG_FIRMWARE") or FIRMWARE)
    if not (src / "tagcore").is_dir():
        raise UserError(f"{src}: not a firmware tree (no tagcore/)")
    prov = provisioned(prof, args)
    from taghost.build import build

    board = Board(args.port)
    try:
        # what the board is, before anything is built or written: a refusal is quick
        info = board.probe()
        say(
            f"board on {args.port}: {info['machine']}, heap {info['heap'] // 1024} KB, "
            f"MicroPython {'.'.join(map(str, info['version'][:3]))} (.mpy v{info['mpy'] & 0xFF})"
        )
        build_mpy = mpy_cross_format()
        check_board(prof, info, build_mpy)
        check_pmu(prof, board.pmu_id(prof))
        romfs = bool(getattr(args, "romfs", False))
        rom_size = board.romfs_size() if romfs else 0
        if romfs and rom_size < 0:
            raise UserError(
                "--romfs: the board's MicroPython has no ROMFS partition (vfs.rom_ioctl): flash "
                "MicroPython >= 1.25 with a partition table that has a romfs partition, or "
                "deploy without --romfs (.mpy files in /lib)"
            )
        k0, label = seal_k0(args), seal_partition(prof)
        if k0 is not None and label:  # before the build: a board without one is refused at once
            write_seal_slot(board, label, k0, say)
        image = b""
        with tempfile.TemporaryDirectory(prefix="opentag-deploy-") as tmp:
            built = build(Path(tmp), march=args.march, src=src, opt=args.opt)
            first = next(p for p in built if p.suffix == ".mpy")  # boot.py, main.py: source
            if file_mpy_version(first)[0] != build_mpy[0]:
                raise UserError(
                    f"mpy-cross says v{build_mpy[0]} but wrote {first.name} "
                    f"as v{file_mpy_version(first)[0]}"
                )
            files = deploy_files(Path(tmp), src, romfs)
            if romfs:
                from taghost.build import romfs_image

                image = romfs_image(Path(tmp), PACKAGES)
        if len(image) > rom_size:
            raise UserError(
                f"--romfs: the image is {len(image)} bytes, the board's ROMFS partition "
                f"{rom_size}: give the partition table a larger romfs partition"
            )
        files.update(prov)
        stale = [p for top in ("/lib/" + pkg for pkg in PACKAGES) for p in board.listing(top)]
        if k0 is not None and label:  # an earlier deploy's k0 on littlefs: not left there
            stale += [p for p in board.listing("/prov") if p == "/prov/seal.key"]
        for path in sorted(set(stale) - set(files)):
            board.remove(path)
        for d in sorted({p.rsplit("/", 1)[0] for p in files} | {"/log"}):
            if d:
                board.makedirs(d)
        for path, data in sorted(files.items()):
            board.write(path, data)
        say(
            f"wrote {len(files)} files ({sum(map(len, files.values()))} bytes), "
            f"removed {len(set(stale) - set(files))} stale"
        )
        if image:
            board.write_romfs(image)
            if board.romfs_sha256(len(image)) != hashlib.sha256(image).digest():
                say("verification FAILED: the ROMFS partition differs from the image")
                return {"ok": False, "files": len(files), "mismatch": ["romfs"], "board": info}
            say(f"wrote and verified the ROMFS image ({len(image)} bytes) by SHA-256")
        sums = board.sha256_all(sorted(files))
        bad = [
            p for p, data in sorted(files.items()) if sums.get(p) != hashlib.sha256(data).digest()
        ]
        if bad:
            say(f"verification FAILED: {len(bad)} files differ on the board: {', '.join(bad)}")
            return {"ok": False, "files": len(files), "mismatch": bad, "board": info}
        say(f"verified {len(files)} files by SHA-256 on the board")
        if not (src / "main.py").is_file():
            say("no main.py in the firmware tree: not rebooting into it")
            return {"ok": True, "files": len(files), "board": info, "banner": None}
        out = board.reset_and_read(banner_done, args.timeout)
    finally:
        board.close()
    banner = parse_banner(out)
    doc: dict[str, Any] = {
        "ok": False,
        "files": len(files),
        "romfs": len(image),
        "board": info,
        "banner": banner,
    }
    if banner is None:
        say(f"no boot banner within {args.timeout:g} s of the reset; the board printed:")
        say(out.decode("utf-8", "replace")[-2000:])
        return doc
    problems = []
    if banner.get("board") not in (prof.get("id"), prof.get("name")):
        problems.append(f"board={banner.get('board')} (expected {prof.get('id')})")
    if banner.get("mpy") and int(banner["mpy"]) & 0xFF != build_mpy[0]:
        problems.append(f"mpy={banner['mpy']}")
    if banner.get("mode") != "normal":
        problems.append(f"mode={banner.get('mode')} (the firmware fell back to safe mode)")
    line = out[out.find(b"opentag-boot") :].split(b"\n")[0].decode("utf-8", "replace").strip()
    say(f"booted: {line}")
    if problems:
        say("boot banner does not match: " + "; ".join(problems))
        return doc
    doc["ok"] = True
    return doc


def cmd_deploy(args: argparse.Namespace) -> int:
    """`opentag deploy --port PORT --board NAME`."""
    err = sys.stderr if args.json else sys.stdout

    def say(msg: str) -> None:
        print(msg, file=err, flush=True)

    doc = deploy(args, say)
    if args.json:
        print(json.dumps(doc, indent=1))
    return EXIT_OK if doc["ok"] else EXIT_RED

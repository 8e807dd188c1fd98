"""Every file under firmware/ compiles with mpy-cross, for the ESP32 and as portable bytecode."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from taghost.build import build, mpy_cross
from taghost.paths import FIRMWARE

FILES = sorted(FIRMWARE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIRMWARE)) for p in FILES])
def test_compiles_without_an_arch(path: Path) -> None:
    # What a plain `mpy-cross FILE` does: portable bytecode, no native code required.
    proc = subprocess.run([mpy_cross(), "-o", "/dev/null", str(path)], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def test_build_writes_one_mpy_per_module_for_the_esp32(tmp_path: Path) -> None:
    written = build(tmp_path, march="xtensawin")
    assert {p.relative_to(tmp_path).with_suffix(".py") for p in written} == {
        p.relative_to(FIRMWARE) for p in FILES
    }
    # boot.py and main.py stay source: the port runs them by file name at every reset
    entry = [p for p in written if p.suffix == ".py"]
    assert sorted(p.name for p in entry) == ["boot.py", "main.py"]
    assert all(p.parent == tmp_path for p in entry)
    for p in entry:
        assert p.read_bytes() == (FIRMWARE / p.name).read_bytes()
    for mpy in written:
        if mpy.suffix == ".py":
            continue
        head = mpy.read_bytes()[:4]
        # .mpy format 6; the core holds no native code, so no arch is recorded and the same
        # files also load on the unix port that the tests run.
        assert head[0] == ord("M") and head[1] == 6 and head[2] >> 2 == 0


def test_build_refuses_an_unknown_arch(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown --march"):
        build(tmp_path, march="z80")


def test_the_image_holds_no_host_code(tmp_path: Path) -> None:
    # What builds the tag's data (zone blobs, beacon windows from the beacon's secret, calendar
    # dates) and what stands in for its flash off the device is host code (tagkit): the image
    # holds what the tag runs and nothing that needs a secret the tag must never have. OsFs,
    # the filesystem the device shell hands the store, is the tag's own (tagcore.store.log.osfs).
    written = build(tmp_path, march="xtensawin")
    names = {p.stem for p in written}
    assert not names & {"civil", "zonewrite", "beaconwindow", "memfs"}, names
    assert "osfs" in names
    text = b"".join(p.read_bytes() for p in written)
    for host_only in (b"window_blob", b"MemFs", b"civil_from_days", b"zonewrite.py"):
        assert host_only not in text, host_only
    assert b"rolling_id" in text  # the beacon derives its own identifiers: that stays


def test_build_romfs_writes_an_image_the_port_imports_the_packages_from(tmp_path: Path) -> None:
    from micropython_runner import run_micropython
    from taghost import cli
    from taghost.build import ROMFS_NAME

    assert cli.main(["build", "--out", str(tmp_path), "--romfs"]) == 0
    img = tmp_path / ROMFS_NAME
    mpys = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.mpy"))
    # MicroPython's own VfsRom reads it: every module of both packages, each byte for byte
    code = (
        "import os, vfs\n"
        f"f = open({str(img)!r}, 'rb'); rom = f.read(); f.close()\n"
        "os.mount(vfs.VfsRom(rom), '/rom')\n"
        "def w(d):\n for e in os.ilistdir(d):\n  p = d + '/' + e[0]\n"
        "  if e[1] & 0x4000:\n   w(p)\n  else:\n   print(p[5:], len(open(p, 'rb').read()))\n"
        "w('/rom')\n"
    )
    out = run_micropython(code, heap=1_000_000).split()
    got = dict(zip(out[::2], map(int, out[1::2]), strict=True))
    assert sorted(got) == [m for m in mpys if m.split("/")[0] in ("tagcore", "tagdevice")]
    assert all(got[m] == (tmp_path / m).stat().st_size for m in got)

"""The virtual board is driven by mpremote exactly as a USB board: ls, cp, exec, soft-reset,
reset; its flash is a littlefs image that keeps what was written across resets and power cuts."""

from __future__ import annotations

import hashlib
from pathlib import Path

from taghost.vboard import HARD_RESET, PWRON_RESET, SOFT_RESET, VirtualBoard
from vboardkit import mpremote


def test_mpremote_fs_and_exec(vboard: VirtualBoard, tmp_path: Path) -> None:
    src = tmp_path / "hello.bin"
    src.write_bytes(bytes(range(256)) * 9)
    r = mpremote(vboard.port, "fs", "cp", str(src), ":hello.bin")
    assert r.returncode == 0, r.stderr
    r = mpremote(vboard.port, "fs", "ls")
    assert r.returncode == 0, r.stderr
    assert "2304 hello.bin" in r.stdout
    r = mpremote(vboard.port, "sha256sum", ":hello.bin")
    assert hashlib.sha256(src.read_bytes()).hexdigest() in r.stdout
    # the file lives on littlefs, not on the host: the block device sees it
    r = mpremote(
        vboard.port, "exec", "import os; print(os.statvfs('/')[0], os.stat('hello.bin')[6])"
    )
    assert r.stdout.split() == ["4096", "2304"]
    back = tmp_path / "back.bin"
    r = mpremote(vboard.port, "fs", "cp", ":hello.bin", str(back))
    assert back.read_bytes() == src.read_bytes()


def test_resets_and_power_cut_keep_the_flash(vboard: VirtualBoard) -> None:
    r = mpremote(vboard.port, "exec", "with open('keep.txt', 'w') as f: f.write('kept')")
    assert r.returncode == 0, r.stderr
    r = mpremote(vboard.port, "soft-reset")
    assert r.returncode == 0, r.stderr
    cause = "import machine; print(machine.reset_cause())"
    # every mpremote session starts with a soft reset, as on a USB board
    assert mpremote(vboard.port, "exec", cause).stdout.strip() == str(SOFT_RESET)
    n = len(vboard.console)
    assert mpremote(vboard.port, "reset").returncode == 0
    i = vboard.wait_for(b"rst:0xc (SW_CPU_RESET)", start=n)
    vboard.wait_for(b">>> ", start=i)
    assert vboard.resets[-1] == HARD_RESET
    n = len(vboard.console)
    vboard.power_cycle()
    i = vboard.wait_for(b"rst:0x1 (POWERON_RESET)", start=n)
    vboard.wait_for(b">>> ", start=i)
    assert vboard.resets[-1] == PWRON_RESET
    r = mpremote(vboard.port, "fs", "cat", "keep.txt")
    assert r.stdout.strip() == "kept"


def test_fakes_are_the_boards_modules(vboard: VirtualBoard) -> None:
    code = "import machine, bluetooth; print(hasattr(machine, 'UART'), hasattr(bluetooth, 'BLE'))"
    r = mpremote(vboard.port, "exec", code)
    assert r.stdout.split() == ["True", "True"], r.stdout + r.stderr


def test_main_py_runs_at_reset_and_ctrl_c_stops_it(vboard: VirtualBoard) -> None:
    loop = "import time\nprint('main running')\nwhile True:\n    time.sleep_ms(50)\n"
    r = mpremote(vboard.port, "exec", f"with open('main.py', 'w') as f: f.write({loop!r})")
    assert r.returncode == 0
    n = len(vboard.console)
    mpremote(vboard.port, "reset")
    vboard.wait_for(b"main running", start=vboard.wait_for(b"SW_CPU_RESET", start=n))
    # mpremote interrupts the running loop with Ctrl-C, as on a board
    r = mpremote(vboard.port, "exec", "print(6 * 7)")
    assert r.stdout.strip() == "42", r.stderr


def test_an_interpreter_that_cannot_start_halts_the_board(tmp_path: Path) -> None:
    # a "micropython" that exits at once: the bridge stops after 5 tries instead of spinning
    bad = tmp_path / "micropython"
    bad.write_text("#!/bin/sh\nexit 3\n")
    bad.chmod(0o755)
    with VirtualBoard(tmp_path / "f.img", micropython=str(bad)) as vb:
        vb.wait_for(b"virtual board halted: the interpreter exited 3 at once, 5 times")
        assert len(vb.resets) == 5

"""The seal's key slot on a raw flash partition (tagcore.store.keyslot, docs/evidence.md), on
the NOR-flash fake of esp32.Partition (tests/mpy/fake_machine/esp32.py) inside the MicroPython
unix port: with the power cut at every program and erase of a run of epoch steps (and the cut
program torn at several points), the reboot loads the newest durable key or the one being
written, never loses one, leaves exactly one valid record, and leaves no byte of any other
epoch's key readable on the chip; every completed save leaves none either.

The fake itself is checked against the datasheet behaviour it models (CPython, same file)."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import pytest
from micropython_runner import MPY_TESTS, run_cpython, run_micropython

FAKE = MPY_TESTS / "fake_machine"


def _fake() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fake_esp32", FAKE / "esp32.py")
    assert spec is not None and spec.loader is not None
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_the_nor_fake_behaves_as_the_datasheet() -> None:
    e = _fake()
    fl = e.add_partition("sealkey", 2 * e.SECTOR)
    (p,) = e.Partition.find(e.Partition.TYPE_DATA, label="sealkey")
    assert e.Partition.find(e.Partition.TYPE_APP) == []
    assert p.ioctl(4, 0) == 2 and p.ioctl(5, 0) == 4096
    buf = bytearray(4)
    p.readblocks(1, buf, 10)
    assert buf == b"\xff" * 4  # factory-blank
    p.writeblocks(1, b"\x0f\xf0\xaa\x55", 10)
    p.writeblocks(1, b"\xff\x0f\x0f\xff", 10)  # no erase in between: bits only clear
    p.readblocks(1, buf, 10)
    assert buf == bytes([0x0F, 0x00, 0x0A, 0x55])
    assert fl.readable(b"\x55") == 1 and fl.readable(b"\x0f\xf0") == 1  # 0x0f still there
    p.ioctl(6, 1)  # erase: the whole 4 KB sector back to 0xFF
    assert fl.mem[4096:] == b"\xff" * 4096 and fl.erases == [0, 1]
    assert fl.readable(b"\x55") == 0
    with pytest.raises(OSError):
        p.writeblocks(0, b"\x00" * 100)  # the simple protocol erases: whole sectors only
    p.writeblocks(0, b"\x00" * 4096)  # erases the sector, then programs
    assert fl.erases == [1, 1] and fl.mem[:4096] == bytes(4096)
    small = e.Partition("sealkey", block_size=512)
    with pytest.raises(OSError):
        small.ioctl(6, 1)  # erase granularity is the 4 KB sector
    # a cut program leaves a prefix of its bytes; then the chip is dead until revived
    p.ioctl(6, 1)
    fl.cut_at = fl.ops + 1
    secret = bytes(range(1, 33))
    with pytest.raises(e.PowerCut):
        p.writeblocks(1, secret, 0)
    with pytest.raises(e.PowerCut):
        p.readblocks(1, buf, 0)
    fl.revive()
    assert fl.readable(secret) == 16 and fl.mem[4096 + 15 : 4096 + 17] == b"\x10\xff"
    # a cut erase leaves part of the sector as it was
    p.ioctl(6, 1)
    p.writeblocks(1, secret, 0)
    fl.cut_at = fl.ops + 1
    with pytest.raises(e.PowerCut):
        p.ioctl(6, 1)
    fl.revive()
    assert 0 < fl.readable(secret) < 32


def _cuts(out: str) -> tuple[list[list[int]], list[list[int]], int]:
    steps, cuts, ops = [], [], 0
    for line in out.splitlines():
        w = line.split()
        if w[0] == "STEP":
            steps.append([int(x) for x in w[1:]])
        elif w[0] == "OPS":
            ops = int(w[1])
        elif w[0] == "CUT":
            cuts.append([int(x) for x in w[1:]])
    return steps, cuts, ops


@pytest.mark.parametrize(
    "nblocks,tear",
    [(2, (1, 2)), (2, (0, 1)), (2, (72, 73)), (3, (1, 2)), (4, (3, 4))],
)
def test_a_power_cut_anywhere_leaves_one_newest_key_and_no_old_one(
    nblocks: int, tear: tuple[int, int]
) -> None:
    steps = 12
    out = run_micropython(
        script=MPY_TESTS / "keyslot_powerloss.py",
        args=(str(nblocks), str(steps), str(tear[0]), str(tear[1])),
        path=(FAKE,),
        heap=1_000_000,
    )
    done, cuts, ops = _cuts(out)
    # the uncut run: every save completes, one valid record, no earlier key readable
    assert done == [[e, 1, 1, 0] for e in range(steps + 1)]
    assert ops >= 2 * steps and len(cuts) == ops  # a cut in every program and erase
    for cut, last, loaded, damaged, valid, leak, after_ok, after_leak in cuts:
        where = f"cut at op {cut}"
        # never lost, never rolled back: the last completed save's key or the one after it
        assert loaded in (last, last + 1), where
        if loaded >= 0:
            assert valid == 1 and not damaged and leak == 0, where
        else:  # the cut tore provisioning itself: nothing durable yet
            assert last == -1 and valid == 0, where
        assert after_ok == 1 and after_leak == 0, where  # and it goes on from there
    # every save erases: the ring spreads them over its blocks
    erases = [int(x) for x in out.split("ERASES")[1].split("\n")[0].split()]
    assert len(erases) == nblocks and max(erases) - min(erases) <= 1 and sum(erases) == steps


def test_the_same_on_cpython(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(FAKE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = ("3", "6", "1", "2")
    cp = run_cpython(script=MPY_TESTS / "keyslot_powerloss.py", args=args)
    mp = run_micropython(
        script=MPY_TESTS / "keyslot_powerloss.py", args=args, path=(FAKE,), heap=1_000_000
    )
    assert cp == mp and "CUT 1 " in cp


def test_the_device_shell_takes_the_partition_and_moves_an_old_file_slot_into_it() -> None:
    # tagdevice.prov.key_slot / sealer on the fake esp32.Partition (tests/mpy/keyslot_prov.py)
    out = run_micropython(
        script=MPY_TESTS / "keyslot_prov.py", path=(FAKE,), heap=300_000
    ).splitlines()
    got = {ln.split()[0]: ln.split()[1:] for ln in out}
    note = "no_partition_sealkey:_key_slot_on_littlefs,_old_keys_not_erased"
    assert got == {
        # the board names no partition (a unix shell's): the littlefs file slot, as before
        "none_named": ["FileSlot", "-", "3", "file", "-", "1"],
        # it names one the firmware has not got: still sealing, on littlefs, and it says so
        "no_partition": ["FileSlot", note, "3", "file", "-", "1"],
        # an older firmware's file slot moves into the partition and its file goes
        "migrated": ["PartSlot", "-", "3", "nofile", "-", "1"],
        "again": ["PartSlot", "-", "3", "nofile", "-", "1"],
        # the higher epoch wins: a stale file never rolls the partition back
        "newer_kept": ["7", "nofile"],
        "file_damaged": ["PartSlot", "-", "2", "nofile", "-", "1"],
        # nothing usable anywhere: unsealed with the reason, never re-made from k0
        "both_damaged_or_empty": ["FileSlot", "-", "-", "file", "slot_damaged", "0"],
        "partition_damaged": ["PartSlot", "-", "-", "nofile", "slot_damaged", "0"],
        "empty_no_key": ["PartSlot", "-", "-", "nofile", "no_key", "0"],
    }

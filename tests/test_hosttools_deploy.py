"""`opentag deploy` against the virtual board: build, copy, provision, verify by SHA-256 on the
board, reset, check the boot banner; refuse a wrong profile and a wrong .mpy format."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pytest
from taghost.vboard import VirtualBoard
from vboardkit import DEVICE_MAIN, firmware_tree, mpremote, opentag


def test_deploy_copies_verifies_and_boots(vboard: VirtualBoard, fw: Path, tmp_path: Path) -> None:
    # a module an older build left, that this build does not have: deploy removes it
    stale = "import os\nos.mkdir('/lib')\nos.mkdir('/lib/tagcore')\n"
    stale += "with open('/lib/tagcore/gone.mpy', 'wb') as f: f.write(b'x')"
    assert mpremote(vboard.port, "exec", stale).returncode == 0
    key = tmp_path / "tag.key"
    key.write_bytes(bytes(range(32)))
    r = opentag(
        "deploy",
        "--port",
        vboard.port,
        "--board",
        "tbeam_v12_axp2101",
        "--firmware",
        str(fw),
        "--key",
        str(key),
        "--server",
        "http://127.0.0.1:8080",
        "--tag",
        "00112233445566aa",
        "--json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["banner"]["board"] == "tbeam_v12_axp2101"
    assert doc["banner"]["cause"] == "hard" and doc["banner"]["mode"] == "normal"
    assert "verified" in r.stderr
    # what is on the board is what was built: check a module and a provisioned file ourselves
    r2 = mpremote(vboard.port, "sha256sum", ":/prov/tag.key")
    assert hashlib.sha256(key.read_bytes()).hexdigest() in r2.stdout
    r2 = mpremote(vboard.port, "fs", "cat", ":/prov/server.json")
    assert json.loads(r2.stdout) == {"url": "http://127.0.0.1:8080", "tag": "00112233445566aa"}
    assert "removed 1 stale" in r.stderr
    assert "gone.mpy" not in mpremote(vboard.port, "fs", "ls", ":/lib/tagcore").stdout
    r2 = mpremote(vboard.port, "exec", "import tagcore.store.record as R; print(R.MAGIC)")
    assert r2.stdout.strip() == "167", r2.stderr


def test_deploy_refuses_a_profile_the_board_does_not_match(vboard: VirtualBoard, fw: Path) -> None:
    r = opentag(
        "deploy", "--port", vboard.port, "--board", "tbeam_supreme_s3", "--firmware", str(fw)
    )
    assert r.returncode == 2
    assert "ESP32S3 board but the board reports" in r.stderr and "Traceback" not in r.stderr
    # nothing was written
    assert "lib" not in mpremote(vboard.port, "fs", "ls").stdout


def test_deploy_refuses_the_other_tbeams_profile(vboard: VirtualBoard, fw: Path) -> None:
    # v1.1 and v1.2 are the same ESP32 with PSRAM: only the PMU's chip ID tells them apart
    r = opentag(
        "deploy", "--port", vboard.port, "--board", "tbeam_v11_axp192", "--firmware", str(fw)
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "has an AXP192 PMU but the board's I2C at 0x34 answers as an AXP2101" in r.stderr
    assert "tbeam_v12_axp2101" in r.stderr  # the profiles that would fit


def test_deploy_refuses_another_mpy_format(tmp_path: Path, fw: Path) -> None:
    # a board running a MicroPython of .mpy v5 (1.12-1.18)
    with VirtualBoard(tmp_path / "old.img", mpy=5) as vb:
        vb.wait_for(b">>> ")
        r = opentag(
            "deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101", "--firmware", str(fw)
        )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "loads .mpy v5.0, this build makes v6" in r.stderr
    assert "esptool --chip esp32 --port PORT" in r.stderr and "0x1000" in r.stderr


def test_deploy_without_a_board_on_the_port(tmp_path: Path, fw: Path) -> None:
    r = opentag(
        "deploy",
        "--port",
        str(tmp_path / "nope"),
        "--board",
        "tbeam_v12_axp2101",
        "--firmware",
        str(fw),
    )
    assert r.returncode == 2 and "cannot open" in r.stderr and "Traceback" not in r.stderr
    r = opentag("deploy", "--port", "/dev/null", "--board", "no_such_board")
    assert r.returncode == 2 and "no board profile 'no_such_board'" in r.stderr


def test_deploy_refuses_a_profile_the_tag_would_refuse(tmp_path: Path) -> None:
    # The tag checks /prov/board.json with the core's schema check (tagcore.board) and boots
    # on the fallback board if it fails: deploy runs the same check first and says why.
    doc = json.loads((Path(__file__).parents[1] / "boards" / "tbeam_v12_axp2101.json").read_text())
    doc["pins"]["gnss_uart"]["baud"] = "fast"
    bad = tmp_path / "tbeam_v12_axp2101.json"
    bad.write_text(json.dumps(doc))
    r = opentag("deploy", "--port", "/dev/null", "--board", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "$.pins.gnss_uart.baud: expected a number, got 'fast'" in r.stderr
    bad.write_text("{")
    r = opentag("deploy", "--port", "/dev/null", "--board", str(bad))
    assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr


def test_deploy_catches_a_file_that_arrived_different(
    vboard: VirtualBoard, fw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one byte changed on the way to the board's flash (a glitch on the serial line): the
    # SHA-256 the board computes differs, the deploy is red and names the file, no reset
    from taghost import deploy as D

    real = D.Board.write

    def glitch(self: D.Board, path: str, data: bytes) -> None:
        if path == "/lib/tagcore/store/log.mpy":
            data = data[:100] + bytes((data[100] ^ 0x20,)) + data[101:]
        real(self, path, data)

    monkeypatch.setattr(D.Board, "write", glitch)
    args = argparse.Namespace(
        port=vboard.port,
        board="tbeam_v12_axp2101",
        firmware=str(fw),
        march="xtensawin",
        opt=3,
        timeout=10.0,
        json=False,
        config=None,
        zones=None,
        beacon=None,
        key=None,
        server=None,
        tag=None,
        wifi=None,
    )
    said: list[str] = []
    n = len(vboard.console)
    doc = D.deploy(args, said.append)
    assert not doc["ok"] and doc["mismatch"] == ["/lib/tagcore/store/log.mpy"]
    assert any("verification FAILED: 1 files differ" in s for s in said)
    assert b"SW_CPU_RESET" not in bytes(vboard.console)[n:]
    r = opentag(
        "deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware", str(fw)
    )
    assert r.returncode == 0, r.stdout + r.stderr  # a second deploy repairs it


@pytest.mark.skipif(
    not DEVICE_MAIN.is_file(), reason="firmware/main.py (the device shell) not in yet"
)
def test_deploy_boots_the_device_shell(vboard: VirtualBoard, tmp_path: Path) -> None:
    fw = firmware_tree(tmp_path / "shell", device_shell=True)
    r = opentag(
        "deploy",
        "--port",
        vboard.port,
        "--board",
        "tbeam_v12_axp2101",
        "--firmware",
        str(fw),
        "--json",
    )
    doc = json.loads(r.stdout)
    assert doc["banner"] is not None, r.stderr  # docs/device.md's banner came after the reset
    assert doc["banner"]["board"] in ("tbeam_v12_axp2101", "LilyGO T-Beam v1.2")


def test_deploy_refuses_a_seal_key_that_is_not_one(tmp_path: Path, fw: Path) -> None:
    # before anything is built or the port opened: a clear error, no traceback
    for bad in ("zz", "00" * 31):
        r = opentag(
            "deploy", "--port", str(tmp_path / "nope"), "--board", "tbeam_v12_axp2101",
            "--firmware", str(fw), "--seal-key", bad,
        )  # fmt: skip
        assert r.returncode == 2 and "initial seal key" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_deploy_puts_the_seal_key_in_the_key_partition_never_on_littlefs(
    vboard: VirtualBoard, fw: Path
) -> None:
    from tagcore.store import seal as S
    from taghost.deploy import slot_of

    k0 = bytes(range(40, 72))
    argv = ["deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware",
            str(fw), "--seal-key", k0.hex()]  # fmt: skip
    r = opentag(*argv)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "wrote the initial seal key into partition sealkey (epoch 0)" in r.stdout
    assert k0 not in vboard.image.read_bytes()  # not in /prov, not in a released block
    chip = vboard.seal_path.read_bytes()
    assert slot_of([chip[:128], chip[4096 : 4096 + 128]]) == (0, 0, k0, bytes(16))
    # a tag whose slot has moved on keeps it: deploying k0 again would fork its chain
    moved = S.pack_slot(5, 77, S.key_at(k0, 5), bytes(16))
    code = (
        "from tagdevice import prov\nfrom tagcore.store.osfs import OsFs\n"
        "s = prov.key_slot(OsFs('/log'), 'sealkey')[0]\n"
        f"print(s.save({bytes(moved)!r}))"
    )
    assert mpremote(vboard.port, "exec", code).stdout.strip() == "True"
    r = opentag(*argv)
    assert r.returncode == 0 and "holds the tag's key at epoch 5: kept" in r.stdout, r.stdout
    chip = vboard.seal_path.read_bytes()
    assert slot_of([chip[:128], chip[4096 : 4096 + 128]])[0] == 5 and k0 not in chip


def test_deploy_refuses_a_seal_key_for_a_board_without_the_key_partition(
    tmp_path: Path, fw: Path
) -> None:
    with VirtualBoard(tmp_path / "flash.img", seal_bytes=0) as vb:
        vb.wait_for(b">>> ")
        r = opentag("deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101",
                    "--firmware", str(fw), "--seal-key", "11" * 32)  # fmt: skip
        assert r.returncode == 2 and "data partition 'sealkey'" in r.stderr, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        # without --seal-key the same board deploys: it runs unsealed (or on littlefs), says so
        r = opentag("deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101",
                    "--firmware", str(fw))  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr


def test_deploy_romfs_puts_the_packages_in_the_romfs_partition(
    vboard: VirtualBoard, fw: Path
) -> None:
    # .mpy files of an earlier deploy in /lib would shadow nothing (/rom comes first) but
    # waste flash: they go
    assert opentag("deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101",
                   "--firmware", str(fw)).returncode == 0  # fmt: skip
    r = opentag("deploy", "--port", vboard.port, "--board", "tbeam_v12_axp2101", "--firmware",
                str(fw), "--romfs", "--json")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["banner"]["mode"] == "normal" and doc["romfs"] > 50_000
    assert "verified the ROMFS image" in r.stderr
    assert vboard.romfs_path.read_bytes()[: doc["romfs"]][:3] == b"\xd2\xcd\x31"
    walk = (
        "import os\ndef w(d):\n for e in os.ilistdir(d):\n  p = d + '/' + e[0]\n"
        "  if e[1] & 0x4000:\n   w(p)\n  else:\n   print(p)\nw('/lib')"
    )
    assert mpremote(vboard.port, "exec", walk).stdout.split() == []  # no .mpy left in /lib
    probe = "import tagcore.store.record as R, tagdevice.log as L; print(R.__file__, L.__file__)"
    r2 = mpremote(vboard.port, "exec", probe)
    assert r2.stdout.split() == ["/rom/tagcore/store/record.mpy", "/rom/tagdevice/log.mpy"], r2
    r2 = mpremote(vboard.port, "romfs", "query")
    assert "ROMFS image size: " in r2.stdout and "Not a valid" not in r2.stdout, r2.stdout


def test_deploy_romfs_refuses_a_micropython_without_a_romfs_partition(
    tmp_path: Path, fw: Path
) -> None:
    with VirtualBoard(tmp_path / "old.img", romfs=0) as vb:
        vb.wait_for(b">>> ")
        r = opentag("deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101", "--firmware",
                    str(fw), "--romfs")  # fmt: skip
        assert r.returncode == 2, r.stdout + r.stderr
        assert "no ROMFS partition" in r.stderr and "MicroPython >= 1.25" in r.stderr
        assert "Traceback" not in r.stderr
        # nothing was written: the refusal comes before the copy
        assert "tagcore" not in mpremote(vb.port, "fs", "ls", ":/").stdout


def test_deploy_romfs_refuses_an_image_larger_than_the_partition(tmp_path: Path, fw: Path) -> None:
    with VirtualBoard(tmp_path / "small.img", romfs=16 * 1024) as vb:
        vb.wait_for(b">>> ")
        r = opentag("deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101", "--firmware",
                    str(fw), "--romfs")  # fmt: skip
        assert r.returncode == 2, r.stdout + r.stderr
        assert "ROMFS partition 16384" in r.stderr and "Traceback" not in r.stderr


def _keys(obj: object) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "boards").glob("*.json")))
def test_the_tag_gets_its_part_of_the_profile(path: Path) -> None:
    # The citations and notes are the host's: the tag reads at most 8 KB of board.json and
    # keeps what it parsed for its whole run. What it gets passes its own check and holds
    # every value of the profile that is not a citation or a note.
    from tagcore import board
    from taghost import deploy as D

    prof = json.loads(path.read_text())
    sent = D.provisioned(prof, argparse.Namespace())["/prov/board.json"]
    doc = json.loads(sent)
    assert not _keys(doc) & D.HOST_ONLY and len(sent) < 4096
    assert board.load(sent.decode(), False)[1] == []

    def same(a: object, b: object) -> None:  # b (sent) is a (the profile) less HOST_ONLY keys
        if isinstance(a, dict):
            assert isinstance(b, dict) and set(b) == set(a) - D.HOST_ONLY
            for k in b:
                same(a[k], b[k])
        else:
            assert a == b

    same(prof, doc)

"""`opentag deploy` on a board without PSRAM (a DevKitC: 96 KB of MicroPython heap, its
profile's `mcu.micropython_heap_kb`): the copy, the on-board hashing and the boot fit that heap,
and a PSRAM board's profile is refused on it."""

from __future__ import annotations

import json
from pathlib import Path

from taghost.vboard import VirtualBoard
from vboardkit import opentag


def test_deploy_to_a_board_without_psram(tmp_path: Path, fw: Path) -> None:
    with VirtualBoard(tmp_path / "f.img", board="devkitc_neo_m8n") as vb:
        vb.wait_for(b">>> ")
        r = opentag(
            "deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101", "--firmware", str(fw)
        )
        assert r.returncode == 2, r.stdout + r.stderr
        assert "has 8 MB PSRAM but the board's heap is 94 KB" in r.stderr
        r = opentag(
            "deploy",
            "--port",
            vb.port,
            "--board",
            "devkitc_neo_m8n",
            "--firmware",
            str(fw),
            "--json",
        )
        assert r.returncode == 0, r.stdout + r.stderr
        doc = json.loads(r.stdout)
        assert doc["board"]["heap"] < 100 * 1024 and doc["banner"]["board"] == "devkitc_neo_m8n"

"""Issue 12 section 1: the tag imports only what its configuration uses (every module costs
heap on a board without PSRAM). The whole firmware on the simulated board with the import
profile on (tests/mpy/device_board.py prints each first import): a tag without a zone blob
never loads tagcore.zones, without a beacon window never tagcore.proximity, without a server
never the uplink (tagcore.uplink, the HTTP link)."""

from __future__ import annotations

import re
from pathlib import Path

from devicekit import RealServer, compile_config, compile_zones, run_board, write_prov

IMPORT = re.compile(r"^IMPORT (\S+) ", re.M)


def _imported(tmp_path: Path, firmware: Path, prov: Path) -> set[str]:
    run = run_board(tmp_path, firmware, prov, duration_s=3600, profile=1)  # type: ignore[arg-type]
    assert run.logs("fix"), run.out[-2000:]  # it ran: the tag took fixes
    return set(IMPORT.findall(run.out))


def _rooms(mods: set[str], *rooms: str) -> set[str]:
    return {m for m in mods if m.startswith(rooms)}


def test_a_tag_without_zones_or_beacon_loads_neither(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=900)
    mods = _imported(tmp_path, firmware, write_prov(tmp_path / "prov", server.port, config=cfg))
    assert "tagcore.uplink.client" in mods  # the profile sees the rooms it does load
    assert _rooms(mods, "tagcore.zones", "tagcore.proximity") == set()


def test_a_tag_with_zones_loads_them_and_not_proximity(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg, zones=compile_zones(tmp_path))
    mods = _imported(tmp_path, firmware, prov)
    assert "tagcore.zones.monitor" in mods
    assert _rooms(mods, "tagcore.proximity") == set()


def test_a_tag_without_a_server_never_loads_the_uplink(tmp_path: Path, firmware: Path) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", 1, config=cfg)
    (prov / "server.json").unlink()
    (prov / "tag.key").unlink()
    mods = _imported(tmp_path, firmware, prov)
    assert "tagcore.store.log" in mods
    assert _rooms(mods, "tagcore.uplink") == set()

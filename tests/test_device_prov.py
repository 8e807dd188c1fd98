"""A corrupt provisioning file: the whole firmware (in the unix port, on the fakes) refuses it
at boot with a logged reason naming the file, takes the safe fallback, keeps tracking, and
tells the real server (a status event) when it can still reach it. docs/device.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from devicekit import (
    RealServer,
    compile_config,
    compile_zones,
    run_board,
    write_prov,
)
from tagcore.store import record as R


def flip(b: bytes, i: int) -> bytes:
    return b[:i] + bytes([b[i] ^ 0x40]) + b[i + 1 :]


# file, how it is spoilt, the reason logged, the fallback logged, whether the server hears
CASES = [
    ("config.bin", lambda b: flip(b, 8), "config.bin: bad_crc: defaults", True),
    ("config.bin", lambda b: b[:9], "config.bin: bad_magic", True),
    ("zones.bin", lambda b: flip(b, len(b) - 10), "zones.bin refused (", True),
    ("zones.bin", lambda b: b"\x00" * 40, "zones.bin refused (", True),
    ("board.json", lambda b: b[: len(b) // 2], "board.json not_json: fallback board", True),
    (
        "board.json",
        lambda b: b.replace(b'"baud": 9600', b'"baud": "fast"'),
        "board.json bad pins.gnss_uart.baud: fallback board",
        True,
    ),
    (
        "server.json",
        lambda b: b.replace(b"http://", b"gopher://"),
        "server.json refused (bad url): no uploads",
        False,
    ),
    ("tag.key", lambda b: b[:31], "tag.key refused (bad length 31 (want 32)): no uploads", False),
    ("wifi.json", lambda b: b"\xff\xfe{", "wifi.json refused (not_json): no link", False),
    # the tag seals nothing (it has no key) but tracks and uploads; the server hears why
    ("seal.key", lambda b: b[:31], "seal.key refused (bad length 31 (want 32)): unsealed", True),
]


@pytest.mark.parametrize(
    ("name", "spoil", "logged", "reported"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_a_corrupt_file_is_refused_with_its_reason_and_the_tag_keeps_tracking(
    tmp_path: Path, firmware: Path, name: str, spoil, logged: str, reported: bool
) -> None:
    srv = RealServer(tmp_path)
    try:
        cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=300)
        prov = write_prov(tmp_path / "prov", srv.port, config=cfg, zones=compile_zones(tmp_path))
        f = prov / name
        f.write_bytes(spoil(f.read_bytes()))
        run = run_board(tmp_path, firmware, prov, duration_s=1200, board_ok=name != "board.json")
    finally:
        srv.stop()
    banners = run.banners()
    assert banners and {b.group(5) for b in banners} == {"normal"}  # no crash, no safe mode
    assert {b.group(4) for b in banners} <= {"pwron", "deepsleep"}
    if name == "board.json":
        assert banners[0].group(2) == "fallback"
    errors = [m.group(3) + ": " + m.group(4) for m in run.logs(level="ERROR")]
    assert any(e.startswith("prov: " + logged) for e in errors), errors
    assert len(run.logs("fix")) >= 10  # it keeps tracking on the fallback
    if reported:
        status = [e[3] for e in srv.events() if e[1] == R.EV_STATUS]
        assert any(s.startswith(b"prov " + name.encode()) for s in status), status


@pytest.mark.parametrize("size", [0, 1, 168, 3000, 20000])
def test_a_file_is_read_with_a_heap_smaller_than_its_limit(tmp_path: Path, size: int) -> None:
    # The readers' limits (64 KB for zones.bin, 16 KB for config.bin) are what a file may
    # hold, not what reading one costs: a 168-byte zone blob must load where the heap has no
    # 64 KB block (it was refused no_memory at boot with 59 KB free: no zone enforced).
    from micropython_runner import run_micropython

    (tmp_path / "f.bin").write_bytes(bytes(i * 7 & 0xFF for i in range(size)))
    (tmp_path / "big.bin").write_bytes(bytes(3001))
    code = (
        "from tagdevice import prov\n"
        f"prov.PROV = {str(tmp_path) + '/'!r}\n"
        "b, why = prov.read('f.bin', 65536)\n"
        "print(why, len(b or b''), sum(b or b''))\n"
        "print(prov.read('big.bin', 3000), prov.read('none.bin', 65536))\n"
    )
    out = run_micropython(code, heap=48 * 1024, opt=3).split("\n")
    assert out[0].split() == ["None", str(size), str(sum(i * 7 & 0xFF for i in range(size)))]
    assert out[1] == "(None, 'too_large') (None, 'missing')"

"""Helpers for the whole-firmware tests: build the firmware as deployed, write the provisioned
files as the host tools do, start the real `opentag server` with the tag provisioned, and run
the firmware on the simulated board (tests/mpy/device_board.py) in the MicroPython unix port."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from micropython_runner import run_micropython
from taghost import cli
from taghost.build import build
from taghost.deploy import device_profile
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database
from taghost.units import UNIX_2000

ROOT = Path(__file__).resolve().parent.parent
BOARDS = ROOT / "boards"
FAKES = ("mpy/fake_machine", "mpy/fake_bluetooth")  # compiled, relative to the run's cwd
TAG = "0a0b0c0d0e0f1011"
KEY = bytes(range(100, 132))
SEAL_KEY = bytes(range(200, 232))  # k0: the initial seal key (docs/evidence.md)
STRAP_PIN = 13  # RTC GPIOs free on the T-Beam: the strap loop and the case switch
CASE_PIN = 14
# A walk east along a street in Bournemouth at about 0.3 m/s; the exclusion zone is a 150 m
# circle halfway, entered after about 50 minutes.
START = (50726000, -1879500)
STOP = (50726000, -1849500)
ZONE_LON = -1.8645
ZONE_LAT = 50.726
BANNER = re.compile(
    r"^opentag-boot version=(\S+) board=(\S+) mpy=(\d+) cause=(pwron|hard|wdt|deepsleep|soft|"
    r"other) mode=(normal|safe)$"
)
LOG_LINE = re.compile(r"^(\d+) (DEBUG|INFO|WARN|ERROR) (\w+): (.*)$")


def build_firmware(out: Path) -> Path:
    """What `opentag build` writes (xtensawin, -O3); the bytecode carries no native code, so
    the same files load in the unix port."""
    build(out, march="xtensawin")
    return out


def zones_geojson(path: Path) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": 7,
                    "name": "Victim's street",
                    "kind": "exclusion",
                    "radius_m": 150,
                    "warning_m": 100,
                },
                "geometry": {"type": "Point", "coordinates": [ZONE_LON, ZONE_LAT]},
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def compile_zones(tmp: Path) -> bytes:
    out = tmp / "zones.bin"
    assert cli.main(["zones", "compile", str(zones_geojson(tmp / "zones.geojson")),
                     "--out", str(out)]) == 0  # fmt: skip
    return out.read_bytes()


def compile_config(tmp: Path, **values: int) -> bytes:
    src = tmp / "tag.json"
    src.write_text(json.dumps(values))
    out = tmp / "config.bin"
    assert cli.main(["config", "compile", str(src), "-o", str(out)]) == 0
    return out.read_bytes()


def write_prov(
    d: Path,
    port: int,
    board: str = "tbeam_v11_axp192",
    config: bytes | None = None,
    zones: bytes | None = None,
    beacon: bytes | None = None,
    sealed: bool = True,
) -> Path:
    """The provisioned files, as docs/device.md names them; sealed: with the initial seal key
    (docs/evidence.md)."""
    d.mkdir(parents=True, exist_ok=True)
    b = json.loads((BOARDS / f"{board}.json").read_text())
    b["pins"]["tamper_strap"] = STRAP_PIN
    b["pins"]["tamper_case"] = CASE_PIN
    (d / "board.json").write_text(json.dumps(device_profile(b)))  # as deploy writes it
    (d / "tag.key").write_bytes(KEY)
    if sealed:
        (d / "seal.key").write_bytes(SEAL_KEY)
    (d / "server.json").write_text(
        json.dumps({"url": f"http://127.0.0.1:{port}/v1/up", "tag": TAG})
    )
    (d / "wifi.json").write_text(json.dumps({"ssid": "probation-office", "password": "s3cret"}))
    if config is not None:
        (d / "config.bin").write_bytes(config)
    if zones is not None:
        (d / "zones.bin").write_bytes(zones)
    if beacon is not None:
        (d / "beacon.bin").write_bytes(beacon)
    return d


def now_2000() -> int:
    return int(time.time()) - UNIX_2000


@dataclass
class Run:
    out: str
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = self.out.splitlines()

    def value(self, key: str) -> int:
        m = re.search(rf"^{key} (-?\d+)", self.out, re.M)
        assert m, f"no {key} in the board's output:\n{self.out[-3000:]}"
        return int(m.group(1))

    def banners(self) -> list[re.Match[str]]:
        return [m for m in map(BANNER.match, self.lines) if m]

    def logs(self, module: str | None = None, level: str | None = None) -> list[re.Match[str]]:
        out = []
        for ln in self.lines:
            m = LOG_LINE.match(ln)
            if (
                m
                and (module is None or m.group(3) == module)
                and (level is None or m.group(2) == level)
            ):
                out.append(m)
        return out


def run_board(
    tmp: Path,
    build_dir: Path,
    prov: Path,
    duration_s: int,
    events: list | None = None,
    heap: int = 2_000_000,
    keep: bool = False,
    t0: int | None = None,
    check: bool = True,
    **extra: object,
) -> Run:
    sc = {
        "image": str(tmp / "flash.img"),
        "keep": keep,
        "build": str(build_dir),
        "prov": str(prov),
        "t0": t0 if t0 is not None else now_2000() - duration_s,
        "duration_s": duration_s,
        "ssid": "probation-office",
        "password": "s3cret",
        "route": [[0, *START], [2 * 3600, *STOP]],
        "events": events or [],
        **extra,
    }
    path = tmp / "scenario.json"
    path.write_text(json.dumps(sc))
    out = run_micropython(module="device_board", args=(str(path),), heap=heap, path=FAKES,
                          timeout=900, check=check)  # fmt: skip
    return Run(out)


class RealServer:
    """`opentag server` on loopback over SQLite, the tag provisioned with `opentag server
    provision` as an operator would."""

    def __init__(self, tmp: Path) -> None:
        self.url = f"sqlite:///{tmp / 'server.db'}"
        assert cli.main(["server", "provision", TAG, "--key", KEY.hex(), "--upload-every", "300",
                         "--seal-key", SEAL_KEY.hex(), "--db", self.url]) == 0  # fmt: skip
        self.db = Database(self.url)
        self.thread = ServerThread(Server(self.db, Config())).start()
        self.port = self.thread.port

    def rows(self, sql: str) -> list[tuple]:
        with self.db.tx() as tx:
            return [tuple(r) for r in tx.execute(sql, (TAG,)).all()]

    def fixes(self) -> list[tuple]:
        return self.rows("SELECT seq, t, lat, lon FROM fixes WHERE tag = ? ORDER BY seq")

    def events(self) -> list[tuple]:
        return self.rows("SELECT seq, kind, t, data FROM events WHERE tag = ? ORDER BY seq")

    def acked(self) -> int:
        return self.rows("SELECT acked FROM tags WHERE tag = ?")[0][0]

    def stop(self) -> None:
        self.thread.stop()


def fix_seqs(run: Run) -> list[int]:
    """The seq of every fix the tag stored, in the order it logged them."""
    return [int(m.group(4).rsplit("seq=", 1)[1]) for m in run.logs("fix")]


# The device tests' fixtures (tests/conftest.py offers them to every module): the whole
# firmware built once a module, a real `opentag server` on loopback per test.
@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("fw"))


@pytest.fixture
def server(tmp_path: Path):
    s = RealServer(tmp_path)
    yield s
    s.stop()

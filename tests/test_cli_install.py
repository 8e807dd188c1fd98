"""`opentag` installed from a wheel, away from any checkout: the scenario library, boards,
examples and firmware come with it (issue 16: paths that do not assume a source checkout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from corpus import CORPUS

ROOT = Path(__file__).resolve().parent.parent
DATA = ("boards", "simulator/scenarios", "firmware")
KINDS = {".json", ".toml", ".geojson", ".gpx", ".py"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = (tmp / "dist").glob("opentag-*.whl")
    prefix = tmp / "prefix"
    target = ["--prefix", str(prefix), str(wheel)]
    subprocess.run(
        # --ignore-installed: with --prefix alone pip uninstalls the running environment's own
        # (editable) opentag first, and every test after this one loses `taghost`.
        [*pip, "install", "--no-deps", "--no-index", "--ignore-installed", *target],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (site,) = prefix.glob("lib/python*/site-packages")
    return wheel, site


def test_the_wheel_carries_every_data_file(installed: tuple[Path, Path]) -> None:
    names = set(zipfile.ZipFile(installed[0]).namelist())
    want = {
        str(p.relative_to(ROOT))
        for d in DATA
        for p in (ROOT / d).rglob("*")
        if p.suffix in KINDS and "__pycache__" not in p.parts
    }
    data = {n.split("/share/opentag/", 1)[1] for n in names if "/share/opentag/" in n}
    assert want and want <= data, sorted(want - data)
    assert "taghost/examples/zones-bournemouth.geojson" in names


def _opentag(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "OPENTAG_CORPUS": str(CORPUS)}
    env.pop("OPENTAG_SHARED", None)
    return subprocess.run(
        [sys.executable, "-m", "taghost.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=env,
    )


def test_every_command_works_from_the_installed_copy(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    site = installed[1]
    p = _opentag(site, tmp_path, "sim", "list", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert "zone_entry.toml" in {s["file"] for s in doc["scenarios"]}
    assert "tbeam_v12_axp2101" in doc["boards"]
    p = _opentag(site, tmp_path, "sim", "run", "--out", str(tmp_path / "o"), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["verdict"] == "green"
    examples = site / "taghost" / "examples" / "zones-bournemouth.geojson"
    assert _opentag(site, tmp_path, "zones", "check", str(examples)).returncode == 0
    assert _opentag(site, tmp_path, "beacon", "battery").returncode == 0
    p = _opentag(site, tmp_path, "build", "--out", str(tmp_path / "fw"), "--json")
    assert p.returncode == 0, p.stderr
    files = {
        Path(f["path"]).relative_to(tmp_path / "fw").as_posix()
        for f in json.loads(p.stdout)["files"]
    }
    assert {"tagcore/gnss/nmea.mpy", "tagdevice/gnssuart.mpy", "beacon/app.mpy"} <= files
    p = _opentag(site, tmp_path, "replay")  # the demo capture, found through OPENTAG_CORPUS
    assert p.returncode == 0 and " ok" in p.stdout, p.stderr
    for line in (p.stdout + p.stderr).splitlines():
        assert str(ROOT) not in line or str(CORPUS) in line  # nothing read from the checkout

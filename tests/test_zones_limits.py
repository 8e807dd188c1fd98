"""Issue 13, item 10: what `zones check` calls valid, `compile` compiles and the tag loads; the
device's limits (points per ring, windows, a record's u16 length) are refused up front with the
zone named; positions are numbers, not booleans; an unreadable file is a message and exit 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from tagcore.zones import blob as B
from taghost import zonecli
from taghost.zoneconfig import ZoneConfigError, read_zones

START = ["--start", "2026-10-19"]


def _ring(n: int, lon: float = -1.88, lat: float = 50.72, r_deg: float = 0.01) -> list:
    pts = [
        [
            round(lon + r_deg * math.cos(2 * math.pi * k / n), 7),
            round(lat + r_deg * 0.6 * math.sin(2 * math.pi * k / n), 7),
        ]
        for k in range(n)
    ]
    return [*pts, pts[0]]


def _doc(geom: dict, **props) -> dict:
    base = {"id": 9, "name": "Estate", "kind": "exclusion"}
    feat = {"type": "Feature", "properties": {**base, **props}, "geometry": geom}
    return {"type": "FeatureCollection", "features": [feat]}


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "z.geojson"
    p.write_text(json.dumps(doc))
    return p


def _check_and_compile(tmp_path: Path, doc: dict, capsys) -> tuple[int, int, str]:
    p = _write(tmp_path, doc)
    rc_check = zonecli.main(["check", str(p), *START, "--weeks", "26"])
    err = capsys.readouterr().err
    out = tmp_path / "z.bin"
    rc_compile = zonecli.main(["compile", str(p), "--out", str(out), *START, "--weeks", "26"])
    err += capsys.readouterr().err
    if rc_compile == 0:
        assert B.parse(out.read_bytes())  # the tag's own loader takes it
    return rc_check, rc_compile, err


@pytest.mark.parametrize("n", [3990, 4000, 4001, 6000, 8000, 8188, 8189, 9000])
def test_check_and_compile_agree_on_big_rings(tmp_path, capsys, n: int) -> None:
    tmp = tmp_path
    rc_check, rc_compile, err = _check_and_compile(
        tmp, _doc({"type": "Polygon", "coordinates": [_ring(n)]}), capsys
    )
    assert rc_check == rc_compile, (n, rc_check, rc_compile, err)
    if n > B.MAX_POINTS:
        assert rc_check == 1 and "zone 9 'Estate'" in err and str(B.MAX_POINTS) in err, err
    else:
        assert rc_check == 0, err
    assert "Traceback" not in err and "struct.error" not in err


def test_holes_that_together_overflow_a_record_are_refused_by_name(tmp_path, capsys) -> None:
    outer = _ring(3000, r_deg=0.05)
    holes = [_ring(2500, lon=-1.88 + dx, r_deg=0.004) for dx in (-0.02, 0.0, 0.02)]
    doc = _doc({"type": "Polygon", "coordinates": [outer, *holes]})
    rc_check, rc_compile, err = _check_and_compile(tmp_path, doc, capsys)
    assert rc_check == rc_compile == 1 and "zone 9 'Estate'" in err, err


def test_too_many_windows_are_refused_by_check_with_the_zone_named(tmp_path, capsys) -> None:
    # 24 ten-minute windows a day over 26 weeks: 4,368 windows.
    rules = [{"days": "daily", "start": f"{h:02d}:00", "end": f"{h:02d}:10"} for h in range(24)]
    sched = {"tz": "Europe/London", "rules": rules}
    doc = _doc({"type": "Point", "coordinates": [-1.88, 50.72]}, radius_m=100, schedule=sched)
    rc_check, rc_compile, err = _check_and_compile(tmp_path, doc, capsys)
    assert rc_check == rc_compile, err
    if rc_check:
        assert "zone 9 'Estate'" in err, err


@pytest.mark.parametrize("pos", [[True, False], [False, 50.7], [-1.8, True], [None, 50.0]])
def test_booleans_are_not_coordinates(pos) -> None:
    with pytest.raises(ZoneConfigError) as e:
        read_zones(_doc({"type": "Point", "coordinates": pos}, radius_m=50))
    assert "feature 0 (zone 9 'Estate')" in e.value.problems[0]


@pytest.mark.parametrize("cmd", ["check", "compile", "show"])
@pytest.mark.parametrize("what", ["missing", "latin1", "directory", "binary"])
def test_unreadable_files_are_a_message_and_exit_2(tmp_path, capsys, cmd, what) -> None:
    p = tmp_path / "f.geojson"
    if what == "latin1":
        p.write_bytes('{"type": "FeatureCollection", "name": "Zürich"}'.encode("latin-1"))
    elif what == "directory":
        p.mkdir()
    elif what == "binary":
        p.write_bytes(bytes(range(256)))
    args = [cmd, str(p)] + (["--out", str(tmp_path / "o.bin")] if cmd == "compile" else [])
    rc = zonecli.main(args)
    err = capsys.readouterr().err
    if cmd == "show" and what in ("latin1", "binary"):
        assert rc == 1 and "refused by the tag's loader" in err  # bytes, not a blob
    else:
        assert rc == 2, (rc, err)
        assert str(p) in err and "Traceback" not in err

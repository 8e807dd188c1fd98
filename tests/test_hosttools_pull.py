"""`opentag pull` against the virtual board: the real store writes a log on the board, pull
copies it off, verifies the CRCs, decodes fixes and events; gpxpy reads the GPX back."""

from __future__ import annotations

import json
from pathlib import Path

import gpxpy
from tagcore.store import seal as S
from taghost.vboard import VirtualBoard
from vboardkit import ROOT, mpremote, opentag

N_FIXES = 1000


TAG = "00112233445566aa"
SEAL_KEY = bytes(range(50, 82))


def _deploy_and_log(vboard: VirtualBoard, fw: Path, sealed: bool = False) -> None:
    seal = ["--seal-key", SEAL_KEY.hex()] if sealed else []
    r = opentag(
        "deploy",
        "--port",
        vboard.port,
        "--board",
        "tbeam_v12_axp2101",
        "--firmware",
        str(fw),
        "--tag",
        "00112233445566aa",
        "--server",
        "http://x",
        *seal,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    if sealed:  # the board profile names a key partition: k0 goes there, not to /prov
        assert "wrote the initial seal key into partition sealkey" in r.stdout, r.stdout
    # mpremote's soft reset stops main.py (which logs a walk at boot): start from an empty log
    clear = "import os\nfor n in os.listdir('/log'):\n os.remove('/log/' + n)"
    assert mpremote(vboard.port, "exec", clear).returncode == 0
    code = (ROOT / "tests/vboard/write_log.py").read_text()
    code = code.replace("N_FIXES = 1000", f"N_FIXES = {N_FIXES}")
    if sealed:
        code = code.replace('SEAL_TAG = ""', f'SEAL_TAG = "{TAG}"')
    r = mpremote(vboard.port, "exec", code)
    assert r.returncode == 0 and f"wrote {N_FIXES} fixes" in r.stdout, r.stdout + r.stderr
    assert ("sealer None" in r.stdout) == sealed, r.stdout
    assert ("slot None" in r.stdout) == sealed, r.stdout  # the partition's slot, no note


def test_pull_decodes_the_boards_log(vboard: VirtualBoard, fw: Path, tmp_path: Path) -> None:
    _deploy_and_log(vboard, fw)
    out = tmp_path / "pulled"
    r = opentag("pull", "--port", vboard.port, "--out", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    st = doc["stats"]
    assert doc["tag"] == "00112233445566aa"
    assert st["fixes"] == N_FIXES and st["damaged_bytes"] == 0 and st["segments"] >= 2
    # the boot event the store logs, the breach, the low battery
    events = json.loads((out / "events.json").read_text())
    kinds = [e["kind"] for e in events]
    assert kinds.count("zone") == 1 and kinds.count("low_battery") == 1
    breach = next(e for e in events if e["kind"] == "zone")
    assert breach["alert"] == "zone_breach" and breach["zone"] == 3 and len(breach["evidence"]) == 2
    assert next(e for e in events if e["kind"] == "low_battery")["battery_pct"] == 15
    gpx = gpxpy.parse((out / "fixes.gpx").read_text())
    pts = gpx.tracks[0].segments[0].points
    assert len(pts) == N_FIXES
    assert abs(pts[7].latitude - (51500000 + 7 * 90) / 1e6) < 1e-9
    assert abs(pts[7].longitude - (-120000 + 7 * 140) / 1e6) < 1e-9
    assert (pts[1].time - pts[0].time).total_seconds() == 10
    geo = json.loads((out / "fixes.geojson").read_text())
    assert len(geo["features"]) == N_FIXES
    assert len((out / "fixes.csv").read_text().splitlines()) == N_FIXES + 1
    # the raw segments are kept as they came off the board, and the store's seq floor beside them
    pulled = sorted(p.name for p in (out / "log").iterdir())
    assert len([n for n in pulled if n[0] == "s" and n[1:].isdigit()]) == st["segments"], pulled
    assert "f" in pulled, pulled

    # a flipped byte in the first segment (flash damage): counted, the rest still decoded
    flip = (
        "import os\nn = sorted(x for x in os.listdir('/log') if x[0] == 's')[0]\n"
        "b = bytearray(open('/log/' + n, 'rb').read())\nb[40] ^= 0xFF\n"
        "with open('/log/' + n, 'wb') as f: f.write(b)"
    )
    assert mpremote(vboard.port, "exec", flip).returncode == 0
    out2 = tmp_path / "damaged"
    r = opentag("pull", "--port", vboard.port, "--out", str(out2), "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    st2 = json.loads(r.stdout)["stats"]
    assert st2["damaged_bytes"] > 0 and st2["damaged_runs"] == 1
    assert 0 < st2["fixes"] < N_FIXES  # one frame's fixes lost, every other frame decoded
    assert st2["frames"] == st["frames"] - 1


def test_a_sealed_boards_pulled_log_verifies(
    vboard: VirtualBoard, fw: Path, tmp_path: Path
) -> None:
    # deployed with the seal key `opentag server provision` printed; the board seals as the
    # device shell does (tagdevice.prov.sealer) and keeps no k0 once its key slot holds it
    _deploy_and_log(vboard, fw, sealed=True)
    r = mpremote(vboard.port, "exec", "import os\nprint(sorted(os.listdir('/prov')))")
    assert r.returncode == 0 and "seal.key" not in r.stdout and "board.json" in r.stdout
    # k0 never touched littlefs, and once the slot moved on no earlier key is on the key chip
    assert SEAL_KEY not in vboard.image.read_bytes()
    chip = vboard.seal_path.read_bytes()
    assert SEAL_KEY not in chip and S.key_at(SEAL_KEY, 1) not in chip
    out = tmp_path / "pulled"
    r = opentag("pull", "--port", vboard.port, "--out", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    r = opentag("verify", str(out / "log"), "--tag", TAG, "--key", SEAL_KEY.hex(), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    # every fix and event verified but the tail after the last seal (written, sealed later)
    tail = [f["seqs"] for f in doc["findings"] if f["code"] == "UNSEALED_TAIL"]
    assert doc["ok"] and {f["code"] for f in doc["findings"]} <= {"UNSEALED_TAIL"}
    assert doc["verified"] + sum(map(len, tail)) == doc["records"] >= N_FIXES + 2
    assert doc["verified"] >= N_FIXES - 128 and doc["seals"] >= 7
    # the same log checked as another tag's: its seals are not that tag's
    r = opentag("verify", str(out / "log"), "--tag", "00112233445566ab", "--key",
                SEAL_KEY.hex(), "--json")  # fmt: skip
    assert r.returncode == 1 and "FOREIGN" in r.stdout


def test_pull_user_errors(tmp_path: Path) -> None:
    r = opentag("pull", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "--port" in r.stderr
    r = opentag("pull", "--from-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "not a directory" in r.stderr and "Traceback" not in r.stderr


def test_pull_of_an_empty_board(vboard: VirtualBoard, tmp_path: Path) -> None:
    r = opentag("pull", "--port", vboard.port, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "has no log" in r.stderr


def test_every_stored_event_kind_has_a_name_in_a_pulled_log() -> None:
    # A kind the tag stores but the pull does not name reads "kind27" in the events table.
    from tagcore.store import record as R
    from taghost import pull

    kinds = {v for k, v in vars(R).items() if k.startswith("EV_") and k != "EV_FIRST"}
    assert kinds and not kinds - set(pull.EVENT_NAMES), sorted(kinds - set(pull.EVENT_NAMES))
    assert len(set(pull.EVENT_NAMES.values())) == len(pull.EVENT_NAMES)

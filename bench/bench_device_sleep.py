"""What deep sleep would save a tag with zones, which today light-sleeps all day (the zone
monitor's state lives in RAM only; docs/device.md): the whole firmware runs the zone walk on
the simulated board (tests/mpy/device_board.py, the fixed plan, a fix a minute, uploads every
15 min), and the gaps between searches are read off its log ("gnss: rail off" to the next
"rail on"). A gap of DEEPSLEEP_MIN_S or more is where the shell deep-sleeps a tag without
zones; here it light-sleeps.

Figures (mA), from the board profile (boards/tbeam_v11_axp192.json "sources"):
  ESP32 light sleep 0.8, deep sleep 0.01, active 35 (ESP32 datasheet power modes);
  board floor 0.89 with LoRa and GNSS off (cyberman54/ESP32-Paxcounter issue 627).
The wake from deep sleep is a boot: BOOT_S at the active current. BOOT_S is the board
model's boot (device_board: ROM, bootloader, port) plus the firmware's imports, NOT measured
on hardware: the break-even boot time is printed so the figure can be judged.
Usage: python bench/bench_device_sleep.py [--hours H]   (the walk takes H hours; default 2)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import devicekit as K  # noqa: E402

DEEPSLEEP_MIN_S = 30  # tagcore.app.app.DEEPSLEEP_MIN_S (the sleep rule, deep_sleep_ok)
BOOT_S = 1.0  # a wake from deep sleep to the loop (estimate; the board model says 0.5 s + imports)
BATTERY_MAH = 3000  # a typical 18650 (issue 10's reference cell)


def gaps(run: K.Run) -> tuple[list[int], int]:
    """(lengths of the gaps >= DEEPSLEEP_MIN_S between searches, uploads inside them)."""
    rail = [
        (int(m.group(1)), m.group(4) == "rail on")
        for m in run.logs("gnss")
        if m.group(4) in ("rail on", "rail off")
    ]
    ups = [int(m.group(1)) for m in run.logs("uplink")]
    out = []
    woke = 0
    for (t0, on0), (t1, on1) in itertools.pairwise(rail):
        if not on0 and on1 and t1 - t0 >= DEEPSLEEP_MIN_S:
            out.append(t1 - t0)
            woke += sum(1 for u in ups if t0 < u < t1)
    return out, woke


def one(hours: int, far_udeg: int, fw: Path, tmp: Path) -> K.Run:
    with contextlib.redirect_stdout(io.StringIO()):  # the host tools' own reports
        srv = K.RealServer(tmp)
        cfg = K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
        zones = K.compile_zones(tmp)
    try:
        prov = K.write_prov(tmp / "prov", srv.port, config=cfg, zones=zones)
        a, b = (K.START[0] + far_udeg, K.START[1]), (K.STOP[0] + far_udeg, K.STOP[1])
        return K.run_board(tmp, fw, prov, hours * 3600, route=[[0, *a], [hours * 3600, *b]])
    finally:
        srv.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=2)
    a = ap.parse_args()
    prof = json.loads((K.BOARDS / "tbeam_v11_axp192.json").read_text())["current_ma"]
    light, deep, active = (prof["mcu"][k] for k in ("light_sleep", "deep_sleep", "active"))
    floor = prof["board_overhead"]
    total_s = a.hours * 3600
    per_day = 86400 / total_s
    print(f"zone tag (one 150 m exclusion zone), fixed plan, {a.hours} h walk, T-Beam v1.1:")
    with tempfile.TemporaryDirectory() as d:
        fw = K.build_firmware(Path(d) / "fw")
        # the test's walk (from 1 km to the zone, then through it) and the same walk 22 km
        # away (most of a wearer's day: far from every zone)
        for name, far in (("walk to the zone", 0), ("22 km from the zone", 200000)):
            tmp = Path(d) / str(far)
            tmp.mkdir()
            run = one(a.hours, far, fw, tmp)
            fixes = [int(m.group(1)) for m in run.logs("fix")]
            iv = (fixes[-1] - fixes[0]) / max(len(fixes) - 1, 1)
            g, woke = gaps(run)
            sleepable = sum(g)
            wakes = len(g) + woke
            light_s = run.value("LIGHT_MS") / 1000
            as_run = sleepable * (light + floor) / 3600 * per_day  # mAh/day in those gaps
            deep_mah = (sleepable * (deep + floor) + wakes * BOOT_S * (active - deep)) / 3600
            deep_mah *= per_day
            saved = as_run - deep_mah
            even = sleepable * (light - deep) / max(wakes, 1) / (active - deep)
            print(f"  {name}: {len(fixes)} fixes, one every {iv:.0f} s on average; light sleep "
                  f"{100 * light_s / total_s:.1f} % of the time")  # fmt: skip
            share = 100 * sleepable / total_s
            print(f"    gaps >= {DEEPSLEEP_MIN_S} s between searches: {len(g)}, {share:.1f} % "
                  f"of the time, {woke} uploads inside them")  # fmt: skip
            print(f"    MCU + board in them: light sleep {as_run:.1f} mAh/day, deep sleep "
                  f"{deep_mah:.1f} mAh/day ({wakes} wakes x {BOOT_S} s boot at "
                  f"{active} mA)")  # fmt: skip
            print(f"    deep sleep would save {saved:.1f} mAh/day = "
                  f"{100 * saved / BATTERY_MAH:.2f} % of a {BATTERY_MAH} mAh cell a day; "
                  f"break-even boot {even:.1f} s a wake")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

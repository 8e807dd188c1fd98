"""Victim-beacon proximity figures: detection, delay and false alarms of the Bluetooth rule
across the noise range (taghost.proxsim's radio model), the cost of the identifier table and of
a scan result in MicroPython and CPython against the naive references, and the beacon's battery
life from its board profile.
Run: .venv/bin/python bench/bench_proximity.py [--quick]"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from tagcore.proximity.monitor import Profile
from taghost import beaconpower
from taghost.proxsim import Radio, lingering, measure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from micropython_runner import MPY_TESTS, run_cpython, run_micropython  # noqa: E402

SCAN_MA = 100  # ESP32 radio listening (boards.md: 95-100 mA)


def curve(encounters: int, passes: int) -> None:
    print(f"Bluetooth rule, {encounters} encounters within 10 m (60-300 s, appearing suddenly)")
    print(f"and {passes} passes at 30-50 m (48 a day) per row; default Profile():")
    print("| n | sigma dB | near raised | delay median / p90 / p95 s | false near per day |")
    print("|---|---|---|---|---|")
    for n in (2.0, 2.5, 3.0):
        for sigma in (4.0, 6.0, 8.0):
            f = measure(Radio(n=n, sigma=sigma), Profile(), encounters, passes, seed=2026)
            print(
                f"| {n} | {sigma:.0f} | {100 * f.detected:.1f} % | {f.delay_median:.0f} / "
                f"{f.delay_p90:.0f} / {f.delay_p95:.0f} | {f.false_per_day:.3f} |"
            )
    print(f"idle scan duty {100 * f.scan_duty_idle:.1f} % -> {SCAN_MA * f.scan_duty_idle:.1f} mA")


def neighbours(count: int) -> None:
    rng = random.Random(5)
    for n in (2.5, 3.0):
        hits = sum(
            lingering(rng, Radio(n=n, sigma=8.0), Profile()).alert_t is not None
            for _ in range(count)
        )
        print(f"beacon lingering 10-60 min at 30-50 m, n={n}, sigma 8: near in {hits}/{count}")


def table_costs() -> None:
    print("identifier table, 48 h + 2 x 2 h margin = 208 identifiers:")
    print(
        "| runtime | heap: hashed index | dict of bytes | lookups/s: index | dict | linear |",
        end="",
    )
    print(" on_scan/s |")
    print("|---|---|---|---|---|---|---|")
    for name, out in (
        (
            "MicroPython",
            run_micropython(script=MPY_TESTS / "beacon_bench.py", args=("208",), heap=256 * 1024),
        ),
        ("CPython", run_cpython(script=MPY_TESTS / "beacon_bench.py", args=("208",))),
    ):
        v = dict(ln.split() for ln in out.strip().splitlines())
        heap = f"{v['heap_index']} B | {v['heap_dict']} B" if name == "MicroPython" else "- | -"
        print(
            f"| {name} | {heap} | {int(v['lookups_index']):,} | {int(v['lookups_dict']):,} | "
            f"{int(v['lookups_linear']):,} | {int(v['on_scan_per_s']):,} |"
        )


def battery() -> None:
    prof = beaconpower.load_profile()
    for adv in (250, 500, 1000):
        for sleep in ("light", "awake"):
            ma = beaconpower.average_ma(prof, adv, sleep)
            days = beaconpower.battery_days(prof, adv, sleep)
            print(f"beacon, advertising every {adv} ms, {sleep}: {ma:.2f} mA, {days:.1f} days")


def main() -> None:
    quick = "--quick" in sys.argv
    curve(100 if quick else 500, 500 if quick else 5000)
    print()
    neighbours(50 if quick else 200)
    print()
    table_costs()
    print()
    battery()


if __name__ == "__main__":
    main()

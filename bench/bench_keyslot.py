"""Wear of the seals' key slot on its raw flash partition (docs/evidence.md): sector erases per
save and per block, from tagcore.store.keyslot on the NOR-flash fake inside MicroPython, and
what that means per day at the seal rates bench/bench_evidence.py prints (84 seals a day at
1 fix/min, 688 at 1 fix/s) against a NOR chip rated for 100,000 erase cycles per sector (the
usual SPI NOR datasheet figure; the module on a given board may differ).
Run: .venv/bin/python bench/bench_keyslot.py"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from micropython_runner import MPY_TESTS, run_micropython  # noqa: E402

SAVES = 2000
SEALS_PER_DAY = ((84, "1 fix/min"), (688, "1 fix/s"))  # bench_evidence.py's figures
CYCLES = 100_000


def main() -> None:
    print(f"key slot on a raw partition, {SAVES} saves after provisioning (MicroPython, NOR fake)")
    print("| blocks (4 KB) | programs per save | erases per save | worst block erases per save "
          "| days to 100k cycles at 84 / 688 seals a day |")  # fmt: skip
    print("|---|---|---|---|---|")
    for nblk in (2, 4, 8):
        out = run_micropython(
            script=MPY_TESTS / "keyslot_bench.py",
            args=(str(nblk), str(SAVES)),
            path=(MPY_TESTS / "fake_machine",),
            heap=512 * 1024,
        )
        lines = {ln.split()[0]: ln.split()[1:] for ln in out.splitlines()}
        erases = [int(x) for x in lines["ERASES"]]
        ops = int(lines["OPS"][0])
        per_save = sum(erases) / SAVES
        worst = max(erases) / SAVES
        days = " / ".join(f"{CYCLES / (worst * n):,.0f}" for n, _ in SEALS_PER_DAY)
        print(f"| {nblk} | {(ops - sum(erases)) / (SAVES + 1):.2f} | {per_save:.2f} | "
              f"{worst:.3f} | {days} |")  # fmt: skip


if __name__ == "__main__":
    main()

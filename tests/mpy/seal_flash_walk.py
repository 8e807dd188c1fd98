# The walking track of the evidence benchmarks (tests/mpy/seal_flash.py, seal_heap.py).
from tagcore.fix import Fix


def walk(k, t):
    return Fix(
        t,
        0,
        51500000 + (k * 7) % 900 + k // 3,
        -120000 + (k * 5) % 700,
        312 + k % 4,
        (k * 13) % 180,
        (k * 2711) % 36000,
        45 + k % 20,
        95 + k % 40,
        6 + k % 6,
        1,
        3,
        1,
    )

"""The PMU driver (tagdevice.pmu) in MicroPython on both T-Beam register maps, against the
datasheets' encodings computed here independently: the GNSS rail switches its one bit and
leaves the other outputs alone, battery voltage and charge state decode, a dead bus reads as
unknown (counted), never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from micropython_runner import run_micropython

FAKE = ("mpy/fake_machine",)


def axp192(mv: int, charging: bool, outputs: int) -> tuple[str, int]:
    raw = mv * 10 // 11  # 1.1 mV per step, 12 bits: 0x78 high 8, 0x79 low 4
    regs = {0x12: outputs, 0x78: raw >> 4, 0x79: raw & 0x0F, 0x01: 0x20 | (0x40 if charging else 0)}
    return "AXP192 12 3 " + ",".join(f"{k:x}={v:x}" for k, v in regs.items()), raw * 11 // 10


def axp2101(mv: int, charging: bool, outputs: int, pct: int) -> tuple[str, int]:
    regs = {0x90: outputs, 0x34: mv >> 8, 0x35: mv & 0xFF, 0x00: 0x08, 0xA4: pct,
            0x01: (0x20 if charging else 0x40) | 0x03}  # fmt: skip
    return "AXP2101 90 2 " + ",".join(f"{k:x}={v:x}" for k, v in regs.items()), mv


@settings(max_examples=5, deadline=None)
@given(
    cases=st.lists(
        st.tuples(st.integers(3000, 4300), st.booleans(), st.integers(0, 255), st.integers(0, 100)),
        min_size=20,
        max_size=20,
    )
)
def test_both_register_maps_decode_as_the_datasheets_say(cases) -> None:
    lines, want = [], []
    for i, (mv, chg, outs, pct) in enumerate(cases):
        if i % 2:
            ln, v = axp192(mv, chg, outs)
            bit = 1 << 3
        else:
            ln, v = axp2101(mv, chg, outs, pct)
            bit = 1 << 2
        lines.append(ln)
        want.append((outs & ~bit & 0xFF, outs | bit, v, chg, None if i % 2 else pct))
    out = run_micropython(module="device_pmu_run", path=FAKE, stdin="\n".join(lines).encode())
    rows = out.split("\n")
    got = [r.split() for r in rows if r.startswith("R ")]
    fails = [r.split() for r in rows if r.startswith("F ")]
    assert len(got) == len(cases) == len(fails)
    for g, w, f in zip(got, want, fails, strict=True):
        assert int(g[1]) == w[0] and int(g[2]) == w[1]  # only the rail's bit changes
        assert int(g[3]) == w[2]
        assert g[4] == str(w[3])
        p = int(g[5])
        assert 0 <= p <= 100 and (w[4] is None or p == w[4])  # the AXP2101's gauge is taken
        assert f[1:5] == ["False", "None", "None", "None"] and int(f[5]) > 0

"""The same scenario with the core in CPython and inside the real MicroPython interpreter
(lockstep over a pipe, heap capped at an ESP32 size): the tag's event streams are identical."""

from __future__ import annotations

import dataclasses

import hypothesis.strategies as st
from hypothesis import given
from tagsim import engine, runner, runtime, scenario
from tagsim import taglines as L


def _pair(name: str, **over: object) -> tuple[engine.Run, engine.Run]:
    sc = dataclasses.replace(scenario.load(runner.SCENARIOS / f"{name}.toml"), **over)
    return engine.run(sc, "cpython"), engine.run(sc, "micropython")


def test_commute_streams_are_identical() -> None:
    a, b = _pair("commute")
    assert len(a.log.tag_lines) > 500
    assert a.log.tag_lines == b.log.tag_lines
    assert a.log.world == b.log.world


def test_noisy_line_tamper_and_gaps_are_identical() -> None:
    # line noise exercises the reader's reject paths; the week's third day brings a tamper,
    # coverage gaps and the charger
    a, b = _pair(
        "week",
        duration=14 * 3600,
        line_noise=2e-4,
        start=scenario.load(runner.SCENARIOS / "week.toml").start + 2 * 86400,
    )
    assert a.uart.corrupted > 10
    assert any(ln.startswith("T ") for _, ln in a.log.tag_lines)
    assert any(u.status == L.UPLOAD_NO_LINK for _, u in L.records(a.log.tag_lines, L.Upload))
    assert a.log.tag_lines == b.log.tag_lines


def test_proximity_core_decides_the_same_in_both_runtimes() -> None:
    # tagcore.proximity.monitor on the beacon's real rolling identifiers: built by
    # hooks.proximity in CPython, inside the driver from the same identifier window in MicroPython
    sc = scenario.load(runner.SCENARIOS / "beacon_indoor.toml")
    c, d = runner.run_scenario(sc, "cpython"), runner.run_scenario(sc, "micropython")
    lines = c.run.log.tag_lines
    assert sum(1 for _, ln in lines if ln.startswith("S ")) > 100
    assert any(p.kind == 2 for _, p in L.records(lines, L.ProximityEvent))  # K_NEAR
    assert lines == d.run.log.tag_lines
    assert c.metrics["encounters_detected"] == d.metrics["encounters_detected"] == 1


def test_battery_death_and_reboot_are_identical() -> None:
    sc = scenario.load(runner.SCENARIOS / "battery_rundown.toml")
    sc = dataclasses.replace(
        sc,
        battery_mah=40.0,  # flat after about 4.6 h
        duration=7 * 3600,
        charging=(scenario.Window(sc.start + 5 * 3600, sc.start + 6 * 3600),),
    )
    a, b = engine.run(sc, "cpython"), engine.run(sc, "micropython")
    assert a.log.died_at is not None and any(w["ev"] == "boot" for w in a.log.world)
    assert a.log.tag_lines == b.log.tag_lines


def test_micropython_heap_is_capped() -> None:
    assert runtime.ESP32_HEAP <= 110 * 1024
    tag = runtime.MicroPythonTag(heap=8 * 1024)  # far too small for the core: it must fail
    try:
        import pytest

        with pytest.raises(RuntimeError, match="MemoryError"):
            tag.boot(runtime.TagConfig(), 825_753_600)
    finally:
        tag.close()


def test_the_tag_side_is_device_code() -> None:
    # tagapp/ runs inside MicroPython: it passes the same type check as firmware/ (MicroPython
    # standard library and ESP32 stubs), so CPython-only code there is caught before a run.
    from taghost import typecheck

    assert typecheck.main([str(runtime.TAGAPP)]) == 0


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)))
def test_out_of_memory_detail_is_the_last_lines_as_text(lines: list[str]) -> None:
    # the driver's stderr may be empty (printing the traceback needs heap too): the detail is
    # then "", never the repr of an empty list
    err = "\n".join(lines)
    d = runtime.oom_detail(err)
    assert isinstance(d, str)
    assert d == " | ".join(err.strip().splitlines()[-3:])

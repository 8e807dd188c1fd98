"""Property: whatever happens to a pulled segment's bytes (bits flipped, bytes cut, junk
inserted), decoding never raises, keeps every record it reports exactly as the store wrote it,
and counts the damage; an untouched log decodes whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taghost import samplelog
from taghost.pull import decode_dir


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, dict]]:
    base = samplelog.write_log(tmp_path_factory.mktemp("pristine"))
    doc = decode_dir(base / "log")
    return base / "log", {f["seq"]: f for f in doc["fixes"]}


def test_an_untouched_log_decodes_whole(pristine: tuple[Path, dict[int, dict]]) -> None:
    log, fixes = pristine
    doc = decode_dir(log)
    assert doc["stats"]["damaged_bytes"] == 0 and len(fixes) == 148


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 1 << 20)),
    junk=st.one_of(
        st.none(), st.tuples(st.integers(0, 1 << 20), st.binary(min_size=1, max_size=40))
    ),
)
def test_damage_is_counted_never_raised(
    pristine: tuple[Path, dict[int, dict]],
    tmp_path_factory: pytest.TempPathFactory,
    flips: list[tuple[int, int]],
    cut: int | None,
    junk: tuple[int, bytes] | None,
) -> None:
    log, fixes = pristine
    d = tmp_path_factory.mktemp("dmg")
    for seg in log.iterdir():
        b = bytearray(seg.read_bytes())
        for pos, bit in flips:
            b[pos % len(b)] ^= 1 << bit
        if junk is not None:
            p = junk[0] % (len(b) + 1)
            b[p:p] = junk[1]
        if cut is not None:
            del b[cut % (len(b) + 1) :]
        (d / seg.name).write_bytes(bytes(b))
    doc = decode_dir(d)
    for f in doc["fixes"]:  # what is reported is what was written (a CRC-32 lets through ~2^-32)
        assert fixes[f["seq"]] == f
    touched = bool(flips) or junk is not None or (cut is not None)
    if not touched:
        assert len(doc["fixes"]) == len(fixes)
    if len(doc["fixes"]) < len(fixes) and doc["stats"]["damaged_bytes"] == 0:
        assert cut is not None  # only a clean cut at a frame boundary loses frames uncounted


def test_a_frame_inside_a_damaged_event_is_not_taken_for_a_record() -> None:
    # An event whose data holds a whole frame (a crafted status text, say), and one flipped bit
    # in that event's CRC: the pull must list neither, as the core's walk does (store item 19),
    # and must list every record around it. Any inner kind, any bit of the CRC.
    from tagcore.store import record as R
    from taghost.pull import decode_segment

    for inner_kind, payload in ((R.EV_TAMPER, R.event_payload(1, b"x")), (R.EV_ZONE, b"")):
        inner = R.frame(inner_kind, 0x7FFFFFF0, payload if payload else R.event_payload(2, b"z"))
        before = R.frame(R.EV_STATUS, 7, R.event_payload(5, b"before"))
        evil = bytearray(R.frame(R.EV_STATUS, 8, R.event_payload(6, bytes(inner))))
        after = R.frame(R.EV_STATUS, 9, R.event_payload(7, b"after"))
        for pos in range(4):
            for bit in range(8):
                bad = bytearray(evil)
                bad[len(bad) - 4 + pos] ^= 1 << bit
                seg = bytes(before) + bytes(bad) + bytes(after)
                stats = {"frames": 0, "damaged_bytes": 0, "damaged_runs": 0}
                got = [r[0] for r in decode_segment(seg, stats)]
                assert got == [7, 9], (inner_kind, pos, bit, got)
                assert stats["damaged_bytes"] == len(evil) and stats["damaged_runs"] == 1

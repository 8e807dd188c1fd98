"""Power cuts at every block-device operation while the store runs on MicroPython's real littlefs.

The driver (tests/mpy/store_powerloss.py) replays a workload of 1 Hz and 1/min fixes, events,
acknowledgements and resets on a RAM block device that stops at its Nth program or erase (in the
partial variant the Nth program writes only half its bytes), then remounts, recovers and checks
that every record promised durable is back once, in order, that nothing unknown appears and that
the sequence never repeats. In the thinning variant the log has a 4-segment budget and nothing is
acknowledged, so merges (temporary file, rename, remove) run on littlefs while power is cut: a
durable fix may then be missing only by thinning, events never, and the store's EV_THINNED
records account for exactly what went (recovery logs the one a cut kept from being logged). In the
full variant a 16 KB partition fills up (a budget larger than it, no acks): the store gives up
segments without an alert (EV_DROPPED), then its reserve, never raising anything but the cut;
durable alerts all survive and what went is accounted for. In the alert variant every segment holds
an alert, so room is made by compacting alert segments. Crash points are split across a few
interpreter runs."""

from __future__ import annotations

import re

import pytest
from micropython_runner import MPY_TESTS, run_micropython

SPLIT = 4


# the full variant runs with torn programs only (the harder case; it has twice the ops)
@pytest.mark.parametrize(
    ("thin", "full", "partial"),
    [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 1), (0, 1, 1), (0, 2, 1)],
)
@pytest.mark.parametrize("part", range(SPLIT))
def test_power_cut_at_every_op(part: int, partial: int, thin: int, full: int) -> None:
    out = run_micropython(
        script=MPY_TESTS / "store_powerloss.py",
        args=(str(1 + part), "100000", str(SPLIT), str(partial), str(thin), str(full)),
        heap=2_000_000,
    )
    ops = int(re.search(r"^OPS (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    checked = int(re.search(r"^CHECKED (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert not fails, "\n".join(fails[:20])
    # every op of the full run is a crash point, split over SPLIT runs: >= 1000 over both variants
    assert ops >= 500
    assert checked == len(range(1 + part, ops, SPLIT))
    if thin:  # the uncut run really thinned
        assert int(re.search(r"^THINNED (\d+)", out, re.M).group(1)) > 100  # type: ignore[union-attr]
    if full:  # the uncut run really filled the partition and gave segments up
        assert int(re.search(r"^DROPPED (\d+)", out, re.M).group(1)) > 0  # type: ignore[union-attr]
        compacted = int(re.search(r"^COMPACTED (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
        assert "nospace" in out or compacted > 0  # (it stopped storing before compaction)
        if full == 2:  # every segment held an alert: room was made by compacting them
            assert compacted > 0

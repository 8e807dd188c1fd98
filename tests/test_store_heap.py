"""Issue 13 item 20: the store holds its budget at the heap the tag leaves it. After boot the
whole tag's heap has plenty free but in pieces (docs/device.md: 84 KB free and no 5 KB block),
where a merge's two 8 KB buffers, taken at the first merge, are never found: every merge was
skipped (merge_nomem) and the log outgrew its budget, at any heap size. The shell has the store
take them at boot (Store.reserve_merge), while the heap is whole."""

from __future__ import annotations

import pytest
from micropython_runner import run_micropython


def _run(tmp_path, heap_kb: int, pieces: bool, reserve: bool) -> dict[str, int]:
    args = (str(tmp_path), "8", "9000", "1" if pieces else "0", "1" if reserve else "0")
    out = run_micropython(module="store_heap", args=args, heap=heap_kb * 1024, opt=3)
    return {k: int(v) for k, v in (ln.split() for ln in out.strip().splitlines())}


@pytest.mark.parametrize("heap_kb", [96, 160])
def test_the_budget_holds_in_a_heap_left_in_pieces(tmp_path, heap_kb: int) -> None:
    got = _run(tmp_path, heap_kb, pieces=True, reserve=True)
    assert got["held"] == 1 and got["merge_nomem"] == 0, got
    assert got["max_segments_seen"] <= 8 and got["thinned"] > 0, got


def test_without_the_reserve_a_heap_in_pieces_never_merges(tmp_path) -> None:
    # what the reserve is for: the same heap, the buffers asked for at the first merge
    got = _run(tmp_path, 160, pieces=True, reserve=False)
    assert got["held"] == 0 and got["merge_nomem"] > 0 and got["max_segments_seen"] > 8, got

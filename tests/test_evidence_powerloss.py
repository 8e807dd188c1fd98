"""The sealed store on real littlefs (MicroPython's vfs.VfsLfs2) with the power cut at every
program and erase of a run that thins (512 B segments, a 4-segment budget, no acks): after each
cut the tag boots (the sealer may find its key slot one step behind its newest seal) and writes
on; the image always verifies with `taghost.verify`, and sealing never stops (no lost or
damaged key slot)."""

from __future__ import annotations

from micropython_runner import MPY_TESTS, run_micropython
from seal_run import K0, KID
from taghost import verify as V


def images(out: str) -> list[tuple[int, list[int], dict[str, bytes]]]:
    res: list[tuple[int, list[int], dict[str, bytes]]] = []
    for line in out.splitlines():
        p = line.split()
        if p[0] == "CUT":
            res.append((int(p[1]), [], {}))
        elif p[0] == "COUNTS":
            res[-1][1].extend(int(v) for v in p[1:])
        elif p[0] == "file":
            res[-1][2][p[1]] = bytes.fromhex(p[2]) if len(p) > 2 else b""
    return res


def test_every_power_cut_leaves_a_log_that_verifies() -> None:
    out = run_micropython(
        script=MPY_TESTS / "seal_powerloss.py", args=("0", "100000", "1"), heap=2_000_000
    )
    ops = int(out.split()[1])
    got = images(out)
    assert ops > 400 and len(got) == ops  # a cut at every operation of the run
    thinned = 0
    for cut, counts, files in got:
        assert counts == [0, 0], cut  # the slot was never lost, every step was saved
        segs = [files[n] for n in sorted(files) if n.startswith("s")]
        rep = V.verify(V.read_frames(segs), K0, KID)
        assert rep.ok, f"cut at op {cut}:\n{rep.text()}"
        assert rep.verified + len(rep.seqs("UNSEALED_TAIL")) == rep.records, cut
        assert rep.seals >= 3, cut
        thinned += "THINNED" in rep.codes()
    assert thinned > ops // 4  # cuts late in the run come after thinning

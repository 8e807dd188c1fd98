"""Cost of sealing the log (docs/evidence.md): bytes per record, flash programmed per day and
block erases per day (littlefs on a counting RAM block device of 4 KB blocks, inside
MicroPython), microseconds per record on the MicroPython unix port and on CPython, each with
and without the sealer on the same workload; the host's verification speed; and the heap the
sealer keeps on the device (the whole firmware on the simulated board, with and without
/prov/seal.key).
Run: .venv/bin/python bench/bench_evidence.py"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "core"))
from micropython_runner import MPY_TESTS, run_micropython  # noqa: E402
from tagcore.fix import Fix  # noqa: E402
from tagcore.store import record as R  # noqa: E402
from tagcore.store import seal as S  # noqa: E402
from tagcore.store.log import Store  # noqa: E402
from taghost import verify as V  # noqa: E402
from test_store import MemFs  # noqa: E402

RATES = ((60, 4.0, "1 fix/min"), (1, 0.25, "1 fix/s"))  # (interval s, days simulated, name)


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def mpy(step: int, sealed: bool, days: float) -> dict[str, float]:
    """The driver's figures, and `cpu_us_per_record`: the MicroPython process's CPU time
    (getrusage of the child, so the shared host's load does not count) less that of the same
    run with no records (start-up, formatting the image), per record."""
    args = (str(step), "1" if sealed else "0")
    c0 = _child_cpu()
    run_micropython(script=MPY_TESTS / "seal_flash.py", args=(*args, "0"), heap=8_000_000)
    c1 = _child_cpu()
    out = run_micropython(
        script=MPY_TESTS / "seal_flash.py", args=(*args, str(days)), heap=8_000_000
    )
    c2 = _child_cpu()
    d = {k: float(v) for k, v in (ln.split() for ln in out.strip().splitlines())}
    d["cpu_us_per_record"] = ((c2 - c1) - (c1 - c0)) * 1e6 / d["records"]
    return d


def walk(k: int, t: int) -> Fix:  # the same walk as tests/mpy/seal_flash.py
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


def cpython(step: int, sealed: bool, days: float) -> tuple[float, MemFs]:
    fs = MemFs()
    sealer = None
    if sealed:
        S.provision(S.FileSlot(fs), bytes(range(32)))
        sealer = S.Sealer(S.FileSlot(fs), b"\x07" * 8)
    st = Store(fs, 0, max_segments=10_000, sealer=sealer)
    n = int(days * 86400 / step)
    t = 0
    recs = 0
    t0 = time.process_time()  # CPU time: the host is shared
    for k in range(n):
        t += step
        st.append_fix(t, walk(k, t))
        recs += 1
        if t % 7200 < step:
            st.append_event(R.EV_ZONE, t, b"\x05\x01")
            recs += 1
    st.flush()
    return (time.process_time() - t0) * 1e6 / recs, fs


def seals_fit(heap: int, sealed: bool, step: int, fixes: int = 3000) -> bool:
    """Whether the store (with its sealer) runs `fixes` fixes inside a MicroPython heap of
    `heap` bytes with every seal written (the log on host files: it takes no heap)."""
    with tempfile.TemporaryDirectory() as d:
        out = run_micropython(
            module="seal_heap",
            args=(d, "1" if sealed else "0", str(step), str(fixes)),
            heap=heap,
            check=False,
        )
    return out.split()[-2:] == ["ok", "1"]


def smallest_heap(sealed: bool, step: int, lo: int = 32 * 1024, hi: int = 256 * 1024) -> int:
    while hi - lo > 1024:  # bisection to 1 KB (monotonic up to fragmentation luck)
        mid = (lo + hi) // 2
        if seals_fit(mid, sealed, step):
            hi = mid
        else:
            lo = mid
    return hi


def days_held(sealed: bool, max_days: int = 365) -> tuple[float, float | None]:
    """Days of 1 fix/min (a status event a day) a 2 MB log (461 segments of 4 KB, the
    store's bench) holds without any acknowledgement before it outgrows its budget, and the
    day thinning starts; CPython, in-memory files (the same bytes as on the device)."""
    fs = MemFs()
    sealer = None
    if sealed:
        S.provision(S.FileSlot(fs), bytes(range(32)))
        sealer = S.Sealer(S.FileSlot(fs), b"\x07" * 8)
    st = Store(fs, 0, max_segments=461, sealer=sealer)
    t = 0
    k = 0
    thin_from = None
    while len(st.segs) <= 461 + 1 and t < max_days * 86400:
        t += 60
        k += 1
        st.append_fix(t, walk(k, t))
        if t % 86400 < 60:
            st.append_event(R.EV_STATUS, t, b"ok")
        if thin_from is None and st.thinned:
            thin_from = t / 86400
    return t / 86400, thin_from


def main() -> None:
    print("-- sealing cost (docs/evidence.md): epoch 15 min or 128 records, alerts sealed at once")
    print("   times: CPU time per record (the host is shared), best of 3")
    print("   workload: walking track, an alert every 2 h; 2 MB littlefs, 4 KB blocks")
    for step, days, name in RATES:
        # timings: the best of 3 runs (the host is shared; the byte counts do not vary)
        key = "cpu_us_per_record"
        plain = min((mpy(step, False, days) for _ in range(3)), key=lambda d: d[key])
        sealed = min((mpy(step, True, days) for _ in range(3)), key=lambda d: d[key])
        c_plain = min(cpython(step, False, days)[0] for _ in range(3))
        c_sealed, fs = min((cpython(step, True, days) for _ in range(3)), key=lambda r: r[0])
        print(f"  {name}:")
        bp, bs = plain["bytes_per_record"], sealed["bytes_per_record"]
        print(f"    bytes per record           {bp:6.1f} -> {bs:6.1f}  (+{bs - bp:.1f})")
        print(f"    seals per day              {sealed['seals_per_day']:6.0f}")
        fp, fsd = plain["prog_bytes_per_day"], sealed["prog_bytes_per_day"]
        print(
            f"    flash programmed per day   {fp / 1e6:6.2f} -> {fsd / 1e6:6.2f} MB  "
            f"(+{(fsd - fp) / fp * 100:.0f} %)"
        )
        print(
            f"    block erases per day       {plain['erases_per_day']:6.0f} -> "
            f"{sealed['erases_per_day']:6.0f}"
        )
        up, us = plain[key], sealed[key]
        print(f"    us/record MicroPython unix {up:6.0f} -> {us:6.0f}  (sealing +{us - up:.0f})")
        print(
            f"    us/record CPython          {c_plain:6.1f} -> {c_sealed:6.1f}  "
            f"(sealing +{c_sealed - c_plain:.1f})"
        )
        names = sorted(n for n in fs.files if n.startswith("s"))
        recs = V.read_frames([bytes(fs.files[n]) for n in names])
        t0 = time.process_time()  # CPU time: the host is shared
        rep = V.verify(recs, bytes(range(32)), b"\x07" * 8)
        dt = time.process_time() - t0
        assert rep.ok
        print(
            f"    host verify (CPython)      {rep.records / dt:8.0f} records/s "
            f"({rep.records} records, {rep.seals} seals)"
        )
    print("  (unix port on this host; an ESP32 at 240 MHz is roughly 10-30x slower)")
    print("-- 2 MB log, 1 fix/min, no acknowledgement at all (thinning; seals are never thinned)")
    for sealed in (False, True):
        held, thin = days_held(sealed)
        more = "+" if held >= 365 else ""
        print(
            f"  {'sealed  ' if sealed else 'unsealed'}: thinning from day {thin or 0:.0f}, "
            f"budget held {held:.0f}{more} days"
        )
    print("-- heap (MicroPython unix port, 64-bit; 4 KB segments, log on host files, 3000 fixes)")
    for step, _, name in RATES:
        a, b = smallest_heap(False, step), smallest_heap(True, step)
        print(
            f"  {name}: smallest heap, store alone {a / 1024:.1f} KB, sealed {b / 1024:.1f} KB "
            f"(+{(b - a) / 1024:.1f} KB)"
        )


def device_heap(hours: int = 6) -> None:
    """The heap the sealer keeps on the device: the whole firmware on the simulated board
    (tests/mpy/device_board.py, the zone tag: one boot, light sleep, uploads to the real server
    on loopback), the heap left allocated after a collection, hourly, with and without
    /prov/seal.key; everything else the same."""
    import devicekit as K

    print(f"-- heap on the device: whole firmware, simulated board, zone tag, {hours} h walk")
    got = {}
    with tempfile.TemporaryDirectory() as d:
        fw = K.build_firmware(Path(d) / "fw")
        for sealed in (False, True):
            tmp = Path(d) / ("sealed" if sealed else "plain")
            tmp.mkdir()
            srv = K.RealServer(tmp)
            try:
                cfg = K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
                prov = K.write_prov(
                    tmp / "prov", srv.port, config=cfg, zones=K.compile_zones(tmp), sealed=sealed
                )
                run = K.run_board(tmp, fw, prov, duration_s=hours * 3600)
            finally:
                srv.stop()
            mem = [int(ln.split()[2]) for ln in run.lines if ln.startswith("MEM ")][1:]
            assert run.logs("prov", "INFO") and mem, run.out[-2000:]
            got[sealed] = (min(mem), max(mem), len(run.logs("fix")))
    (a0, a1, n0), (b0, b1, n1) = got[False], got[True]
    print(f"  allocated after gc, hourly: unsealed {a0}-{a1} B, sealed {b0}-{b1} B "
          f"(+{b0 - a0}..+{b1 - a1} B; {n0} / {n1} fixes)")  # fmt: skip


if __name__ == "__main__":
    main()
    device_heap()

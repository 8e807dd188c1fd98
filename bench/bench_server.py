"""Server benchmark: exactly once through injected faults, and sustained ingest under load.

1. Faults: HostTags (tests/uplinkkit.py) talk to the server through a fault-injecting proxy
   over loopback (tests/uplinkfaults.py: dropped requests and replies, late requests, 500s,
   duplicates, reordering, cut and corrupted replies, stale acks, server restarts mid-batch,
   power loss mid-upload). SQLite and PostgreSQL run side by side, half the faults each.
   Printed: faults injected, records, lost / duplicated / altered records, records deleted on a
   tag before the server held them (all must be 0).
2. Load: N simulated tags (real keys, the store's fix codec, COSE_Mac0 batches) post their
   batches over loopback to `opentag server` running in its own process, on SQLite (WAL,
   synchronous=FULL) and on a throwaway PostgreSQL (fsync on). Printed: fixes/s sustained,
   request latency p50/p99, and a check that every fix is stored and acknowledged once.
Run: .venv/bin/python bench/bench_server.py [--faults N] [--tags N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import uplinkfaults as F  # noqa: E402
import uplinkkit as K  # noqa: E402
from pgcluster import PgCluster  # noqa: E402
from taghost.server import admin  # noqa: E402
from taghost.server.db import Database  # noqa: E402


def _faults_worker(args: tuple[str, str, int, int]) -> tuple[str, dict[str, object]]:
    name, url, faults, seed = args
    return name, F.run_faults(url, faults=faults, tags=4, seed=seed)


def bench_faults(total: int, pg: PgCluster, tmp: Path) -> bool:
    jobs = [
        ("sqlite", f"sqlite:///{tmp}/faults.db", total - total // 2, 1),
        ("postgres", pg.new_database(), total // 2, 2),
    ]
    with mp.get_context("spawn").Pool(2) as pool:
        results = dict(pool.map(_faults_worker, jobs))
    ok = True
    print(f"faults: {total} injected between HostTags and the server over loopback")
    head = f"  {'backend':9} {'faults':>7} {'requests':>9} {'records':>8} {'lost':>5} {'dup':>4}"
    print(head + f" {'altered':>8} {'deleted early':>14} {'restarts':>9} {'s':>6}")
    for name, r in results.items():
        bad = [r["lost"], r["extra"], r["duplicates"], r["differ"], r["deleted_before_held"]]
        ok &= not any(bad) and bool(r["drained"])
        print(
            f"  {name:9} {r['faults']:>7} {r['requests']:>9} {r['records']:>8} {r['lost']:>5} "
            f"{r['duplicates']:>4} {r['differ']:>8} {r['deleted_before_held']:>14} "
            f"{r['restarts']:>9} {r['elapsed_s']:>6.0f}"
        )
    by: dict[str, int] = {}
    for r in results.values():
        for k, v in r["by_fault"].items():  # type: ignore[attr-defined]
            by[k] = by.get(k, 0) + v
    print("  by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    total_faults = sum(int(r["faults"]) for r in results.values())  # type: ignore[call-overload]
    print(f"  every record stored exactly once, none deleted early: {'yes' if ok else 'NO'}")
    return ok and total_faults >= total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "taghost.server.cli", "--db", url, "--port", str(port)]
    p = subprocess.Popen(
        cmd + (["--workers", str(workers)] if workers else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats", timeout=1).read()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("the server did not start")


def build_fleet(db: Database, tags: int, batches: int, per_batch: int) -> list[list[bytes]]:
    """Each tag's batches (ctr 1.., consecutive seq ranges), built before the clock starts:
    encoding is the tags' work, not the server's."""
    import random

    fleet = []
    for i in range(tags):
        tag, key = K.new_tag(10_000 + i)
        admin.provision(db, tag.hex(), 0, key)
        rng = random.Random(i)
        out = []
        t = 850_000_000
        for j in range(batches):
            fixes = []
            for _ in range(per_batch):
                t += 60
                fixes.append(K.make_fix(rng, t))
            first = j * per_batch + 1
            recs = [K.fix_run(first, fixes)]
            out.append(K.batch(key, tag, j + 1, first, first + per_batch - 1, recs, sent=t))
        fleet.append(out)
    return fleet


async def drive(port: int, fleet: list[list[bytes]], concurrency: int) -> tuple[float, list[float]]:
    import aiohttp

    lat: list[float] = []
    sem = asyncio.Semaphore(concurrency)
    bad = 0

    async def one_tag(session: aiohttp.ClientSession, batches: list[bytes]) -> None:
        nonlocal bad
        for body in batches:  # a tag has one request outstanding at a time
            async with sem:
                t0 = time.perf_counter()
                async with session.post(
                    f"http://127.0.0.1:{port}/v1/up",
                    data=body,
                    headers={"Content-Type": "application/cose"},
                ) as r:
                    await r.read()
                    bad += r.status != 200
                lat.append(time.perf_counter() - t0)

    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(one_tag(session, b) for b in fleet))
        wall = time.perf_counter() - t0
    if bad:
        raise RuntimeError(f"{bad} requests were not accepted")
    return wall, lat


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def bench_load(
    name: str, url: str, tags: int, batches: int, per_batch: int, conc: int, workers: int | None
) -> dict:
    db = Database(url)
    fleet = build_fleet(db, tags, batches, per_batch)
    port = free_port()
    proc = start_server(url, port, workers)
    try:
        wall, lat = asyncio.run(drive(port, fleet, conc))
    finally:
        proc.terminate()
        proc.wait(10)
    n = tags * batches * per_batch
    with db.tx() as tx:
        stored = tx.execute("SELECT COUNT(*) FROM fixes").one()[0]
        acked_ok = tx.execute(
            "SELECT COUNT(*) FROM tags WHERE acked = ?", (batches * per_batch,)
        ).one()[0]
    db.close()
    return {
        "backend": name,
        "fixes": n,
        "requests": len(lat),
        "fixes_s": n / wall,
        "p50_ms": pct(lat, 50) * 1000,
        "p99_ms": pct(lat, 99) * 1000,
        "complete": stored == n and acked_ok == tags,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", type=int, default=10_000, help="faults to inject in total")
    ap.add_argument("--tags", type=int, default=2_000, help="simulated tags under load")
    ap.add_argument("--batches", type=int, default=4, help="batches per tag")
    ap.add_argument("--fixes", type=int, default=15, help="fixes per batch (15 min at 1/min)")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    ap.add_argument("--quick", action="store_true", help="a small run (1,000 faults, 300 tags)")
    ap.add_argument("--skip-faults", action="store_true")
    ap.add_argument("--pg-workers", type=int, help="the server's database threads on PostgreSQL")
    a = ap.parse_args()
    if a.quick:
        a.faults, a.tags = 1_000, 300
    ok = True
    tmp = Path(tempfile.mkdtemp(prefix="opentag-bench-"))
    pg = PgCluster(durable=True).start()
    try:
        print(
            f"load: {a.tags} tags x {a.batches} batches x {a.fixes} fixes over loopback, "
            f"{a.concurrency} requests in flight; the server in its own process"
        )
        cols = f"{'fixes':>7} {'requests':>9} {'fixes/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
        print(f"  {'backend':9} {cols}")
        rows = []
        for name, url in (("sqlite", f"sqlite:///{tmp}/load.db"), ("postgres", pg.new_database())):
            w = a.pg_workers if name == "postgres" else None
            r = bench_load(name, url, a.tags, a.batches, a.fixes, a.concurrency, w)
            rows.append(r)
            ok &= r["complete"]
            print(
                f"  {name:9} {r['fixes']:>7} {r['requests']:>9} {r['fixes_s']:>8.0f} "
                f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f}  "
                f"{'all stored and acked once' if r['complete'] else 'INCOMPLETE'}"
            )
        ratio = rows[1]["fixes_s"] / rows[0]["fixes_s"]
        print(
            f"  postgres / sqlite fixes/s: {ratio:.2f}  (target >= 2,000 fixes/s into PostgreSQL)"
        )
        if not a.skip_faults:
            ok &= bench_faults(a.faults, pg, tmp)
    finally:
        pg.stop()
        for f in tmp.iterdir():
            f.unlink()
        os.rmdir(tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Uplink benchmark: bytes on air per fix at 1 fix/min in a 60-fix batch (COSE header, payload
head and MAC counted), beside OwnTracks-style JSON and a plain CBOR array per fix, and the
batch encoder's speed and allocation inside MicroPython, side by side with a reference
measured in the same run (the runtime's own json.dumps of the same fixes). The fixes are a
wearer walking at about 1.3 m/s with turns and GNSS noise on every field
(tests/mpy/uplink_bench.py).
Run: .venv/bin/python bench/bench_uplink.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "mpy"), str(ROOT / "firmware")]
import cbor2  # noqa: E402
from micropython_runner import run_cpython, run_micropython  # noqa: E402

N = 1200  # fixes in the track: 20 hours at 1 fix/min


def figures(out: str) -> dict[str, list[int]]:
    return {ln.split()[0]: [int(x) for x in ln.split()[1:]] for ln in out.strip().splitlines()}


def main() -> None:
    import uplink_bench as ub  # the driver's track and OwnTracks mapping, imported in CPython

    mp = figures(run_micropython(module="uplink_bench", args=(str(N),), heap=4_000_000))
    cp = figures(run_cpython(script=ROOT / "tests" / "mpy" / "uplink_bench.py", args=(str(N),)))
    fixes = ub.track(60)
    plain = [
        len(cbor2.dumps([f.t, f.lat, f.lon, f.alt_dm, f.speed_cms, f.course_cd, f.acc_dm]))
        for f in fixes
    ]
    full = [len(cbor2.dumps(list(f))) for f in fixes]
    own = [len(json.dumps(ub.owntracks(f), separators=(",", ":"))) for f in fixes]
    body60 = mp["BODY60"][0]
    assert body60 == cp["BODY60"][0], "the runtimes wrote different batches"
    print("-- bytes on air per fix, 60 fixes at 1 fix/min in one batch")
    print(f"  opentag batch (COSE_Mac0, HMAC 256/64)  {body60 / 60:6.2f}  ({body60} B per batch)")
    print(f"  plain CBOR array [t,lat,lon,alt,v,cog,acc] {sum(plain) / 60:6.2f}")
    print(f"  plain CBOR array, every Fix field      {sum(full) / 60:6.2f}")
    print(f"  OwnTracks-style JSON point             {sum(own) / 60:6.2f}")
    print("  target: <= 12 B per fix, MAC and header counted")
    k, size = cp["BATCH_FIXES"]
    print(f"-- one full batch: {k} fixes in {size} B ({size / k:.2f} B per fix)")
    print(
        f"  CPython: batch from the store {cp['BATCH_US'][0] / k:7.1f} us/fix;"
        f" json.dumps of the same {cp['JSON_US'][0] / k:5.1f} us/fix"
    )
    print(f"    batch / json = {cp['BATCH_US'][0] / cp['JSON_US'][0]:.1f} x")
    print(
        f"  MicroPython: batch from the store {mp['BATCH_US'][0] / k:7.1f} us/fix;"
        f" json.dumps of the same {mp['JSON_US'][0] / k:5.1f} us/fix"
    )
    print(
        f"    batch / json = {mp['BATCH_US'][0] / mp['JSON_US'][0]:.1f} x;"
        f" MicroPython / CPython (batch) = {mp['BATCH_US'][0] / cp['BATCH_US'][0]:.1f} x"
    )
    print(
        f"  MicroPython: bytes allocated building the batch {mp['BATCH_ALLOC'][0]}"
        f" ({mp['BATCH_ALLOC'][0] / k:.0f} per fix, almost all in Store.read)"
    )
    print(
        f"  MicroPython: heap taken by importing tagcore.uplink.client {mp['IMPORT_BYTES'][0]} B"
        " (with tagcore.store.record and tagcore.fix; .mpy, unix port)"
    )


if __name__ == "__main__":
    main()

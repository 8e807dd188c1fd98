"""`make demo`: the whole path on this machine, no external server and no hardware.

A simulated wearer (tagsim), the tag's core (tagcore.app with its real uplink client), uploads
over a link model into the real `opentag server` (in-process aiohttp on a loopback port, SQLite
in a temporary folder), then the server's view: a summary from its JSON API and its GeoJSON and
GPX exports of each tag's trail, written beside the simulator's own files.

    opentag demo [--out DIR] [--db-url URL]      (`make demo`; python -m taghost.demo too)

The options are wired in `taghost.cli.COMMANDS`; the handler is `cmd_demo`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from taghost.errors import EXIT_OK, EXIT_RED

# The default scenario (the commute, as `opentag sim run` shows it) and one with an alert.
SCENARIOS = ("commute.toml", "zone_entry_server.toml")


def summary(srv: Any, tag: str) -> list[str]:
    """A few lines about one tag, from the server's JSON API (what an operator's screen reads)."""
    st = srv.get_json(f"/v1/tags/{tag}")
    trail = srv.get_json(f"/v1/tags/{tag}/trail")
    alerts = srv.get_json(f"/v1/tags/{tag}/alerts")
    lines = [
        f"  tag {tag} ({st['label']}): {st['fixes']} fixes held, acknowledged to seq "
        f"{st['acked']}, last upload {st['last_upload']}",
    ]
    if trail:
        lines.append(
            f"    trail {trail[0]['time']} .. {trail[-1]['time']}, last at "
            f"{trail[-1]['lat_deg']:.5f}, {trail[-1]['lon_deg']:.5f}"
        )
    if not alerts:
        lines.append("    alerts: none")
    for a in alerts:
        lines.append(
            f"    alert {a['kind']} {a['subject']}: tag raised {a['time']}, server had it "
            f"{a['raised']} ({len(a['evidence'])} evidence fixes around it)"
        )
    return lines


def evidence(srv: Any, tag: str, k0: bytes) -> str:
    """What `opentag verify` says of the server's export of one tag (docs/evidence.md)."""
    from taghost import verify as V
    from taghost.server import seals

    with srv.db.tx() as tx:
        exp = seals.export_all(tx, tag)
    rep = V.verify(
        V.import_records(exp["records"]),
        k0,
        bytes.fromhex(tag),
        V.anchors_from_json(exp["anchors"]),
    )
    return (
        f"    evidence: {rep.verdict()}: {rep.verified} of {rep.records} records verified "
        f"against {rep.seals} seals"
    )


def cmd_demo(a: argparse.Namespace) -> int:
    """`opentag demo`: the runs, the server's view and its exports. Returns EXIT_RED when a
    run missed its expectations, else EXIT_OK."""
    from tagsim import cli as simcli
    from tagsim import runner, scenario
    from tagsim.uplinklink import SimServer

    from taghost.server.admin import parse_tag

    t0 = time.perf_counter()
    srv = SimServer(a.db_url)
    red = False
    try:
        print(f"opentag server on 127.0.0.1:{srv.port} ({srv.db.dialect}), clock = the runs'\n")
        runs = []
        for name in SCENARIOS:
            sc = scenario.with_server(scenario.load(runner.SCENARIOS / name))
            res = runner.run_scenario(sc, "cpython", server=srv)
            print(simcli.summary(res), flush=True)
            out = Path(a.out) / sc.name
            paths = runner.write(res, out)
            print(f"  report: {paths['report'].resolve()}\n")
            red = red or res.red
            assert sc.server is not None
            seal = scenario.seal_identity(sc)
            assert seal is not None  # the demo's tags seal: the server verifies every batch
            runs.append((parse_tag(sc.server.tag_id.hex()), out, seal[1]))
        print("The server's view (JSON API):")
        for tag, out, k0 in runs:
            print("\n".join(summary(srv, tag)))
            print(evidence(srv, tag, k0))
            folder = out / "server"
            folder.mkdir(parents=True, exist_ok=True)
            for fmt in ("geojson", "gpx"):
                f = folder / f"{tag}.{fmt}"
                f.write_text(srv.get_text(f"/v1/tags/{tag}/export.{fmt}"))
                print(f"    export: {f.resolve()}")
            (folder / "tag.json").write_text(
                json.dumps(srv.get_json(f"/v1/tags/{tag}"), indent=1) + "\n"
            )
        stats = srv.get_json("/v1/stats")
        print(f"\nserver counts: {stats['counts']}; refused: {stats['refused'] or 'none'}")
        print(f"demo done in {time.perf_counter() - t0:.1f} s")
    finally:
        srv.stop()
    return EXIT_RED if red else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """`opentag demo ARGS` (`python -m taghost.demo`, as `make demo` once called it)."""
    from taghost import cli

    return cli.main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

"""`opentag server`: run the server, provision tags, queue downlink items, show tag state.

    opentag server [--db URL] [--host H] [--port P]     run the HTTP server
    opentag server provision TAG [--key HEX] [--upload-every S] [--label TEXT]
    opentag server tags                                  each tag's state (JSON)
    opentag server push TAG KIND FILE [--version N]      queue a downlink item (beacon|zones|config)
    opentag server locate TAG                            queue an on-demand locate
    opentag server beacon TAG --secret FILE [--beacon N] [--hours H]
                                                         keep a victim beacon's windows fresh
The database is --db, else $OPENTAG_DB, else sqlite:///opentag-server.db (SQLite, WAL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from taghost import beaconcli
from taghost.server import admin, api, rules, wire
from taghost.server.app import Config, Server, serve_forever
from taghost.server.db import Database, DatabaseError
from taghost.server.ingest import ms_2000

DEFAULT_DB = "sqlite:///opentag-server.db"


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=os.environ.get("OPENTAG_DB", DEFAULT_DB),
        help="sqlite:///PATH or postgresql://... (default: $OPENTAG_DB or %(default)s)",
    )


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser("server", help="the uplink server and its database (docs/server.md)")
    _db_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (%(default)s)")
    p.add_argument("--grace", type=int, default=600, help="loss of communication: seconds past due")
    p.add_argument(
        "--workers", type=int, help="database threads (default: 1 for SQLite, 4 for PostgreSQL)"
    )
    s = p.add_subparsers(dest="server_cmd")
    pr = s.add_parser("provision", help="register a tag and its MAC key (prints the key)")
    pr.add_argument("tag", help="tag id, 16 hex digits")
    pr.add_argument("--key", help="the 32-byte key as 64 hex digits (default: random)")
    pr.add_argument("--upload-every", type=int, default=900, help="upload interval, s")
    pr.add_argument("--label", default="")
    _db_arg(pr)
    t = s.add_parser("tags", help="each tag's state as JSON")
    _db_arg(t)
    pu = s.add_parser("push", help="queue a downlink item for a tag's next acknowledgement")
    pu.add_argument("tag")
    pu.add_argument("kind", choices=[k for k in wire.DOWNLINK_KINDS if k != "locate"])
    pu.add_argument("file", help="the item's bytes (a compiled zones blob, a config, a window)")
    pu.add_argument("--version", type=int, help="default: one above what is queued or held")
    _db_arg(pu)
    lo = s.add_parser("locate", help="ask the tag for its position at its next upload")
    lo.add_argument("tag")
    _db_arg(lo)
    be = s.add_parser("beacon", help="keep a victim beacon's identifier windows fresh on a tag")
    be.add_argument("tag")
    be.add_argument("--secret", required=True, help="the beacon's secret (opentag beacon keygen)")
    be.add_argument("--beacon", type=int, default=0, help="beacon number on the tag (0-255)")
    be.add_argument("--hours", type=int, default=48, help="hours each window covers")
    be.add_argument("--interval", type=int, default=900, help="identifier interval, s")
    _db_arg(be)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (DatabaseError, admin.AdminError, OSError, ValueError) as e:
        print(f"opentag server: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    now_ms = ms_2000(time.time())
    cmd = getattr(args, "server_cmd", None)
    if cmd == "provision":
        key = bytes.fromhex(args.key) if args.key else None
        db = Database(args.db)
        key = admin.provision(db, args.tag, now_ms, key, args.upload_every, args.label)
        print(f"tag {admin.parse_tag(args.tag)} provisioned; key {key.hex()}")
        return 0
    if cmd == "tags":
        json.dump(api.tag_state(Database(args.db)), sys.stdout, indent=1)
        print()
        return 0
    if cmd == "push":
        data = Path(args.file).read_bytes()
        kind = wire.DOWNLINK_KINDS[args.kind]
        v = admin.queue_downlink(Database(args.db), args.tag, kind, data, now_ms, args.version)
        print(f"{args.kind} version {v} ({len(data)} bytes) queued for {admin.parse_tag(args.tag)}")
        return 0
    if cmd == "beacon":
        db = Database(args.db)
        secret = beaconcli.read_secret(args.secret)
        admin.add_beacon(db, args.tag, secret, args.beacon, args.hours, args.interval)
        served = rules.beacon_windows(db, now_ms)
        print(f"beacon {args.beacon} on {admin.parse_tag(args.tag)}: window queued {served != []}")
        return 0
    if cmd == "locate":
        v = admin.queue_downlink(Database(args.db), args.tag, wire.DL_LOCATE, b"", now_ms)
        print(f"locate {v} queued for {admin.parse_tag(args.tag)}: sent with its next ack")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = Server(Database(args.db), Config(grace_s=args.grace, workers=args.workers))
    try:
        asyncio.run(serve_forever(server, args.host, args.port))
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="opentag")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_parser(sub)
    args = p.parse_args(["server", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""`opentag server`: run the server, provision tags, queue downlink items, show tag state.

    opentag server [--db URL] [--host H] [--port P]     run the HTTP server
    opentag server provision TAG [--key HEX] [--upload-every S] [--label TEXT]
    opentag server tags                                  each tag's state (JSON)
    opentag server push TAG KIND FILE [--version N]      queue a downlink item (beacon|zones|config)
    opentag server locate TAG                            queue an on-demand locate
    opentag server beacon TAG --secret FILE [--beacon N] [--hours H]
                                                         keep a victim beacon's windows fresh
    opentag server victim add --tag TAG [--label T] [--alert-m M] [--prealert-m M] [--max-age-s S]
                                                         a victim for the GNSS rule (prints her key)
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
from collections.abc import Callable
from pathlib import Path

from taghost import beaconcli
from taghost.errors import UserError
from taghost.server import admin, api, rules, victims, wire
from taghost.server.app import Config, Server, serve_forever
from taghost.server.db import Database, DatabaseError
from taghost.server.ingest import ms_2000

DEFAULT_DB = "sqlite:///opentag-server.db"


def db_default() -> str:
    return os.environ.get("OPENTAG_DB", DEFAULT_DB)


def run(args: argparse.Namespace) -> int:
    """One `opentag server` command; returns its exit code (0).

    Raises UserError for what the operator can fix: a database that cannot be opened or
    migrated, a tag already (or not) provisioned, a bad tag id, key or time, a file that cannot
    be read, a port already in use. `taghost.cli.main` prints it as one line, exit 2."""
    try:
        return _run(args)
    except (DatabaseError, admin.AdminError, OSError, ValueError) as e:
        raise UserError(str(e)) from e


def _run(args: argparse.Namespace) -> int:
    if args.db is None:
        args.db = db_default()
    now_ms = ms_2000(time.time())
    cmd = getattr(args, "server_cmd", None)
    if cmd == "provision":
        key = bytes.fromhex(args.key) if args.key else None
        k0 = bytes.fromhex(args.seal_key) if getattr(args, "seal_key", None) else None
        db = Database(args.db)
        key = admin.provision(db, args.tag, now_ms, key, args.upload_every, args.label, k0)
        k0 = admin.seal_key_of(db, args.tag)
        assert k0 is not None
        print(f"tag {admin.parse_tag(args.tag)} provisioned; key {key.hex()}")
        # the initial seal key (docs/evidence.md) on its own stream: stdout's line is a contract
        print(f"seal key {k0.hex()}", file=sys.stderr)
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
    if cmd == "victim":  # `victim add` (the one action so far)
        db = Database(args.db)
        key = bytes.fromhex(args.key) if args.key else None
        vid, key = victims.add_victim(
            db, args.tag, now_ms, key, args.label, args.alert_m, args.prealert_m, args.max_age_s
        )
        tag = admin.parse_tag(args.tag)
        print(f"victim {vid} on tag {tag}; key {key.hex()}")
        every = victims.upload_every_s(db, tag)
        if every is not None and every > args.max_age_s:
            print(
                f"note: tag {tag} uploads every {every} s: an approach between its uploads is "
                f"alerted when the batch arrives, up to {every} s late",
                file=sys.stderr,
            )
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


def _as(cmd: str | None) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        args.server_cmd = cmd
        return run(args)

    return handler


# The handlers `taghost.cli.COMMANDS` names (`opentag server [run]`, `opentag server provision`...).
cmd_run = _as(None)
cmd_provision = _as("provision")
cmd_tags = _as("tags")
cmd_push = _as("push")
cmd_locate = _as("locate")
cmd_beacon = _as("beacon")
cmd_victim = _as("victim")


def main(argv: list[str] | None = None) -> int:
    """`opentag server ARGS`; the options are wired in `taghost.cli.COMMANDS`."""
    from taghost import cli

    return cli.main(["server", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # python -m taghost.server.cli (bench/bench_server.py starts it so)
    sys.exit(main())

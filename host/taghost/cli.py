"""The `opentag` command: host tools around the tag's core (docs/cli.md).

One front end. Every command is one entry in COMMANDS: its help, its handler (reached
through a loader that imports the tool's module only when that command runs, so a tool whose
dependencies are missing cannot break the others) and its options. A handler takes the parsed
options and returns an exit code; it raises `UserError` for input the user can fix. Errors are
caught here, in one place, and mapped to the exit codes of `taghost.errors`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

from taghost.argtypes import int_range, iso_date
from taghost.build import ARCHES
from taghost.errors import (
    EXIT_BAD_INPUT,
    EXIT_CRASH,
    EXIT_INTERRUPTED,
    EXIT_PIPE_CLOSED,
    UserError,
)

Arg = tuple[tuple[str, ...], dict[str, Any]]
Handler = Callable[[argparse.Namespace], int]  # the parsed options in, an exit code out


def arg(*names: str, **opts: Any) -> Arg:
    """One option or positional, as `ArgumentParser.add_argument(*names, **opts)` takes it."""
    return names, opts


JSON = arg("--json", action="store_true", help="machine-readable output on stdout")
DB = arg(
    "--db",
    default=None,
    help="sqlite:///PATH or postgresql://... (default: $OPENTAG_DB or sqlite:///opentag-server.db)",
)
RUNTIME = arg("--runtime", choices=("cpython", "micropython"), default="cpython")


@dataclass(frozen=True)
class Command:
    help: str
    load: Callable[[], Handler]  # imports the tool, returns its handler
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True)
class Group:
    """A command with subcommands (`opentag zones check ...`)."""

    help: str
    commands: dict[str, Command]
    default: str | None = None  # `opentag sim FILE` means `opentag sim run FILE`


def _zone_args(out: bool) -> tuple[Arg, ...]:
    today = datetime.now(timezone.utc).date()
    args: tuple[Arg, ...] = (
        arg("file"),
        arg("--start", type=iso_date, default=today, help="horizon start (UTC date)"),
        arg(
            "--weeks",
            type=int_range(1, 26),
            default=4,
            help="weeks summarised and checked for clock-change surprises (1-26)",
        ),
        arg(
            "--years",
            type=int_range(1, 50),
            default=20,
            help="years of DST transitions shipped: how long the tag enforces the rules (1-50)",
        ),
    )
    if out:
        args = (*args, arg("--out", required=True, help="blob file to write"))
    return (*args, JSON)


# The tools: a module is imported only when one of its commands runs (these loaders), so
# `opentag --help` loads none of them and a tool whose third-party dependency is missing cannot
# break the others (main() names the package). The table reaches each handler through them.
def _replaycli() -> ModuleType:
    from taghost import replaycli

    return replaycli


def _build() -> ModuleType:
    from taghost import build

    return build


def _vboard() -> ModuleType:
    from taghost import vboard

    return vboard


def _deploy() -> ModuleType:
    from taghost import deploy

    return deploy


def _console() -> ModuleType:
    from taghost import console

    return console


def _pull() -> ModuleType:
    from taghost import pull

    return pull


def _report() -> ModuleType:
    from taghost import report

    return report


def _zonecli() -> ModuleType:
    from taghost import zonecli

    return zonecli


def _beaconcli() -> ModuleType:
    from taghost import beaconcli

    return beaconcli


def _tagsim_cli() -> ModuleType:
    from tagsim import cli

    return cli


def _verify() -> ModuleType:
    from taghost import verify

    return verify


def _evidence() -> ModuleType:
    from taghost import evidence

    return evidence


def _victimclient() -> ModuleType:
    from taghost import victimclient

    return victimclient


def _server_cli() -> ModuleType:
    from taghost.server import cli

    return cli


def _configcli() -> ModuleType:
    from taghost import configcli

    return configcli


def _demo() -> ModuleType:
    from taghost import demo

    return demo


COMMANDS: dict[str, Command | Group] = {
    "demo": Command(
        "the whole path on this machine: simulated wearers upload into a local opentag server "
        "(`make demo`)",
        lambda: _demo().cmd_demo,
        (
            arg("--out", default="out/sim", help="folder for the runs' files (per scenario)"),
            arg("--db-url", default=None, help="a PostgreSQL URL instead of SQLite"),
        ),
    ),
    "replay": Command(
        "replay an NMEA capture or a pulled log through the current core",
        lambda: _replaycli().cmd_replay,
        (
            arg(
                "file",
                nargs="?",
                help="capture file, or a directory from opentag pull "
                "(default: the corpus's quectel-eg25-g.log)",
            ),
            arg(
                "--floor",
                help="date floor YYYY-MM-DD for GPS week rollover correction "
                "(default: inferred from the capture's first date)",
            ),
            arg(
                "--chunk", type=int_range(1, 1 << 20), default=256, help="UART chunk size in bytes"
            ),
            arg("--all", action="store_true", help="print every fix"),
            arg("--zones", help="zone blob: print the alerts the current core raises"),
            arg("--truth", help="reference track (GPX): fix error median/p95 against it"),
            JSON,
        ),
    ),
    "build": Command(
        "compile firmware/ to .mpy with mpy-cross",
        lambda: _build().cmd_build,
        (
            arg("--out", default="build/firmware"),
            arg("--march", default="xtensawin", choices=ARCHES),
            arg("--opt", type=int_range(0, 3), default=3, help="mpy-cross -O level (0 to debug)"),
            arg(
                "--romfs",
                action="store_true",
                help="also the ROMFS image of the packages (OUT/tag.romfs; MicroPython >= 1.25)",
            ),
            JSON,
        ),
    ),
    "vboard": Command(
        "run a virtual board (the MicroPython unix port behind a pty) for mpremote and deploy",
        lambda: _vboard().cmd_vboard,
        (
            arg("--image", default="build/vboard.img", help="its flash: a littlefs image file"),
            arg("--board", default="tbeam_v12_axp2101", help="board profile it emulates"),
            arg("--heap", type=int_range(16 * 1024), help="heap bytes (default: the profile's)"),
            arg(
                "--gnss",
                default="sample",
                help="NMEA capture its GNSS receiver sends from the first boot of main.py: "
                "FILE, 'sample' (the sample walk, taghost.samplelog, the default) or 'none'",
            ),
            arg(
                "--speed",
                type=int_range(1, 1000),
                default=1,
                help="its clock runs N times wall time (sleeps, ticks, the receiver)",
            ),
            JSON,
        ),
    ),
    "deploy": Command(
        "build, copy and provision the firmware on a board; verify by SHA-256; check the boot",
        lambda: _deploy().cmd_deploy,
        (
            arg("--port", required=True, help="serial port (/dev/ttyUSB0, /dev/pts/N)"),
            arg("--board", required=True, help="board profile name (boards/NAME.json) or file"),
            arg(
                "--firmware",
                help="firmware tree (default: $OPENTAG_FIRMWARE, else the checkout's firmware/)",
            ),
            arg("--config", help="compiled tag configuration (opentag config compile)"),
            arg("--zones", help="compiled zone blob (opentag zones compile)"),
            arg("--beacon", help="beacon identifier window (opentag beacon window)"),
            arg("--key", help="the tag's 32-byte MAC key file"),
            arg(
                "--seal-key",
                help="the tag's initial seal key k0, 64 hex digits (opentag server provision)",
            ),
            arg("--seal-key-file", help="a file holding k0 as hex"),
            arg("--server", help="uplink server URL (with --tag)"),
            arg("--tag", help="tag id, 16 hex digits"),
            arg("--wifi", help="SSID:PASSWORD"),
            arg("--march", default="xtensawin", choices=ARCHES),
            arg("--opt", type=int_range(0, 3), default=3),
            arg(
                "--romfs",
                action="store_true",
                help="the packages as a ROMFS image in the board's romfs partition (bytecode "
                "runs in place: far less heap; MicroPython >= 1.25), not .mpy files in /lib",
            ),
            arg("--timeout", type=float, default=30.0, help="seconds to wait for the boot banner"),
            JSON,
        ),
    ),
    "console": Command(
        "the board's serial log, decoded and readable",
        lambda: _console().cmd_console,
        (
            arg("--port", required=True),
            arg("--baud", type=int_range(300, 4000000), default=115200),
            arg("--seconds", type=float, help="stop after this long (default: until Ctrl-C)"),
            arg("--raw", action="store_true", help="print lines as they come, undecoded"),
            JSON,
        ),
    ),
    "pull": Command(
        "copy the log off a tag, verify its CRCs, decode fixes and events",
        lambda: _pull().cmd_pull,
        (
            arg("--port", help="serial port of the tag"),
            arg("--from-dir", help="decode segments already copied (a directory) instead"),
            arg("--out", required=True, help="output directory"),
            JSON,
        ),
    ),
    "report": Command(
        "one self-contained HTML page for a pulled log, a replay's JSON or a GeoJSON export",
        lambda: _report().cmd_report,
        (
            arg("input", help="a directory from opentag pull, replay --json output, or GeoJSON"),
            arg("--out", required=True, help="the HTML file to write"),
            arg("--zones", help="zones GeoJSON to draw (default: zones.geojson beside a pull)"),
            arg("--title"),
        ),
    ),
    "zones": Group(
        "validate and compile GeoJSON zones and curfew schedules",
        {
            "check": Command(
                "validate a GeoJSON zone file and print a summary",
                lambda: _zonecli().cmd_check,
                _zone_args(out=False),
            ),
            "compile": Command(
                "compile a GeoJSON zone file into the tag's zone blob",
                lambda: _zonecli().cmd_compile,
                _zone_args(out=True),
            ),
            "show": Command(
                "decode a compiled zone blob with the tag's own loader",
                lambda: _zonecli().cmd_show,
                (
                    arg("file"),
                    arg("--from", dest="from_", type=iso_date, help="first night shown (UTC date)"),
                    arg("--nights", type=int_range(1, 60), default=7, help="nights shown (1-60)"),
                    JSON,
                ),
            ),
        },
    ),
    "beacon": Group(
        "victim-beacon keys, the tag's identifier windows, battery life",
        {
            "keygen": Command(
                "a new beacon secret (hex, mode 0600)",
                lambda: _beaconcli().cmd_keygen,
                (arg("--out", required=True), arg("--force", action="store_true")),
            ),
            "window": Command(
                "the tag's identifier table for a window",
                lambda: _beaconcli().cmd_window,
                (
                    arg("--secret", required=True, help="the beacon's key file"),
                    arg("--start", required=True, help="ISO 8601 time, UTC unless given"),
                    arg(
                        "--hours",
                        type=int_range(1),
                        default=48,
                        help="hours the table covers (a tag holds 2048 identifiers)",
                    ),
                    arg(
                        "--interval",
                        type=int_range(60, 65535),
                        default=900,
                        help="seconds per identifier (60-65535; the beacon rolls every 900)",
                    ),
                    arg(
                        "--margin",
                        type=int_range(0, 96),
                        default=8,
                        help="extra intervals each side for the beacon's clock drift (0-96)",
                    ),
                    arg("--beacon", type=int_range(0, 15), default=0),
                    arg("--out", required=True),
                    JSON,
                ),
            ),
            "clockkey": Command(
                "the key the victim's phone signs its time with (never the secret)",
                lambda: _beaconcli().cmd_clockkey,
                (arg("--secret", required=True, help="the beacon's key file"), JSON),
            ),
            "show": Command(
                "describe a table or a secret (fingerprint only)",
                lambda: _beaconcli().cmd_show,
                (arg("file"), JSON),
            ),
            "battery": Command(
                "beacon battery life from its board profile",
                lambda: _beaconcli().cmd_battery,
                (
                    arg("--profile", help="beacon profile JSON (default: the ESP32 beacon)"),
                    arg("--adv-ms", type=int_range(1), help="advertising interval, ms"),
                    arg("--sleep", choices=("light", "awake")),
                    JSON,
                ),
            ),
        },
    ),
    "sim": Group(
        "run simulated wear scenarios (docs/simulator.md)",
        {
            "run": Command(
                "run a scenario (default: the commute) and write its report",
                lambda: _tagsim_cli().cmd_run,
                (
                    arg("file", nargs="?", help="scenario TOML (default: the commute)"),
                    arg("--out", help="output directory (default: out/sim/NAME)"),
                    RUNTIME,
                    arg("--seed", type=int_range(0), help="override the scenario's seed"),
                    JSON,
                ),
            ),
            "sweep": Command(
                "run a scenario over several seeds and summarise the spread",
                lambda: _tagsim_cli().cmd_sweep,
                (
                    arg("file", nargs="?"),
                    arg("--seeds", type=int_range(1, 10000), default=10, help="how many seeds"),
                    RUNTIME,
                    JSON,
                ),
            ),
            "list": Command(
                "the scenario library and the board profiles",
                lambda: _tagsim_cli().cmd_list,
                (JSON,),
            ),
        },
        default="run",
    ),
    "verify": Command(
        "verify a tag's sealed log: a pulled folder of segments or a server export "
        "(docs/evidence.md); exit 1 if it is broken",
        lambda: _verify().cmd_verify,
        (
            arg("log", help="folder of store segments (s00000000...), records.json, or a bundle"),
            arg("--tag", required=True, help="tag id, 16 hex digits"),
            arg("--key", help="the tag's initial seal key k0, 64 hex digits"),
            arg("--key-file", help="a file holding k0 as hex"),
            arg("--anchors", help="the server's anchors (JSON; a server export carries its own)"),
            arg("--out", help="write the report here (default: stdout)"),
            JSON,
        ),
    ),
    "evidence": Group(
        "evidence for court (docs/evidence.md)",
        {
            "bundle": Command(
                "one tag's trail, alerts, raw frames and verification report, with a manifest "
                "of SHA-256 hashes, in a folder or a .zip",
                lambda: _evidence().cmd_bundle,
                (
                    arg("--tag", required=True, help="tag id, 16 hex digits"),
                    arg("--from", dest="t_from", help="ISO 8601 time or Unix seconds"),
                    arg("--to", dest="t_to", help="ISO 8601 time or Unix seconds"),
                    arg("--out", required=True, help="a new folder, or a file ending in .zip"),
                    DB,  # one source of three: checked by the handler, one line if not
                    arg("--log", help="instead of --db: a log pulled off the tag (opentag pull)"),
                    arg("--export", help="instead of --db: a server export (records.json, bundle)"),
                    arg("--key", help="with --log/--export: the tag's initial seal key k0 (hex)"),
                    arg("--key-file", help="with --log/--export: a file holding k0 as hex"),
                    arg(
                        "--anchors", help="with --log/--export: the server's anchors (JSON, export)"
                    ),
                ),
            ),
        },
    ),
    "server": Group(
        "the uplink server and its database (docs/server.md)",
        {
            "run": Command(
                "run the HTTP server (the default: `opentag server [--port P]`)",
                lambda: _server_cli().cmd_run,
                (
                    DB,
                    arg("--host", default="127.0.0.1", help="address to listen on (%(default)s)"),
                    arg("--port", type=int_range(0, 65535), default=8080, help="TCP port"),
                    arg(
                        "--grace",
                        type=int_range(0),
                        default=600,
                        help="loss of communication: seconds past due",
                    ),
                    arg(
                        "--workers",
                        type=int_range(1, 64),
                        help="database threads (default: 1 for SQLite, 4 for PostgreSQL)",
                    ),
                ),
            ),
            "provision": Command(
                "register a tag and its MAC key (prints the key)",
                lambda: _server_cli().cmd_provision,
                (
                    arg("tag", help="tag id, 16 hex digits"),
                    arg("--key", help="the 32-byte key as 64 hex digits (default: random)"),
                    arg("--seal-key", help="initial seal key k0, 64 hex digits (default: random)"),
                    arg(
                        "--upload-every", type=int_range(1), default=900, help="upload interval, s"
                    ),
                    arg("--label", default=""),
                    DB,
                ),
            ),
            "tags": Command("each tag's state as JSON", lambda: _server_cli().cmd_tags, (DB,)),
            "push": Command(
                "queue a downlink item for a tag's next acknowledgement",
                lambda: _server_cli().cmd_push,
                (
                    arg("tag"),
                    arg("kind", choices=("beacon", "zones", "config")),
                    arg(
                        "file", help="the item's bytes (a compiled zones blob, a config, a window)"
                    ),
                    arg("--version", type=int_range(1), help="default: one above what is held"),
                    DB,
                ),
            ),
            "locate": Command(
                "ask the tag for its position at its next upload",
                lambda: _server_cli().cmd_locate,
                (arg("tag"), DB),
            ),
            "beacon": Command(
                "keep a victim beacon's identifier windows fresh on a tag",
                lambda: _server_cli().cmd_beacon,
                (
                    arg("tag"),
                    arg("--secret", required=True, help="the beacon's secret (beacon keygen)"),
                    arg("--beacon", type=int_range(0, 255), default=0, help="beacon number"),
                    arg("--hours", type=int_range(1), default=48, help="hours each window covers"),
                    arg("--interval", type=int_range(60, 65535), default=900, help="seconds"),
                    DB,
                ),
            ),
            "victim": Command(
                "add a victim for the server's GNSS proximity rule, linked to one tag "
                "(prints her phone's key)",
                lambda: _server_cli().cmd_victim,
                (
                    arg("action", choices=("add",)),
                    arg("--tag", required=True, help="the tag she is protected from"),
                    arg("--label", default=""),
                    arg("--key", help="her phone's 32-byte key, 64 hex digits (default: random)"),
                    arg(
                        "--alert-m",
                        type=int_range(1, 100_000),
                        default=500,
                        help="alert distance, m (%(default)s: Spain's Cometa)",
                    ),
                    arg(
                        "--prealert-m",
                        type=int_range(1, 200_000),
                        help="pre-alert distance, m (default: twice the alert's, as France's)",
                    ),
                    arg(
                        "--max-age-s",
                        type=int_range(10, 3600),
                        default=300,
                        help="a position and a fix further apart decide nothing (%(default)s s)",
                    ),
                    DB,
                ),
            ),
        },
        default="run",
    ),
    "victim": Group(
        'the victim\'s phone side (docs/server.md, "Victim proximity")',
        {
            "report": Command(
                "post one position to the server as her phone does (the reference client)",
                lambda: _victimclient().cmd_report,
                (
                    arg("--server", required=True, help="the server's URL"),
                    arg("--victim", required=True, type=int_range(1), help="her id"),
                    arg("--key", help="her key, 64 hex digits (opentag server victim add)"),
                    arg("--key-file", help="a file holding her key as hex"),
                    arg("--lat", required=True, type=float, help="degrees"),
                    arg("--lon", required=True, type=float, help="degrees"),
                    arg("--acc-m", required=True, type=float, help="horizontal accuracy, m"),
                    arg("--time", dest="t", type=float, help="Unix seconds (default: now)"),
                    arg("--ctr", type=int_range(0), help="counter (default: Unix ms)"),
                ),
            ),
        },
    ),
    "config": Group(
        "check and compile the tag configuration (docs/app.md)",
        {
            "check": Command(
                "validate a tag configuration (TOML or JSON); refusals name the key",
                lambda: _configcli().cmd_check,
                (arg("file"), JSON),
            ),
            "compile": Command(
                "compile it into the blob the tag loads",
                lambda: _configcli().cmd_compile,
                (
                    arg("file"),
                    arg("-o", "--out", help="output file (default: FILE with .cfg)"),
                    JSON,
                ),
            ),
        },
    ),
}


def _add(sub: Any, name: str, cmd: Command) -> None:
    p = sub.add_parser(name, help=cmd.help, description=cmd.help)
    for names, opts in cmd.args:
        p.add_argument(*names, **opts)
    p.set_defaults(load=cmd.load)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="opentag",
        description="Host tools around the opentag core.",
        epilog="exit codes: 0 ok/green, 1 red (run failed its expectations, file invalid), "
        "2 bad input, 3 crash (a bug), 130 interrupted, 141 stdout closed",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, entry in COMMANDS.items():
        if isinstance(entry, Command):
            _add(sub, name, entry)
            continue
        g = sub.add_parser(name, help=entry.help, description=entry.help)
        gsub = g.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for sname, cmd in entry.commands.items():
            _add(gsub, sname, cmd)
    return p


def _with_default(argv: list[str]) -> list[str]:
    """`opentag sim [FILE] [options]` runs: insert a group's default subcommand."""
    if argv and isinstance(entry := COMMANDS.get(argv[0]), Group) and entry.default:
        rest = argv[1:]
        if not rest or (rest[0] not in entry.commands and rest[0] not in ("-h", "--help")):
            return [argv[0], entry.default, *rest]
    return argv


def handler(load: Callable[[], Handler]) -> Handler:
    """The command's handler, its tool imported now. Raises UserError naming a missing
    third-party package; a missing module of our own is a broken install: it raises as is."""
    try:
        return load()
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in ("tagcore", "taghost", "tagsim"):
            raise  # our own module missing: a broken install or a bug, a crash
        # A third-party dependency of this one tool is missing: the user can install it.
        raise UserError(f"needs the Python package {e.name!r}: pip install {e.name}") from None


def _stdout_closed() -> int:
    # Python flushes stdout again at exit: point it at /dev/null so that flush cannot fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PIPE_CLOSED


def main(argv: list[str] | None = None) -> int:
    argv = _with_default(sys.argv[1:] if argv is None else list(argv))
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2, argparse's message printed)
        return int(e.code or 0)
    name = " ".join(x for x in (args.command, getattr(args, "subcommand", None)) if x)
    try:
        code = int(handler(args.load)(args))
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at exit
        return code
    except UserError as e:
        print(f"opentag {name}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as e:
        if e.filename is None:  # not about a path the user gave: a crash
            return _crash(name)
        print(f"opentag {name}: {e.filename}: {e.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"opentag {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        return _crash(name)


def _crash(name: str) -> int:
    traceback.print_exc()
    print(
        f"opentag {name}: crashed (exit {EXIT_CRASH}): this is a bug, not your input; "
        "please report it with the traceback above",
        file=sys.stderr,
    )
    return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())

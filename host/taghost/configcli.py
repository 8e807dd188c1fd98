"""`opentag config check|compile FILE`: the tag configuration (TOML or JSON) -> the blob the
tag loads at boot (tagcore.app.config: versioned, CRC-checked). Every refusal names the key.

    fix_interval_s = 60          # any key of tagcore.app.config.KEYS, integers in range
    minimise = true              # data-minimising mode (on-off keys take true / false)
    zones_blob = "zones.bin"     # optional: a zone blob from `opentag zones compile`
    beacon_window = "window.bin" # optional: an identifier window from `opentag beacon window`

Exit status: 0 fine, 1 refused (the problems are printed), 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path
from typing import Any

from tagcore.app import config as appconfig

from taghost import tagconfig
from taghost.errors import EXIT_OK, EXIT_RED, UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILE_KEYS = {"zones_blob": appconfig.SEC_ZONES, "beacon_window": appconfig.SEC_BEACON}


class ConfigError(UserError):
    """The input cannot be read at all (exit 2)."""


def read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    try:
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ConfigError(f"{path}: not valid {kind}: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a table of keys")
    return doc


def _section(key: str, value: Any, base: Path) -> tuple[bytes | None, str | None]:
    """(bytes, None) of a blob file the key names, or (None, the problem)."""
    if not isinstance(value, str):
        return None, f"{key}: expected a file name, got {value!r}"
    p = base / value
    try:
        blob = p.read_bytes()
    except OSError as e:
        return None, f"{key}: cannot read {p}: {e.strerror or e}"
    if key == "zones_blob":  # the tag's own loader decides
        from tagcore.zones.monitor import ZoneMonitor

        why = ZoneMonitor(blob).error
        if why is not None:
            return None, f"{key}: the tag refuses {p}: {why}"
    else:
        from tagcore.proximity.idtable import IdTable

        t = IdTable()
        if t.load(blob) == 0:
            return None, f"{key}: the tag refuses {p}: {t.counts or 'no identifiers'}"
    return blob, None


def compile_doc(doc: dict[str, Any], base: Path) -> tuple[bytes | None, list[str]]:
    """(blob, []) or (None, problems naming each key)."""
    values = {k: v for k, v in doc.items() if k not in FILE_KEYS}
    problems = tagconfig.check(values)
    sections: dict[int, bytes] = {}
    for key, kind in FILE_KEYS.items():
        if key in doc:
            blob, why = _section(key, doc[key], base)
            if why is not None:
                problems.append(why)
            elif blob is not None:
                sections[kind] = blob
    if problems:
        return None, problems
    return tagconfig.encode({k: int(v) for k, v in values.items()}, sections), []


def _settings(blob: bytes) -> dict[str, Any]:
    """What the tag will run with, by the tag's own loader: each key's value, and each blob
    section's size in bytes (None: none)."""
    cfg, counts = appconfig.load(blob)
    assert not counts, counts
    out: dict[str, Any] = {k[1]: getattr(cfg, k[1]) for k in appconfig.KEYS}
    for name in ("zones_blob", "beacon_blob"):
        b = getattr(cfg, name)
        out[name] = None if b is None else len(b)
    return out


def _describe(settings: dict[str, Any]) -> list[str]:
    out = []
    for name, v in settings.items():
        if name in ("zones_blob", "beacon_blob"):
            v = "-" if v is None else f"{v} bytes"
        out.append(f"  {name:20} {v}")
    return out


def _run(args: argparse.Namespace, write: bool) -> int:
    path = Path(args.file)
    doc = read(path)
    blob, problems = compile_doc(doc, path.parent)
    if blob is None:
        for p in problems:
            print(f"{path}: {p}", file=sys.stderr)
        if args.json:
            print(json.dumps({"file": str(path), "valid": False, "problems": problems}, indent=1))
        return EXIT_RED
    warnings = tagconfig.warnings({k: v for k, v in doc.items() if k not in FILE_KEYS})
    for w in warnings:
        print(f"{path}: warning: {w}", file=sys.stderr)
    crc = zlib.crc32(blob[:-4]) & 0xFFFFFFFF
    out = None
    if write:
        out = Path(args.out) if args.out else path.with_suffix(".cfg")
        try:
            out.write_bytes(blob)
        except OSError as e:
            raise ConfigError(f"{out}: cannot be written ({e.strerror or e})") from None
    settings = _settings(blob)
    if args.json:
        doc_out = {
            "file": str(path),
            "valid": True,
            "problems": [],
            "warnings": warnings,
            "out": None if out is None else str(out),
            "bytes": len(blob),
            "version": appconfig.VERSION,
            "crc": f"{crc:08x}",
            "settings": settings,
        }
        print(json.dumps(doc_out, indent=1))
        return EXIT_OK
    if out is not None:
        print(f"{out}: {len(blob)} bytes, version {appconfig.VERSION}, CRC {crc:08x}")
    else:
        print(f"{path}: ok ({len(blob)} bytes compiled, CRC {crc:08x}); the tag will run with:")
    print("\n".join(_describe(settings)))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """`opentag config check FILE`: 0 valid, 1 refused (each refusal names the key).
    `--json`: `{"file", "valid", "problems", "warnings", "out": null, "bytes", "version",
    "crc", "settings"}` (a refusal: `{"file", "valid": false, "problems"}`). Raises
    ConfigError (a UserError, exit 2) for a file that cannot be read."""
    return _run(args, write=False)


def cmd_compile(args: argparse.Namespace) -> int:
    """`opentag config compile FILE [-o OUT]`: write the blob the tag loads; `--json` as
    check's, with `out` the file written."""
    return _run(args, write=True)


def main(argv: list[str]) -> int:
    """`opentag config ARGS`; the options are wired in `taghost.cli.COMMANDS`."""
    from taghost import cli

    return cli.main(["config", *argv])

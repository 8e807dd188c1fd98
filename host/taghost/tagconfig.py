"""The host's side of the tag configuration (tagcore.app.config): check a {key: value} table
(each problem names the key) and encode it, with its sections, into the blob the tag loads."""

from __future__ import annotations

import binascii
import struct
from typing import Any

from tagcore.app.config import KEYS, MAGIC, VERSION


def key(name: str) -> tuple[int, str, int, int, int] | None:
    """The (id, name, default, min, max) entry of a key name, or None."""
    for k in KEYS:
        if k[1] == name:
            return k
    return None


def check(values: dict[str, Any]) -> list[str]:
    """Problems with a {name: value} table, each naming the key (empty: fine)."""
    out = []
    for name, v in values.items():
        k = key(name)
        if k is None:
            known = ", ".join(e[1] for e in KEYS)
            out.append(f"{name}: unknown key (expected one of: {known})")
        elif isinstance(v, bool) and k[3] == 0 and k[4] == 1:
            continue  # true / false for an on-off key
        elif type(v) is not int:
            out.append(f"{name}: expected an integer, got {v!r}")
        elif not k[3] <= v <= k[4]:
            out.append(f"{name}: {v} is out of range [{k[3]}, {k[4]}]")
    return out


# The still-wearer rate (key 14, model plan) delays an attack's detection by up to its interval:
# the integrity rules need a search to see one. bench_integrity at 90 keeps every foil and
# spoofer episode within 2 minutes; at 120 and 150 some take longer (docs/integrity.md).
STILL_2MIN_S = 90


def warnings(values: dict[str, Any]) -> list[str]:
    """Valid values that break a promise (detection of an attack within 2 minutes)."""
    plan = values.get("gnss_plan", 0)
    still = values.get("still_fix_s", 90)
    if plan == 1 and type(still) is int and still > STILL_2MIN_S:
        return [
            f"still_fix_s: {still} s with gnss_plan 1: a still wearer's foil or spoofer may "
            f"not be detected within 2 minutes (it holds up to {STILL_2MIN_S} s)"
        ]
    return []


def encode(values: dict[str, Any], sections: dict[int, bytes] | None = None) -> bytes:
    """The blob for a checked {name: int} table and {kind: bytes} sections. Raises ValueError
    naming the key if the table does not pass check()."""
    bad = check(values)
    if bad:
        raise ValueError("; ".join(bad))
    out = bytearray(MAGIC)
    out.append(VERSION)
    out.append(len(values))
    for k in KEYS:
        if k[1] in values:
            out += struct.pack("<Bi", k[0], int(values[k[1]]))
    secs = sections or {}
    out.append(len(secs))
    for kind in sorted(secs):
        out += struct.pack("<BI", kind, len(secs[kind]))
        out += secs[kind]
    out += struct.pack("<I", binascii.crc32(out) & 0xFFFFFFFF)
    return bytes(out)


def values(cfg: object) -> dict[str, int]:
    """{key name: value} of a configuration (a tagcore.app.config.Settings)."""
    out = {}
    for k in KEYS:
        out[k[1]] = getattr(cfg, k[1])
    return out

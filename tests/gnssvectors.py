"""The known-good command vectors of ../shared/reference/gnss-commands.txt, by label."""

from __future__ import annotations

from micropython_runner import SHARED

VECTORS_FILE = SHARED / "reference" / "gnss-commands.txt"


def ubx_vectors() -> dict[str, bytes]:
    out = {}
    for line in VECTORS_FILE.read_text().splitlines():
        k = line.find(" B5 62 ")
        if k > 0:
            out[line[:k].strip()] = bytes.fromhex(line[k:])
    return out


def text_vectors() -> set[bytes]:
    return {
        ln.strip().encode() for ln in VECTORS_FILE.read_text().splitlines() if ln.startswith("$")
    }


def ubx(label_start: str) -> bytes:
    """The one vector whose label starts with label_start."""
    hits = [v for k, v in ubx_vectors().items() if k.startswith(label_start)]
    assert len(hits) == 1, (label_start, len(hits))
    return hits[0]

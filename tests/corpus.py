"""The gpsd NMEA captures in ../shared/corpus/gpsd, as the tests use them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

CORPUS = Path(os.environ.get("OPENTAG_CORPUS", Path(__file__).parent.parent.parent / "shared"))
if CORPUS.name != "gpsd":
    CORPUS = CORPUS / "corpus" / "gpsd"


def capture_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.log"))
    if not files:
        raise RuntimeError(f"no gpsd captures in {CORPUS}: ../shared must sit beside the repo")
    return files


def sentences() -> Iterator[tuple[str, bytes]]:
    """(file name, sentence without its line end) for every '$' line of every capture."""
    for path in capture_files():
        for raw in path.read_bytes().split(b"\n"):
            line = raw.rstrip(b"\r")
            if line.startswith(b"$"):
                yield path.name, line

"""Read a data file (JSON, TOML) with errors that name the file and what it should have been."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def read(
    path: Path,
    loads: Callable[[str], Any],
    decode_error: type[Exception],
    fail: Callable[[str], Exception],
    what: str,
    fmt: str,
) -> Any:
    try:
        return loads(path.read_text())
    except FileNotFoundError:
        raise fail(f"no such {what} {path}") from None
    except decode_error as e:
        raise fail(f"{path} is not valid {fmt}: {e}") from None

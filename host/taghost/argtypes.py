"""Option value types for the `opentag` command table: each refuses a bad value with a message
argparse prints as a usage error (exit 2), before any handler runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date


def int_range(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An integer in [lo, hi] (no upper bound when hi is None)."""

    def conv(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            want = f"at least {lo}" if hi is None else f"from {lo} to {hi}"
            raise argparse.ArgumentTypeError(f"{v} is out of range: want {want}")
        return v

    conv.__name__ = "integer"  # what argparse calls the type in its messages
    return conv


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None

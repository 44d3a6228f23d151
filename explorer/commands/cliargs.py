"""Argument types and JSON output shared by the CLI and every ``explorer.commands`` module.

``positive_int`` / ``int_in_range(low, high)`` / ``non_negative_int`` and ``out_file`` are
argparse types: a wrong value is reported by the parser as one line (exit 2) before any
work starts. ``dumps_json`` writes strict JSON (NaN and infinities become null).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["dumps_json", "escape_controls", "float_in_range", "for_terminal", "int_in_range", "non_negative_int",
           "out_file", "positive_int"]


def int_in_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int in [low, high] (high None: no upper bound)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            what = f"at least {low}" if high is None else f"between {low} and {high:,}"
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value
    parse.__name__ = "int"
    return parse


def float_in_range(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high]."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low <= value <= high:          # also refuses nan
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value
    parse.__name__ = "float"
    return parse


positive_int = int_in_range(1)
non_negative_int = int_in_range(0)


def out_file(text: str) -> Path:
    """An argparse type for ``--out FILE``: the folder exists, is a folder, takes a new file
    (tried with a temporary file, which is removed), and FILE is not a folder itself. An
    existing FILE is replaced (atomically, by a rename in that folder) whatever its mode."""
    path = Path(text).expanduser()
    folder = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name inside it")
    if not folder.exists():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{folder} is a file, not a folder, so {path} "
                                         "cannot be written")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write to the folder {folder} "
                                         f"({exc.strerror or exc})") from None
    return path


_KEEP = {"\n", "\t"}


def escape_controls(text: str) -> str:
    """Control characters (C0 but newline and tab, DEL, C1) as visible escapes: ``\x1b[2J``
    is shown, not obeyed by the terminal."""
    if all(" " <= c < "\x7f" or c in _KEEP or c > "\x9f" for c in text):
        return text
    return "".join(c if (" " <= c < "\x7f" or c in _KEEP or c > "\x9f") else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else c) for c in text)


def for_terminal(stream: Any) -> Callable[[str], str]:
    """``escape_controls`` when ``stream`` is a terminal; text unchanged for files and pipes."""
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return escape_controls if tty else (lambda text: text)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):       # numpy scalar
        return _finite(value.item())
    return value


def dumps_json(value: Any, indent: int | None = 2) -> str:
    """JSON text that every parser accepts: NaN and infinities become null."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)

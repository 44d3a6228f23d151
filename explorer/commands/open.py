"""``cnn-rnn-explorer open SESSION_FILE``: the window with that session (a ``.cre`` file).

The file is read and checked first, without Qt: a damaged or foreign file prints one line
and exits 2 before any window appears.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

COMMAND = "open"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(COMMAND, help="open the window with a saved session (.cre)")
    p.add_argument("file", type=Path, metavar="SESSION_FILE")


def run(args: argparse.Namespace) -> int:
    from explorer.session.lessonfile import read_lesson
    read_lesson(args.file)                 # LessonFileError -> one line, exit 2 (cli.py)
    from explorer.ui.shell import launch
    return launch.open_window(session=args.file)

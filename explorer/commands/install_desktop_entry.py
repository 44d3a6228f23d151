"""``cnn-rnn-explorer install-desktop-entry`` (also ``python -m explorer --install-desktop-entry``):
a freedesktop ``.desktop`` launcher so the app appears in the Linux application menu.

Writes ``$XDG_DATA_HOME/applications/cnn-rnn-explorer.desktop`` (default
``~/.local/share``) and copies the SVG icon to ``$XDG_DATA_HOME/icons/hicolor/scalable/apps``;
both atomically. ``Exec`` runs this Python with ``-m explorer`` so it works from a venv.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

COMMAND = "install-desktop-entry"
APP_ID = "cnn-rnn-explorer"


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local" / "share"


def desktop_entry(python: str, icon: str) -> str:
    exe = python if " " not in python else f'"{python}"'
    return "\n".join([
        "[Desktop Entry]", "Type=Application", "Version=1.0", "Name=CNN & RNN Explorer",
        "GenericName=Neural network explorer",
        "Comment=See, live, what a convolutional and a recurrent network compute",
        f"Exec={exe} -m explorer %f", f"Icon={icon}", "Terminal=false",
        "Categories=Education;Science;ArtificialIntelligence;",
        "Keywords=neural network;CNN;RNN;LSTM;MNIST;", "MimeType=application/x-cnn-rnn-explorer-session;",
        "StartupWMClass=cnn-rnn-explorer", ""])


def install(base: Path | None = None) -> tuple[Path, Path]:
    """Write the launcher and the icon under ``base`` (default: XDG data home); their paths."""
    from explorer.atomic import atomic_write_bytes, atomic_write_text
    from explorer.paths import resources_dir
    base = base or data_home()
    apps, icons = base / "applications", base / "icons" / "hicolor" / "scalable" / "apps"
    apps.mkdir(parents=True, exist_ok=True)
    icons.mkdir(parents=True, exist_ok=True)
    icon = atomic_write_bytes(icons / f"{APP_ID}.svg", (resources_dir() / "icons" / f"{APP_ID}.svg").read_bytes())
    entry = atomic_write_text(apps / f"{APP_ID}.desktop", desktop_entry(sys.executable, APP_ID))
    return entry, icon


def add_parser(subparsers: Any) -> None:
    subparsers.add_parser(COMMAND, help="add the app to the Linux application menu (a freedesktop .desktop file)")


def run(args: argparse.Namespace) -> int:
    entry, icon = install()
    print(f"wrote {entry}\nwrote {icon}")
    return 0

"""``python -m explorer [SESSION.cre]``: open the window (with a saved session, if given).

The window is built and run by explorer.ui.shell.launch; SIGTERM and SIGINT (Ctrl+C) save
everything and exit with status 0.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(session: str | Path | None = None) -> int:
    if "--install-desktop-entry" in sys.argv[1:]:      # a launcher in the Linux application menu
        from explorer.commands.install_desktop_entry import install
        print("\n".join(f"wrote {p}" for p in install()))
        return 0
    from explorer.runtime import configure_process

    configure_process()                           # before numpy and Qt are imported
    from explorer.ui.shell.launch import open_window

    if session is None:                           # `python -m explorer lesson.cre`
        session = next((a for a in sys.argv[1:] if a.lower().endswith(".cre")), None)
    return open_window(session)


if __name__ == "__main__":
    sys.exit(main())

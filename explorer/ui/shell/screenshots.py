"""The README's window screenshots: every tab of the whole window at a laptop's sizes.

``python -m explorer.ui.shell.screenshots [OUT_DIR] [--sizes 1024x640,1280x720] [--tabs digits]
[--suffix @2x]`` writes ``<tab>_<W>x<H><suffix>.png`` for each tab (lower-case title) with
the shipped models, a '7' drawn and a fresh configuration (default layout). For the sharp
2× pictures run it with ``QT_SCALE_FACTOR=2`` and ``--suffix @2x``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def save_tabs(out_dir: str | Path, sizes: list[tuple[int, int]], tabs: list[str] | None = None,
              suffix: str = "") -> list[Path]:
    """Render each tab (or only ``tabs``) of a fresh window at each size; the PNG paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets

    from explorer.ui.digit.demo import seven
    from explorer.ui.shell.draw_bench import send_mouse
    from explorer.ui.shell.window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="explorer-shots-") as cfg:
        settings = QtCore.QSettings(str(Path(cfg) / "s.ini"), QtCore.QSettings.Format.IniFormat)
        win = MainWindow(settings)
        win.show()
        app.processEvents()
        canvas, left = win.digit_lab.canvas, QtCore.Qt.MouseButton.LeftButton
        none, ev = QtCore.Qt.MouseButton.NoButton, QtCore.QEvent.Type
        pts = seven()
        send_mouse(canvas, ev.MouseButtonPress, pts[0], left, left)
        for x, y in pts[1:]:
            send_mouse(canvas, ev.MouseMove, (x, y), none, left)
        send_mouse(canvas, ev.MouseButtonRelease, pts[-1], left, none)
        win.digit_lab.probabilities()
        for w, h in sizes:
            win.setMinimumSize(0, 0)          # the offscreen screen is small: take the size asked
            win.resize(w, h)
            for i in range(win.tabs.count()):
                name = win.tabs.tabText(i).replace("&", "").lower()
                if tabs and name not in tabs:
                    continue
                win.tabs.setCurrentIndex(i)
                for _ in range(6):
                    app.processEvents()
                path = out / f"{name}_{w}x{h}{suffix}.png"
                win.grab().save(str(path))
                saved.append(path)
        win.shutdown()
        win.close()
        win.deleteLater()
        app.processEvents()
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m explorer.ui.shell.screenshots", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", default="docs/screenshots")
    ap.add_argument("--sizes", default="1024x640,1280x720", help="comma-separated WxH")
    ap.add_argument("--tabs", default="", help="comma-separated tab names (default: all)")
    ap.add_argument("--suffix", default="", help="added to each file name, e.g. @2x")
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",") if s]
    for path in save_tabs(args.out_dir, sizes, [t for t in args.tabs.split(",") if t], args.suffix):  # type: ignore[arg-type]  # each is one WxH pair (a length mypy cannot see)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

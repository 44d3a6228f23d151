"""Nothing the user made is thrown away: before a session, an image or Clear replaces the
user's own work, a copy of the whole view is kept beside the autosave and listed in
*File → Recover* (besides undo, where the lab has one).

What counts as the user's own work (``own_work``): a drawing or a text that is not empty,
not a preset, and not what was last opened or saved as a session (that is on disk already).

The question (``confirm``) is asked only on the user's own actions (the menus): it calls
``window.confirm_replace(question) -> bool``, a plain attribute tests replace. Programmatic
calls (``window.open_session(path)``, ``lab.clear()``) never ask — they keep the copy and go on.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from PySide6 import QtWidgets

FOLDER = "recovered"
MAX_KEPT = 12              # the oldest copies beyond this are deleted


def folder(window: Any) -> Path:
    """Where the copies are kept: beside the autosaved drawing and text."""
    return Path(window.drawing_path()).parent / FOLDER


def mark_saved(window: Any) -> None:
    """What the window shows now is in a session file: replacing it loses nothing."""
    seq = window.sequence_lab
    window.saved_view = (window.digit_lab.session.committed, seq.editor.toPlainText() if seq is not None else "")


def own_work(window: Any) -> list[str]:
    """What would be lost if the view were replaced now: "your drawing", "your text" (or [])."""
    from explorer.ui.sequence.presets import PRESETS
    drawing, text = getattr(window, "saved_view", (None, None))
    lost = []
    state = window.digit_lab.session.committed
    if not state.is_empty and state is not drawing:
        lost.append("your drawing")
    seq = window.sequence_lab
    current = seq.editor.toPlainText() if seq is not None else ""
    if current.strip() and current != text and all(current != p[0] for p in PRESETS.values()):
        lost.append("your text")
    return lost


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "work"


def keep_copy(window: Any, reason: str) -> Path | None:
    """Write the whole view to ``recovered/<time>-<reason>.cre`` if it holds the user's own
    work; -> the path, or None (nothing to keep, or it could not be written: the status bar
    says so and undo remains)."""
    if not own_work(window):
        return None
    from explorer.errors import ExplorerError
    from explorer.session.lessonfile import SUFFIX, write_lesson
    from explorer.ui.shell.view_state import capture
    where = folder(window)
    path = where / f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(reason)}{SUFFIX}"
    n = 1
    while path.exists():
        path = path.with_name(f"{path.stem}-{n}{SUFFIX}")
        n += 1
    try:
        where.mkdir(parents=True, exist_ok=True)
        write_lesson(path, capture(window))
    except (ExplorerError, OSError) as exc:
        window.statusBar().showMessage(f"could not keep a copy of your work before {reason} ({exc}); "
                                       "Ctrl+Z still brings it back", 10000)
        return None
    for old in kept(window)[MAX_KEPT:]:
        old.unlink(missing_ok=True)
    return path


def kept(window: Any) -> list[Path]:
    """The kept copies, newest first."""
    from explorer.session.lessonfile import SUFFIX
    try:
        return sorted(folder(window).glob(f"*{SUFFIX}"), key=lambda p: p.name, reverse=True)
    except OSError:
        return []


def describe(path: Path) -> str:
    """'20261206-231500-before-opening-x.cre' -> '23:15:00 6 Dec — before opening x'."""
    m = re.match(r"(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)-(.*?)(-\d+)?$", path.stem)
    if not m:
        return path.name
    y, mo, d, hh, mm, ss, what, _ = m.groups()
    month = time.strftime("%b", time.strptime(mo, "%m"))
    return f"{hh}:{mm}:{ss} {int(d)} {month} — {what.replace('-', ' ')}"


def confirm(window: Any, action: str) -> bool:
    """Before ``action`` ("opening x.cre") replaces the user's own work: ask (True: go on)."""
    lost = own_work(window)
    if not lost:
        return True
    question = (f"The window holds {' and '.join(lost)}. Go on {action} anyway?\n\n"
                "A copy of your work is kept in File → Recover (and Ctrl+Z undoes the change).")
    return bool(window.confirm_replace(question))


def ask_dialog(window: Any, question: str) -> bool:
    """The default ``window.confirm_replace``: Replace / Keep mine (cancel). Blocks: menus only."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Replace your work?", question,
                                QtWidgets.QMessageBox.StandardButton.NoButton, window)
    go = box.addButton("Replace (keep a copy)", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    mine = box.addButton("Keep mine", QtWidgets.QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(mine)
    box.exec()
    return box.clickedButton() is go


def add_menu(window: Any, menu: QtWidgets.QMenu) -> QtWidgets.QMenu:
    """File → Recover ▸ one entry per kept copy (opening one keeps a copy of the current view)."""
    sub = menu.addMenu("Re&cover")
    sub.setToolTip("Work replaced by opening a session or an image, or by Clear, newest first")

    def fill() -> None:
        sub.clear()
        items = kept(window)
        for p in items:
            sub.addAction(describe(p)).triggered.connect(
                lambda _=False, p=p: window.open_session(p, ask=True))
        if items:
            sub.addSeparator()
        sub.addAction(f"Kept in {folder(window)}").setEnabled(False)
    sub.aboutToShow.connect(fill)
    window.recover_menu = sub
    return sub

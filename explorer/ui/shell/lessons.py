"""Lessons: the whole view of the window to and from one session file (``.cre``).

``save_session(window, path) -> Path`` captures the view (explorer.ui.shell.view_state) and
writes it with ``explorer.session.lessonfile`` (atomic; the schema refuses what could not be
opened). ``open_session(window, path, ask=False) -> bool`` reads and checks the whole file and
prepares every object *before* touching the window, so a damaged, truncated, hostile or
foreign file is refused with a message and changes nothing; no exception escapes.

Replacing the user's own work (explorer.ui.shell.recover): a copy of the view is kept first
(File → Recover) and the drawing and the text change as one undoable step each. With
``ask=True`` (the menus) the user is asked first; ``window.open_session(path)`` (tests,
automation) never asks. A text longer than a paste streams into the editor in pieces.

``add_menu_items(window, menu)`` adds File → Save session…, Open session…, Recent sessions
and Recover.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from explorer.errors import ExplorerError
from explorer.session.lessonfile import SUFFIX, LessonFileError, read_lesson, write_lesson
from explorer.ui.shell import recover
from explorer.ui.shell.dialogs import act
from explorer.ui.shell.view_state import apply, capture, prepare

RECENT_KEY = "lessons/recent"
MAX_RECENT = 8
FILTER = f"Explorer sessions (*{SUFFIX});;All files (*)"


def save_session(window: Any, path: str | Path) -> Path:
    """Write the window's view to ``path`` (``.cre`` added when there is no suffix)."""
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(SUFFIX)
    written = write_lesson(path, capture(window))
    remember(window.settings, written)
    recover.mark_saved(window)
    return written


def open_session(window: Any, path: str | Path, ask: bool = False) -> bool:
    """Restore the view saved in ``path``; -> True when shown. A bad file: a message
    (``window.last_session_error``), the window unchanged, False. The user's own work is
    kept in File → Recover first; with ``ask`` the user may keep it instead (False)."""
    window.last_session_error = None
    name = Path(path).name
    try:
        lesson = read_lesson(path)
        with tempfile.TemporaryDirectory(prefix="cre-") as tmp:
            prepared = prepare(lesson, Path(tmp))
    except LessonFileError as exc:
        msg = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
        report(window, "Could not open the session", msg)
        return False
    except (OSError, MemoryError, RecursionError, ExplorerError, ValueError) as exc:
        report(window, "Could not open the session", f"{path}: {type(exc).__name__}: {exc}")
        return False
    if ask and not recover.confirm(window, f"opening {name}"):
        window.statusBar().showMessage(f"kept your work; {name} was not opened", 6000)
        return False
    lost = recover.own_work(window)
    kept = recover.keep_copy(window, f"before opening {name}") if lost else None
    try:
        apply(window, prepared)
    except Exception as exc:  # noqa: BLE001 - checked already; whatever slipped through: say so, undo
        why = f"{path}: could not be shown ({type(exc).__name__}: {exc})"
        if kept is not None:
            why += f"; your work is kept in File → Recover ({kept.name})"
        report(window, "Could not open the session", why)
        return False
    recover.mark_saved(window)
    remember(window.settings, Path(path))
    note = (" — your previous work is in File → Recover" if kept is not None
            else " — no copy of your work could be kept; Ctrl+Z brings it back" if lost else "")
    window.statusBar().showMessage(f"opened session {name}{note}", 8000)
    return True


def report(window: Any, title: str, text: str) -> None:
    """Status bar + a window-modal, non-blocking message box (never hangs a test)."""
    window.last_session_error = text
    window.statusBar().showMessage(text, 10000)
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                QtWidgets.QMessageBox.StandardButton.Ok, window)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


# -- recent files and menu ----------------------------------------------------------------
def recent(settings: QtCore.QSettings) -> list[str]:
    value = settings.value(RECENT_KEY, [])
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []
    return [str(v) for v in items if v]


def remember(settings: QtCore.QSettings, path: Path) -> None:
    p = str(Path(path).resolve())
    settings.setValue(RECENT_KEY, ([p] + [r for r in recent(settings) if r != p])[:MAX_RECENT])


def add_menu_items(window: Any, menu: QtWidgets.QMenu) -> None:
    """File → Save session…, Open session…, Recent sessions ▸ (after whatever is there)."""
    def ask_save() -> None:
        if p := window.ask_path(True, "Save session", FILTER, f"lesson{SUFFIX}"):
            try:
                written = window.save_session(p)
            except (ExplorerError, OSError) as exc:
                report(window, "Could not save the session", str(exc))
                return
            window.statusBar().showMessage(f"saved session {written}", 6000)

    def ask_open() -> None:
        if p := window.ask_path(False, "Open session", FILTER):
            window.open_session(p, ask=True)

    def fill() -> None:
        window.recent_menu.clear()
        items = recent(window.settings)
        for p in items:
            window.recent_menu.addAction(Path(p).name).triggered.connect(lambda _=False, p=p: window.open_session(p, ask=True))
        if not items:
            window.recent_menu.addAction("(none yet)").setEnabled(False)

    window.save_session_action = act(menu, "Save sess&ion…", ask_save, "Ctrl+Alt+S")
    window.open_session_action = act(menu, "Open sessio&n…", ask_open, "Ctrl+Alt+O")
    window.recent_menu = menu.addMenu("&Recent sessions")
    window.recent_menu.aboutToShow.connect(fill)
    recover.add_menu(window, menu)
    for action in (window.save_session_action, window.open_session_action):
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
    window.save_session_action.setToolTip("Save the drawing, the text, the models and every selection in one .cre file")

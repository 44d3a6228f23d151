"""Autosave: everything the user makes is on disk within about a second of changing.

``Autosaver`` keeps named items, each with its own single-shot timer (``DELAY_MS``). A
change signal marks an item dirty and starts its timer; for the user's work later changes
do not push it back, so a long stroke or steady typing is still saved every ``DELAY_MS``.
When it fires, the item takes a *snapshot* on the GUI thread (cheap: an immutable drawing
state, the editor's text) and returns a ``write()`` that runs on one background writer
thread (anything that could stall: compressing strokes, encoding and fsync'ing a text).
Files go through ``explorer.atomic``, so ``kill -9`` leaves either the previous or the new
file and loses at most the last second.

Settings are the exception: QSettings belongs to the GUI thread and its sync fsyncs
(~20 ms measured here), so the settings item is *trailing* — written once, ``DELAY_MS``
after the last change (a splitter drag or a window resize costs one sync, when it ends).

``install_autosave(window)`` wires the main window: the drawing, the Sequence Lab text and
its cursor (``sequence_cursor.json`` beside the text), and every setting (tab, splitters,
combo boxes, spin boxes, checkable actions, window geometry). The Train lab's weights are
written by its worker thread (explorer.ui.train.worker).

Work that is not being kept is never silent (``KeepWatch``): a read-only or missing config
folder is said once at start (status bar and stderr), a red marker stays in the status bar
while anything fails to be written (read-only, disk full), and at exit stderr says what was
not saved. Nothing is written that could not be read back: a text over the session limit
(``schema.MAX_TEXT_CHARS``) is refused by the writer, with the marker up.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

DELAY_MS = 600

Write = Callable[[], object]


class BackgroundWriter:
    """One daemon thread running writes in order; a newer write of a name replaces a pending one."""

    def __init__(self, on_done: Callable[[str, BaseException | None], None]) -> None:
        self._on_done = on_done
        self._cv = threading.Condition()
        self._pending: dict[str, Write] = {}
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="autosave-writer", daemon=True)
        self._thread.start()

    def submit(self, name: str, write: Write) -> None:
        with self._cv:
            self._pending.pop(name, None)
            self._pending[name] = write
            self._cv.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted write has run; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: bool(self._pending))
                name = next(iter(self._pending))
                write = self._pending.pop(name)
                self._busy = True
            error: BaseException | None = None
            try:
                write()
            except Exception as exc:  # noqa: BLE001 - reported in the status bar
                error = exc
            with self._cv:
                self._busy = False
                self._cv.notify_all()
            try:
                self._on_done(name, error)
            except RuntimeError:            # the window (and its Autosaver) is gone already
                pass


@dataclass
class _Item:
    snapshot: Callable[[bool], Write | None]   # (force) on the GUI thread; None: nothing to write
    background: bool
    trailing: bool
    timer: QtCore.QTimer


class Autosaver(QtCore.QObject):
    """See the module doc. ``saved(name)`` / ``failed(name, message)`` arrive on the GUI thread."""

    keeping: KeepWatch                           # set by install_autosave

    saved = QtCore.Signal(str)
    failed = QtCore.Signal(str, str)
    _done = QtCore.Signal(str, str, bool)       # from the writer thread (queued)

    def __init__(self, parent: QtCore.QObject | None = None, delay_ms: int = DELAY_MS) -> None:
        super().__init__(parent)
        self._items: dict[str, _Item] = {}
        self.delay_ms = delay_ms
        self._done.connect(self._on_done)
        self.writer = BackgroundWriter(lambda n, e: self._done.emit(n, "" if e is None else str(e),
                                                                    e is None))
        self.writes = 0                          # completed writes (tests wait on it)

    def add(self, name: str, snapshot: Callable[[bool], Write | None], background: bool = True,
            trailing: bool = False) -> None:
        timer = QtCore.QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(self.delay_ms)
        timer.timeout.connect(lambda: self.save(name))
        self._items[name] = _Item(snapshot, background, trailing, timer)

    def mark_dirty(self, name: str) -> None:
        timer = self._items[name].timer
        if self._items[name].trailing or not timer.isActive():
            timer.start()

    def pending(self) -> list[str]:
        """Items changed but not yet handed to the writer."""
        return [n for n, item in self._items.items() if item.timer.isActive()]

    def save(self, name: str) -> None:
        """Snapshot ``name`` now; a background write goes to the writer thread."""
        item = self._items[name]
        item.timer.stop()
        self._save(name, item, item.background, force=False)

    def save_all(self, timeout: float = 0.5) -> None:
        """Quit / close: wait for pending writes, then write every item on this thread."""
        for item in self._items.values():
            item.timer.stop()
        self.writer.drain(timeout)
        for name, item in self._items.items():
            self._save(name, item, background=False, force=True)

    def _save(self, name: str, item: _Item, background: bool, force: bool) -> None:
        try:
            write = item.snapshot(force)
            if write is None:
                return
            if background:
                self.writer.submit(name, write)
                return
            write()
        except Exception as exc:  # noqa: BLE001 - disk full, read-only folder, ...
            self._on_done(name, str(exc), False)
            return
        self._on_done(name, "", True)

    def _on_done(self, name: str, message: str, ok: bool) -> None:
        if ok:
            self.writes += 1
            self.saved.emit(name)
        else:
            self.failed.emit(name, message)


# -- wiring the main window ------------------------------------------------------------------
def _drawing_item(window: Any) -> Callable[[bool], Write | None]:
    from explorer.session.drawing import save_drawing
    last: list[object] = [None]

    def snapshot(force: bool) -> Write | None:
        session = window.digit_lab.session
        key = (id(session), session.version)
        if key == last[0] and not force:
            return None
        last[0] = key
        state, path = session.state, Path(window.drawing_path())   # immutable: safe to hand over

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_drawing(state, path)
        return write
    return snapshot


def _text_item(window: Any) -> Callable[[bool], Write | None]:
    from explorer.atomic import atomic_write_text

    def snapshot(force: bool) -> Write | None:
        if window.sequence_lab is None:
            return None
        text, path = window.sequence_lab.editor.toPlainText(), Path(window.text_path())

        def write() -> None:
            from explorer.session.schema import MAX_TEXT_CHARS
            if len(text) > MAX_TEXT_CHARS:          # what restore (and a session) would refuse
                raise ValueError(f"the text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are kept")
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        return write
    return snapshot


CURSOR_FILE = "sequence_cursor.json"


def _cursor_item(window: Any) -> Callable[[bool], Write | None]:
    from explorer.atomic import atomic_write_text

    def snapshot(force: bool) -> Write | None:
        if window.sequence_lab is None:
            return None
        editor = window.sequence_lab.editor
        cursor = editor.textCursor()
        record = {"position": cursor.position(), "anchor": cursor.anchor(),
                  "length": editor.document().characterCount() - 1}
        path = Path(window.text_path()).with_name(CURSOR_FILE)
        return lambda: atomic_write_text(path, json.dumps(record))
    return snapshot


def save_settings(window: Any) -> None:
    """Every lab's settings (through the Lab protocol) and the window layout into QSettings
    (GUI thread), synced once."""
    seq = window.sequence_lab
    if seq is not None:                     # the selected unit: a selection worth keeping
        window.settings.setValue("sequence/unit", -1 if seq.unit is None else int(seq.unit))
        window.settings.setValue("sequence/unit_state", getattr(seq, "unit_state", "h"))
    window.save_ui(sync=True)
    if window.settings.status() != QtCore.QSettings.Status.NoError:     # sync does not raise
        raise OSError(f"{window.settings.fileName()} cannot be written")


class _LayoutWatcher(QtCore.QObject):
    """Resize / move of the window marks the settings dirty."""

    def __init__(self, saver: Autosaver) -> None:
        super().__init__(saver)
        self._saver = saver

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if ev.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Move):
            self._saver.mark_dirty("settings")
        return False


def watch_settings(root: QtWidgets.QWidget, mark: Callable[[], None]) -> int:
    """Connect the change signal of every setting-like widget under ``root``; -> how many."""
    n = 0
    W = QtWidgets  # noqa: N806
    for w in root.findChildren(QtWidgets.QWidget):
        sig = None
        if isinstance(w, W.QComboBox):
            sig = w.currentIndexChanged
        elif isinstance(w, (W.QSpinBox, W.QDoubleSpinBox)):
            sig = w.valueChanged
        elif isinstance(w, W.QAbstractSlider) and not isinstance(w, W.QScrollBar):
            sig = w.valueChanged
        elif isinstance(w, W.QSplitter):
            sig = w.splitterMoved
        elif isinstance(w, W.QTabWidget):
            sig = w.currentChanged
        elif isinstance(w, W.QAbstractButton) and w.isCheckable():
            sig = w.toggled
        if sig is not None:
            sig.connect(lambda *_: mark())
            n += 1
    for a in root.findChildren(QtGui.QAction):
        if a.isCheckable():
            a.toggled.connect(lambda *_: mark())
            n += 1
    return n


def install_autosave(window: Any, delay_ms: int = DELAY_MS) -> Autosaver:
    """Autosave the window's drawing, text and settings (call after restoring them)."""
    saver = Autosaver(window, delay_ms)
    saver.add("settings", lambda force: (lambda: save_settings(window)), background=False, trailing=True)
    saver.add("drawing", _drawing_item(window))
    saver.add("text", _text_item(window))
    saver.add("cursor", _cursor_item(window))
    lab = window.digit_lab
    lab.canvas.drawing_changed.connect(lambda: saver.mark_dirty("drawing"))
    lab.scheduler.rendered.connect(lambda: saver.mark_dirty("drawing"))   # undo, clear, open, ...
    if window.sequence_lab is not None:
        editor = window.sequence_lab.editor
        editor.textChanged.connect(lambda: saver.mark_dirty("text"))
        editor.cursorPositionChanged.connect(lambda: saver.mark_dirty("cursor"))
    watch_settings(window, lambda: saver.mark_dirty("settings"))
    window.installEventFilter(_LayoutWatcher(saver))
    saver.keeping = KeepWatch(window, saver)
    return saver


def folder_problem(folder: Path) -> str | None:
    """Why nothing can be written in ``folder`` (created if missing), or None when it can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        return f"{folder} cannot be written ({exc.strerror or exc})"
    return None


class KeepWatch(QtCore.QObject):
    """Says when the user's work is not being kept: once at start, a marker while writes fail,
    a warning on stderr at exit (``at_exit``)."""

    def __init__(self, window: Any, saver: Autosaver) -> None:
        super().__init__(saver)
        self.window = window
        self.folder = Path(window.settings.fileName()).resolve().parent
        self.failing: dict[str, str] = {}          # item -> why its last write failed
        self.marker = QtWidgets.QLabel("⚠ work not being kept")
        self.marker.setObjectName("notKeptMarker")
        self.marker.setStyleSheet("color: white; background: #b3261e; padding: 1px 6px; font-weight: bold;")
        window.statusBar().addPermanentWidget(self.marker)
        self.problem = folder_problem(self.folder)
        self._update()
        saver.failed.connect(self._on_failed)
        saver.saved.connect(self._on_saved)

    def announce(self) -> None:
        """The one message at start (after the restore report): status bar and stderr."""
        if self.problem is None:
            return
        text = (f"Your work is not being kept: {self.problem}. Save a session (File → Save session) "
                "to keep it, or make that folder writable.")
        print(f"cnn-rnn-explorer: warning: {text}", file=sys.stderr)
        self.window.statusBar().showMessage(f"Your work is not being kept: {self.problem} — "
                                            "File → Save session keeps it", 30000)

    def _on_failed(self, name: str, message: str) -> None:
        first = not self.failing and self.problem is None
        self.failing[name] = message
        self._update()
        if first:
            self.window.statusBar().showMessage(f"could not autosave the {name}: {message}", 10000)

    def _on_saved(self, name: str) -> None:
        if self.failing.pop(name, None) is not None or self.problem is not None:
            self.problem = None                      # a write went through: the folder takes files
            self._update()

    def keeping(self) -> bool:
        return self.problem is None and not self.failing

    def _update(self) -> None:
        why = [self.problem] if self.problem else []
        why += [f"the {n}: {m}" for n, m in self.failing.items()]
        self.marker.setVisible(bool(why))
        self.marker.setToolTip("Not saved automatically:\n• " + "\n• ".join(why) if why else "")

    def at_exit(self) -> None:
        """Called once everything was written for the last time (shutdown)."""
        if self.keeping():
            return
        why = self.problem or "; ".join(f"the {n}: {m}" for n, m in self.failing.items())
        print(f"cnn-rnn-explorer: warning: nothing of this session was saved automatically ({why}); "
              "anything not saved as a session file is lost", file=sys.stderr)

"""Reading back what the app kept between runs: every file and setting is checked first.

A damaged file (truncated, empty, random bytes, foreign keys, NaN points, absurd sizes, a
folder in its place) is renamed aside as ``<name>.damaged-<YYYYmmdd-HHMMSS>`` so nothing
the user made is deleted; a setting of the wrong type is dropped. The window opens
anyway and ``restore_state`` returns one phrase per thing not restored, for the status bar.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui

from explorer.errors import ExplorerError

MAX_TEXT_BYTES = 32 * 2**20        # bytes; the characters are held to schema.MAX_TEXT_CHARS
MAX_SETTINGS_BYTES = 4 * 2**20


class DamagedFile(ExplorerError, ValueError):
    """A kept file that cannot be restored; one sentence naming the file."""


def move_aside(path: str | os.PathLike[str]) -> Path | None:
    """Rename ``path`` (file or folder) to ``<name>.damaged-<time>``; None if that failed."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        n += 1
    try:
        os.rename(path, target)
    except OSError:
        return None
    return target


def _not_restored(what: str, why: str, path: Path) -> str:
    aside = move_aside(path)
    kept = f"kept as {aside.name}" if aside is not None else "could not be moved aside"
    return f"{what} ({why}; {kept})"


# -- text ------------------------------------------------------------------------------
def read_text(path: str | os.PathLike[str]) -> str:
    """A kept UTF-8 text file -> str; DamagedFile if a folder, huge, binary or not UTF-8."""
    path = Path(path)
    if path.is_dir():
        raise DamagedFile(f"{path.name} is a folder, not a text file")
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise DamagedFile(f"{path.name} is too large ({size / 2**20:.0f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise DamagedFile(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if b"\0" in data:
        raise DamagedFile(f"{path.name} holds binary data, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedFile(f"{path.name} is not UTF-8 text") from None
    from explorer.session.schema import MAX_TEXT_CHARS
    if len(text) > MAX_TEXT_CHARS:                       # the autosave never writes one this long
        raise DamagedFile(f"{path.name} is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS:,})")
    return text


# -- settings --------------------------------------------------------------------------
def _int(lo: int, hi: int) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if isinstance(v, bool):
            return False
        if isinstance(v, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", v):
            v = int(v)
        return isinstance(v, int) and lo <= v <= hi
    return ok


def _choice(options: Any) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in options


def _json_object(v: Any) -> bool:
    if not isinstance(v, str) or len(v) > 10_000:
        return False
    try:
        return isinstance(json.loads(v), dict)
    except (ValueError, RecursionError):
        return False


def _bytes(v: Any) -> bool:
    return isinstance(v, QtCore.QByteArray)


def _str(v: Any) -> bool:
    return isinstance(v, str) and len(v) < 4096


def _schema() -> dict[str, Callable[[Any], bool]]:
    from explorer.session.schema import field
    from explorer.session.train import KINDS
    from explorer.ui.widgets.colors import SCOPES
    return {
        "settings/version": _int(0, 10_000), "ui/geometry": _bytes, "ui/state": _bytes,
        "ui/tab": _int(0, 99), "ui/last_dir": _str,
        # the same declarations as a session file's (explorer.session.schema: one place)
        "digits/pen_width": field("digits.pen_width").accepts_setting, "digits/scope": _choice(SCOPES),
        "digits/saliency": field("digits.saliency").accepts_setting,
        "digits/winners": field("digits.winners").accepts_setting,
        "digits/splitter": _bytes, "digits/right_splitter": _bytes,
        "digits/middle_tab": _int(0, 9), "digits/pen_model": _str, "digits/pen_target": _int(-1, 9),
        "sequence/model": _str, "sequence/splitter_": _bytes, "sequence/unit": _int(-1, 10**6),
        "sequence/unit_state": _choice(("h", "c")),
        "compare/tab": field("compare.tab").accepts_setting, "train/kind": _choice(KINDS), "train/config": _json_object,
    }


def check_settings(settings: QtCore.QSettings) -> list[str]:
    """Move a damaged settings file aside and drop values of the wrong type; -> problems."""
    problems: list[str] = []
    path = Path(settings.fileName())
    if settings.format() in (QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Format.NativeFormat) \
            and os.name != "nt":
        why = None
        if path.is_dir():
            why = "a folder is in its place"
        elif path.is_file():
            try:
                data = path.read_bytes() if path.stat().st_size <= MAX_SETTINGS_BYTES else None
                if data is None:
                    why = "the file is absurdly large"
                elif b"\0" in data:
                    why = "the file holds binary data"
                else:
                    data.decode("utf-8")
            except UnicodeDecodeError:
                why = "the file is not text"
            except OSError as exc:
                why = f"the file cannot be read: {exc.strerror or exc}"
        if why is not None:
            problems.append(_not_restored("the settings", why, path))
            settings.clear()
            settings.sync()
            return problems
    schema = _schema()
    wrong = []
    for key in settings.allKeys():
        check = schema.get(key) or next((c for k, c in schema.items() if k.endswith("_") and key.startswith(k)),
                                        None)
        if check is not None and not check(settings.value(key)):
            settings.remove(key)
            wrong.append(key)
    if wrong:
        problems.append(f"settings of the wrong type ({', '.join(wrong)}): defaults used")
    return problems


# -- the window's kept state ---------------------------------------------------------------
def restore_drawing(window: Any) -> list[str]:
    from explorer.session.drawing import DamagedDrawing
    path = window.drawing_path()
    if not os.path.lexists(path):
        return []
    lab = window.digit_lab
    try:
        lab.session.load(path)
        lab.refresh_now()
    except DamagedDrawing as exc:
        return [_not_restored("the drawing", str(exc), path)]
    except Exception as exc:  # noqa: BLE001 - readable but unusable: the window must open
        lab.session.forget()
        lab.refresh_now()
        return [_not_restored("the drawing", f"{type(exc).__name__}: {exc}", path)]
    return []


def restore_text(window: Any) -> list[str]:
    lab = window.sequence_lab
    path = window.text_path()
    if lab is None or not os.path.lexists(path):
        return []
    try:
        text = read_text(path)
    except DamagedFile as exc:
        return [_not_restored("the text", str(exc), path)]
    editor = lab.editor
    editor.setPlainText(text)
    end = editor.document().characterCount() - 1
    problems, anchor, pos = [], end, end                  # no kept cursor: carry on at the end
    cursor_path = path.with_name("sequence_cursor.json")
    if os.path.lexists(cursor_path):
        try:
            anchor, pos = (min(v, end) for v in read_cursor(cursor_path))
        except DamagedFile as exc:
            problems.append(_not_restored("the cursor position", str(exc), cursor_path))
    cursor = editor.textCursor()
    cursor.setPosition(anchor)
    cursor.setPosition(pos, QtGui.QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    editor.ensureCursorVisible()
    return problems


def read_cursor(path: Path) -> tuple[int, int]:
    """``sequence_cursor.json`` -> (anchor, position), both ints >= 0; DamagedFile otherwise."""
    try:
        if path.is_dir() or path.stat().st_size > 4096:
            raise ValueError
        rec = json.loads(path.read_bytes().decode("utf-8"))
        pos, anchor = rec["position"], rec.get("anchor", rec["position"])
        if not all(type(v) is int and 0 <= v < 2**31 for v in (pos, anchor)):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise DamagedFile(f"{path.name} is not a cursor record") from None
    return anchor, pos


def restore_selection(window: Any) -> list[str]:
    """The Sequence Lab's selected unit (values checked by check_settings; out of range: none)."""
    lab, s = window.sequence_lab, window.settings
    unit = int(s.value("sequence/unit", -1))
    if lab is not None and lab.session is not None and 0 <= unit < lab.session.hidden_size:
        lab.select_unit(unit, str(s.value("sequence/unit_state", "h")))
    return []


def restore_checkpoint(window: Any) -> list[str]:
    lab = getattr(window, "train_lab", None)
    if lab is None or not hasattr(lab, "set_checkpoint"):
        return []
    path = Path(window.drawing_path()).with_name("train_checkpoint.npz")
    why = lab.set_checkpoint(path)
    return [_not_restored("the last training run", why, path)] if why else []


def restore_state(window: Any) -> list[str]:
    """Drawing, text (+cursor), selected unit and the Train lab's last weights; -> what was not restored."""
    problems = []
    for restore in (restore_drawing, restore_text, restore_selection, restore_checkpoint):
        problems += restore(window)
    return problems


def report(window: Any, problems: list[str], ms: int = 30000) -> None:
    """Say in the status bar what was not restored and where it was kept (the reasons in
    its tooltip), for ``ms`` milliseconds."""
    if not problems:
        return
    short = [re.sub(r" \(.*; (kept as [^;]*|could not be moved aside)\)$", r" (damaged, \1)", p) for p in problems]
    bar = window.statusBar()
    bar.showMessage("Not restored: " + "; ".join(short) + " — hover here for why", ms)
    bar.setToolTip("Not restored:\n• " + "\n• ".join(problems))
    QtCore.QTimer.singleShot(ms, bar, lambda: bar.setToolTip(""))

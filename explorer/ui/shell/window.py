"""MainWindow: one lab per tab, menus, status bar, layout and drawing restored from QSettings.

``MainWindow(settings=None, *, digit_model=None)``: settings are injected (tests pass an
INI file in tmp_path); None means ``QSettings("cnn-rnn-explorer", "cnn-rnn-explorer")``.
The drawing, the Sequence Lab text (and cursor) and every setting are autosaved next to
the settings file within about a second (explorer.ui.shell.autosave) and checked when read back
(explorer.ui.shell.restore: damaged files are moved aside, the status bar says what was lost).
This is the only class that holds every lab (docs/ARCHITECTURE.md): it talks to a lab through
the Lab protocol (explorer.ui.widgets.lab_protocol) and routes what one lab makes to another.
Without the shipped ``digits_cnn.npz`` the Digit Lab runs an untrained model and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.digits import default_digit_model
from explorer.session.drawing import network_input
from explorer.ui.digit.lab import DigitLab
from explorer.ui.help import PAGES
from explorer.ui.shell import dialogs, lessons, recover
from explorer.ui.shell.autosave import install_autosave
from explorer.ui.shell.examples import link_examples
from explorer.ui.shell.identity import APP, ORG
from explorer.ui.shell.lifecycle import stop_threads
from explorer.ui.shell.menus import build_menus
from explorer.ui.shell.model_route import route_model
from explorer.ui.shell.restore import check_settings, report, restore_state
from explorer.ui.widgets.export import grab_png
from explorer.ui.widgets.lab_protocol import is_lab
from explorer.ui.widgets.report import guarded

if TYPE_CHECKING:
    from explorer.ui.sequence.lab import SequenceLab
    from explorer.ui.shell.timings import TimingsMonitor
    from explorer.ui.widgets.lab_protocol import Lab

__all__ = ["APP", "ORG", "SETTINGS_VERSION", "MainWindow"]

SETTINGS_VERSION = 1
DRAWING_FILE = "digit_drawing.npz"
TEXT_FILE = "sequence_text.txt"


def migrate(settings: QtCore.QSettings, version: int) -> None:
    """Bring settings written by an older version up to SETTINGS_VERSION (in place)."""
    if version < 1:                    # before versioning: layout bytes of unknown shape
        for key in ("ui/geometry", "ui/state", "digits/splitter", "digits/right_splitter"):
            settings.remove(key)
    settings.setValue("settings/version", SETTINGS_VERSION)


def load_digit_model() -> tuple[Model, str | None]:
    """The shipped digit CNN, or (untrained stand-in, a notice saying why)."""
    from explorer.engine import ModelFileError, load_model
    try:
        from explorer.paths import model_path
        path = model_path("digits_cnn.npz")
    except ImportError:  # pragma: no cover - paths.py is the lead's
        path = None
    if path is not None and Path(path).is_file():
        try:
            return load_model(path), None
        except ModelFileError as exc:
            return default_digit_model(), f"untrained model ({exc})"
    return default_digit_model(), "untrained model: digits_cnn.npz not found — guesses are random"


class MainWindow(QtWidgets.QMainWindow):
    """The explorer window. ``digit_lab``; ``sequence_lab`` (None until that lab is added)."""

    # made by the menus (explorer.ui.shell.menus, keyboard, timings, exports, lessons, recover)
    file_menu: QtWidgets.QMenu
    export_menu: QtWidgets.QMenu
    export_svg_menu: QtWidgets.QMenu
    export_states_action: QtGui.QAction
    recent_menu: QtWidgets.QMenu
    recover_menu: QtWidgets.QMenu
    save_session_action: QtGui.QAction
    open_session_action: QtGui.QAction
    scope_actions: dict[str, QtGui.QAction]
    follow_training_action: QtGui.QAction
    timings_action: QtGui.QAction
    timings: TimingsMonitor
    lab_actions: list[QtGui.QAction]
    space_action: QtGui.QAction
    # set by lessons and recover
    last_session_error: str | None
    saved_view: tuple[object, str]

    def __init__(self, settings: QtCore.QSettings | None = None, *, digit_model: Model | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QtCore.QSettings(ORG, APP)
        problems = check_settings(self.settings)          # before any lab reads a value
        self._shut_down = False
        self.setWindowTitle("CNN & RNN Explorer")
        notice = None
        if digit_model is None:
            digit_model, notice = load_digit_model()
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.model_label = QtWidgets.QLabel()          # the current tab's model_label()
        self.statusBar().addPermanentWidget(self.model_label)
        self.digit_lab = DigitLab(digit_model)
        self.sequence_lab: SequenceLab | None = None
        self.add_lab("Digits", self.digit_lab)
        self.digit_lab.describe_model(notice)
        self._add_labs()
        # one examples folder: the Digit Lab keeps drawings in it, the Train lab fine-tunes on it
        self._finetune_watch = link_examples(self, self.digit_lab, self.train_lab)
        self.tabs.currentChanged.connect(self.show_model_label)
        self._help: QtWidgets.QDialog | None = None
        build_menus(self)
        self.resize(1400, 900)
        try:
            self.restore_ui()
        except Exception as exc:  # noqa: BLE001 - settings checked already; the window must open
            problems.append(f"the layout ({type(exc).__name__}: {exc})")
        self.confirm_replace: Callable[[str], bool] = lambda q: recover.ask_dialog(self, q)  # tests replace it
        self.digit_lab.before_replace = lambda what: recover.keep_copy(self, what)
        self.restore_problems = problems + restore_state(self)
        self.autosave = install_autosave(self)
        report(self, self.restore_problems)
        self.autosave.keeping.announce()                  # a read-only config folder: said now

    # -- labs: every tab is a Lab (explorer.ui.widgets.lab_protocol) ------------------------------
    def add_lab(self, title: str, lab: QtWidgets.QWidget) -> int:
        """Add a lab as a tab: its messages go to the status bar, its model to the model label."""
        widget = lab
        if not is_lab(lab):
            raise TypeError(f"{type(lab).__name__} does not implement the Lab protocol")
        lab.status.connect(lambda t: self.statusBar().showMessage(t, 6000))  # type: ignore[attr-defined]  # Qt signal, see is_lab
        lab.model_changed.connect(self.show_model_label)  # type: ignore[attr-defined]  # Qt signal, see is_lab
        return self.tabs.addTab(widget, title)

    def labs(self) -> list[Lab]:
        return [lab for lab in (self.tabs.widget(i) for i in range(self.tabs.count())) if is_lab(lab)]

    def show_model_label(self) -> None:
        """The permanent status-bar label names the current tab's model."""
        lab = self.tabs.currentWidget()
        if is_lab(lab):
            self.model_label.setText(lab.model_label())

    def _add_labs(self) -> None:
        """The Sequence, Compare and Train labs, each self-contained, sharing our settings."""
        from explorer.ui.compare.lab import CompareLab
        from explorer.ui.sequence.lab import SequenceLab
        from explorer.ui.train.lab import TrainLab

        self.sequence_lab = SequenceLab(self.settings)
        self.add_lab("Sequences", self.sequence_lab)
        self.compare_lab = CompareLab(self.settings, digit_source=self.current_digit_input,
                                      pen_source=self.digit_lab.pen_probabilities)
        self.add_lab("Compare", self.compare_lab)
        self.train_lab = TrainLab(self.settings)
        self.add_lab("Train", self.train_lab)
        self.train_lab.model_updated.connect(self._on_trained_model)
        self.train_lab.model_trained.connect(self._on_trained_model)

    def current_digit_input(self) -> np.ndarray | None:
        """The Digit Lab's drawing as the network sees it, (1, 28, 28), or None when empty."""
        x = network_input(self.digit_lab.session.state)
        return None if x is None else x[0]

    def _on_trained_model(self, model: Model, kind: str) -> None:
        """Let the Digit or Sequence Lab follow the model being trained (View menu toggle)."""
        if not self.follow_training_action.isChecked():
            return
        if kind == "digits-cnn":
            self.digit_lab.follow_model(model)     # through the session: weights, or the model
            self.digit_lab.describe_model(source="the one training in the Train tab")
        elif kind in ("toy", "text") and self.sequence_lab is not None:
            from explorer.session.sequence_catalogue import open_session
            current = self.sequence_lab.session     # the model changes through the session: its listeners re-render
            if (current is not None and current.name == "training in the Train tab"
                    and current.model.arch()["layers"] == model.arch()["layers"]
                    and all(current.model.meta.get(k) == model.meta.get(k) for k in ("vocab", "toy_task"))):
                current.load_weights(model.state_dict())     # same model, new weights: listeners re-render
                return
            session = open_session(model, name="training in the Train tab")
            self.sequence_lab.use_session(session, key=f"train-tab:{kind}:{session.hidden_size}",
                                          label="the model training in the Train tab")

    def show_help(self) -> None:
        title = self.tabs.tabText(self.tabs.currentIndex())
        self.show_page(f"How to read this — {title}", PAGES.get(title, "<p>No page yet.</p>"))

    def show_page(self, title: str, html: str) -> QtWidgets.QDialog:
        """A non-modal help window (kept as ``self._help``)."""
        if self._help is None:
            self._help = QtWidgets.QDialog(self)
            self._help.resize(620, 640)
            self._help_text = QtWidgets.QTextBrowser(self._help)
            QtWidgets.QVBoxLayout(self._help).addWidget(self._help_text)
        self._help.setWindowTitle(title)
        self._help_text.setHtml(html)
        self._help.show()
        return self._help

    # -- file dialogs (thin: the work is in methods tests call directly) --------------------
    def ask_path(self, save: bool, caption: str, filt: str, name: str = "") -> str:
        """A file dialog starting in the folder used last; "" when cancelled."""
        return dialogs.ask_path(self, self.settings, save, caption, filt, name)

    def run_save(self, title: str, fn: Callable[..., object], *args: object) -> bool:
        """Run a save / export; a failure is reported in a message box, a success in the status bar."""
        done = guarded(self, f"{title} failed", fn, *args)
        if done is not None:
            self.statusBar().showMessage(f"saved {args[-1]}", 5000)
        return done is not None

    def ask_export_png(self, widget: QtWidgets.QWidget, title: str) -> None:
        """File → Export panel as PNG: ask where, then save the panel's picture."""
        if p := self.ask_path(True, f"Export {title}", "PNG (*.png)", f"{dialogs.safe_name(title)}.png"):
            self.run_save(f"Export {title}", grab_png, widget, p)

    # -- lessons: the whole view in one session file (explorer.ui.shell.lessons) -----------
    def save_session(self, path: str | Path) -> Path:
        """Drawing, text, models, selections and settings to one .cre file; the path written."""
        return lessons.save_session(self, path)

    def open_session(self, path: str | Path, *, ask: bool = False) -> bool:
        """Restore a .cre file; a bad file gives a message (``last_session_error``), changes
        nothing. The user's own work is first copied to File → Recover; ``ask`` (the menus)
        lets the user keep it instead, through ``confirm_replace``. Automation never asks."""
        return lessons.open_session(self, path, ask=ask)

    def export_window(self, path: str | Path) -> Path:
        return grab_png(self, path)

    def open_model(self, path: str | Path) -> bool:
        """Open a model file (.npz, or .onnx converted) in the lab that can use it
        (explorer.ui.shell.model_route): a digit CNN in the Digit Lab, a pen model as its pen RNN, a row-RNN
        in Compare › Digits three ways, a text or toy model in the Sequence Lab; a bad or unfit file gives a message
        saying why."""
        from explorer.errors import ExplorerError
        from explorer.onnx_import import load_any_model
        try:
            model = load_any_model(path)
            where = route_model(model)
        except (ExplorerError, ValueError, OSError, RecursionError, MemoryError) as exc:
            why = {RecursionError: "its architecture is nested too deeply to be a model",
                   MemoryError: "it would need more memory than this machine has"}.get(type(exc), str(exc))
            name = Path(path).name
            self.digit_lab.show_error("Could not open the model", why if name in why else f"{name}: {why}")
            return False
        if where == "digits-cnn":
            self.digit_lab.set_model(model)
            self.tabs.setCurrentWidget(self.digit_lab)
        elif where == "digits-pen":                          # the pen RNN beside the CNN reads with it
            self.digit_lab.set_pen_model(model, Path(path).name, str(Path(path).resolve()))
            self.digit_lab.middle_tabs.setCurrentIndex(1)
            self.tabs.setCurrentWidget(self.digit_lab)
        elif where == "digits-rowrnn":
            self.compare_lab.digits.set_models(rnn=model)
            self.compare_lab.tabs.setCurrentWidget(self.compare_lab.digits)
            self.tabs.setCurrentWidget(self.compare_lab)
        elif (seq := self.sequence_lab) is None:            # a window always has one once built
            raise RuntimeError("the Sequence Lab is not built yet")
        elif str(path).lower().endswith(".onnx"):           # converted in memory: hand over the model
            from explorer.session.sequence_catalogue import open_session
            seq.use_session(open_session(model, name=Path(path).name), key=None, label=f"File: {Path(path).name}")
            self.tabs.setCurrentWidget(seq)
        else:
            seq.open_model_file(str(path))
            self.tabs.setCurrentWidget(seq)
        self.statusBar().showMessage(f"opened {Path(path).name} in the {self.tabs.tabText(self.tabs.currentIndex())} "
                                     "tab", 6000)
        return True

    # -- settings and the saved drawing ----------------------------------------------------
    def drawing_path(self) -> Path:
        """Where the drawing is kept between runs: next to the settings file."""
        return Path(self.settings.fileName()).resolve().parent / DRAWING_FILE

    def restore_ui(self) -> None:
        s = self.settings
        version = int(cast("int | str", s.value("settings/version", 0) or 0))     # checked by restore.check_settings
        if version < SETTINGS_VERSION:
            migrate(s, version)
        for key, restore in (("ui/geometry", self.restoreGeometry), ("ui/state", self.restoreState)):
            v = s.value(key)
            if isinstance(v, QtCore.QByteArray):
                restore(v)
        for lab in self.labs():
            lab.restore_settings(s)
        tab = int(cast("int | str", s.value("ui/tab", 0) or 0))
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        self._wanted_tab = tab               # a lab added later may be the one to return to

    def save_ui(self, sync: bool = True) -> None:
        s = self.settings
        s.setValue("settings/version", SETTINGS_VERSION)
        s.setValue("ui/geometry", self.saveGeometry())
        s.setValue("ui/state", self.saveState())
        s.setValue("ui/tab", self.tabs.currentIndex())
        for lab in self.labs():
            lab.save_settings(s)
        if sync:
            s.sync()

    def text_path(self) -> Path:
        """Where the Sequence Lab's text is kept between runs: next to the settings file."""
        return Path(self.settings.fileName()).resolve().parent / TEXT_FILE

    def shutdown(self) -> None:
        """Save everything, stop the workers (≤ 1 s), stop every lab. Close and quit both call it."""
        if self._shut_down:
            return
        self._shut_down = True
        self.autosave.save_all()
        self.autosave.keeping.at_exit()                   # nothing kept: said on stderr
        training = (self.train_lab, self.compare_lab.duel)      # tell workers first, wait once
        for owner in training:
            owner.stop()

        def poke() -> None:
            for owner in training:
                if owner.worker is not None:
                    owner.worker.drawn()
        stop_threads(self, poke=poke)
        for lab in self.labs():                                 # the workers have ended: prompt
            lab.shutdown()
        if self._help is not None:
            self._help.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.shutdown()
        super().closeEvent(event)

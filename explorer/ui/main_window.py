"""MainWindow: one lab per tab, menus, status bar, layout and drawing restored from QSettings.

``MainWindow(settings=None, *, digit_model=None)``: settings are injected (tests pass an
INI file in tmp_path); None means ``QSettings("cnn-rnn-explorer", "cnn-rnn-explorer")``.
The drawing, the Sequence Lab text (and cursor) and every setting are autosaved next to
the settings file within about a second (explorer.ui.autosave) and checked when read back
(explorer.ui.restore: damaged files are moved aside, the status bar says what was lost).
Without the shipped ``digits_cnn.npz`` the Digit Lab runs an untrained model and says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.digits import default_digit_model, network_input
from explorer.ui.autosave import install_autosave
from explorer.ui.digit.lab import DigitLab
from explorer.ui.help import ABOUT, PAGES
from explorer.ui.lifecycle import stop_threads
from explorer.ui.report import guarded
from explorer.ui.restore import check_settings, report, restore_state
from explorer.ui.widgets.colors import SCOPES
from explorer.ui.widgets.export import grab_png

ORG = APP = "cnn-rnn-explorer"
SETTINGS_VERSION = 1
DRAWING_FILE = "digit_drawing.npz"
TEXT_FILE = "sequence_text.txt"


def migrate(settings: QtCore.QSettings, version: int) -> None:
    """Bring settings written by an older version up to SETTINGS_VERSION (in place)."""
    if version < 1:                    # before versioning: layout bytes of unknown shape
        for key in ("ui/geometry", "ui/state", "digits/splitter", "digits/right_splitter"):
            settings.remove(key)
    settings.setValue("settings/version", SETTINGS_VERSION)


def load_digit_model() -> tuple[object, str | None]:
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

    def __init__(self, settings: QtCore.QSettings | None = None, *, digit_model: object | None = None) -> None:
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
        self.digit_lab = DigitLab(digit_model)
        self.sequence_lab: QtWidgets.QWidget | None = None
        self.add_lab("Digits", self.digit_lab)
        self.model_label = QtWidgets.QLabel()
        self.statusBar().addPermanentWidget(self.model_label)
        self.set_model_notice(notice, digit_model)
        self.digit_lab.status.connect(lambda t: self.statusBar().showMessage(t, 6000))
        self._add_labs()
        from explorer.ui.digit.keep import link_examples  # my examples (issue 12)
        link_examples(self)
        self._help: QtWidgets.QDialog | None = None
        self._build_menus()
        self.resize(1400, 900)
        try:
            self.restore_ui()
        except Exception as exc:  # noqa: BLE001 - settings checked already; the window must open
            problems.append(f"the layout ({type(exc).__name__}: {exc})")
        self.restore_problems = problems + restore_state(self)
        self.autosave = install_autosave(self)
        report(self, self.restore_problems)

    # -- labs -----------------------------------------------------------------------------
    def add_lab(self, title: str, widget: QtWidgets.QWidget) -> int:
        """Add a lab as a tab (the lead adds Sequences, Compare, Train); returns its index."""
        if isinstance(getattr(widget, "status", None), QtCore.SignalInstance):
            widget.status.connect(lambda t: self.statusBar().showMessage(t, 6000))  # type: ignore[attr-defined]
        return self.tabs.addTab(widget, title)

    def _add_labs(self) -> None:
        """The Sequence, Compare and Train labs, each self-contained, sharing our settings."""
        from explorer.ui.compare.lab import CompareLab
        from explorer.ui.sequence.lab import SequenceLab
        from explorer.ui.train.lab import TrainLab

        self.sequence_lab = SequenceLab(self.settings)
        self.add_lab("Sequences", self.sequence_lab)
        self.compare_lab = CompareLab(self.settings, digit_source=self.current_digit_input)
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
            current = self.digit_lab.session.model
            if current.arch()["layers"] == model.arch()["layers"]:
                current.load_state_dict(model.state_dict())   # same panels, new weights
                self.digit_lab.refresh_now()
            else:
                self.digit_lab.set_model(model)
            self.model_label.setText("digit model: <b>the one training in the Train tab</b>")
        elif kind in ("toy", "text") and self.sequence_lab is not None:
            from explorer.session.sequence import SequenceSession
            current = self.sequence_lab.session     # issue 10: the model changes through the session
            if (current is not None and current.name == "training in the Train tab"
                    and current.model.arch()["layers"] == model.arch()["layers"]
                    and all(current.model.meta.get(k) == model.meta.get(k) for k in ("vocab", "toy_task"))):
                current.load_weights(model.state_dict())     # same model, new weights: listeners re-render
                return
            session = SequenceSession(model, name="training in the Train tab")
            self.sequence_lab.use_session(session, key=f"train-tab:{kind}:{session.hidden_size}",
                                          label="the model training in the Train tab")

    def set_model_notice(self, notice: str | None, model: object) -> None:
        if notice:
            self.model_label.setText(f"<span style='color:#b35900'>⚠ {notice}</span>")
        else:
            meta = getattr(model, "meta", {})
            acc = meta.get("val_acc")
            held = f" · {100 * float(acc):.1f}% on held-out digits" if acc is not None else ""
            self.model_label.setText(f"digit model: {meta.get('name', meta.get('arch', 'CNN'))}{held}")

    # -- menus ----------------------------------------------------------------------------
    def _act(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None) -> QtGui.QAction:  # type: ignore[no-untyped-def]
        act = menu.addAction(text)
        act.triggered.connect(slot)
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        return act

    def _build_menus(self) -> None:
        lab = self.digit_lab
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._act(f, "&Open image…", self._ask_open_image, QtGui.QKeySequence.StandardKey.Open)
        self._act(f, "&Save drawing as PNG…", self._ask_save_drawing, QtGui.QKeySequence.StandardKey.Save)
        f.addSeparator()
        self._act(f, "Open &model…", self._ask_open_model, "Ctrl+Shift+O")
        self._act(f, "Save model &as…", self._ask_save_model)
        f.addSeparator()
        from explorer.ui import lessons  # lessons: Save/Open session…, Recent sessions
        lessons.add_menu_items(self, f)
        f.addSeparator()
        self.export_menu = f.addMenu("&Export panel as PNG")
        self.export_menu.aboutToShow.connect(self._fill_export_menu)
        self._act(f, "Export &window as PNG…", self._ask_export_window, "Ctrl+Shift+E")
        self._act(f, "Export &activations (.npz)…", self._ask_export_activations)
        f.addSeparator()
        self._act(f, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        e = bar.addMenu("&Edit")
        for act in (lab.undo_action, lab.redo_action, lab.clear_action, None, lab.eraser_action,
                    lab.wider_action, lab.narrower_action):
            e.addSeparator() if act is None else e.addAction(act)
        v = bar.addMenu("&View")
        v.addAction(lab.saliency_action)
        v.addAction(lab.winners_action)
        scale = v.addMenu("Colour &scale")
        group = QtGui.QActionGroup(self)
        self.scope_actions: dict[str, QtGui.QAction] = {}
        for key, text in SCOPES.items():
            a = scale.addAction(text)
            a.setCheckable(True)
            a.setActionGroup(group)
            a.triggered.connect(lambda _=False, k=key: lab.set_scope(k))
            self.scope_actions[key] = a
        scale.aboutToShow.connect(lambda: self.scope_actions[lab.scope].setChecked(True))
        v.addSeparator()
        self.follow_training_action = v.addAction("Labs &follow the model being trained")
        self.follow_training_action.setCheckable(True)
        self.follow_training_action.setChecked(True)
        self.follow_training_action.setToolTip(
            "While the Train tab trains a digit CNN or a sequence model, the Digit or Sequence "
            "Lab shows it, so you can draw or type while it learns.")
        v.addSeparator()
        self._act(v, "&Next tab", lambda: self.tabs.setCurrentIndex((self.tabs.currentIndex() + 1) % self.tabs.count()),
                  "Ctrl+Tab")
        h = bar.addMenu("&Help")
        self._act(h, "&How to read this", self.show_help, QtGui.QKeySequence.StandardKey.HelpContents)
        self._act(h, "&About", lambda: self.show_page("About CNN & RNN Explorer", ABOUT))
        # issue 15: keyboard (Ctrl+1…4, Space, Help → Keyboard shortcuts), timings, SVG/CSV exports, icon
        from explorer.ui.help import exporting, keyboard, timings
        keyboard.install(self, v, h)
        self.timings = timings.install(self, v)
        exporting.install(self, f)
        self.setWindowIcon(exporting.app_icon())

    def _fill_export_menu(self) -> None:
        self.export_menu.clear()
        lab = self.tabs.currentWidget()
        panels = lab.panels() if hasattr(lab, "panels") else {}
        for title, widget in panels.items():
            self.export_menu.addAction(title).triggered.connect(
                lambda _=False, w=widget, t=title: self._ask_export_widget(w, t))

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

    # -- file dialogs (thin: the work is in methods tests call directly) -------------------
    def _ask(self, save: bool, caption: str, filt: str, name: str = "") -> str:
        start = str(Path(str(self.settings.value("ui/last_dir", str(Path.home())))) / name)
        fn = QtWidgets.QFileDialog.getSaveFileName if save else QtWidgets.QFileDialog.getOpenFileName
        path, _ = fn(self, caption, start, filt)
        if path:
            self.settings.setValue("ui/last_dir", str(Path(path).parent))
        return path

    def _saved(self, title: str, fn, *args) -> bool:  # type: ignore[no-untyped-def]
        """Run a save / export; a failure is reported in a message box, a success in the status bar."""
        done = guarded(self, f"{title} failed", fn, *args)
        if done is not None:
            self.statusBar().showMessage(f"saved {args[-1]}", 5000)
        return done is not None

    def _ask_open_image(self) -> None:
        if p := self._ask(False, "Open image", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.pgm *.tif *.webp);;All files (*)"):
            self.digit_lab.open_image(p)

    def _ask_save_drawing(self) -> None:
        if p := self._ask(True, "Save drawing", "PNG (*.png)", "digit.png"):
            self._saved("Save drawing", self.digit_lab.save_drawing_png, p)

    def _ask_open_model(self) -> None:
        if p := self._ask(False, "Open model", "Model files (*.npz *.onnx);;ONNX (*.onnx);;All files (*)"):
            self.open_model(p)

    def _ask_save_model(self) -> None:
        if p := self._ask(True, "Save model", "Model files (*.npz)", "digits_cnn.npz"):
            from explorer.engine import save_model
            self._saved("Save model", lambda path: save_model(self.digit_lab.session.model, path) or path, p)

    def _ask_export_widget(self, widget: QtWidgets.QWidget, title: str) -> None:
        safe = "".join(ch if ch.isalnum() else "_" for ch in title).strip("_")
        if p := self._ask(True, f"Export {title}", "PNG (*.png)", f"{safe}.png"):
            self._saved(f"Export {title}", grab_png, widget, p)

    def _ask_export_window(self) -> None:
        if p := self._ask(True, "Export window", "PNG (*.png)", "explorer.png"):
            self._saved("Export window", self.export_window, p)

    def _ask_export_activations(self) -> None:
        if p := self._ask(True, "Export activations", "NumPy archive (*.npz)", "activations.npz"):
            self._saved("Export activations", self.digit_lab.export_activations, p)

    # -- lessons: the whole view in one session file (explorer/ui/lessons.py) --------------
    def save_session(self, path: str | Path) -> Path:
        """Drawing, text, models, selections and settings to one .cre file; the path written."""
        from explorer.ui import lessons
        return lessons.save_session(self, path)

    def open_session(self, path: str | Path) -> bool:
        """Restore a .cre file; a bad file gives a message (``last_session_error``), changes nothing."""
        from explorer.ui import lessons
        return lessons.open_session(self, path)

    def export_window(self, path: str | Path) -> Path:
        return grab_png(self, path)

    def open_model(self, path: str | Path) -> bool:
        """Open a model file (.npz, or .onnx converted) in the lab that can use it
        (explorer.ui.model_route): a digit CNN in the Digit Lab, a row-RNN in Compare › Digits
        both ways, a text or toy model in the Sequence Lab; a bad or unfit file gives a message
        saying why."""
        from explorer.errors import ExplorerError
        from explorer.onnx_import import load_any_model
        from explorer.ui.model_route import route_model
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
            self.set_model_notice(None, model)
            self.tabs.setCurrentWidget(self.digit_lab)
        elif where == "digits-rowrnn":
            self.compare_lab.digits.set_models(rnn=model)
            self.compare_lab.tabs.setCurrentWidget(self.compare_lab.digits)
            self.tabs.setCurrentWidget(self.compare_lab)
        elif str(path).lower().endswith(".onnx"):           # converted in memory: hand over the model
            from explorer.session.sequence import SequenceSession
            self.sequence_lab.use_session(SequenceSession(model, name=Path(path).name), key=None,
                                          label=f"File: {Path(path).name}")
            self.tabs.setCurrentWidget(self.sequence_lab)
        else:
            self.sequence_lab.open_model_file(str(path))
            self.tabs.setCurrentWidget(self.sequence_lab)
        self.statusBar().showMessage(f"opened {Path(path).name} in the {self.tabs.tabText(self.tabs.currentIndex())} "
                                     "tab", 6000)
        return True

    # -- settings and the saved drawing ----------------------------------------------------
    def drawing_path(self) -> Path:
        """Where the drawing is kept between runs: next to the settings file."""
        return Path(self.settings.fileName()).resolve().parent / DRAWING_FILE

    def restore_ui(self) -> None:
        s = self.settings
        version = int(s.value("settings/version", 0) or 0)
        if version < SETTINGS_VERSION:
            migrate(s, version)
        for key, restore in (("ui/geometry", self.restoreGeometry), ("ui/state", self.restoreState)):
            v = s.value(key)
            if isinstance(v, QtCore.QByteArray):
                restore(v)
        self.digit_lab.restore_settings(s)
        tab = int(s.value("ui/tab", 0) or 0)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        self._wanted_tab = tab               # a lab added later may be the one to return to

    def save_ui(self, sync: bool = True) -> None:
        s = self.settings
        s.setValue("settings/version", SETTINGS_VERSION)
        s.setValue("ui/geometry", self.saveGeometry())
        s.setValue("ui/state", self.saveState())
        s.setValue("ui/tab", self.tabs.currentIndex())
        self.digit_lab.save_settings(s)
        if sync:
            s.sync()

    def text_path(self) -> Path:
        """Where the Sequence Lab's text is kept between runs: next to the settings file."""
        return Path(self.settings.fileName()).resolve().parent / TEXT_FILE

    def save_text(self) -> None:
        """Keep the Sequence Lab's text (atomic: temporary file, then rename)."""
        if self.sequence_lab is None:
            return
        from explorer.atomic import atomic_write_text

        path = self.text_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, self.sequence_lab.editor.toPlainText())
        except OSError as exc:  # pragma: no cover - disk full / read-only
            self.statusBar().showMessage(f"could not keep the text: {exc}", 8000)

    def save_drawing(self) -> None:
        try:
            self.digit_lab.session.save(self.drawing_path())
        except OSError as exc:  # pragma: no cover - disk full / read-only
            self.statusBar().showMessage(f"could not keep the drawing: {exc}", 8000)

    def shutdown(self) -> None:
        """Save everything, stop the workers (≤ 1 s), stop every lab. Close and quit both call it."""
        if self._shut_down:
            return
        self._shut_down = True
        self.autosave.save_all()
        labs = (self.train_lab, self.compare_lab.duel)          # tell workers first, wait once
        for lab in labs:
            lab.stop()
        stop_threads(self, poke=lambda: [lab.worker.drawn() for lab in labs if lab.worker is not None])
        self.digit_lab.stop()
        for lab in (self.tabs.widget(i) for i in range(self.tabs.count())):
            if lab is not self.digit_lab:
                if hasattr(lab, "save_settings"):
                    lab.save_settings()
                if hasattr(lab, "shutdown"):
                    lab.shutdown()
        if self._help is not None:
            self._help.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.shutdown()
        super().closeEvent(event)

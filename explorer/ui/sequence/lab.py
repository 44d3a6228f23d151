"""SequenceLab: type a sequence and watch an RNN / LSTM / GRU carry its state through time.

Wiring: editor.textChanged -> a 0 ms single-shot timer (bursts of keystrokes coalesce) ->
SequenceSession.set_text (recomputes from the first changed character only; long pastes
are processed in timed chunks with a progress bar) -> render(): every panel is fed arrays
from the session. Cursor moves only re-render.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.pca import PCABasis, cached_basis, fit_pca
from explorer.analysis.units import BUILTIN_SIGNALS, SignalError, rank_states, signal
from explorer.session.sequence import (
    SequenceSession,
    load_session,
    random_model,
    reference_states,
    shipped_models,
)
from explorer.ui.sequence.common import MONO, cache_scroll_bars, set_tip
from explorer.ui.sequence.experiments import Experiments
from explorer.ui.sequence.gates import GatesPanel
from explorer.ui.sequence.heatmap import HiddenHeatmapPanel
from explorer.ui.sequence.memory_view import MemoryPanel
from explorer.ui.sequence.paste import PieceInserter
from explorer.ui.sequence.predictions import PredictionsPanel, ProbStrip
from explorer.ui.sequence.presets import PRESETS, default_preset
from explorer.ui.sequence.textcolour import PosMap, TextColourer
from explorer.ui.sequence.trajectory import TRAIL, TrajectoryPanel
from explorer.ui.sequence.unrolled import StepView, UnrolledPanel

SYNC_STEPS = 3000          # at most this many pending steps are computed inside one event
CHUNK_SECONDS = 0.015      # a chunk of a long paste takes about this long (issue 16: was 0.03)
HOP = 25                   # the time axes scroll in hops of this many characters, not one per key
REGEX = "regular expression…"
COLOUR_MODES = ("selected unit", "memory (influence)", "surprise (P of actual)", "nothing")


def time_window(step: int, n: int, window: int) -> tuple[int, int, tuple[float, float]]:
    """Characters start..stop-1 shown around the cursor's character `step` (of n), and the
    x range of the time axes. The range moves in hops of HOP characters, so typing does not
    shift (and re-label, and repaint twice) the axes on every key; `step` always stays inside."""
    ideal = max(0, min(step - (3 * window) // 4, n - window))
    start = min(-(-ideal // HOP) * HOP, max(step, 0))
    stop = min(n, start + window)
    if start > 0:
        return start, stop, (float(start), float(start + window))
    width = min(window, max(40, 10 * -(-(n + 3) // 10)))   # short text: little empty room
    return start, stop, (0.0, float(width))


class SequenceEditor(QtWidgets.QPlainTextEdit):
    """The monospace plain-text editor (objectName ``sequenceEditor``)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sequenceEditor")
        font = QtGui.QFont(MONO)
        font.setPointSize(10)
        self.setFont(font)
        self.setTabStopDistance(4 * QtGui.QFontMetricsF(font).horizontalAdvance(" "))
        self.setPlaceholderText("Type or paste text here, or pick a preset above.")
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.WidgetWidth)
        cache_scroll_bars(self)   # Fusion repaints a ~700 px scroll bar in 1–2 ms on every key
        self.paste = PieceInserter(self)

    # -- issue 16: a long paste goes in pieces, one per event-loop turn (paste.py) ----------
    def insertPlainText(self, text: str) -> None:  # noqa: N802 (Qt)
        if not self.paste.insert(text):
            super().insertPlainText(text)

    def insertFromMimeData(self, source: QtCore.QMimeData) -> None:  # noqa: N802 (Qt)
        if not (source.hasText() and self.paste.insert(source.text())):
            super().insertFromMimeData(source)
    # -- end issue 16 ------------------------------------------------------------------------


class SequenceLab(QtWidgets.QWidget):
    """The Sequence Lab tab; ``editor`` and ``hidden_states()`` are the automation contract."""

    rendered = QtCore.Signal()             # every panel has been fed the current text and cursor
    processing = QtCore.Signal(int, int)   # (done, total) while a long text is read in chunks
    status = QtCore.Signal(str)            # Lab protocol: a message for the status bar
    model_changed = QtCore.Signal()        # Lab protocol: model_label() has a new text

    def __init__(self, settings: QtCore.QSettings | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.session: SequenceSession | None = None
        self.basis: PCABasis | None = None
        self.unit: int | None = None
        self.frames = 0
        self._pos = PosMap("")
        self._memory_cache: tuple | None = None
        self._chunk_steps = 500
        self._build_ui()
        self._sync_timer = self._single_shot(self._sync_text)
        self._render_timer = self._single_shot(self.render)
        self._chunk_timer = QtCore.QTimer(self)
        self._chunk_timer.setInterval(0)
        self._chunk_timer.timeout.connect(self._process_chunk)
        self._fill_models()
        self._restore()

    # -- construction -------------------------------------------------------------------
    def _single_shot(self, slot: object) -> QtCore.QTimer:
        timer = QtCore.QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(slot)
        return timer

    def _build_ui(self) -> None:
        self.editor = SequenceEditor()
        self.colourer = TextColourer(self.editor)
        self.model_combo, self.preset_combo = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.preset_combo.addItem("Load a preset…")
        self.preset_combo.addItems(list(PRESETS))
        self.notice = QtWidgets.QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background:#fff3c4; border:1px solid #e0c060; padding:4px; color:#5a4500;")
        self.notice.hide()
        self.strip = ProbStrip()
        self.finder_combo = QtWidgets.QComboBox()
        self.finder_combo.addItems(list(BUILTIN_SIGNALS) + [REGEX])
        self.regex_edit = QtWidgets.QLineEdit()
        self.regex_edit.setPlaceholderText(r"regex, e.g. \d+ or def \w+")
        self.regex_edit.setEnabled(False)
        self.find_button = QtWidgets.QPushButton("Find unit")
        self.unit_spin = QtWidgets.QSpinBox()
        self.unit_spin.setMinimum(-1)
        self.unit_spin.setSpecialValueText("none")
        self.state_combo = QtWidgets.QComboBox()
        self.state_combo.addItem("h(t)", "h")
        self.state_combo.addItem("tanh c(t)", "c")
        self.unit_state = "h"                       # which state the selected unit is read from
        self.colour_combo = QtWidgets.QComboBox()
        self.colour_combo.addItems(list(COLOUR_MODES))
        self.status_label = QtWidgets.QLabel(" ")
        self.status_label.setWordWrap(True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("reading the text… %p%")
        self.progress.hide()
        for w, tip in ((self.model_combo, "The network to watch: a character model of Python code or English "
                        "prose,\nor a small model of a toy language. Same text, different cells: compare them."),
                       (self.preset_combo, "Replace the text with a ready-made example."),
                       (self.finder_combo, "Find the hidden unit whose activation correlates best (Pearson r)\n"
                        "with this signal over the current text, and select it."),
                       (self.unit_spin, "The selected hidden unit (click a row of the heat map, or use 'Find')."),
                       (self.state_combo, "Which state the unit is read from: the hidden state h(t) the "
                        "heat map shows,\nor, for an LSTM, its cell state as tanh c(t) — the memory the "
                        "cell carries;\nKarpathy's famous quote and bracket cells are cell states. "
                        "'Find' searches both."),
                       (self.colour_combo, "What colours the characters in the editor:\n"
                        "selected unit: its activation after each character (green > 0, red < 0);\n"
                        "memory: how much each character drives the prediction at the cursor;\n"
                        "surprise: green = expected by the model, red = surprising.")):
            set_tip(w, tip)
        self.heatmap, self.trajectory = HiddenHeatmapPanel(), TrajectoryPanel()
        self.predictions, self.memory_panel = PredictionsPanel(), MemoryPanel()
        self.gates, self.unrolled = GatesPanel(), UnrolledPanel()
        self.experiments = Experiments(self)       # issue 14: Write pane, fixed points
        self._layout()
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.cursorPositionChanged.connect(self._on_cursor_moved)
        self.editor.verticalScrollBar().valueChanged.connect(self._on_cursor_moved)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.finder_combo.currentTextChanged.connect(lambda t: self.regex_edit.setEnabled(t == REGEX))
        self.find_button.clicked.connect(self.find_unit)
        self.regex_edit.returnPressed.connect(self.find_unit)
        self.unit_spin.valueChanged.connect(lambda v: self.select_unit(None if v < 0 else v))
        self.state_combo.currentIndexChanged.connect(
            lambda _i: self.select_unit(self.unit, self.state_combo.currentData()))
        self.colour_combo.currentIndexChanged.connect(self._on_cursor_moved)
        self.heatmap.cell_clicked.connect(self._on_cell_clicked)

    def _layout(self) -> None:
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Model:"))
        top.addWidget(self.model_combo, 2)
        top.addWidget(self.preset_combo, 1)
        find = QtWidgets.QHBoxLayout()
        find.addWidget(QtWidgets.QLabel("Find a unit for:"))
        find.addWidget(self.finder_combo, 1)
        find.addWidget(self.find_button)
        for combo in (self.model_combo, self.preset_combo, self.finder_combo, self.colour_combo):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        unit = QtWidgets.QHBoxLayout()
        unit.addWidget(QtWidgets.QLabel("Unit:"))
        unit.addWidget(self.unit_spin)
        unit.addWidget(self.state_combo)
        unit.addStretch(1)
        colour = QtWidgets.QHBoxLayout()           # its own row: the column fits a 1024 px window
        colour.addWidget(QtWidgets.QLabel("Colour text by:"))
        colour.addWidget(self.colour_combo, 1)
        left = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(left)
        col.setContentsMargins(4, 4, 4, 4)
        for item in (top, self.notice, self.editor, self.strip, find, self.regex_edit, unit, colour,
                     self.status_label, self.progress, self.experiments.widget):
            (col.addLayout if isinstance(item, QtWidgets.QLayout) else col.addWidget)(item)
        col.setStretchFactor(self.editor, 1)
        side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        side.addWidget(self.predictions)
        side.addWidget(self.memory_panel)
        middle = QtWidgets.QSplitter()
        middle.addWidget(self.trajectory)
        middle.addWidget(side)
        bottom = QtWidgets.QSplitter()
        bottom.addWidget(self.gates)
        bottom.addWidget(self.unrolled)
        right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        for w in (self.heatmap, middle, bottom):
            right.addWidget(w)
        right.setSizes([230, 345, 325])   # the side panels need ~160 px each
        middle.setSizes([440, 480])
        bottom.setSizes([520, 400])
        # fit a 1024×640 window (issue 15): below this size the panels scroll instead of squashing
        right.setMinimumSize(580, 620)
        side.setMinimumWidth(320)
        from explorer.ui.widgets.fit import scrolled
        self.splitter = QtWidgets.QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(scrolled(right))
        self.splitter.setSizes([450, 950])
        self._splitters = {"main": self.splitter, "right": right, "middle": middle, "bottom": bottom, "side": side}
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

    # -- models ------------------------------------------------------------------------
    def _fill_models(self) -> None:
        models = shipped_models()
        self._untrained = not models
        if not models:
            models = [(f"Untrained {c} (random weights)", c) for c in ("LSTM", "GRU", "RNN")]
        self.model_combo.blockSignals(True)
        for label, path in models:
            self.model_combo.addItem(label, path)
        self.model_combo.blockSignals(False)

    def _on_model_changed(self, index: int) -> None:
        if index >= 0:
            self.load_model(index)

    def load_model(self, index: int) -> None:
        """Open model `index` of the picker; keeps the text when the new model reads the same kind."""
        source = self.model_combo.itemData(index)
        try:
            session = (SequenceSession(random_model(source, hidden=64, seed=0), name=f"untrained {source}")
                       if self._untrained else load_session(source))
        except Exception as exc:                       # noqa: BLE001 - a broken file: say so, keep going
            self._say(f"Cannot open {self.model_combo.itemText(index)}: {exc}")
            return
        self.use_session(session, key=f"{source}:{session.hidden_size}:{session.cell}",
                         label=self.model_combo.itemText(index))
        self._save("sequence/model", self.model_combo.itemText(index))

    def open_model_file(self, path: str, label: str | None = None) -> None:
        """Add a model file to the picker (e.g. one you trained) and show it."""
        import os
        label = label or f"File: {os.path.basename(path)}"
        self._untrained = False
        self.model_combo.addItem(label, path)
        self.model_combo.setCurrentIndex(self.model_combo.count() - 1)

    def use_session(self, session: SequenceSession, key: str | None = None, label: str = "") -> None:
        """Show `session` (its model) in every panel; the PCA basis is fitted once per `key`.

        The text stays when the new model reads the same kind of text; otherwise a preset
        that suits the model is loaded."""
        self._chunk_timer.stop()
        old, self.session, self.unit = self.session, session, None
        self._model_name = label or session.name                       # Lab protocol: model_label()
        # Without a key the basis belongs to this session object: a global cache keyed by
        # id(model) handed a dead model's basis (other width) to a new model that reused its id.
        self.notice.setVisible(bool(session.model.meta.get("untrained")))
        self.notice.setText("No trained sequence model found in resources/models — this is an UNTRAINED "
                            f"{session.cell} with random weights. Train one with "
                            "'cnn-rnn-explorer train text --corpus code --cell lstm --out …'.")
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            if key is not None:
                self.basis = cached_basis(key, lambda: fit_pca(reference_states(session)))
            else:
                if getattr(session, "pca_basis", None) is None:
                    session.pca_basis = fit_pca(reference_states(session))
                self.basis = session.pca_basis
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self.heatmap.set_units(session.hidden_size)
        self.trajectory.set_basis(self.basis)
        self.experiments.on_session(session)
        self.gates.set_model(session.gate_names, session.hidden_size, self.heatmap.window, session.cell)
        self.unit_spin.blockSignals(True)
        self.unit_spin.setMaximum(session.hidden_size - 1)
        self.unit_spin.setValue(-1)
        self.state_combo.blockSignals(True)
        self.state_combo.setEnabled(session.cell == "LSTM")
        self.state_combo.setCurrentIndex(0)
        self.state_combo.blockSignals(False)
        self.unit_state = "h"
        self.unit_spin.blockSignals(False)
        text_model = session.kind == "text"
        self.predictions.set_title("Next character at the cursor" if text_model else
                                   f"Output at the cursor ({session.task})")
        self.strip.title = "P(actual character), before reading it" if text_model else "P(right answer)"
        same_kind = old is not None and (old.kind, old.task) == (session.kind, session.task)
        if same_kind or (not self.editor.toPlainText() and old is not None):
            self._sync_text()
        else:
            self.load_preset(default_preset(session.task, label or session.name))
        self.model_changed.emit()

    # -- text ----------------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        self.editor.setPlainText(PRESETS[name][0])
        cur = self.editor.textCursor()
        cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
        self.editor.setTextCursor(cur)

    def _on_preset_chosen(self, index: int) -> None:
        if index > 0:
            self.load_preset(self.preset_combo.itemText(index))
            self.preset_combo.setCurrentIndex(0)

    def _on_text_changed(self) -> None:
        self._sync_timer.start()

    def _on_cursor_moved(self, *_: object) -> None:
        if not self._chunk_timer.isActive():
            self._render_timer.start()

    def _sync_text(self) -> None:
        """Hand the editor's text to the session; compute now, or in chunks if it is long."""
        if self.session is None:
            return
        text = self.editor.toPlainText()
        self._pos = PosMap(text)
        self._memory_cache = None
        self.session.set_text(text, compute=False)
        if self.session.pending <= SYNC_STEPS:
            self.session.advance()
            self._chunk_timer.stop()
            self.progress.hide()
            self.render()
        elif not self._chunk_timer.isActive():
            self.progress.setRange(0, self.session.length)
            self.progress.show()
            self._chunk_timer.start()

    def _process_chunk(self) -> None:
        s = self.session
        if s is None or not s.pending:
            self._chunk_timer.stop()
            self.progress.hide()
            self.render()
            return
        t0 = time.perf_counter()
        done = s.advance(self._chunk_steps)
        dt = max(time.perf_counter() - t0, 1e-4)
        self._chunk_steps = int(np.clip(min(done * CHUNK_SECONDS / dt, 2 * done), 50, 4096))  # issue 16
        self.progress.setRange(0, s.length)
        self.progress.setValue(s.n_done)
        self.processing.emit(s.n_done, s.length)

    def hidden_states(self) -> np.ndarray:
        """(T, H) float32 hidden states of the editor's current text (computed now if needed)."""
        if self.session is None:
            return np.zeros((0, 0), np.float32)
        if self.session.text != self.editor.toPlainText():
            self.session.set_text(self.editor.toPlainText(), compute=False)
        return self.session.hidden_states()

    def unit_states(self) -> dict[str, np.ndarray]:
        """{"h": (T, H)} and, for an LSTM, {"c": tanh of the cell state (T, H)}: what units are read from."""
        states = {"h": self.hidden_states()}
        cells = self.session.cell_states() if self.session is not None else None
        if cells is not None:
            states["c"] = np.tanh(cells)
        return states

    def cursor_index(self) -> int:
        """The cursor as a character index into the text (0..T)."""
        return self._pos.to_char(self.editor.textCursor().position())

    def move_cursor(self, index: int) -> None:
        cur = self.editor.textCursor()
        cur.setPosition(self._pos.to_doc(index))
        self.editor.setTextCursor(cur)

    # -- units ---------------------------------------------------------------------------
    def select_unit(self, unit: int | None, state: str | None = None) -> None:
        """Select a unit (None: none) of the hidden state "h" or, for an LSTM, the cell state "c"."""
        if self.session is None:
            return
        if state is not None:
            self.unit_state = state if (state == "h" or self.session.cell == "LSTM") else "h"
            self.state_combo.blockSignals(True)
            self.state_combo.setCurrentIndex(self.state_combo.findData(self.unit_state))
            self.state_combo.blockSignals(False)
        self.unit = None if unit is None else int(np.clip(unit, 0, self.session.hidden_size - 1))
        self.unit_spin.blockSignals(True)
        self.unit_spin.setValue(-1 if self.unit is None else self.unit)
        self.unit_spin.blockSignals(False)
        if self.unit is not None and self.colour_combo.currentText() == "nothing":
            self.colour_combo.setCurrentIndex(0)
        self._render_timer.start()

    def _on_cell_clicked(self, t: int, unit: int) -> None:
        self.select_unit(unit)
        self.move_cursor(t + 1)

    def find_unit(self) -> None:
        """Rank units by |r| with the chosen signal over the current text and select the best."""
        if self.session is None:
            return
        name = self.finder_combo.currentText()
        what = self.regex_edit.text() if name == REGEX else name
        if not what:
            self._say("Type a regular expression first.")
            return
        text = self.editor.toPlainText()
        try:
            ranked = rank_states(self.unit_states(), signal(text, what), top=5)
        except SignalError as exc:
            self._say(str(exc))
            return
        best = ranked[0]
        others = ", ".join(f"{s.name} ({s.r:+.2f})" for s in ranked[1:])
        self._say(f"Best unit for “{what}”: <b>{best.name}</b> (r = {best.r:+.2f}); next: {others}")
        self.last_ranking = ranked
        self.select_unit(best.unit, best.state)
        self.colour_combo.setCurrentIndex(0)

    # -- rendering -----------------------------------------------------------------------
    def render(self) -> None:
        """Feed every panel from the session for the current text and cursor."""
        self._render_timer.stop()                  # this frame covers any render already queued
        s = self.session
        if s is None or s.pending or self._sync_timer.isActive():
            return                                 # the text sync renders when it is done
        text, n = s.text, s.length
        c = min(self.cursor_index(), n)
        step = c - 1
        start, stop, view = time_window(step, n, self.heatmap.window)
        chars = text[start:stop]
        self.heatmap.show_states(s.hidden_states(start, stop), start, step, self.unit, chars, view)
        if s.gate_names:
            self.gates.show_gates(s.gates(start, stop), start, step, self.unit, view)
        t0 = max(0, step - TRAIL + 1)
        self.trajectory.show_path(s.hidden_states(t0, step + 1), text[t0:step + 1], first=t0)
        self.predictions.show_top(s.top_k(c, 5) if n else [], self._actual_at(c))
        self._render_strip(c)
        self._render_unrolled(step)
        memory = self._render_memory(c)
        self._colour_text(memory)
        self.frames += 1
        self.rendered.emit()

    def _actual_at(self, c: int) -> int | None:
        """The right answer for the prediction at cursor c: the next character, or the true class."""
        s = self.session
        if s.kind == "text":
            return int(s.ids[c]) if c < s.length and s.ids[c] >= 0 else None
        y = s.targets()
        return int(y[c - 1]) if y is not None and 0 < c <= s.length else None

    def _render_strip(self, c: int) -> None:
        s = self.session
        cap = self.strip.capacity()
        a = max(0, min(c - (2 * cap) // 3, s.length - cap))
        b = min(s.length, a + cap)
        self.strip.set_cells(s.text[a:b], s.actual_probs(a, b), c - 1 - a, s.unknown_mask()[a:b])

    def _render_unrolled(self, step: int) -> None:
        s = self.session
        views: list[StepView | None] = []
        for t in (step - 1, step, step + 1):
            if 0 <= t < s.length and s.ids[t] >= 0:
                x = s._embed(s.ids[t:t + 1])[0, 0]
                p = s.output_probs(t, t + 1)[0]
                top = [(s.labels[i], float(p[i])) for i in np.argsort(-p)[:3]]
                views.append(StepView(t, s.text[t], x, s.hidden_states(t, t + 1)[0], top))
            else:
                views.append(None)
        self.unrolled.show_steps(views, self.unit, s.cell)

    def _render_memory(self, c: int) -> object:
        s = self.session
        key = (s, s.text, c)            # the session itself, not id(): ids are reused
        if self._memory_cache is None or self._memory_cache[0] != key:
            self._memory_cache = (key, s.memory(c, window=60) if c > 0 else None)
        m = self._memory_cache[1]
        if m is None:
            self.memory_panel.show_memory(0, None, "", "", False)
        else:
            self.memory_panel.show_memory(m.start, m.weights, s.text[m.start:m.start + len(m.weights)],
                                          m.label, m.actual, "next char" if s.kind == "text" else "class")
        return m

    def _colour_text(self, memory: object) -> None:
        s, mode = self.session, self.colour_combo.currentText()
        values, offset = None, 0
        if mode == "selected unit" and self.unit is not None and s.length:
            lo, hi = self.colourer.visible_range()
            states = (np.tanh(s.cell_states(lo, min(hi, s.length))) if self.unit_state == "c"
                      else s.hidden_states(lo, min(hi, s.length)))
            values, offset = states[:, self.unit], lo
        elif mode.startswith("memory") and memory is not None:
            w = memory.weights  # type: ignore[attr-defined]
            values, offset = np.sqrt(w / max(float(w.max()), 1e-30)), memory.start  # type: ignore[attr-defined]
        elif mode.startswith("surprise") and s.length:
            lo, hi = self.colourer.visible_range()
            values, offset = 2.0 * s.actual_probs(lo, min(hi, s.length)) - 1.0, lo
        if mode.startswith("memory"):
            self.colourer.set_palette((235, 140, 0), (235, 140, 0))
        else:
            self.colourer.set_palette((20, 170, 60), (220, 40, 40))
        self.colourer.apply(values, s.unknown_mask(), offset, self._pos)

    # -- settings & teardown -------------------------------------------------------------
    def _save(self, key: str, value: object) -> None:
        if self._settings is not None:
            self._settings.setValue(key, value)

    def _restore(self) -> None:
        wanted = self._settings.value("sequence/model") if self._settings is not None else None
        index = max(self.model_combo.findText(str(wanted)), 0) if wanted else 0
        if self.model_combo.count():
            self.model_combo.blockSignals(True)
            self.model_combo.setCurrentIndex(index)
            self.model_combo.blockSignals(False)
            self.load_model(index)
        self.restore_settings()

    # -- Lab protocol (explorer.ui.lab_protocol) ----------------------------------------
    def _say(self, text: str) -> None:
        """Show a message under the finder and in the window's status bar (tags stripped)."""
        self.status_label.setText(text)
        self.status.emit(QtGui.QTextDocumentFragment.fromHtml(text).toPlainText())

    def model_label(self) -> str:
        s = self.session
        if s is None:
            return "sequence model: none"
        name = getattr(self, "_model_name", "") or s.name
        size = f"{s.hidden_size} units" if s.cell in name else f"{s.cell}, {s.hidden_size} units"
        return f"sequence model: <b>{name}</b> · {size}"

    def save_settings(self, s: QtCore.QSettings | None = None) -> None:
        """Splitter sizes (the model is saved when picked)."""
        s = s if s is not None else self._settings
        if s is None:
            return
        for name, sp in self._splitters.items():
            s.setValue(f"sequence/splitter_{name}", sp.saveState())

    def restore_settings(self, s: QtCore.QSettings | None = None) -> None:
        """Splitter sizes; the model and text are restored when the lab is built."""
        s = s if s is not None else self._settings
        if s is None:
            return
        for name, sp in self._splitters.items():
            state = s.value(f"sequence/splitter_{name}")
            if isinstance(state, QtCore.QByteArray):
                sp.restoreState(state)

    def shutdown(self) -> None:
        """Stop every timer (no timer is left running after close)."""
        for timer in (self._sync_timer, self._render_timer, self._chunk_timer):
            timer.stop()
        self.experiments.shutdown()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

"""The Sequence Lab's model menu: the picker's entries, opening a model, showing a session.

The model reaches the panels only through the session: ``show_session`` adopts a session,
asks it for its frozen PCA basis (the session owns that policy), sets the panels' fixed
parts (units, gate names, titles) and subscribes the lab to the session's model changes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from explorer.session.sequence import SequenceSession, random_model
from explorer.session.sequence_catalogue import open_session, shipped_models
from explorer.session.sequence_view import ATTENTION_MODE

if TYPE_CHECKING:
    from explorer.ui.sequence.lab import SequenceLab

UNTRAINED_NOTICE = ("No trained sequence model found in resources/models — this is an UNTRAINED {cell} with "
                    "random weights. Train one with 'cnn-rnn-explorer train text --corpus code --cell lstm "
                    "--out …'.")


def fill(lab: SequenceLab) -> None:
    """The shipped models (or untrained ones when none is shipped) into the picker."""
    entries = shipped_models()
    lab._untrained = not entries
    if not entries:
        entries = [(f"Untrained {c} (random weights)", c) for c in ("LSTM", "GRU", "RNN")]
    lab.model_combo.blockSignals(True)
    for label, path in entries:
        lab.model_combo.addItem(label, path)
    lab.model_combo.blockSignals(False)
    fit_names(lab.model_combo, [label for label, _ in entries])


def fit_names(combo: QtWidgets.QComboBox, names: list[str]) -> None:
    """At least as wide as the longest of `names` (the shipped models'), e.g. 'Toy: long-range
    recall · transformer' at 1024×640; a longer file name added later is cut (its tooltip says it)."""
    opt = QtWidgets.QStyleOptionComboBox()
    combo.initStyleOption(opt)
    fm = combo.fontMetrics()
    text = QtCore.QSize(max((fm.horizontalAdvance(n) for n in names), default=0) + 6, fm.height())
    combo.setMinimumWidth(combo.style().sizeFromContents(
        QtWidgets.QStyle.ContentsType.CT_ComboBox, opt, text, combo).width())


def load(lab: SequenceLab, index: int) -> None:
    """Open model `index` of the picker (a broken file: say so, keep the current model). The
    first model makes the lab's session; later ones go through ``session.set_model``."""
    from explorer.engine.io import load_model
    source, label = lab.model_combo.itemData(index), lab.model_combo.itemText(index)
    try:
        model = random_model(source, hidden=64, seed=0) if lab._untrained else load_model(source)
        name = f"untrained {source}" if lab._untrained else str(source)
        session = open_session(model, name=name)  # a model the lab cannot show: said before any change
    except Exception as exc:                       # noqa: BLE001 - a broken file: say so, keep going
        lab.say(f"Cannot open {label}: {exc}")
        return
    key = f"{source}:{session.hidden_size}:{session.cell}"
    if lab.session is None or type(lab.session) is not type(session):   # another family: a new session
        lab.use_session(session, key=key, label=label)
    else:
        lab._model_label = label
        lab.session.set_model(model, name=name, basis_key=key)     # the lab hears it as a listener
    lab._save("sequence/model", label)


def open_file(lab: SequenceLab, path: str, label: str | None = None) -> None:
    """Add a model file to the picker (e.g. one you trained) and show it."""
    lab._untrained = False
    lab.model_combo.addItem(label or f"File: {os.path.basename(path)}", path)
    lab.model_combo.setCurrentIndex(lab.model_combo.count() - 1)


def show_session(lab: SequenceLab, session: SequenceSession, key: str | None) -> SequenceSession | None:
    """Adopt `session`: basis, panels' fixed parts, listener. Returns the session shown before."""
    lab._chunk_timer.stop()
    old = lab.session
    if old is not None and lab._on_model_set in old.listeners:
        old.listeners.remove(lab._on_model_set)
    lab.session, lab.unit = session, None
    if key is not None:
        session.basis_key = key
    if lab._on_model_set not in session.listeners:
        session.listeners.add(lab._on_model_set)
    apply_model(lab, session)
    return old


def apply_model(lab: SequenceLab, session: SequenceSession) -> None:
    """The panels' fixed parts for the session's (new) model."""
    lab.notice.setVisible(bool(session.model.meta.get("untrained")))
    lab.notice.setText(UNTRAINED_NOTICE.format(cell=session.cell))
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        lab.basis = session.trajectory_basis()          # fitted once, frozen: the session's policy
        session.row_order()                             # the heat map's row order: once per model
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()
    lab.heatmap.set_units(session.hidden_size)
    if session.rec is None:
        lab.heatmap.set_scale(session.state_level, "Residual stream after the last layer — dimensions × time",
                              "residual value", "dimension")
    else:
        lab.heatmap.set_scale(1.0, "Hidden state h(t) — units × time", "activation h")
    lab.trajectory.set_basis(lab.basis)
    lab.experiments.on_session(session)
    lab.gates.set_model(session.gate_names, session.hidden_size, lab.heatmap.window, session.cell)
    show_attention(lab, session)
    lab.unit = None
    lab.unit_spin.blockSignals(True)
    lab.unit_spin.setMaximum(session.hidden_size - 1)
    lab.unit_spin.setValue(-1)
    lab.unit_spin.blockSignals(False)
    lab.state_combo.blockSignals(True)
    lab.state_combo.setEnabled(session.cell == "LSTM")
    lab.state_combo.setCurrentIndex(0)
    lab.state_combo.blockSignals(False)
    lab.unit_state = "h"
    text_model = session.kind == "text"
    lab.predictions.set_title("Next character at the cursor" if text_model else
                              f"Output at the cursor ({session.task})")
    lab.strip.title = "P(actual character), before reading it" if text_model else "P(right answer)"
    lab.model_combo.setToolTip(session.description())
    lab._shown = (session.kind, session.task)


def show_attention(lab: SequenceLab, session: SequenceSession) -> None:
    """A transformer has no gates and is not unrolled through a state: its attention panel takes
    the place of both, and the text can be coloured by a head. A recurrent model: the reverse."""
    attention = session.rec is None
    lab.fold.set_panels_visible({lab.gates: not attention, lab.unrolled: not attention, lab.attention: attention})
    combo = lab.colour_combo
    at = combo.findText(ATTENTION_MODE)
    combo.blockSignals(True)
    if attention:
        layers, heads, context = (int(getattr(session, k)) for k in ("n_layers", "n_heads", "context"))
        lab.attention.set_model(layers, heads, context)
        if at < 0:
            combo.addItem(ATTENTION_MODE)
    elif at >= 0:
        if combo.currentIndex() == at:
            combo.setCurrentIndex(combo.findText("nothing"))
        combo.removeItem(at)
    combo.blockSignals(False)

"""The window's view as a Lesson and back: what a session file (``.cre``) holds.

``capture(window) -> Lesson`` gathers the drawing, the sequence text and cursor, the models
in use (embedded) and each lab's selections and settings. ``prepare(lesson, tmp)`` builds and
checks every object a lesson needs (every field was checked against
``explorer.session.schema`` when read; here the selection and unit against the models
inside) *before* the window changes; ``apply(window, prepared)`` then shows it. Reading and
writing the file, asking the user and keeping their work are explorer.ui.shell.lessons'.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.engine import Model
from explorer.errors import ExplorerError
from explorer.session.lessonfile import Lesson, LessonFileError, model_bytes, model_from_bytes
from explorer.session.sequence import SequenceSession


# -- capture ------------------------------------------------------------------------------
def capture(window: Any) -> Lesson:
    """The window's current view as a Lesson (no disk access besides temporary files)."""
    dl, seq, cmp = window.digit_lab, window.sequence_lab, getattr(window, "compare_lab", None)
    state: dict[str, Any] = {"window": {"tab": window.tabs.currentIndex()}}
    selection = None
    if dl.selection is not None:
        stage, ch, row, col = dl.selection
        selection = {"layer": int(stage.index), "channel": int(ch), "row": int(row), "col": int(col)}
    state["digits"] = {"scope": dl.scope, "pen_width": float(dl.canvas.pen_width),
                       "saliency": dl.saliency_action.isChecked(), "winners": dl.winners_action.isChecked(),
                       "selection": selection, "pen_model": str(dl.pen_source), "pen_target": dl.pen.target,
                       "pen_page": dl.middle_tabs.currentIndex() == 1}
    models = {"digit": model_bytes(dl.session.model), "pen": model_bytes(dl.pen.model)}
    if seq is not None and seq.session is not None:
        state["sequence"] = {"model_label": seq.model_combo.currentText(), "text": seq.editor.toPlainText(),
                             "cursor": seq.cursor_index(), "unit": seq.unit, "unit_state": seq.unit_state,
                             "colour": seq.colour_combo.currentText()}
        models["sequence"] = model_bytes(seq.session.model)
    if cmp is not None:
        duel = cmp.duel
        state["compare"] = {"tab": cmp.tabs.currentIndex(), "task": str(duel.task.currentData()),
                            "distance": duel.distance.value(), "steps": duel.steps.value(), "seed": 0}
    train = getattr(window, "train_lab", None)
    if train is not None:
        import dataclasses
        state["train"] = dataclasses.asdict(train.config())
    with tempfile.TemporaryDirectory(prefix="cre-") as tmp:
        drawing = Path(tmp) / "drawing.npz"
        dl.session.save(drawing)
        data = drawing.read_bytes()
    return Lesson(state=state, models=models, drawing=data)


# -- restore ------------------------------------------------------------------------------
def same_model(a: Any, b: Any) -> bool:
    """Same layers and exactly the same parameters."""
    if a.arch()["layers"] != b.arch()["layers"]:
        return False
    pa, pb = a.parameters(), b.parameters()
    return pa.keys() == pb.keys() and all(np.array_equal(pa[k], pb[k]) for k in pa)


@dataclass
class Prepared:
    """Everything a lesson needs, built and checked before the window changes."""

    lesson: Lesson
    digit_model: Model
    drawing: Any                     # DrawingState | None
    sequence_session: SequenceSession | None
    train_config: Any = None
    pen_model: Model | None = None          # the Digit Lab's pen RNN (older sessions have none)


def _check_selection(sel: Any, digit: Model) -> None:
    """digits.selection must name a map cell of this model (the schema checked the types)."""
    from explorer.session.digits import stages_of
    if not isinstance(sel, dict):
        return
    stage = next((st for st in stages_of(digit) if st.index == sel.get("layer")), None)
    if stage is None or len(stage.shape) != 3:
        raise LessonFileError(f"'digits.selection.layer' {sel.get('layer')} is not a map layer of the digit model")
    for key, size in zip(("channel", "row", "col"), stage.shape):
        value = int(sel.get(key, 0))
        if value >= size:
            raise LessonFileError(f"'digits.selection.{key}' is {value}, but {stage.name} has {size}")


def _check_sequence(seq: SequenceSession | None, s: dict[str, Any]) -> None:
    if "cursor" in s and s["cursor"] > len(s.get("text", "")):
        raise LessonFileError(f"'sequence.cursor' is {s['cursor']}, past the end of the text "
                              f"({len(s.get('text', ''))} characters)")
    unit = s.get("unit")
    if seq is not None and unit is not None and unit >= seq.hidden_size:
        raise LessonFileError(f"'sequence.unit' is {unit}, but the sequence model has {seq.hidden_size} units")


def prepare(lesson: Lesson, tmp: Path) -> Prepared:
    """Build the models, the sequence session and a checked drawing; LessonFileError if unfit."""
    from explorer.session.sequence_catalogue import open_session
    if "digit" not in lesson.models:
        raise LessonFileError("the session holds no digit model")
    digit = model_from_bytes(lesson.models["digit"], "digit model")
    try:
        out = digit.predict(np.zeros((1, 1, 28, 28), np.float32))
    except (ValueError, ExplorerError) as exc:
        raise LessonFileError(f"the digit model cannot read a 28×28 drawing ({exc})") from None
    if out.shape != (1, 10):
        raise LessonFileError(f"the digit model gives {out.shape[1:]} outputs, not 10")
    _check_selection(lesson.section("digits").get("selection"), digit)
    drawing = None
    if lesson.drawing is not None:
        from explorer.session.drawing import load_drawing
        (tmp / "drawing.npz").write_bytes(lesson.drawing)
        try:
            drawing = load_drawing(tmp / "drawing.npz")
        except ValueError as exc:
            raise LessonFileError(f"the drawing inside is unusable: {exc}") from None
    seq = None
    if "sequence" in lesson.models:
        try:
            seq = open_session(model_from_bytes(lesson.models["sequence"], "sequence model"),
                             name=lesson.section("sequence").get("model_label", "session"))
        except ExplorerError as exc:
            raise LessonFileError(str(exc)) from None
    _check_sequence(seq, lesson.section("sequence"))
    train = None
    if lesson.section("train"):
        import dataclasses

        from explorer.session.train import TrainConfig
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        try:
            train = TrainConfig(**{k: v for k, v in lesson.section("train").items() if k in names}).checked()
        except (ExplorerError, TypeError, ValueError) as exc:
            raise LessonFileError(f"the Train lab settings are unusable: {exc}") from None
    pen = None
    if "pen" in lesson.models:
        from explorer.session.pen_reader import NotAPenModel, check_pen_model
        pen = model_from_bytes(lesson.models["pen"], "pen model")
        try:
            check_pen_model(pen)
        except NotAPenModel as exc:
            raise LessonFileError(f"the pen model cannot read the pen ({exc})") from None
    return Prepared(lesson, digit, drawing, seq, train, pen)


def apply(window: Any, p: Prepared) -> None:
    """Show a prepared lesson: models first, then the inputs, then the selections."""
    _apply_digits(window, p)
    if window.sequence_lab is not None and p.sequence_session is not None:
        _apply_sequence(window.sequence_lab, p.sequence_session, p.lesson.section("sequence"))
    cmp = getattr(window, "compare_lab", None)
    if cmp is not None:
        _apply_compare(cmp, p.lesson.section("compare"))
    train = getattr(window, "train_lab", None)
    if train is not None and p.train_config is not None and not train.running():
        train.set_config(p.train_config)
    tab = p.lesson.section("window").get("tab", 0)
    if 0 <= tab < window.tabs.count():
        window.tabs.setCurrentIndex(tab)


def _apply_digits(window: Any, p: Prepared) -> None:
    lab, s = window.digit_lab, p.lesson.section("digits")
    if not same_model(lab.session.model, p.digit_model):
        lab.set_model(p.digit_model)
    if p.drawing is not None:
        lab.session.set_drawing(p.drawing)               # one undo step
    else:
        lab.session.clear()
    if p.pen_model is not None and not same_model(lab.pen.model, p.pen_model):
        from explorer.session.pen_reader import SHIPPED, load_pen_model
        source = str(s.get("pen_model", "pen model"))
        shipped = load_pen_model(source)[0] if source in SHIPPED else None
        if shipped is not None and same_model(shipped, p.pen_model):       # the picker's own entry
            lab.set_pen_model(shipped, source, source)
        else:
            lab.set_pen_model(p.pen_model, f"from the session: {Path(source).name}", f"session:{source}")
    if "pen_target" in s:
        lab.set_pen_target(s["pen_target"] if isinstance(s["pen_target"], int) and 0 <= s["pen_target"] <= 9 else None)
    if "pen_page" in s:
        lab.middle_tabs.setCurrentIndex(1 if s["pen_page"] else 0)
    if "pen_width" in s:
        lab.set_pen_width(float(s["pen_width"]))
    lab.saliency_action.setChecked(bool(s.get("saliency", False)))
    lab.winners_action.setChecked(bool(s.get("winners", False)))
    lab.set_scope(s.get("scope", lab.scope))            # also re-renders
    lab.selection = None
    sel = s.get("selection")
    if isinstance(sel, dict):
        stage = next((st for st in lab.session.stages if st.index == sel.get("layer")), None)
        if stage is not None:
            lab.inspect(stage, int(sel.get("channel", 0)), int(sel.get("row", 0)), int(sel.get("col", 0)))
    lab.refresh_now()


def _apply_sequence(seq: Any, session: Any, s: dict[str, Any]) -> None:
    label = s.get("model_label", "")
    current = seq.session
    if current is None or not same_model(current.model, session.model):
        index = seq.model_combo.findText(label) if label else -1
        shipped = None
        source = seq.model_combo.itemData(index) if index >= 0 else None
        if isinstance(source, (str, Path)) and Path(source).is_file():    # a shipped file, not an untrained family
            try:
                from explorer.engine import load_model
                shipped = load_model(source)
            except (ExplorerError, OSError):
                shipped = None
        if shipped is not None and same_model(shipped, session.model):
            seq.model_combo.blockSignals(True)          # the picker's own model: same PCA basis
            seq.model_combo.setCurrentIndex(index)
            seq.model_combo.blockSignals(False)
            seq.load_model(index)
        else:
            seq.use_session(session, key=None, label=f"from the session: {label}")
    colour = seq.colour_combo.findText(s.get("colour", ""))
    if colour >= 0:
        seq.colour_combo.setCurrentIndex(colour)
    # one undoable edit; a long text streams in like a paste, the cursor and unit follow it
    seq.replace_text(s.get("text", ""), int(s.get("cursor", 0)), s.get("unit"), s.get("unit_state", "h"))


def _apply_compare(cmp: Any, s: dict[str, Any]) -> None:
    duel = cmp.duel
    task = duel.task.findData(s.get("task"))
    if task >= 0:
        duel.task.setCurrentIndex(task)
    if "distance" in s:
        duel.distance.setValue(int(s["distance"]))
    if "steps" in s:
        duel.steps.setValue(int(s["steps"]))
    tab = int(s.get("tab", cmp.tabs.currentIndex()))
    if 0 <= tab < cmp.tabs.count():
        cmp.tabs.setCurrentIndex(tab)

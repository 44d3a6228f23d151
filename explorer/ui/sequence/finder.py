"""The Sequence Lab's unit finder: rank units by |r| with a signal over the text, select the best."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.analysis.units import SignalError, rank_states, signal
from explorer.ui.sequence.controls import REGEX

if TYPE_CHECKING:
    from explorer.ui.sequence.lab import SequenceLab


def signal_name(lab: SequenceLab) -> str | None:
    """The finder's signal: a built-in name or the regular expression (None: none typed)."""
    name = lab.finder_combo.currentText()
    return (lab.regex_edit.text() or None) if name == REGEX else name


def find_unit(lab: SequenceLab) -> None:
    """Rank h (and, for an LSTM, tanh c) units by |r| with the chosen signal; select the best."""
    if lab.session is None:
        return
    name = lab.finder_combo.currentText()
    what = lab.regex_edit.text() if name == REGEX else name
    if not what:
        lab.say("Type a regular expression first.")
        return
    try:
        ranked = rank_states(lab.unit_states(), signal(lab.editor.toPlainText(), what), top=5)
    except SignalError as exc:
        lab.say(str(exc))
        return
    best = ranked[0]
    others = ", ".join(f"{s.name} ({s.r:+.2f})" for s in ranked[1:])
    lab.say(f"Best unit for “{what}”: <b>{best.name}</b> (r = {best.r:+.2f}); next: {others}")
    lab.last_ranking = ranked
    lab.select_unit(best.unit, best.state)
    lab.colour_combo.setCurrentIndex(0)

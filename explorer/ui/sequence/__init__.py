"""The Sequence Lab: type a sequence and watch the hidden state of an RNN / LSTM / GRU move.

``SequenceLab`` (lab.py) is the tab; every panel lives in its own module and only draws
the ``SequenceView`` that ``sequence_view.build_view`` makes for the lab. ``SequenceLab`` is
imported on first use, so ``python -m explorer.ui.sequence.heatmap`` runs one panel alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from explorer.ui.sequence.lab import SequenceLab

__all__ = ["SequenceLab"]


def __getattr__(name: str) -> Any:
    if name == "SequenceLab":
        from explorer.ui.sequence.lab import SequenceLab
        return SequenceLab
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

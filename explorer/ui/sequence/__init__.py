"""The Sequence Lab: type a sequence and watch the hidden state of an RNN / LSTM / GRU move.

``SequenceLab`` (lab.py) is the tab; every panel lives in its own module and only
draws arrays that ``explorer.session.sequence.SequenceSession`` hands it.
"""

from explorer.ui.sequence.lab import SequenceLab

__all__ = ["SequenceLab"]

"""The Sequence Lab's model catalogue and its one door: ``open_session`` opens a model of any
family (a transformer gets a ``TransformerSession``, a recurrent model a ``SequenceSession``).
Qt-free.
"""

from __future__ import annotations

from explorer.engine.model import Model
from explorer.session.sequence import SequenceSession, is_transformer
from explorer.session.sequence_transformer import TransformerSession


def open_session(model: Model, name: str = "model") -> SequenceSession:
    """A session on `model`: its family's class (SequenceModelError if no family reads it)."""
    if is_transformer(model):
        return TransformerSession(model, name)
    return SequenceSession(model, name)


#: shipped file -> label in the model picker, in picker order
SHIPPED: dict[str, str] = {
    "code_lstm.npz": "Python code · LSTM", "code_gru.npz": "Python code · GRU",
    "code_rnn.npz": "Python code · RNN", "code_transformer.npz": "Python code · transformer",
    "prose_lstm.npz": "English prose · LSTM",
    "task_parity.npz": "Toy: parity of bits", "task_depth.npz": "Toy: bracket depth",
    "task_anbn.npz": "Toy: aⁿbⁿ counting", "task_recall.npz": "Toy: long-range recall",
    "task_motif.npz": "Toy: local motif",
    "task_recall_transformer.npz": "Toy: long-range recall · transformer",
    "task_motif_transformer.npz": "Toy: local motif · transformer",
    "task_depth_transformer.npz": "Toy: bracket depth · transformer",
}


def shipped_models() -> list[tuple[str, str]]:
    """[(label, path)] of the shipped sequence models that exist on disk, in picker order."""
    from explorer.paths import model_path
    return [(label, str(model_path(f))) for f, label in SHIPPED.items() if model_path(f).is_file()]


def load_session(path: str) -> SequenceSession:
    """A session on the model file at `path` (ModelFileError / SequenceModelError if unusable)."""
    from explorer.engine.io import load_model
    model = load_model(path)
    return open_session(model, name=path)

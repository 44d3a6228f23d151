"""Open model: which lab can use a model file, or a plain sentence saying why none can.

- a digit CNN (reads a (1, 28, 28) image, gives 10 scores) -> the Digit Lab;
- a row-RNN for digits (reads 28 rows of 28 pixels) -> Compare › Digits three ways;
- a pen model (an LSTM or GRU reading pen steps, meta ``input: "pen"``) -> the Digit Lab's pen RNN;
- a text or toy-language model (first layer Embedding) -> the Sequence Lab.
"""

from __future__ import annotations

from explorer.engine import Model
from explorer.errors import ExplorerError


class NoLabForModel(ExplorerError, ValueError):
    """A valid model file that no lab can show; one sentence."""


def route_model(model: Model) -> str:
    """-> "digits-cnn", "digits-rowrnn", "digits-pen" or "sequence"; NoLabForModel otherwise."""
    layers = list(getattr(model, "layers", []))
    if not layers:
        raise NoLabForModel("this model has no layers")
    from explorer.data.pen import is_pen_model
    if is_pen_model(model):
        from explorer.session.pen_reader import NotAPenModel, check_pen_model
        try:
            check_pen_model(model)
        except NotAPenModel as exc:
            raise NoLabForModel(f"this is a pen model but the Digit Lab cannot read with it: {exc}") from None
        return "digits-pen"
    if layers[0].type_name == "Embedding":
        from explorer.session.sequence_catalogue import open_session
        try:
            open_session(model)
        except Exception as exc:  # noqa: BLE001 - a reason for the user, never a crash
            raise NoLabForModel(f"this is a sequence model (it reads characters) but the Sequence Lab "
                                f"cannot show it: {exc}") from None
        return "sequence"
    from explorer.training.digits import NotADigitModel, digit_arch
    try:
        arch = digit_arch(model)
    except NotADigitModel as exc:
        raise NoLabForModel(f"this model {exc}; the Digit Lab needs 28×28 images in and 10 scores out, "
                            "the Sequence Lab a first Embedding layer reading characters") from None
    return "digits-rowrnn" if arch == "rowrnn" else "digits-cnn"

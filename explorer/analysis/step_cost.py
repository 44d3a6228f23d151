"""The cost of reading one more symbol, in multiply-adds, as the sequence so far grows.

An RNN updates a state of fixed size: one step costs the same at position 10 and at position
10,000. A causal CNN computes one more output per layer over its fixed window: constant too.
A transformer's new position compares its query with the keys of every earlier position it
can see (and mixes their values): 2·D multiply-adds per earlier position and layer, so one
more step grows with the length — until the context is full (the model sees only its last
``max_len`` positions). Counted from the architecture, so the numbers are exact and the same
on every machine; LayerNorm, softmax and activations (a few per value) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from explorer.engine.attention import TransformerEncoderLayer
from explorer.engine.conv import Conv1d
from explorer.engine.dense import Linear
from explorer.engine.layer import Layer
from explorer.engine.model import Model
from explorer.engine.norm import LearnedPositions
from explorer.engine.recurrent import RecurrentLayer

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def context_of(layers: Sequence[Layer]) -> int | None:
    """The context length of a transformer (its learned positions), None for other models."""
    for layer in layers:
        if isinstance(layer, LearnedPositions):
            return int(layer.max_len)
    return None


def macs_per_step(model: Model, length: int, windowed: bool = True) -> int:
    """Multiply-adds to read one more symbol when ``length`` symbols came before it.
    ``windowed=False``: as if the transformer's context were unlimited (how attention grows)."""
    ctx = context_of(model.layers) if windowed else None
    seen = length + 1 if ctx is None else min(length + 1, ctx)       # keys the new query compares with
    total = 0
    for layer in model.layers:
        if isinstance(layer, Linear):
            total += layer.in_features * layer.out_features
        elif isinstance(layer, Conv1d):
            total += layer.in_channels * layer.out_channels * layer.kernel_size
        elif isinstance(layer, RecurrentLayer):
            h = int(layer.hidden_size)
            total += GATES[layer.type_name] * h * (int(layer.input_size) + h)
        elif isinstance(layer, TransformerEncoderLayer):
            d, f = layer.d_model, layer.dim_feedforward
            total += 4 * d * d + 2 * d * f + 2 * seen * d    # q, k, v, out; feed-forward; scores and mix
    return total


def cost_curve(model: Model, lengths: Sequence[int], windowed: bool = True) -> list[int]:
    """``macs_per_step`` at each length."""
    return [macs_per_step(model, n, windowed) for n in lengths]

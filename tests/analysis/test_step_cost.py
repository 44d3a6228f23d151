"""The cost of one more symbol: constant for an RNN and a CNN, growing for attention until its context."""

from explorer.analysis.step_cost import cost_curve, macs_per_step
from explorer.session.sequence import random_model
from explorer.session.sequence_transformer import random_transformer


def test_an_lstm_step_costs_the_same_at_any_length():
    m = random_model("LSTM", hidden=16, embed=8)
    costs = cost_curve(m, [1, 10, 1000])
    assert len(set(costs)) == 1
    assert costs[0] == 4 * 16 * (8 + 16) + 16 * m.layers[-1].out_features   # gates + head


def test_attention_grows_with_the_length_until_the_context_is_full():
    m = random_transformer(d_model=16, nhead=2, layers=2, context=32)
    d, f = 16, 32
    fixed = 2 * (4 * d * d + 2 * d * f) + d * m.layers[-1].out_features
    assert macs_per_step(m, 0) == fixed + 2 * (2 * 1 * d)
    assert macs_per_step(m, 9) == fixed + 2 * (2 * 10 * d)
    assert macs_per_step(m, 31) == macs_per_step(m, 500) == fixed + 2 * (2 * 32 * d)   # the window is full
    assert macs_per_step(m, 500, windowed=False) == fixed + 2 * (2 * 501 * d)        # unlimited: it grows

"""Parameter-count formulas: the textbook 288, and agreement with the engine's own layers."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis import params as P
from explorer.engine import GRU, LSTM, RNN, Conv2d, Linear


def n_params(layer) -> int:
    return sum(int(p.size) for p in layer.params.values())


def test_textbook_288():
    assert P.textbook_example() == 288
    rows = {r.network: r for r in P.compare_counts(P.Sizes(28, 28, 1, 32, 3))}
    cnn = rows["CNN"]
    assert cnn.weights == 288 and cnn.biases == 32 and cnn.total == 320
    assert rows["Fully connected"].weights == 28 * 28 * 32
    assert cnn.uses == 26 * 26 and cnn.unshared == 288 * 676


@pytest.mark.parametrize("sizes", [P.Sizes(), P.Sizes(12, 9, 3, 5, 4, "LSTM"),
                                   P.Sizes(7, 7, 2, 3, 2, "GRU")])
def test_formulas_match_the_engine(sizes):
    rng = np.random.default_rng(0)
    fc, cnn, rnn = P.compare_counts(sizes)
    h, w, c, n, k = sizes.height, sizes.width, sizes.channels, sizes.units, sizes.kernel
    assert fc.total == n_params(Linear(h * w * c, n, rng=rng))
    assert cnn.total == n_params(Conv2d(c, n, k, rng=rng))
    cell = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}[sizes.cell]
    assert rnn.total == n_params(cell(w * c, n, rng=rng))


def test_sharing_keeps_counts_small_and_scales_with_image():
    small = {r.network[:3]: r for r in P.compare_counts(P.Sizes(28, 28))}
    big = {r.network[:3]: r for r in P.compare_counts(P.Sizes(56, 56))}
    assert big["CNN"].weights == small["CNN"].weights           # independent of image size
    assert big["Ful"].weights == 4 * small["Ful"].weights       # grows with the pixels
    assert small["CNN"].weights < small["RNN"].weights < small["Ful"].weights
    assert small["RNN"].unshared == 28 * small["RNN"].weights


def test_bad_sizes_say_why():
    with pytest.raises(P.ParamSizeError, match="does not fit"):
        P.compare_counts(P.Sizes(5, 5, 1, 4, 7))
    with pytest.raises(P.ParamSizeError, match="units"):
        P.compare_counts(P.Sizes(units=0))
    with pytest.raises(P.ParamSizeError, match="cell"):
        P.compare_counts(P.Sizes(cell="Transformer"))

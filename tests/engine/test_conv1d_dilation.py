"""Conv1d with dilation: equals the loop reference and PyTorch, and its gradients check."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import Conv1d, Model
from explorer.engine.conv import conv1d_dilated_naive
from explorer.engine.gradcheck import analytic_grads, layer_errors

CASES = [(2, 3, 2, 1, 0, 2, (2, 2, 9)), (3, 2, 3, 2, 1, 3, (1, 3, 14)), (1, 4, 2, 1, 4, 4, (3, 1, 6)),
         (2, 2, 4, 1, 0, 2, (1, 2, 12))]


@pytest.mark.parametrize("c_in,c_out,k,s,p,d,shape", CASES)
def test_dilated_equals_naive(c_in, c_out, k, s, p, d, shape):
    rng = np.random.default_rng(0)
    layer = Conv1d(c_in, c_out, k, stride=s, padding=p, dilation=d, rng=rng).astype(np.float64)
    x = rng.standard_normal(shape)
    want = conv1d_dilated_naive(x, layer.params["weight"], layer.params["bias"], s, p, d)
    np.testing.assert_allclose(layer.forward(x)[0], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c_in,c_out,k,s,p,d,shape", CASES)
def test_dilated_gradients(c_in, c_out, k, s, p, d, shape):
    rng = np.random.default_rng(1)
    layer = Conv1d(c_in, c_out, k, stride=s, padding=p, dilation=d, rng=rng).astype(np.float64)
    x = rng.standard_normal(shape)
    dy = rng.standard_normal(layer.forward(x)[0].shape)
    assert max(layer_errors(layer, x, dy).values()) < 1e-6
    bad = analytic_grads(layer, x, dy)                     # negative control: a wrong gradient
    bad["weight"] = bad["weight"] * 1.01
    assert layer_errors(layer, x, dy, analytic=bad)["weight"] > 1e-4


def test_dilated_matches_torch_and_round_trips_the_arch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.Conv1d(3, 4, 2, dilation=4, padding=1)
    model = Model.from_arch({"format": "cnn-rnn-explorer/model", "version": 1, "layers": [
        {"type": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": 2,
         "dilation": 4, "padding": 1}]})
    model.load_state_dict({f"0.{k}": v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 3, 17)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), ref(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    assert model.arch()["layers"][0]["dilation"] == 4
    assert "dilation" not in Conv1d(1, 1, 2).config()    # undilated files stay as they were

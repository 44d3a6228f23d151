"""Model.backward(input_grad=False): the same parameter gradients, no input gradient (issue 16)."""

import numpy as np

from explorer.engine import Conv2d, Flatten, Linear, MaxPool2d, Model, ReLU, cross_entropy


def test_training_backward_skips_only_the_input_gradient():
    rng = np.random.default_rng(0)
    model = Model([Conv2d(1, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                   Linear(3 * 5 * 4, 10, rng=rng)])
    x = rng.random((4, 1, 11, 9), dtype=np.float32)
    y = rng.integers(0, 10, 4)
    grads = []
    for input_grad in (True, False):
        model.zero_grad()
        _, d = cross_entropy(model.forward(x), y)
        dx = model.backward(d, input_grad=input_grad)
        assert (dx is None) == (not input_grad)
        grads.append({k: v.copy() for k, v in model.gradients().items()})
    assert grads[0].keys() == grads[1].keys()
    for k in grads[0]:
        np.testing.assert_array_equal(grads[0][k], grads[1][k])
    assert np.abs(grads[1]["0.weight"]).sum() > 0          # the first layer's gradient is there

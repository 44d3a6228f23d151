"""PyTorch oracle: a torch.nn.Sequential saved with np.savez loads into the engine and gives
the same outputs, input gradients and parameter gradients (float32, atol 1e-5)."""

import json

import numpy as np
import pytest

from explorer.engine import load_model

torch = pytest.importorskip("torch")
nn = torch.nn
ATOL, RTOL = 1e-5, 1e-4


class TorchGlobalMax(nn.Module):
    """Stand-in for our GlobalMaxPool1d, which PyTorch has no class for."""

    def forward(self, x):
        return x.max(dim=2).values


def run_parity(tmp_path, torch_layers, specs, x, seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(*torch_layers).eval()
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    arch = {"format": "cnn-rnn-explorer/model", "version": 1, "layers": specs, "meta": {}}
    path = tmp_path / "from_torch.npz"
    np.savez(path, arch=np.array(json.dumps(arch)), **state)
    model = load_model(path)

    ints = x.dtype.kind == "i"
    xt = torch.from_numpy(x) if ints else torch.from_numpy(x).requires_grad_(True)
    yt = net(xt)
    y = model.forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.predict(x), y, rtol=RTOL, atol=ATOL)

    dy = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(dy))
    model.zero_grad()
    dx = model.backward(dy)
    if not ints:
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    grads = model.gradients()
    assert set(grads) == set(dict(net.named_parameters()))
    for name, p in net.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=name)
    return model


def _x(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


CASES = {
    "Conv2d": ([nn.Conv2d(2, 3, 3, stride=2, padding=1)],
               [{"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": 3,
                 "stride": 2, "padding": 1}], (2, 2, 7, 8)),
    "Conv2d-rect-nobias": ([nn.Conv2d(1, 2, (2, 3), padding=(1, 0), bias=False)],
                           [{"type": "Conv2d", "in_channels": 1, "out_channels": 2,
                             "kernel_size": [2, 3], "padding": [1, 0], "bias": False}],
                           (2, 1, 5, 6)),
    "Conv1d": ([nn.Conv1d(2, 3, 3, stride=2, padding=1)],
               [{"type": "Conv1d", "in_channels": 2, "out_channels": 3, "kernel_size": 3,
                 "stride": 2, "padding": 1}], (2, 2, 9)),
    "MaxPool2d": ([nn.MaxPool2d(2)], [{"type": "MaxPool2d", "kernel_size": 2}], (2, 3, 7, 6)),
    "MaxPool2d-3s2": ([nn.MaxPool2d(3, stride=2)],
                      [{"type": "MaxPool2d", "kernel_size": 3, "stride": 2}], (2, 2, 9, 8)),
    "MaxPool1d": ([nn.MaxPool1d(3, stride=2)],
                  [{"type": "MaxPool1d", "kernel_size": 3, "stride": 2}], (2, 3, 10)),
    "GlobalMaxPool1d": ([TorchGlobalMax()], [{"type": "GlobalMaxPool1d"}], (2, 3, 7)),
    "ReLU": ([nn.ReLU()], [{"type": "ReLU"}], (3, 4, 5)),
    "Tanh": ([nn.Tanh()], [{"type": "Tanh"}], (3, 4, 5)),
    "Sigmoid": ([nn.Sigmoid()], [{"type": "Sigmoid"}], (3, 4, 5)),
    "Flatten-Linear": ([nn.Flatten(), nn.Linear(12, 5)],
                       [{"type": "Flatten"}, {"type": "Linear", "in_features": 12,
                                              "out_features": 5}], (3, 3, 4)),
    "Linear-leading-dims": ([nn.Linear(6, 4)],
                            [{"type": "Linear", "in_features": 6, "out_features": 4}], (2, 3, 6)),
    "Dropout-eval": ([nn.Dropout(0.5), nn.Linear(4, 2)],
                     [{"type": "Dropout", "p": 0.5},
                      {"type": "Linear", "in_features": 4, "out_features": 2}], (3, 4)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_layer_matches_torch(tmp_path, case):
    torch_layers, specs, shape = CASES[case]
    run_parity(tmp_path, torch_layers, specs, _x(shape))


def test_embedding_matches_torch(tmp_path):
    ids = np.array([[1, 4, 4, 0], [9, 2, 1, 1]], dtype=np.int64)
    run_parity(tmp_path, [nn.Embedding(10, 3), nn.Linear(3, 2)],
               [{"type": "Embedding", "num_embeddings": 10, "embedding_dim": 3},
                {"type": "Linear", "in_features": 3, "out_features": 2}], ids)


def test_digit_cnn_matches_torch(tmp_path):
    torch_layers = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)]
    specs = [{"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "padding": 1},
             {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
             {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3,
              "padding": 1},
             {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Flatten"},
             {"type": "Linear", "in_features": 784, "out_features": 64}, {"type": "ReLU"},
             {"type": "Linear", "in_features": 64, "out_features": 10}]
    model = run_parity(tmp_path, torch_layers, specs, _x((4, 1, 28, 28)))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias",
                                        "7.weight", "7.bias", "9.weight", "9.bias"]


def test_one_training_step_matches_torch_adam(tmp_path):
    """Cross-entropy + Adam (weight decay) step from the same weights -> the same weights."""
    from explorer.engine import Adam, cross_entropy

    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    arch = {"format": "cnn-rnn-explorer/model", "version": 1, "meta": {}, "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3},
        {"type": "ReLU"}, {"type": "Flatten"},
        {"type": "Linear", "in_features": 32, "out_features": 3}]}
    path = tmp_path / "step.npz"
    np.savez(path, arch=np.array(json.dumps(arch)),
             **{k: v.detach().numpy() for k, v in net.state_dict().items()})
    model = load_model(path).train()
    x, t = _x((5, 1, 6, 6)), np.array([0, 1, 2, 1, 0])
    opt = Adam(model.parameters(), lr=0.01, weight_decay=0.1)
    topt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(3):
        model.zero_grad()
        loss, d = cross_entropy(model.forward(x), t)
        model.backward(d)
        opt.step(model.gradients())
        topt.zero_grad()
        tloss = nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(t))
        tloss.backward()
        topt.step()
        assert loss == pytest.approx(tloss.item(), rel=1e-5)
    for k, v in net.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[k], v.numpy(), rtol=RTOL, atol=ATOL)

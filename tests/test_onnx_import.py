"""ONNX import: PyTorch CNN / LSTM / GRU / RNN exported to ONNX, converted, same outputs."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from explorer.engine import load_model, save_model  # noqa: E402
from explorer.onnx_import import OnnxImportError, convert_onnx  # noqa: E402


def export(module, example, path, dynamo=False):
    module.eval()
    kwargs = {"dynamo": dynamo}
    if not dynamo:
        kwargs["dynamic_axes"] = {"x": {0: "batch"}}
    torch.onnx.export(module, (example,), str(path), input_names=["x"], output_names=["y"], **kwargs)
    return path


class SeqNet(torch.nn.Module):
    def __init__(self, cell, vocab=20, embed=8, hidden=16, last=False):
        super().__init__()
        torch.manual_seed(0)
        self.emb = torch.nn.Embedding(vocab, embed)
        self.rnn = getattr(torch.nn, cell)(embed, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, vocab)
        self.last = last

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.fc(h[:, -1] if self.last else h)


def cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 6, 5), torch.nn.Tanh(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(6 * 5 * 5, 32), torch.nn.Sigmoid(),
                               torch.nn.Linear(32, 10))


def test_cnn_matches_pytorch(tmp_path):
    net = cnn()
    x = torch.rand(3, 1, 28, 28)
    model = convert_onnx(export(net, x[:1], tmp_path / "cnn.onnx"))
    assert [layer.type_name for layer in model.layers][:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    np.testing.assert_allclose(model.predict(x.numpy()), net(x).detach().numpy(), atol=1e-5, rtol=1e-5)
    save_model(model, tmp_path / "cnn.npz")                       # and it is an ordinary model file
    again = load_model(tmp_path / "cnn.npz")
    np.testing.assert_allclose(again.predict(x.numpy()), net(x).detach().numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("last", [False, True])
def test_recurrent_matches_pytorch(tmp_path, cell, last):
    net = SeqNet(cell, last=last).eval()
    x = torch.randint(0, 20, (2, 9))
    model = convert_onnx(export(net, x, tmp_path / "seq.onnx"))
    assert cell in [layer.type_name for layer in model.layers]
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(model.predict(x.numpy()), want, atol=1e-5, rtol=1e-5)
    # the state dict holds PyTorch's own names and gate order: weights equal PyTorch's
    ours = model.state_dict()
    np.testing.assert_array_equal(ours["1.weight_ih_l0"], net.rnn.weight_ih_l0.detach().numpy())


def test_dynamo_exporter_lstm(tmp_path):
    pytest.importorskip("onnxscript")
    net = SeqNet("LSTM").eval()
    x = torch.randint(0, 20, (1, 7))
    try:
        path = export(net, x, tmp_path / "dyn.onnx", dynamo=True)
    except Exception as exc:   # noqa: BLE001 - the new exporter is optional here
        pytest.skip(f"dynamo exporter unavailable: {exc}")
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(convert_onnx(path).predict(x.numpy()), want, atol=1e-5, rtol=1e-5)


def test_unsupported_operator_is_named(tmp_path):
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.LeakyReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(2 * 26 * 26, 10))
    path = export(net, torch.rand(1, 1, 28, 28), tmp_path / "leaky.onnx")
    with pytest.raises(OnnxImportError, match="unsupported operator LeakyRelu"):
        convert_onnx(path)


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(OnnxImportError, match="not a readable ONNX file|graph has no layers|exactly one input"):
        convert_onnx(bad)
    with pytest.raises(OnnxImportError, match="no such file"):
        convert_onnx(tmp_path / "missing.onnx")


def test_convert_command(tmp_path, capsys):
    import json

    from explorer import cli
    net = cnn()
    x = torch.rand(2, 1, 28, 28)
    src = export(net, x[:1], tmp_path / "cnn.onnx")
    assert cli.main(["convert", str(src), "--out", str(tmp_path / "cnn.npz"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["layers"][0] == "Conv2d" and info["parameters"] == sum(p.numel() for p in net.parameters())
    np.testing.assert_allclose(load_model(tmp_path / "cnn.npz").predict(x.numpy()), net(x).detach().numpy(), atol=1e-5)
    bad = tmp_path / "leaky.onnx"
    export(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.LeakyReLU()), x[:1], bad)
    assert cli.main(["convert", str(bad), "--out", str(tmp_path / "no.npz")]) == 2
    assert "LeakyRelu" in capsys.readouterr().err and not (tmp_path / "no.npz").exists()


def test_missing_onnx_package_gives_a_clear_message(monkeypatch, tmp_path):
    import builtins
    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("no onnx")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(OnnxImportError, match=r"pip install"):
        convert_onnx(tmp_path / "x.onnx")


def test_dynamo_exporter_cnn(tmp_path):
    pytest.importorskip("onnxscript")
    net = cnn().eval()
    x = torch.rand(2, 1, 28, 28)
    try:
        path = export(net, x[:1], tmp_path / "dyn_cnn.onnx", dynamo=True)
    except Exception as exc:   # noqa: BLE001 - the new exporter is optional here
        pytest.skip(f"dynamo exporter unavailable: {exc}")
    with torch.no_grad():
        want = net(x[:1]).numpy()
    np.testing.assert_allclose(convert_onnx(path).predict(x[:1].numpy()), want, atol=1e-5, rtol=1e-5)


class CausalBlocks(torch.nn.Sequential):
    def forward(self, x):
        mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        for m in self:
            x = m(x, src_mask=mask, is_causal=True) if isinstance(m, torch.nn.TransformerEncoderLayer) else m(x)
        return x


@pytest.mark.parametrize("norm_first", [True, False])
def test_transformer_is_refused_with_a_clear_message(tmp_path, norm_first):
    """torch.onnx.export of a TransformerEncoderLayer stack gives a branching graph the
    importer does not follow: it says so, names the way that works, and writes nothing."""
    torch.manual_seed(0)
    net = CausalBlocks(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                                        norm_first=norm_first),
                       torch.nn.Linear(8, 3))
    path = export(net, torch.randn(1, 5, 8), tmp_path / "attn.onnx")
    with pytest.raises(OnnxImportError, match="transformer block.*not supported.*TransformerEncoderLayer"):
        convert_onnx(path)
    from explorer.cli import main
    out = tmp_path / "attn.npz"
    assert main(["convert", str(path), "--out", str(out)]) == 2
    assert not out.exists()

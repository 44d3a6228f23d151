"""PyTorch oracle for attention: random nn.TransformerEncoderLayer stacks (both norm_first,
both activations, 1-4 heads) applied with a causal mask, saved as state dicts with np.savez,
loaded by the engine: the same outputs, input gradients and parameter gradients (float32,
within 1e-5), and the same attention weights in Model.trace."""

import json

import numpy as np
import pytest

from explorer.engine import load_model
from explorer.engine.stream import TransformerStream

torch = pytest.importorskip("torch")
nn = torch.nn
ATOL, RTOL = 1e-5, 1e-4


class Positions(nn.Module):
    """Our LearnedPositions in PyTorch: a (max_len, D) parameter added to the input."""

    def __init__(self, max_len, d):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, d) * 0.1)

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class CausalSequential(nn.Sequential):
    """nn.Sequential (so the state_dict names match the model file) that hands every
    TransformerEncoderLayer the causal mask."""

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        for m in self:
            x = m(x, src_mask=mask, is_causal=True) if isinstance(m, nn.TransformerEncoderLayer) else m(x)
        return x


def _spec(b):
    return {"type": "TransformerEncoderLayer", "d_model": b.self_attn.embed_dim,
            "nhead": b.self_attn.num_heads, "dim_feedforward": b.linear1.out_features,
            "dropout": 0.0, "activation": "gelu" if b.activation_relu_or_gelu == 2 else "relu",
            "batch_first": True, "norm_first": b.norm_first, "causal": True}


def _blocks(rng, d, n):
    out = []
    for _ in range(n):
        heads = int(rng.choice([h for h in (1, 2, 3, 4) if d % h == 0]))
        b = nn.TransformerEncoderLayer(d, heads, int(rng.integers(4, 33)), dropout=0.0,
                                       activation=str(rng.choice(["relu", "gelu"])),
                                       batch_first=True, norm_first=bool(rng.integers(0, 2)))
        with torch.no_grad():                   # move the norms and biases off 1 / 0
            for name, p in b.named_parameters():
                if "norm" in name or "bias" in name:
                    p.add_(0.2 * torch.randn_like(p))
        out.append(b.eval())
    return out


def _save(tmp_path, net, specs):
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    arch = {"format": "cnn-rnn-explorer/model", "version": 1, "layers": specs, "meta": {}}
    path = tmp_path / "from_torch.npz"
    np.savez(path, arch=np.array(json.dumps(arch)), **state)
    return load_model(path)


@pytest.mark.parametrize("seed", range(8))
def test_random_stacks_match_torch(tmp_path, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    d = int(rng.choice([4, 8, 12]))
    blocks = _blocks(rng, d, int(rng.integers(1, 4)))
    net = CausalSequential(*blocks).eval()
    model = _save(tmp_path, net, [_spec(b) for b in blocks])
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 10)), d)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = net(xt)
    y = model.forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.predict(x), y, rtol=RTOL, atol=ATOL)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(dy))
    model.zero_grad()
    dx = model.backward(dy)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    grads = model.gradients()
    assert set(grads) == set(dict(net.named_parameters()))
    for name, p in net.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def test_every_variant_is_covered():
    """The random stacks above include both norm_first, both activations and 1-4 heads."""
    seen = set()
    for seed in range(8):
        rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        d = int(rng.choice([4, 8, 12]))
        for b in _blocks(rng, d, int(rng.integers(1, 4))):
            s = _spec(b)
            seen |= {("norm_first", s["norm_first"]), ("act", s["activation"]), ("heads", s["nhead"])}
    assert seen >= {("norm_first", True), ("norm_first", False), ("act", "relu"), ("act", "gelu"),
                    ("heads", 1), ("heads", 2), ("heads", 3), ("heads", 4)}


def test_attention_weights_match_torch(tmp_path):
    torch.manual_seed(0)
    b = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, batch_first=True, norm_first=True).eval()
    model = _save(tmp_path, CausalSequential(b), [_spec(b)])
    x = np.random.default_rng(1).standard_normal((2, 6, 8)).astype(np.float32)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    with torch.no_grad():
        h = b.norm1(torch.from_numpy(x))
        _, w = b.self_attn(h, h, h, attn_mask=mask, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(model.trace(x).extras[0]["attn"], w.numpy(), rtol=RTOL, atol=ATOL)


def test_char_transformer_from_torch_reads_incrementally(tmp_path):
    """A whole char model made in PyTorch (Embedding, positions, blocks, LayerNorm, Linear)
    opens in the engine; the stream reads it character by character to the same logits."""
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    blocks = _blocks(rng, 8, 2)
    head = [nn.LayerNorm(8), nn.Linear(8, 11)]
    net = CausalSequential(nn.Embedding(11, 8), Positions(16, 8), *blocks, *head).eval()
    specs = [{"type": "Embedding", "num_embeddings": 11, "embedding_dim": 8},
             {"type": "LearnedPositions", "max_len": 16, "d_model": 8},
             *[_spec(b) for b in blocks],
             {"type": "LayerNorm", "normalized_shape": [8]},
             {"type": "Linear", "in_features": 8, "out_features": 11}]
    model = _save(tmp_path, net, specs)
    ids = rng.integers(0, 11, (1, 16))
    with torch.no_grad():
        ref = net(torch.from_numpy(ids)).numpy()[0]
    np.testing.assert_allclose(model.predict(ids)[0], ref, rtol=RTOL, atol=ATOL)
    stream = TransformerStream(model)
    got = np.concatenate([stream.extend([i]).logits for i in ids[0]])
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL)

"""The training recipes are seeded: a tiny run twice gives the same model file, and the
training-only dropout computes the true gradient of the loss it reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.engine import cross_entropy, save_model
from explorer.engine.gradcheck import numeric_grad, rel_error
from explorer.training import text
from explorer.training.text_cnn import train_char_cnn
from explorer.training.text_models import build_sequence_model, tbptt_step

# Clock readings are measurements, not results of the recipe: everything else must repeat.
CLOCKS = ("train_seconds", "train_cpu_seconds")


@pytest.fixture()
def corpus_file(tmp_path):
    lines = [f"def f{i % 7}(x):\n    return [x, {i % 3}]  # note {i % 5}\n" for i in range(300)]
    path = tmp_path / "tiny.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _file_contents(path) -> tuple[dict, dict[str, bytes]]:
    with np.load(path, allow_pickle=False) as z:
        arch = json.loads(str(z["arch"]))
        arrays = {k: z[k].tobytes() + str(z[k].dtype).encode() + str(z[k].shape).encode()
                  for k in z.files if k != "arch"}
    meta = arch["meta"]
    for key in CLOCKS:
        assert key in meta
        meta.pop(key)
    for point in meta.get("valid_curve", []):
        point.pop()                    # [step, characters seen, bpc, seconds]: drop the seconds
    return arch, arrays


def _same_files(a, b) -> None:
    arch_a, arr_a = _file_contents(a)
    arch_b, arr_b = _file_contents(b)
    assert arch_a == arch_b
    assert arr_a.keys() == arr_b.keys() and all(arr_a[k] == arr_b[k] for k in arr_a)


def test_text_recipe_gives_the_same_file_twice(corpus_file, tmp_path):
    files = []
    for run, seed in enumerate((5, 5, 6)):
        cfg = text.TextConfig(corpus=str(corpus_file), cell="lstm", hidden=10, embed=6, batch_size=4,
                              seq_len=16, steps=12, seed=seed, dropout=0.2, curve_every=4)
        model, _ = text.train_text(cfg, progress=False)
        assert [p[0] for p in model.meta["valid_curve"]] == [4, 8, 12]
        assert model.meta["chars_seen"] == 12 * 4 * 16
        files.append(tmp_path / f"m{run}.npz")
        save_model(model, files[-1])
    _same_files(files[0], files[1])
    with pytest.raises(AssertionError):            # a different seed is a different model
        _same_files(files[0], files[2])


def test_cnn_recipe_gives_the_same_file_twice(tmp_path):
    files = []
    for run in range(2):
        model, summary = train_char_cnn(4, steps=12, batch=4, length=32, train_chars=80_000, channels=8,
                                        seed=1, progress=False, eval_every=4)
        assert summary["chars_seen"] <= 12 * 4 * 32 and summary["valid_curve"]
        assert summary["best_step"] in [p[0] for p in summary["valid_curve"]]
        files.append(tmp_path / f"c{run}.npz")
        save_model(model, files[-1])
    _same_files(*files)


def test_cnn_early_stopping_keeps_the_best_weights(tmp_path):
    """A learning rate far too high makes validation worse: training stops and the kept weights
    are those of the best evaluation, which read the held-back text as the curve says."""
    from explorer.data.corpora import load_corpus
    from explorer.data.vocab import Vocab
    from explorer.training.text_cnn import STOP_CHARS, window_bits

    model, s = train_char_cnn(4, steps=200, batch=4, length=32, train_chars=80_000, channels=8, lr=3.0,
                              seed=0, progress=False, eval_every=5, patience=2)
    curve = s["valid_curve"]
    best = min(curve, key=lambda p: p[2])
    assert s["best_step"] == best[0] and s["steps"] < 200          # stopped early
    ids = Vocab.text().encode(load_corpus("code", "train", max_chars=80_000).text).astype(np.int64)
    stop = ids[-min(STOP_CHARS, len(ids) // 10):]
    assert window_bits(model, stop, 4) == pytest.approx(best[2], abs=1e-3)


class _Capture:
    """An optimiser stand-in: keeps the gradients it is given."""

    lr = 0.0

    def step(self, grads):
        self.grads = {k: g.copy() for k, g in grads.items()}


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_dropout_step_gradient_is_the_loss_gradient(dropout):
    rng = np.random.default_rng(0)
    model = build_sequence_model(9, 9, "gru", 5, 3, rng).astype(np.float64)
    x, y = rng.integers(0, 9, (2, 6)), rng.integers(0, 9, (2, 6))
    cap = _Capture()
    tbptt_step(model, x, y, None, cap, clip=1e9, dropout=dropout, rng=np.random.default_rng(7))
    emb, rec, lin = model.layers

    def loss() -> float:                     # the same masks: the same rng seed
        h = rec.forward(emb.forward(x)[0], None)[0]
        if dropout:
            m = np.random.default_rng(7).random(h.shape) >= dropout
            h = h * m / (1 - dropout)
        return float(cross_entropy(lin.forward(h)[0], y)[0])

    params = model.parameters()
    worst = 0.0
    for name in ("1.weight_hh_l0", "2.weight", "0.weight"):
        for idx in [(0, 0), (1, 2), (3, 1)]:
            worst = max(worst, rel_error(cap.grads[name][idx], numeric_grad(loss, params[name], idx)))
    assert worst < 1e-6
    # negative control: the gradient without the mask's scaling is not the loss gradient
    if dropout:
        wrong = cap.grads["2.weight"][1, 2] * (1 - dropout)
        assert rel_error(wrong, numeric_grad(loss, params["2.weight"], (1, 2))) > 1e-3

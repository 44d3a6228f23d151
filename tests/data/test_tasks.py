"""Toy languages: every target recomputed independently from the decoded symbols."""

import numpy as np
import pytest

from explorer.data.tasks import TASKS, TaskError, get_task, make, make_sequences


def _text(name, row):
    return get_task(name).vocab.decode(row)


def test_registry_describes_every_task():
    assert set(TASKS) == {"parity", "depth", "anbn", "recall", "motif"}
    for task in TASKS.values():
        assert len(task.class_names) == task.n_classes and task.description
        batch = make(task.name, 8, rng=0)
        assert batch.x.shape == batch.y.shape == batch.mask.shape == (8, task.default_length)
        assert batch.x.dtype == np.int32 and batch.mask.dtype == bool
        assert 0 <= batch.x.min() and batch.x.max() < len(task.alphabet)
        assert batch.y.max() < task.n_classes and batch.mask.any()
        assert (batch.y[~batch.mask] == 0).all()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_seeded_determinism(name):
    a, b = make(name, 16, 24, rng=7), make(name, 16, 24, rng=np.random.default_rng(7))
    c = make(name, 16, 24, rng=8)
    for f in ("x", "y", "mask"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.x, c.x)


def test_parity_targets():
    batch = make("parity", 30, 25, rng=1)
    for row, target in zip(batch.x, batch.y):
        bits, parity = _text("parity", row), 0
        for t, ch in enumerate(bits):
            parity ^= ch == "1"
            assert target[t] == parity
    assert batch.mask.all()


def test_depth_targets_and_bounds():
    batch = make("depth", 40, 60, rng=2, max_depth=4)
    assert batch.n_classes == 5
    for row, target in zip(batch.x, batch.y):
        depth = 0
        for t, ch in enumerate(_text("depth", row)):
            depth += 1 if ch == "(" else -1
            assert 0 <= depth <= 4 and target[t] == depth
    assert batch.y.max() == 4  # the cap is reached


def test_anbn_targets():
    batch = make("anbn", 40, 50, rng=3, n_max=6)
    for row, target, mask in zip(batch.x, batch.y, batch.mask):
        s = _text("anbn", row)
        n_a = n_b = 0
        for t, ch in enumerate(s):
            if ch == "a":
                if n_b:  # a new block starts
                    n_a = n_b = 0
                n_a += 1
                assert not mask[t]
            else:
                n_b += 1
                assert mask[t] and n_b <= n_a <= 6
                assert target[t] == (n_b == n_a)
                if t + 1 < len(s) and n_b == n_a:
                    assert s[t + 1] == "a"


def test_recall_answer_is_the_first_symbol():
    batch = make("recall", 50, rng=4, distance=30)
    assert batch.x.shape == (50, 32)
    assert (batch.mask.sum(axis=1) == 1).all() and batch.mask[:, -1].all()
    for row, target in zip(batch.x, batch.y):
        s = _text("recall", row)
        assert s[-1] == "?" and set(s[1:-1]) <= set("abcdef")
        assert "ABCD"[target[-1]] == s[0]
    x, y = make_sequences("recall", 200, rng=5, distance=10)
    assert x.shape == (200, 12) and y.shape == (200,)
    assert [("ABCD"[k]) for k in y] == [_text("recall", r)[0] for r in x]
    assert len(set(y.tolist())) == 4


def test_motif_labels_balanced_and_correct():
    x, y = make_sequences("motif", 301, 25, rng=6)
    assert x.shape == (301, 25) and y.shape == (301,)
    assert y.sum() == 150
    for row, label in zip(x, y):
        assert label == ("abc" in _text("motif", row))


def test_motif_custom_pattern_and_dense_flip_flop():
    batch = make("motif", 60, 20, rng=9, motif="dad", dense=True)
    assert batch.mask.all()
    for row, target in zip(batch.x, batch.y):
        s = _text("motif", row)
        for t in range(20):
            assert target[t] == ("dad" in s[: t + 1])
    last = make("motif", 60, 20, rng=9, motif="dad")
    assert (last.mask.sum(axis=1) == 1).all() and last.y[:, -1].sum() == 30


def test_parity_and_depth_sequence_labels_are_last_step():
    batch = make("parity", 10, 12, rng=11)
    x, y = make_sequences("parity", 10, 12, rng=11)
    np.testing.assert_array_equal(y, batch.y[:, -1])
    np.testing.assert_array_equal(y, batch.x.sum(axis=1) % 2)


def test_bad_requests_give_clear_errors():
    with pytest.raises(TaskError, match="unknown task 'xor'; choose one of"):
        make("xor", 4)
    with pytest.raises(TaskError, match="no label for the whole sequence"):
        make_sequences("anbn", 50, 20, rng=0)
    with pytest.raises(TaskError, match="unexpected keyword"):
        make("parity", 4, 10, rng=0, distance=3)
    with pytest.raises(TaskError):
        make("recall", 4, 1, rng=0)
    with pytest.raises(TaskError, match="made of the letters"):
        make("motif", 4, 10, rng=0, motif="xyz")


def test_parity_mixes_dense_and_sparse_sequences():
    """Half the sequences are sparse in 1s (long runs of 0s, where the parity must be held)."""
    batch = make("parity", 400, 200, rng=5)
    density = batch.x.mean(axis=1)
    sparse, dense = density < 0.1, density > 0.35
    assert 0.35 < sparse.mean() < 0.65 and 0.35 < dense.mean() < 0.65
    longest = [max(len(run) for run in "".join(map(str, row)).split("1")) for row in batch.x[sparse]]
    assert np.median(longest) >= 40
    np.testing.assert_array_equal(batch.y, np.cumsum(batch.x, axis=1) % 2)
    assert make("parity", 5, 30, rng=0, p_one=0.0).x.sum() == 0
    assert make("parity", 5, 30, rng=0, p_one=1.0).y[:, 1].sum() == 0  # two 1s: even
    with pytest.raises(TaskError, match="between 0 and 1"):
        make("parity", 4, 10, rng=0, p_one=1.5)

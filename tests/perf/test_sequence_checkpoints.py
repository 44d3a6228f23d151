"""Checkpointed states equal the from-scratch ones exactly, and memory stays bounded (issue 16)."""

import numpy as np
import pytest

from explorer.session.sequence import BLOCK, CACHED_BLOCKS, SequenceSession, random_model


def code_text(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    words = ["def ", "f(x)", ":\n", "    return ", "x + 1", " # sum\n", "'a, b'", "[i for i in xs]\n"]
    out = "".join(words[i] for i in rng.integers(0, len(words), n // 3))
    return (out * (n // max(len(out), 1) + 1))[:n]


def fresh(model, text):
    s = SequenceSession(model)
    s.set_text(text)
    return s


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_states_after_edits_anywhere_equal_from_scratch_exactly(cell):
    model = random_model(cell, hidden=16, embed=8, seed=1)
    text = code_text(10_000)
    s = SequenceSession(model)
    s.set_text(text)
    rng = np.random.default_rng(2)
    for k in range(6):                                    # edits at random places, any size
        p = int(rng.integers(0, len(text)))
        cut = int(rng.integers(0, 5 if k % 3 else 300))
        text = text[:p] + "xy(z)"[: int(rng.integers(0, 6))] + text[p + cut:]
        if k % 4 == 0:                                    # typed one character at a time
            for i in range(1, 30):
                s.set_text(text[:len(text) - 30 + i])
        s.set_text(text, compute=False)
        while s.pending:                                  # in chunks, as the lab does
            s.advance(int(rng.integers(1, 700)))
        lo = int(rng.integers(0, len(text) - 200))
        s.hidden_states(lo, lo + 200)                     # a window elsewhere is cached
        ref = fresh(model, text)
        np.testing.assert_array_equal(s.hidden_states(), ref.hidden_states())
        if cell == "LSTM":
            np.testing.assert_array_equal(s.cell_states(), ref.cell_states())
    assert s.hidden_states().shape == (len(text), 16)
    for a in (0, 63, 64, 5000, len(text) - 1):
        np.testing.assert_array_equal(s.hidden_states(a, a + 1), ref.hidden_states()[a:a + 1])


def test_states_match_the_engine_run_within_float_tolerance():
    model = random_model("LSTM", hidden=12, embed=6, seed=3)
    s = fresh(model, code_text(3000))
    y, _, _ = s.rec.run(s._embed(s.ids))
    np.testing.assert_allclose(s.hidden_states(), y[0], atol=1e-5)


def test_only_checkpoints_grow_with_the_text():
    model = random_model("LSTM", hidden=8, embed=4, seed=0)
    s = fresh(model, code_text(40_000))
    assert len(s._blocks) <= CACHED_BLOCKS
    assert s._ck.nbytes <= 2 * (40_000 // BLOCK + 16) * 2 * 8 * 4   # (S, H) floats per block
    before = s.steps_replayed
    window = s.hidden_states(20_000, 20_300)              # far from the cached blocks: replayed
    assert s.steps_replayed - before <= 300 + 2 * BLOCK
    np.testing.assert_array_equal(window, fresh(model, s.text).hidden_states(20_000, 20_300))


def test_checkpoints_grow_by_chunks_without_copying_what_is_kept():
    from explorer.session.checkpoints import CHUNK, Checkpoints
    rng = np.random.default_rng(0)
    ck, ref = Checkpoints((2, 3), np.float32), {}
    for lo in (0, 5, CHUNK - 2, 3 * CHUNK + 7):                  # runs across chunk borders
        bs = np.arange(lo, lo + CHUNK // 2 + 3)
        states = rng.standard_normal((len(bs), 2, 3)).astype(np.float32)
        first = ck.chunks[0] if ck.chunks else None
        ck.put(bs, states)
        assert first is None or ck.chunks[0] is first             # kept, not copied
        ref.update(zip(bs.tolist(), states))
    assert all(np.array_equal(ck[b], v) for b, v in ref.items())
    assert len(ck) == 4 * CHUNK and ck.nbytes == 4 * CHUNK * 2 * 3 * 4
    ck.keep(CHUNK + 1)                                            # a big deletion: whole chunks go
    assert len(ck) == 2 * CHUNK and np.array_equal(ck[CHUNK - 1], ref[CHUNK - 1])


def test_a_text_longer_than_a_chunk_of_checkpoints_replays_exactly():
    from explorer.session.checkpoints import CHUNK
    model = random_model("LSTM", hidden=8, embed=4, seed=2)
    n = CHUNK * BLOCK + 5_000                                     # the checkpoints need two chunks
    s = fresh(model, code_text(n))
    assert len(s._ck.chunks) == 2
    far = s.hidden_states(n - 4_000, n - 3_700)                  # replayed from a 2nd-chunk checkpoint
    np.testing.assert_array_equal(far, fresh(model, s.text).hidden_states(n - 4_000, n - 3_700))
    y, _, _ = s.rec.run(s._embed(s.ids[:n - 3_700]))
    np.testing.assert_allclose(far, y[0, n - 4_000:], atol=1e-5)

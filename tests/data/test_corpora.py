"""Corpora: deterministic standard-library lists, disjoint splits, user files, TBPTT lanes."""

import numpy as np
import pytest

from explorer.data import corpora
from explorer.data.corpora import CorpusError, load_corpus, tbptt_batches, tbptt_n_batches


def test_stdlib_file_list_is_deterministic_and_clean():
    first, second = corpora.stdlib_files(), corpora.stdlib_files()
    assert first == second and first == sorted(first) and len(first) > 100
    assert "argparse.py" in first
    for path in first:
        parts = path.split("/")
        assert not set(parts[:-1]) & {"site-packages", "test", "tests", "idlelib", "lib2to3"}
        assert not parts[-1].startswith("_sysconfigdata")
    assert "encodings/cp1252.py" not in first  # generated charmap table


def test_code_splits_are_disjoint_by_file():
    train = load_corpus("code", "train", max_chars=400_000)
    valid = load_corpus("code", "valid", max_chars=200_000)
    assert train.files and valid.files
    assert not set(train.files) & set(valid.files)
    everything = set(corpora.stdlib_files())
    valid_all = set(corpora.split_keys(sorted(everything), "valid", corpora.VALID_FRACTION["code"]))
    assert set(valid.files) <= valid_all and not set(train.files) & valid_all
    assert train.n_chars == len(train.text) <= 400_000
    assert load_corpus("code", "train", max_chars=400_000).text == train.text  # same every time


def test_prose_splits_are_disjoint_and_do_not_leak():
    train, valid = load_corpus("prose", "train"), load_corpus("prose", "valid")
    assert train.n_chars > 100_000 and valid.n_chars > 5_000
    assert not set(train.files) & set(valid.files)
    long_lines = {ln.strip() for ln in valid.text.split("\n") if len(ln.strip()) > 30}
    train_lines = {ln.strip() for ln in train.text.split("\n")}
    assert long_lines and not long_lines & train_lines


def test_split_keys_is_stable_and_partitions():
    keys = [f"k{i}" for i in range(200)]
    tr, va = corpora.split_keys(keys, "train", 0.1), corpora.split_keys(keys, "valid", 0.1)
    assert sorted(tr + va) == sorted(keys) and 5 < len(va) < 40
    assert corpora.split_keys(list(reversed(keys)), "valid", 0.1) == va


def test_binary_file_refused(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"abc\x00\x01\x02" * 100)
    with pytest.raises(CorpusError, match="binary"):
        load_corpus(str(path))


def test_non_utf8_bytes_are_replaced_and_crlf_normalised(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(("caf\xe9 ol\xe9\r\n" * 400).encode("latin-1"))
    corpus = load_corpus(str(path))
    assert corpus.text.startswith("caf\ufffd ol\ufffd\ncaf")
    assert "\r" not in corpus.text


def test_empty_file_and_missing_path(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(CorpusError, match="is empty"):
        load_corpus(str(path))
    with pytest.raises(CorpusError, match="unknown corpus"):
        load_corpus(str(tmp_path / "nope.txt"))
    with pytest.raises(CorpusError, match="split"):
        load_corpus("code", split="test")


def test_user_file_train_and_valid_do_not_overlap(tmp_path):
    lines = [f"line {i:05d} of the text\n" for i in range(3000)]
    path = tmp_path / "big.txt"
    path.write_text("".join(lines))
    train, valid = load_corpus(str(path), "train"), load_corpus(str(path), "valid")
    tr, va = set(train.text.splitlines()), set(valid.text.splitlines())
    assert len(va) > 100 and len(tr) > 2000 and not tr & va  # every line is unique
    assert train.text.startswith("line 00000") and valid.text.rstrip().endswith("line 02999 of the text")


def test_user_file_streams_in_chunks_and_caps(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "CHUNK_BYTES", 1000)
    path = tmp_path / "long.txt"
    path.write_text("é" * 30_000)  # multi-byte characters split across chunk edges
    corpus = load_corpus(str(path), "train", max_chars=5_000)
    assert corpus.text == "é" * 5_000


def test_user_folder_splits_by_file_and_skips_binary(tmp_path):
    for i in range(40):
        (tmp_path / f"f{i:02d}.txt").write_text(f"file number {i}\n" * 20)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / ".hidden").write_text("secret")
    train, valid = load_corpus(str(tmp_path), "train"), load_corpus(str(tmp_path), "valid")
    assert "image.png" in train.skipped
    assert valid.files and not set(train.files) & set(valid.files)
    assert len(train.files) + len(valid.files) == 40


def test_folder_without_text_is_refused(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\x00" * 10)
    (tmp_path / "b.txt").write_text("")
    with pytest.raises(CorpusError, match="no text files"):
        load_corpus(str(tmp_path))


def test_tbptt_lanes_continue_across_chunks():
    ids = np.arange(1003)
    batches = list(tbptt_batches(ids, batch_size=4, seq_len=10))
    assert len(batches) == tbptt_n_batches(1003, 4, 10) == 25
    lane = (1003 - 1) // 4
    for k, (x, y) in enumerate(batches):
        assert x.shape == y.shape == (4, 10) and x.dtype == np.int32
        np.testing.assert_array_equal(y, x + 1)  # y is the next id
        for b in range(4):
            assert x[b, 0] == b * lane + k * 10
            if k:  # chunk k of lane b continues chunk k-1 of lane b
                assert x[b, 0] == batches[k - 1][0][b, -1] + 1


def test_tbptt_random_offset_keeps_lanes_contiguous():
    ids = np.arange(500)
    xs = [x for x, _ in tbptt_batches(ids, 2, 7, rng=np.random.default_rng(3))]
    joined = np.concatenate(xs, axis=1)
    assert (np.diff(joined, axis=1) == 1).all()
    with pytest.raises(ValueError, match="too short"):
        list(tbptt_batches(np.arange(10), 4, 10))

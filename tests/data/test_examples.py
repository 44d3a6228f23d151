"""The user's examples on disk: PNG round trip, save/list/relabel/delete/import/export/load."""

import json
import zlib

import numpy as np
import pytest

from explorer.data.examples import (
    SIDE,
    ExampleError,
    ExampleStore,
    decode_png,
    encode_png,
    load_examples,
)
from explorer.data.preprocess import EmptyDrawing

ONE = [np.array([[140.0, 40.0], [140.0, 240.0]])]
SEVEN = [np.array([[60.0, 50.0], [220.0, 50.0], [120.0, 250.0]])]


def test_png_round_trip_and_damaged_file():
    g = (np.arange(35 * 21) % 256).astype(np.uint8).reshape(35, 21)
    blob = encode_png(g)
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(decode_png(blob), g)
    with pytest.raises(ExampleError):
        decode_png(b"not a png at all")
    with pytest.raises(ExampleError):
        decode_png(blob[:40])


def _png_rgb_with_filters(img: np.ndarray) -> bytes:
    """An RGB PNG whose rows use filters 1-4 (as other programs write them)."""
    import struct
    h, w, _ = img.shape
    raw, prev = b"", np.zeros(w * 3, np.int32)
    for r in range(h):
        line = img[r].reshape(-1).astype(np.int32)
        f = r % 5
        left = np.concatenate([[0, 0, 0], line[:-3]])
        upleft = np.concatenate([[0, 0, 0], prev[:-3]])
        if f == 0:
            enc = line
        elif f == 1:
            enc = line - left
        elif f == 2:
            enc = line - prev
        elif f == 3:
            enc = line - (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
            enc = line - pred
        raw += bytes([f]) + (enc & 255).astype(np.uint8).tobytes()
        prev = line

    def chunk(k, d):
        return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_decoder_undoes_every_row_filter():
    img = np.random.default_rng(0).integers(0, 256, (10, 7, 3)).astype(np.uint8)
    assert np.array_equal(decode_png(_png_rgb_with_filters(img)), img)


def test_save_list_and_layout(tmp_path):
    store = ExampleStore(tmp_path / "my_digits")
    ex = store.save(1, ONE)
    assert ex.path.parent == tmp_path / "my_digits" / "1" and ex.path.suffix == ".png"
    img = decode_png(ex.path.read_bytes())
    assert img.shape == (SIDE, SIDE) and img.dtype == np.uint8
    assert img[0, 0] == 255 and img.min() < 50                      # dark ink on white
    data = json.loads(ex.strokes_path.read_text())
    assert np.allclose(data["strokes"][0], ONE[0])
    store.save(7, SEVEN)
    store.save(1, ONE)
    assert store.counts() == [0, 2, 0, 0, 0, 0, 0, 1, 0, 0]
    assert [e.label for e in store.list()] == [1, 1, 7]
    assert len({e.path for e in store.list()}) == 3                 # no name clash


def test_bad_label_and_empty_drawing(tmp_path):
    store = ExampleStore(tmp_path)
    with pytest.raises(ExampleError):
        store.save(10, ONE)
    with pytest.raises(ExampleError):
        store.save("x", ONE)
    with pytest.raises(EmptyDrawing):
        store.save(3, [])
    assert store.list() == []


def test_relabel_and_delete_move_strokes_too(tmp_path):
    store = ExampleStore(tmp_path)
    ex = store.save(1, SEVEN)
    moved = store.relabel(ex, 7)
    assert moved.label == 7 and moved.path.exists() and moved.has_strokes()
    assert not ex.path.exists() and not ex.strokes_path.exists()
    store.delete(moved)
    assert store.list() == [] and not moved.strokes_path.exists()


def test_import_export_and_load(tmp_path):
    src = ExampleStore(tmp_path / "a")
    src.save(1, ONE)
    src.save(7, SEVEN)
    # an image-only example (no strokes), light background, not square
    (tmp_path / "a" / "4").mkdir()
    img = np.full((60, 40), 255, np.uint8)
    img[10:50, 18:23] = 0
    img[30:34, 5:35] = 0
    (tmp_path / "a" / "4" / "scan.png").write_bytes(encode_png(img))
    (tmp_path / "a" / "notes").mkdir()                           # ignored: not a digit
    dest = ExampleStore(tmp_path / "b")
    got = dest.import_folder(tmp_path / "a")
    assert sorted(e.label for e in got) == [1, 4, 7]
    assert sum(e.has_strokes() for e in got) == 2
    assert decode_png(got[1].path.read_bytes()).shape == (SIDE, SIDE)
    assert dest.export(tmp_path / "c") == 3
    ex = load_examples(tmp_path / "c")
    assert ex.x.shape == (3, 1, 28, 28) and sorted(ex.y.tolist()) == [1, 4, 7]
    assert sum(s is not None for s in ex.strokes) == 2
    with pytest.raises(ExampleError):
        dest.import_folder(tmp_path / "a" / "notes")
    with pytest.raises(ExampleError):
        load_examples(tmp_path / "nowhere")

"""The unrolled, memory and attention panels redraw only what a key changes and keep what they
drew (cards, marks, titles, label pixmaps): what is on screen after keys, partial repaints
included, is what a fresh panel shown the last frame paints, and the kept pictures are the
pixels the plain drawing gives (fast == slow, each with a negative control). No timing asserts."""

import dataclasses

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from tests.ui.conftest import argb


def _argb(img: QtGui.QImage) -> np.ndarray:
    return argb(img) & 0xFFFFFF


def _grab(w) -> np.ndarray:
    """A full repaint of the widget."""
    return _argb(w.grab().toImage())


def _screen(w) -> np.ndarray:
    """What the window shows of ``w`` now: its window's backing store, with every partial
    repaint so far."""
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    top = w.window()
    at = w.mapTo(top, QtCore.QPoint(0, 0))
    whole = top.screen().grabWindow(top.winId()).toImage()
    return _argb(whole.copy(at.x(), at.y(), w.width(), w.height()))


def _shown(qtbot, cls, size, *setup):
    w = cls()
    qtbot.addWidget(w)
    for call in setup:
        call(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


# -- unrolled ------------------------------------------------------------------------------------
def _typed(k: int, n: int = 14, hidden: int = 48):
    """Steps t-1, t and nothing after, after k keys at the end of a text (the same numbers per step)."""
    from explorer.session.sequence_view import StepView
    rng = np.random.default_rng(7)
    text = "def f(x):\n  return x"
    vals = [(rng.normal(size=8).astype(np.float32), rng.normal(size=hidden).astype(np.float32),
             [(c, float(p)) for c, p in zip("ab(", rng.dirichlet(np.ones(3)), strict=True)]) for _ in range(n)]
    return [StepView(k + j, text[k + j], vals[k + j][0].copy(), vals[k + j][1].copy(), vals[k + j][2]) if j < 2 else None
            for j in range(3)]


@pytest.mark.parametrize("size", [(280, 322), (410, 320), (300, 250)])
def test_unrolled_on_screen_after_keys_is_what_a_fresh_panel_paints(qtbot, size):
    from explorer.ui.sequence.unrolled import UnrolledPanel
    panel = _shown(qtbot, UnrolledPanel, size)
    frames = [_typed(k) for k in range(6)] + [_typed(3), _typed(4)]      # typing, then the cursor moved back
    for steps in frames:
        panel.show_steps(steps, 5, "LSTM")
        on_screen = _screen(panel)
        fresh = _shown(qtbot, UnrolledPanel, size, lambda w, s=steps: w.show_steps(s, 5, "LSTM"))
        assert np.array_equal(on_screen, _grab(fresh))
        assert np.array_equal(on_screen, _grab(panel))                   # partial repaints == a full one
    other = _shown(qtbot, UnrolledPanel, size, lambda w: w.show_steps(_typed(2), 5, "LSTM"))
    assert not np.array_equal(_grab(other), _screen(panel))               # negative control: another frame
    unit = _shown(qtbot, UnrolledPanel, size, lambda w: w.show_steps(frames[-1], 6, "LSTM"))
    assert not np.array_equal(_grab(unit), _screen(panel))                # ... and another selected unit


def test_unrolled_sees_a_step_whose_vectors_changed_in_place(qtbot):
    """A step is known by its numbers, not by the array objects it holds."""
    from explorer.ui.sequence.unrolled import UnrolledPanel
    panel = _shown(qtbot, UnrolledPanel, (410, 320))
    steps = _typed(2)
    panel.show_steps(steps, 1, "GRU")
    before = _screen(panel)
    steps[1].h[:] = -steps[1].h                           # the same objects, other numbers
    panel.show_steps(steps, 1, "GRU")
    after = _screen(panel)
    assert not np.array_equal(after, before)
    fresh = _shown(qtbot, UnrolledPanel, (410, 320), lambda w: w.show_steps(steps, 1, "GRU"))
    assert np.array_equal(after, _grab(fresh))


def test_unrolled_kept_bar_and_output_places_follow_the_count_and_the_size(qtbot):
    """The records and places kept per rect and count (the h and x bars, the top outputs' bars
    and labels) are made again for another number of outputs or units and another size: on
    screen is what a fresh panel paints at each step; the last frame's numbers are not (the
    control)."""
    from explorer.ui.sequence.unrolled import UnrolledPanel

    def with_top(steps, k, hidden=None):
        out = []
        for s in steps:
            if s is None:
                out.append(None)
                continue
            h = s.h if hidden is None else np.resize(s.h, hidden)
            top = [("abcdef"[i], 0.9 / (i + 1)) for i in range(k)] + ([("long_name_here", 1.2)] if k == 4 else [])
            out.append(dataclasses.replace(s, h=h, top=top))
        return out

    panel = _shown(qtbot, UnrolledPanel, (410, 320))
    frames = [((410, 320), with_top(_typed(k), n, hidden)) for k, n, hidden in
              ((0, 3, None), (1, 1, None), (2, 4, None), (3, 3, 20), (4, 2, 80))]
    frames += [((300, 250), with_top(_typed(5), 3)), ((300, 250), with_top(_typed(6), 2, 12))]
    for size, steps in frames:
        panel.resize(*size)
        panel.show_steps(steps, 5, "LSTM")
        on_screen = _screen(panel)
        fresh = _shown(qtbot, UnrolledPanel, size, lambda w, s=steps: w.show_steps(s, 5, "LSTM"))
        assert np.array_equal(on_screen, _grab(fresh)), size
        assert np.array_equal(on_screen, _grab(panel))
    last = _shown(qtbot, UnrolledPanel, (300, 250), lambda w: w.show_steps(frames[-2][1], 5, "LSTM"))
    assert not np.array_equal(_grab(last), _screen(panel))


def test_unrolled_keeps_six_cards_and_reuses_their_pixmaps(qtbot, monkeypatch):
    from explorer.ui.sequence import unrolled
    panel = _shown(qtbot, unrolled.UnrolledPanel, (410, 320))
    made = []
    real = unrolled.QtGui.QPixmap

    class Counting(real):
        def __init__(self, *args):
            made.append(args)
            super().__init__(*args)
    for k in range(8):
        panel.show_steps(_typed(k), 2, "LSTM")
        _screen(panel)
    monkeypatch.setattr(unrolled.QtGui, "QPixmap", Counting)
    for k in range(8, 12):                                # each key: one new card, in an old card's pixmap
        panel.show_steps(_typed(k), 2, "LSTM")
        _screen(panel)
    card = {(pm.width(), pm.height()) for pm in panel._cards.values()}
    assert len(panel._cards) == 6 and len(card) == 1
    assert not [a for a in made if a in card]             # (the x boxes are pixmaps of their own)
    fresh = _shown(qtbot, unrolled.UnrolledPanel, (410, 320))
    fresh.show_steps(_typed(0), 2, "LSTM")                # negative control: a first card is a new pixmap
    _screen(fresh)
    assert [a for a in made if a in card]


# -- memory --------------------------------------------------------------------------------------
def _memory_frames(grow: bool):
    """Consecutive show_memory arguments: a fixed 60-character window (a recurrent model) or one
    that grows by a character per key (a transformer's)."""
    rng = np.random.default_rng(3)
    text = ("def mean(xs):\n    return sum(xs) / len(xs)  # float\n" * 4)
    out = []
    for k in range(12):
        n = 40 + k if grow else 60
        start = 0 if grow else k
        w = rng.uniform(0, 1, n) ** 4
        out.append((start, w, text[start:start + n], text[start + n], bool(k % 2)))
    return out


@pytest.mark.parametrize("grow", [False, True])
def test_memory_on_screen_after_keys_is_what_a_fresh_panel_paints(qtbot, grow):
    from explorer.ui.sequence.memory_panel import MemoryPanel
    panel = _shown(qtbot, MemoryPanel, (492, 169))
    frames = _memory_frames(grow)
    for args in frames:
        panel.show_memory(*args)
        on_screen = _screen(panel)
        fresh = _shown(qtbot, MemoryPanel, (492, 169), lambda w, a=args: w.show_memory(*a))
        assert np.array_equal(on_screen, _grab(fresh))
        assert np.array_equal(on_screen, _grab(panel))
    other = _shown(qtbot, MemoryPanel, (492, 169), lambda w: w.show_memory(*frames[-2]))
    assert not np.array_equal(_grab(other), _screen(panel))               # negative control


def test_memory_paint_is_the_plain_plot_paint(qtbot, monkeypatch):
    """The kept marks layer (once the marks held), the title pixmap and the unclipped bars give
    the pixels of PaintedPlot's own paint: clip, data, axes, marks and labels, title as text."""
    from explorer.ui.sequence.memory_panel import MemoryPanel
    from explorer.ui.widgets.painted_plot import PaintedPlot
    frames = _memory_frames(False)[:7] + _memory_frames(True)[:3]
    fast = _shown(qtbot, MemoryPanel, (492, 169))
    got = []
    for args in frames:
        fast.show_memory(*args)
        got.append(_screen(fast))
    assert fast.axis._marked is not None                  # the marks were drawn into the layer
    monkeypatch.setattr(MemoryPanel, "paintEvent", PaintedPlot.paintEvent)
    slow = _shown(qtbot, MemoryPanel, (492, 169))
    for args, picture in zip(frames, got, strict=True):
        slow.show_memory(*args)
        assert np.array_equal(_grab(slow), picture)
    slow.show_memory(*frames[0])
    assert not np.array_equal(_grab(slow), got[-1])                        # negative control


def test_slot_ticks_glyphs_are_the_labels_own(qtbot):
    """Glyphs composed per character are those the font gives the whole label (none for a
    label with a character it lacks)."""
    from explorer.ui.sequence.live_axis import SlotTicks
    from explorer.ui.sequence.memory_panel import MemoryPanel
    from explorer.ui.sequence.painted_image import LiveTicks
    panel = MemoryPanel()
    qtbot.addWidget(panel)
    composed, whole = SlotTicks(panel), LiveTicks(panel)
    for label in ["a", "H1 · 2.7 b", "⏎", "L3 H2 · 0.0 b", "x中", "é"]:
        assert composed.glyphs(label) == whole.glyphs(label), label
    assert composed.glyphs("x中") is None
    assert composed.glyphs("ab") != whole.glyphs("ba")                     # negative control


def test_memory_bars_are_each_bar_mapped_by_the_plot(qtbot):
    """The bars filled in place from kept sides are, frame after frame (a growing window, its
    range stepping, then a fixed one), each bar's own px_x/px_y rectangle, flat ones left out."""
    from explorer.ui.sequence.memory_panel import BAR, MemoryPanel
    panel = _shown(qtbot, MemoryPanel, (492, 169))
    frames = _memory_frames(True) + _memory_frames(False)
    for args in frames:
        panel.show_memory(*args)
        n = len(panel.heights)
        x = np.arange(1 - n, 1, dtype=float)
        left, right = panel.px_x(x - BAR / 2), panel.px_x(x + BAR / 2)
        top, bottom = panel.px_y(panel.heights), float(panel.px_y(0.0))
        want = [(a, t, b - a, bottom - t) for a, b, t in zip(left, right, top, strict=True) if bottom - t >= 0.5]
        got = [(r.left(), r.top(), r.width(), r.height()) for r in panel.bar_rects()]
        assert 0 < len(got) < n and got == want
    left = panel.px_x(x - 1 - BAR / 2)                   # negative control: each bar a character over
    assert got != [(a, t, b - a, bottom - t) for a, b, t in zip(left, right, top, strict=True) if bottom - t >= 0.5]


def test_memory_ticks_are_a_tick_per_step_from_the_newest(qtbot):
    """The ticks made from a slice of the characters with kept values are those made index by
    index, for growing windows (their step changing) and a text shorter than the window."""
    from explorer.ui.sequence.common import char_label
    from explorer.ui.sequence.memory_panel import N_TICKS, MemoryPanel
    panel = _shown(qtbot, MemoryPanel, (492, 169))
    text = "def mean(xs):\n    return sum(xs) / len(xs)  # float\n\t" * 4
    for n, cut in [(40, 0), (41, 0), (80, 0), (81, 0), (128, 0), (60, 5)]:
        chars = text[:n - cut]
        panel.show_memory(0, np.linspace(0.1, 1, n), chars, "x", True)
        step = max(1, -(-n // N_TICKS))
        want = [(float(i + 1 - n), char_label(chars[i])) for i in range(n - 1, -1, -step) if i < len(chars)]
        assert panel.axis.ticks == want
        assert panel.axis.values == tuple(v for v, _ in want)
    off_by_one = [(float(i + 1 - n), char_label(chars[i - 1])) for i in range(n - 1, 0, -step) if i < len(chars)]
    assert panel.axis.ticks[:len(off_by_one)] != off_by_one                                  # negative control


def test_memory_axis_run_with_kept_positions_is_the_run_made_label_by_label(qtbot, monkeypatch):
    """Key after key the axis's glyph run is a kept run (positions set once per placement) with
    new glyphs set: the glyphs, positions and pixels of the run assembled label by label."""
    from explorer.ui.sequence.live_axis import SlotTicks
    from explorer.ui.sequence.memory_panel import MemoryPanel
    # (the last frames name a character the mono font lacks: drawn as text, beside the run)
    lacking = [(s, w, c.replace("m", "\u4e2d"), *rest) for s, w, c, *rest in _memory_frames(True)[-4:]]
    frames = _memory_frames(True) + _memory_frames(False) + lacking + lacking[::-1]
    fast = _shown(qtbot, MemoryPanel, (492, 169))
    slow = _shown(qtbot, MemoryPanel, (492, 169))
    monkeypatch.setattr(slow.axis, "_slot_run", lambda xs, y: None)
    kept = as_text = 0
    for args in frames:
        fast.show_memory(*args)
        slow.show_memory(*args)
        got, want = _screen(fast), _screen(slow)
        (_, run, texts), (_, other, other_texts) = fast.axis._labels, slow.axis._labels
        kept += any(run is r for r in fast.axis._slot_runs.values())
        as_text += bool(texts) and run is not None and any(run is r for r in fast.axis._slot_runs.values())
        assert run.glyphIndexes() == other.glyphIndexes()
        assert run.positions() == other.positions()
        assert [(a.x(), a.y(), s) for a, s in texts] == [(a.x(), a.y(), s) for a, s in other_texts]
        assert np.array_equal(got, want)
    assert kept >= len(frames) // 2 and as_text >= 4     # (not where a character is new)
    moved = SlotTicks(fast)                              # negative control: a run placed one px over
    moved._placed = (fast.axis._placed[0], [x + 1 for x in fast.axis._placed[1]], fast.axis._placed[2])
    moved.set(list(fast.axis.ticks))
    moved._chars = dict(fast.axis._chars)
    shifted = moved._slot_run(moved._placed[1], 0.0)
    assert shifted is not None and shifted[0].positions() != fast.axis._labels[1].positions()


# -- attention -----------------------------------------------------------------------------------
def _attention_frames(text: str):
    from explorer.ui.sequence.attention import demo_view
    v = demo_view(text=text)

    def upto(k):
        cut = len(text) - k
        return dataclasses.replace(v, query=k - 1, rows=v.rows[..., :v.rows.shape[-1] - cut],
                                   chars=v.chars[:-cut or None], entropy=v.entropy * (0.9 + 0.01 * (k % 7)),
                                   pattern=v.pattern[:, :v.pattern.shape[1] - cut, :v.pattern.shape[2] - cut],
                                   pattern_chars=v.pattern_chars[:-cut or None])
    return [upto(k) for k in range(len(text) - 5, len(text) + 1)]


@pytest.mark.parametrize("height", [260, 300, 317])
def test_attention_entropy_pixmaps_are_the_labels_drawn_as_text(qtbot, monkeypatch, height):
    """Kept pixmaps of the entropies (per text, x fraction and baseline rounding) over the kept
    fixed parts: the pixels of each label drawn as text, at several row positions."""
    from explorer.ui.sequence.attention import AttentionPanel, EntropyLabels
    text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)\n'
    frames = _attention_frames(text)

    def panel():
        return _shown(qtbot, AttentionPanel, (900, height), lambda w: w.set_model(2, 4, 128))
    fast = panel()
    labels = fast.strip.row_axis
    kept = len(labels._inked)
    assert kept > 0                                       # made when the model was set up
    got = []
    for v in frames:
        fast.show_attention(v)
        got.append(_screen(fast.view))
        assert np.array_equal(got[-1], _grab(fast.view))
    assert len(labels._inked) == kept                     # keys made no new pixmap
    monkeypatch.setattr(EntropyLabels, "KEPT_PIXMAPS", False)
    slow = panel()
    for v, picture in zip(frames, got, strict=True):
        slow.show_attention(v)
        assert np.array_equal(_grab(slow.view), picture)
    assert fast.strip.labels() == slow.strip.labels() and fast.strip.labels()[0].startswith("L1 H1 · ")
    last = frames[-1]                                     # negative control: other entropies
    slow.show_attention(dataclasses.replace(last, rows=last.rows.copy(), entropy=last.entropy + 0.3))
    slow.show_attention(dataclasses.replace(last, rows=last.rows * 0.999, entropy=last.entropy + 0.3))
    assert not np.array_equal(_grab(slow.view), got[-1])


def test_attention_on_screen_after_keys_is_what_a_fresh_panel_paints(qtbot):
    from explorer.ui.sequence.attention import AttentionPanel
    text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)\n'
    frames = _attention_frames(text)
    panel = _shown(qtbot, AttentionPanel, (947, 322), lambda w: w.set_model(2, 4, 128))
    for v in frames:
        panel.show_attention(v)
        fresh = _shown(qtbot, AttentionPanel, (947, 322), lambda w: w.set_model(2, 4, 128), lambda w, f=v: w.show_attention(f))
        assert np.array_equal(_screen(panel.view), _grab(fresh.view))
    first = _shown(qtbot, AttentionPanel, (947, 322), lambda w: w.set_model(2, 4, 128),
                   lambda w: w.show_attention(frames[0]))
    assert not np.array_equal(_screen(panel.view), _grab(first.view))       # negative control


def test_attention_pattern_makes_only_new_rows_and_sees_a_changed_old_one(qtbot):
    """Typing adds a query row: only it is made and coloured; a frame whose earlier row changed
    (the same start) is coloured again from that row. Either way the picture of a fresh panel."""
    from explorer.ui.sequence.attention import AttentionPanel
    text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)\n'
    frames = _attention_frames(text)

    def fresh_pixels(v):
        w = _shown(qtbot, AttentionPanel, (900, 300), lambda p: p.set_model(2, 4, 128), lambda p: p.show_attention(v))
        return w.pattern.values.copy(), w.pattern.pixels.copy()
    panel = _shown(qtbot, AttentionPanel, (900, 300), lambda p: p.set_model(2, 4, 128))
    for v in frames:
        panel.show_attention(v)
        n = v.pattern.shape[-1]
        values, pixels = fresh_pixels(v)
        assert np.array_equal(panel.pattern.values, values, equal_nan=True)
        assert np.array_equal(panel.pattern.pixels, pixels)
    assert panel.pattern.recoloured == (n - 1, n)
    last = frames[-1]
    changed = last.pattern.copy()
    changed[:, 10, :5] = changed[:, 10, ::-1][:, -5:]     # an earlier query row, other weights
    edited = dataclasses.replace(last, rows=last.rows * 0.999, pattern=changed)
    panel.show_attention(edited)
    assert panel.pattern.recoloured == (10, n)
    values, pixels = fresh_pixels(edited)
    assert np.array_equal(panel.pattern.pixels, pixels)
    assert not np.array_equal(pixels, fresh_pixels(last)[1])              # negative control


def test_exports_keep_the_kept_pictures_text_as_text(qtbot, tmp_path):
    """An SVG export paints through another engine: the memory title and the strip's row
    labels are written as text there, not as the pixmaps kept for the screen."""
    import re

    from explorer.ui.sequence.attention import AttentionPanel
    from explorer.ui.sequence.memory_panel import MemoryPanel
    from explorer.ui.widgets.export import save_svg

    def texts(svg: str) -> str:
        return " ".join(t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    memory = _shown(qtbot, MemoryPanel, (492, 169))
    memory.show_memory(*_memory_frames(False)[3])
    _screen(memory)                                        # (the screen's kept pictures exist)
    assert "Memory → actual next char" in texts(save_svg(memory, tmp_path / "m.svg").read_text())
    frames = _attention_frames('def mean(xs):\n    return sum(xs) / len(xs)\n')
    panel = _shown(qtbot, AttentionPanel, (947, 322), lambda w: w.set_model(2, 4, 128), lambda w: w.show_attention(frames[-1]))
    _screen(panel)
    svg = texts(save_svg(panel.strip.row_axis, tmp_path / "a.svg").read_text())
    entropy = f"{frames[-1].entropy[0, 0]:.1f} b"
    assert "L1 H1" in svg and entropy in svg


def _same_pixels_without(qtbot, monkeypatch, size, cls, fast_path, part):
    """A panel part (``strip`` or ``pattern``) fed a few typed frames: its pixels on screen
    (partial repaints) equal a full repaint, and equal the pixels of a second panel with
    ``cls.<fast_path>`` turned off. -> (frames, the pictures, the first panel, the second)."""
    from explorer.ui.sequence.attention import AttentionPanel
    frames = _attention_frames('def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)\n')
    fast = _shown(qtbot, AttentionPanel, size, lambda w: w.set_model(2, 4, 128))
    got = []
    for v in frames:
        fast.show_attention(v)
        got.append(_screen(getattr(fast, part)))
        assert np.array_equal(got[-1], _grab(getattr(fast, part)))
    monkeypatch.setattr(cls, fast_path, False)
    slow = _shown(qtbot, AttentionPanel, size, lambda w: w.set_model(2, 4, 128))
    for v, picture in zip(frames, got, strict=True):
        slow.show_attention(v)
        assert np.array_equal(_grab(getattr(slow, part)), picture)
    return frames, got, fast, slow


@pytest.mark.parametrize("size", [(947, 322), (700, 260), (1200, 300)])
def test_attention_strip_blits_only_up_to_the_query_and_looks_the_same(qtbot, monkeypatch, size):
    """The strip's image is clipped right of the query (white there in the image and under
    it): the pixels of blitting the whole image, for several query widths and sizes."""
    from explorer.ui.sequence.attention import AttentionStrip
    _, _, _, whole = _same_pixels_without(qtbot, monkeypatch, size, AttentionStrip, "CLIP_TO_KEYS", "strip")
    # negative control: were the columns right of the query not white, the clip would change
    # the picture (it does cut the blit there)
    whole.strip.pixels[:, whole.strip.values.shape[1]:] = np.uint32(0xFF00FF00)
    unclipped = _grab(whole.strip)
    monkeypatch.setattr(AttentionStrip, "CLIP_TO_KEYS", True)
    assert not np.array_equal(_grab(whole.strip), unclipped)


def test_attention_pattern_pixels_are_its_values_coloured(qtbot):
    """The pattern's rows are coloured head block by head block over a template (weight 0 in
    the blocks, white in the gaps): the pixels of colouring its values (NaN gaps white), after
    each key and a frame whose earlier row changed."""
    from explorer.ui.sequence.attention import LEVELS, AttentionPanel
    from explorer.ui.sequence.common import GATE_MAP
    from explorer.ui.sequence.painted_image import BACKGROUND, colour, colour_table
    frames = _attention_frames('def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)\n')
    last = frames[-1]
    changed = last.pattern.copy()
    changed[:, 10, :5] = changed[:, 10, ::-1][:, -5:]
    frames.append(dataclasses.replace(last, rows=last.rows * 0.999, pattern=changed))
    frames.append(frames[2])                                            # fewer rows again
    panel = _shown(qtbot, AttentionPanel, (900, 300), lambda w: w.set_model(2, 4, 128))
    for v in frames:
        panel.show_attention(v)
        pattern = panel.pattern
        n = v.pattern.shape[-1]
        assert np.array_equal(pattern.pixels[:n], colour(pattern.values, *LEVELS, colour_table(GATE_MAP)))
        assert (pattern.pixels[n:] == BACKGROUND).all()
        assert np.isnan(pattern.values).any() and (pattern.values == 0).any()     # gaps, unread keys
    # negative control: other levels colour the same values otherwise
    assert not np.array_equal(pattern.pixels[:n], colour(pattern.values, 0.0, 0.5, colour_table(GATE_MAP)))


@pytest.mark.parametrize("size", [(947, 322), (1300, 330), (700, 260), (560, 240)])
def test_attention_pattern_head_labels_from_kept_places_are_the_axis_glyph_run(qtbot, monkeypatch, size):
    """The pattern's head labels (a new entropy on every key) are one glyph run made from kept
    glyph places: the pixels of the run the axis makes, on screen after keys (partial
    repaints) and in a full repaint, wide plots and narrow ones (labels that overlap)."""
    from explorer.ui.sequence.attention import AttentionPattern
    frames, got, kept, axis = _same_pixels_without(qtbot, monkeypatch, size, AttentionPattern, "KEPT_LABELS", "pattern")
    assert kept.pattern._head_run() is not None           # (the kept places were used)
    # negative control: other labels are other pixels (other entropies; a narrow plot's labels
    # name the heads alone, so there other heads' names)
    last = frames[-1]
    if axis.pattern.axis.labels() == ["H1", "H2", "H3", "H4"]:
        axis.pattern.axis.set([(x + 1.0, "Hx") for x, _ in axis.pattern.axis.ticks])
        axis.pattern.update()
    else:
        axis.show_attention(dataclasses.replace(last, rows=last.rows * 0.999, entropy=last.entropy + 0.3))
    assert not np.array_equal(_grab(axis.pattern), got[-1])


@pytest.mark.parametrize("size", [(947, 322), (560, 240)])
def test_attention_pattern_head_labels_name_the_heads_alone_where_a_block_is_narrow(qtbot, size):
    """A block too narrow for "H2 · 4.5 b" is labelled "H2" (the labels never run into each
    other); a wide one gets its head's entropy; resizing switches between them."""
    from explorer.ui.sequence.attention import AttentionPanel
    frames = _attention_frames('def mean(xs):\n    return sum(xs) / len(xs)\n')
    panel = _shown(qtbot, AttentionPanel, size, lambda w: w.set_model(2, 4, 128))
    panel.show_attention(frames[-1])
    pattern = panel.pattern
    metrics = QtGui.QFontMetricsF(pattern.tick_font)

    def fits() -> bool:
        labels, ticks = pattern.axis.labels(), [x for x, _ in pattern.axis.ticks]
        px = [pattern.px_x(x) for x in ticks]
        halves = [metrics.horizontalAdvance(t) / 2 for t in labels]
        return all(px[i] + halves[i] < px[i + 1] - halves[i + 1] for i in range(len(px) - 1))

    wide = size[0] > 900
    labels = pattern.axis.labels()
    assert (labels == ["H1", "H2", "H3", "H4"]) != wide and fits()
    if wide:
        assert all(" b" in t for t in labels)
    panel.resize(1200 if not wide else 560, size[1])
    qtbot.waitUntil(lambda: pattern.axis.labels() != labels)
    assert fits()


def test_attention_weights_coloured_in_fewer_calls_are_colour_s_pixels():
    """colour_weights (the strip's and the pattern's per-key colouring) gives colour()'s
    pixels for the weight levels: softmax rows, exact 0 and 1, the steps' edges, out of range
    and NaN; a control with other levels differs."""
    from explorer.ui.sequence.attention import LEVELS, colour_weights
    from explorer.ui.sequence.common import GATE_MAP
    from explorer.ui.sequence.painted_image import colour, colour_table
    rng = np.random.default_rng(3)
    w = rng.dirichlet(np.ones(40), size=(4, 12)).astype(np.float32)            # (4, 12, 40) rows summing to 1
    edges = np.array([0.0, -0.0, 1.0, 1 / 256, np.nextafter(np.float32(1 / 256), 0), 255 / 256,
                      np.nextafter(np.float32(1.0), 0), -0.5, 1.5, 1e-30], np.float32)
    table = colour_table(GATE_MAP)
    for values in (w, w[1], edges, edges.reshape(2, 5)):
        got = colour_weights(values)
        assert got.shape == values.shape and np.array_equal(got, colour(values, *LEVELS, table))
    nan = edges.copy()
    nan[3] = np.nan
    assert np.array_equal(colour_weights(nan), colour(nan, *LEVELS, table)) and colour_weights(nan)[3] == 0xFFFFFFFF
    assert not np.array_equal(colour_weights(w), colour(w, 0.0, 0.5, table))          # negative control

"""The prose corpus' docstrings: English sentences only, held-out packages left out."""

from __future__ import annotations

from explorer.data import corpora


def test_docstrings_keep_sentences_and_drop_code(tmp_path):
    src = tmp_path / "m.py"
    src.write_text('''"""A module that reads the weather and tells you whether to carry an umbrella today.

>>> carry(0.9)
True
"""


def carry(p):
    """Return True when the chance of rain is high enough to make carrying worth it.

    Parameters
    ----------
    p : float
        chance
    """


class Broken:
    """short"""
''')
    text = corpora.docstrings(str(src))
    assert "umbrella today." in text and "carrying worth it." in text
    assert ">>>" not in text and "p : float" not in text and "short" not in text
    bad = tmp_path / "bad.py"
    bad.write_text("def (:\n")
    assert corpora.docstrings(str(bad)) == ""


def test_held_out_packages_are_not_read():
    keys = corpora.prose_files()
    assert any(k.startswith("stdlib/") for k in keys)
    assert not any(k[len("site/"):].startswith(corpora.PROSE_HELD_OUT) for k in keys if k.startswith("site/"))

"""Reflowing the prose corpus: half the wrapped paragraphs become one line, nothing else moves."""

from __future__ import annotations

import re

import pytest

from explorer.data import corpora

WRAPPED = [f"Paragraph {k} says that a recurrent network carries its state\nfrom one character to the next, "
           f"and that\nits gradient may vanish over long spans." for k in range(40)]
NOT_PROSE = [
    "- a list item that goes on\n- and a second item",
    "1. first step of the recipe\n2. second step of the recipe",
    "    indented code()\nnot indented",
    "| a | table |\n|---|---|",
    "Title of a section\n==================",
]


def words(text: str) -> list[str]:
    return text.split()


def test_about_half_the_wrapped_paragraphs_become_one_line_and_no_word_changes():
    text = "\n\n".join(WRAPPED)
    out = corpora.reflow_paragraphs(text)
    pars = out.split("\n\n")
    joined = [p for p in pars if "\n" not in p]
    assert len(pars) == len(WRAPPED)
    assert 10 <= len(joined) <= 30                 # ~half, chosen by the text's CRC-32
    assert words(out) == words(text)               # the same words in the same order
    for before, after in zip(WRAPPED, pars):
        assert after in (before, before.replace("\n", " "))
    assert corpora.reflow_paragraphs(text) == out  # the same choice every time


def test_lists_tables_rules_and_mixed_indentation_stay_as_they_are():
    text = "\n\n".join(NOT_PROSE * 8)
    assert corpora.reflow_paragraphs(text, share=1.0) == text
    wrapped = "\n\n".join(WRAPPED[:5])
    assert "\n" not in corpora.reflow_paragraphs(wrapped, share=1.0).replace("\n\n", "")   # control: prose joins


def test_share_zero_changes_nothing_and_one_joins_every_wrapped_paragraph():
    text = "\n\n".join(WRAPPED + NOT_PROSE)
    assert corpora.reflow_paragraphs(text, share=0.0) == text
    out = corpora.reflow_paragraphs(text, share=1.0)
    assert all("\n" not in p for p in out.split("\n\n")[:len(WRAPPED)])


def test_indented_paragraph_keeps_its_first_indent():
    par = "    The documentation indents this paragraph by four spaces\n    and wraps it at a fixed column."
    assert corpora.reflow_paragraphs(par, share=1.0) == ("    The documentation indents this paragraph by four "
                                                         "spaces and wraps it at a fixed column.")


def test_reflow_is_for_the_prose_corpus_only(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("some text\n" * 50)
    with pytest.raises(corpora.CorpusError, match="prose"):
        corpora.load_corpus(str(f), "train", reflow=True)


def test_reflowed_prose_corpus_has_long_lines_where_the_wrapped_one_has_few():
    a = corpora.load_prose("valid", 60_000)
    b = corpora.load_prose("valid", 60_000, reflow=True)
    assert words(a.text) == words(b.text)

    def long_share(text: str) -> float:
        return sum(len(line) for line in text.split("\n") if len(line) > 100) / max(len(text), 1)

    assert long_share(b.text) > long_share(a.text) + 0.05
    assert re.search(r"[^\n]{200}", b.text)

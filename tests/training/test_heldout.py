"""Held-out sets from outside every training source: what they take and what they never take."""

from __future__ import annotations

import gzip

from explorer.training import heldout


def test_sets_take_whole_files_from_outside_the_training_sources(tmp_path, monkeypatch):
    site, doc = tmp_path / "dist-packages", tmp_path / "doc"
    words = "The quick fix is to read the manual first, then ask on the list. " * 6
    for pkg in ("alpha", "beta"):
        for i in range(4):
            (site / pkg).mkdir(parents=True, exist_ok=True)
            (site / pkg / f"m{i}.py").write_text(f"def f{i}(x):\n    return x + {i}  # {pkg}\n" * 12)
    (site / "numpy").mkdir()                       # this Python has numpy: its code is trained on
    (site / "numpy" / "core.py").write_text("def numpy_thing():\n    pass\n" * 20)
    (site / "alpha" / "_vendor").mkdir()
    (site / "alpha" / "_vendor" / "copy.py").write_text("vendored = True\n" * 30)
    (doc / "tool").mkdir(parents=True)
    (doc / "tool" / "README.md").write_text("# Tool\n\n* " + words)
    with gzip.open(doc / "tool" / "NEWS.md.gz", "wt") as fh:
        fh.write("## 1.0\n\n- " + words)
    monkeypatch.setattr(heldout, "SYSTEM_SITE", str(site))
    monkeypatch.setattr(heldout, "DOC_ROOT", str(doc))
    monkeypatch.setattr(heldout, "_installed_names", lambda: {"numpy"})

    text, files = heldout.build("code", cap=100_000)
    assert files and all("numpy" not in f and "_vendor" not in f for f in files)
    for pkg in ("alpha", "beta"):                 # at most PER_SOURCE files of one package
        assert sum(f"/{pkg}/" in f for f in files) == heldout.PER_SOURCE
    for f in files:                               # whole files
        assert open(f).read().strip() in text

    md, md_files = heldout.build("prose-markdown", cap=100_000)
    assert len(md_files) == 2 and "# Tool" in md and "## 1.0" in md   # gzip read too
    small, small_files = heldout.build("code", cap=300)                   # the cap stops it
    assert len(small_files) == 1

"""The code corpus's training split: the standard library, then installed packages' code,
split by whole package (CODE_HELD_OUT never trained on), de-duplicated, each package capped."""

from explorer.data import corpora
from explorer.data.corpora import load_code


def _write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _folders(tmp_path):
    std, site = tmp_path / "lib", tmp_path / "site"
    for i in range(40):
        _write(std, f"mod{i}.py", f"def f{i}(x):\n    return x + {i}\n" * 20)
    _write(site, "camel/widgets.py", "def setViewBox(self, viewBox):\n    self.vb = viewBox\n" * 30)
    _write(site, "camel/tests/test_widgets.py", "def test_it():\n    assert True\n" * 30)
    _write(site, "pyqtgraph/ViewBox.py", "class ViewBox:\n    def autoRange(self):\n        pass\n" * 30)
    _write(site, "mlxtend/plotting.py", "def plot_decision_regions(X, y):\n    pass\n" * 30)
    _write(site, "vendored/copy_of_mod3.py", (std / "mod3.py").read_text())     # a stdlib copy
    _write(site, "other/dup.py", (site / "camel/widgets.py").read_text())     # a package copy
    for i in range(12):                                                      # one big package
        _write(site, f"big/part{i}.py", f"value_{i} = [{i}] * 10\n" * 1000)
    _write(site, "single.py", "import os\nprint(os.sep)\n" * 10)
    return std, site


def test_training_adds_packages_after_the_stdlib_and_never_held_out_ones(tmp_path, monkeypatch):
    std, site = _folders(tmp_path)
    monkeypatch.setattr(corpora, "CODE_PACKAGE_CHARS", 50_000)
    train = load_code("train", 10_000_000, root=str(std), site=str(site))
    valid = load_code("valid", 10_000_000, root=str(std), site=str(site))
    names = train.files
    n_std = sum(not n.startswith("site/") for n in names)
    assert all(not n.startswith("site/") for n in names[:n_std])       # standard library first
    site_names = {n for n in names if n.startswith("site/")}
    assert "site/camel/widgets.py" in site_names and "site/single.py" in site_names
    assert not {n for n in site_names if n.split("/")[1] in corpora.CODE_HELD_OUT}
    assert not {n for n in site_names if "/tests/" in n}
    # exact copies (of a stdlib file or of another package's file) are dropped
    assert "site/vendored/copy_of_mod3.py" not in site_names
    assert len(site_names & {"site/camel/widgets.py", "site/other/dup.py"}) == 1
    # one package never takes more than CODE_PACKAGE_CHARS
    big = sum(len((site / n[5:]).read_text()) for n in site_names if n.startswith("site/big/"))
    assert 0 < big <= 50_000
    assert "setViewBox" in train.text and "autoRange" not in train.text
    assert all(not n.startswith("site/") for n in valid.files)          # validation: stdlib only
    assert not set(valid.files) & set(names)
    assert load_code("train", 10_000_000, root=str(std), site=str(site)).text == train.text


def test_a_small_cap_reads_the_standard_library_only(tmp_path):
    std, site = _folders(tmp_path)
    with_site = load_code("train", 5_000, root=str(std), site=str(site))
    without = load_code("train", 5_000, root=str(std), installed=False)
    assert with_site.text == without.text and not any(n.startswith("site/") for n in with_site.files)
    full = load_code("train", 10_000_000, root=str(std), site=str(site))
    assert any(n.startswith("site/") for n in full.files)
    assert full.text.startswith(load_code("train", 10_000_000, root=str(std), installed=False).text)

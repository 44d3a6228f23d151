"""Session (.cre) files: round trip, models embedded, every kind of bad file refused."""

import io
import json
import zipfile

import numpy as np
import pytest

from explorer.engine import Conv2d, Flatten, Linear, Model, ReLU
from explorer.errors import ExplorerError
from explorer.session import lessonfile as lf


def small_model(seed=0):
    rng = np.random.default_rng(seed)
    return Model([Conv2d(1, 2, 3, padding=1, rng=rng), ReLU(), Flatten(), Linear(2 * 28 * 28, 10, rng=rng)])


def lesson():
    return lf.Lesson(state={"window": {"tab": 1}, "sequence": {"text": "héllo", "cursor": 3, "unit": 5},
                            "digits": {"scope": "map", "selection": None}},
                     models={"digit": lf.model_bytes(small_model())},
                     drawing=b"not checked here",
                     arrays={"curve": np.arange(5, dtype=np.float32)})


def test_round_trip_keeps_state_models_and_arrays(tmp_path):
    path = lf.write_lesson(tmp_path / "a.cre", lesson())
    back = lf.read_lesson(path)
    assert back.state["sequence"] == {"text": "héllo", "cursor": 3, "unit": 5}
    assert back.section("window") == {"tab": 1} and back.section("compare") == {}
    assert back.drawing == b"not checked here"
    np.testing.assert_array_equal(back.arrays["curve"], np.arange(5, dtype=np.float32))
    x = np.random.default_rng(1).random((2, 1, 28, 28)).astype(np.float32)
    model = lf.model_from_bytes(back.models["digit"])
    np.testing.assert_array_equal(model.predict(x), small_model().eval().predict(x))


def test_no_pickle_inside(tmp_path):
    path = lf.write_lesson(tmp_path / "a.cre", lesson())
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "drawing.npz", "models/digit.npz", "session.json"]
        for name in zf.namelist():
            if name.endswith(".npz") and name != "drawing.npz":   # a stand-in here
                with np.load(io.BytesIO(zf.read(name)), allow_pickle=False) as z:
                    [z[k] for k in z.files]     # loads without pickle


def rewrite(src, dst, change):
    """Copy the zip at src to dst with change(name, data) -> data or None (drop)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


@pytest.mark.parametrize("case, message", [
    ("truncated", "is truncated: it ends after"),
    ("foreign", "not a CNN & RNN Explorer session file"),
    ("empty", "not a CNN & RNN Explorer session file"),
    ("bitflip", "damaged"),
    ("other_zip", "has no session.json"),
    ("model_file", "is a model file"),
    ("bad_json", "not valid JSON"),
    ("wrong_format", "not a CNN & RNN Explorer session"),
    ("newer", "newer version"),
    ("wrong_type", "'sequence.cursor' must be a whole number, not text"),
    ("evil_member", "unexpected entry"),
    ("bad_model", "embedded digit model is not a valid model"),
    ("missing_model", "is missing"),
    ("pickled_arrays", "pickle"),
])
def test_bad_files_refused_with_a_sentence(tmp_path, case, message):
    good = lf.write_lesson(tmp_path / "good.cre", lesson())
    raw = good.read_bytes()
    bad = tmp_path / f"{case}.cre"
    if case == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif case == "foreign":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    elif case == "empty":
        bad.write_bytes(b"")
    elif case == "bitflip":
        with zipfile.ZipFile(good) as zf:
            info = zf.getinfo("session.json")
        data = bytearray(raw)
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + 5] ^= 0xFF
        bad.write_bytes(bytes(data))
    elif case == "other_zip":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("word/document.xml", "<w/>")
    elif case == "model_file":
        from explorer.engine import save_model
        save_model(small_model(), bad)
    elif case == "bad_json":
        rewrite(good, bad, lambda n, d: b"{not json" if n == "session.json" else d)
    elif case in ("wrong_format", "newer", "wrong_type", "missing_model"):
        def change(n, d):
            if n == "models/digit.npz" and case == "missing_model":
                return None
            if n != "session.json":
                return d
            doc = json.loads(d)
            if case == "wrong_format":
                doc["format"] = "someone-else/thing"
            elif case == "newer":
                doc["version"] = lf.VERSION + 1
            elif case == "wrong_type":
                doc["state"]["sequence"]["cursor"] = "three"
            return json.dumps(doc).encode()
        rewrite(good, bad, change)
    elif case == "evil_member":
        rewrite(good, bad, lambda n, d: d)
        with zipfile.ZipFile(bad, "a") as zf:
            zf.writestr("../../etc/evil.py", "print('x')")
    elif case == "bad_model":
        rewrite(good, bad, lambda n, d: d[:200] if n == "models/digit.npz" else d)
    elif case == "pickled_arrays":
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        pickled = io.BytesIO()
        with zipfile.ZipFile(pickled, "w") as zf:
            zf.writestr("x.npy", buf.getvalue())
        rewrite(good, bad, lambda n, d: pickled.getvalue() if n == "arrays.npz" else d)
    with pytest.raises(lf.LessonFileError, match=message) as info:
        lf.read_lesson(bad)
    assert isinstance(info.value, ExplorerError)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(lf.LessonFileError, match="no such file"):
        lf.read_lesson(tmp_path / "nope.cre")
    with pytest.raises(lf.LessonFileError, match="folder"):
        lf.read_lesson(tmp_path)


def test_version_0_is_migrated(tmp_path):
    good = lf.write_lesson(tmp_path / "good.cre", lesson())

    def to_v0(n, d):
        if n != "session.json":
            return d
        doc = json.loads(d)
        doc["version"] = 0
        doc["tab"] = doc["state"].pop("window")["tab"]
        return json.dumps(doc).encode()
    old = rewrite(good, tmp_path / "old.cre", to_v0)
    assert lf.read_lesson(old).state["window"] == {"tab": 1}


def test_write_failure_leaves_old_file(tmp_path):
    path = lf.write_lesson(tmp_path / "a.cre", lesson())
    before = path.read_bytes()
    bad = lesson()
    bad.arrays = {"text": np.array(["a", "b"])}
    with pytest.raises(lf.LessonFileError, match="not numeric"):
        lf.write_lesson(path, bad)
    assert path.read_bytes() == before


def test_open_command_checks_the_file_before_any_window(tmp_path, monkeypatch, capsys):
    from explorer import cli
    from explorer.ui.shell import launch
    opened = []
    monkeypatch.setattr(launch, "open_window", lambda session=None: opened.append(session) or 0)
    bad = tmp_path / "bad.cre"
    bad.write_bytes(b"hello")
    assert cli.main(["open", str(bad)]) == 2
    assert "not a CNN & RNN Explorer session file" in capsys.readouterr().err and not opened
    good = lf.write_lesson(tmp_path / "good.cre", lesson())
    assert cli.main(["open", str(good)]) == 0 and opened == [good]


def test_a_session_file_alone_on_the_command_line_opens_it(tmp_path, monkeypatch):
    from explorer import cli
    from explorer.ui.shell import launch
    opened = []
    monkeypatch.setattr(launch, "open_window", lambda session=None: opened.append(session) or 0)
    good = lf.write_lesson(tmp_path / "good.cre", lesson())
    assert cli.main([str(good)]) == 0 and opened == [good]


def test_install_desktop_entry_flag(tmp_path, monkeypatch, capsys):
    from explorer import cli
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli.main(["--install-desktop-entry"]) == 0
    assert (tmp_path / "applications" / "cnn-rnn-explorer.desktop").is_file()
    assert "wrote" in capsys.readouterr().out

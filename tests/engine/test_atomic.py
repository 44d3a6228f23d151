"""The one atomic writer: all or nothing, no temporary file left behind."""

import os

import pytest

from explorer.atomic import atomic_write, atomic_write_text, atomic_write_via_name


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)      # the usual permissions, not mkstemp's


def test_a_failing_writer_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write_text(path, "old")

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_missing_folder_is_an_oserror_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_text(tmp_path / "nope" / "a.txt", "x")
    assert info.value.filename == str(tmp_path / "nope")


def test_by_name_writer_that_creates_nothing_fails_cleanly(tmp_path):
    path = tmp_path / "img.png"

    def writes_nothing(tmp):
        os.unlink(tmp)                       # e.g. QImage.save() returned False after removing it

    with pytest.raises(OSError):
        atomic_write_via_name(path, writes_nothing)
    assert not path.exists() and os.listdir(tmp_path) == []

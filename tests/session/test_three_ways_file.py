"""The digits-three-ways figures file the Compare lab shows: read, checked, refused with one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.session.compare import ROBUSTNESS, ThreeWaysError, load_three_ways, three_ways_path


def three_ways_doc() -> dict:
    def model(name: str, reads: str, acc: float, params: int) -> dict:
        return {"name": name, "reads": reads, "file": f"{name}.npz", "params": params, "accuracy": acc,
                "per_digit": [acc] * 10, "ms_per_reading": 0.5,
                "robustness": {k: round(acc - 0.01 * i, 4) for i, k in enumerate(ROBUSTNESS)}}
    return {"format": "cnn-rnn-explorer/digits-three-ways", "version": 1,
            "heldout": {"description": "test writers", "writers": 3, "digits": 30, "sources": ["a"]},
            "models": [model("CNN", "picture", 0.98, 52138), model("row-RNN", "rows", 0.95, 24714),
                       model("pen LSTM", "pen", 0.97, 30000)],
            "command": "cnn-rnn-explorer compare --task digits-three-ways --data X --out Y"}


def write(tmp_path: Path, doc: object, name: str = "three.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def test_a_good_file_is_read(tmp_path: Path) -> None:
    fig = load_three_ways(write(tmp_path, three_ways_doc()))
    assert [m["name"] for m in fig.models] == ["CNN", "row-RNN", "pen LSTM"]
    assert fig.model("pen LSTM")["reads"] == "pen" and fig.model("nope") is None
    assert fig.heldout["writers"] == 3 and "digits-three-ways" in fig.command


@pytest.mark.parametrize("change, why", [
    (lambda d: d.update(format="other"), "not a digits-three-ways"),
    (lambda d: d.update(models=[]), "no models"),
    (lambda d: d["models"][0].update(accuracy=1.5), "fractions"),
    (lambda d: d["models"][1]["robustness"].pop("thicker"), "fractions"),
    (lambda d: d["models"][2].update(per_digit=[0.5] * 9), "fractions"),
    (lambda d: d["models"][0].update(params=-3), "non-negative"),
    (lambda d: d["models"][0].update(reads="smell"), "unknown input"),
    (lambda d: d["models"][0].update(ms_per_reading=float("nan")), "non-negative"),
])
def test_a_damaged_file_is_refused_with_one_sentence(tmp_path: Path, change, why) -> None:
    doc = three_ways_doc()
    change(doc)
    with pytest.raises(ThreeWaysError, match=why) as err:
        load_three_ways(write(tmp_path, doc))
    assert "\n" not in str(err.value)


def test_missing_or_not_json(tmp_path: Path) -> None:
    with pytest.raises(ThreeWaysError, match="not there"):
        load_three_ways(str(tmp_path / "absent.json"))
    with pytest.raises(ThreeWaysError, match="cannot be read"):
        load_three_ways(write(tmp_path, "{not json"))


def test_the_shipped_file_when_there_is_valid() -> None:
    if not Path(three_ways_path()).is_file():
        pytest.skip("digits_three_ways.json not shipped in this checkout yet")
    fig = load_three_ways()
    names = [m["name"] for m in fig.models]
    assert names[:3] == ["CNN", "row-RNN", "pen LSTM"]

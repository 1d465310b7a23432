"""load_digits_csv reads a cell the same way on both of its paths: np.loadtxt's integers (ASCII
digits after an optional sign, within whitespace) and nothing else, whichever path reads it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn.data.digit_files import load_digits_csv

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
FORCE_SLOW = "\u00a00"  # a zero after a no-break space: loadtxt reads it, but the file is no longer ASCII

ACCEPTED = ["7", " 7", "7 ", "\t7\t", "+7", " +7 ", "-0", "+0", "007", "255", "\x0b7", "\x0c7\x0c", "\x1c7"]
"""Cells np.loadtxt reads as integers: whitespace as ``str.strip`` takes it, one sign, ASCII digits."""

REFUSED = [
    "2_5",  # int() reads 25
    "\u0663",  # ARABIC-INDIC DIGIT THREE: int() reads 3
    "\uff17",  # FULLWIDTH DIGIT SEVEN: int() reads 7
    "\U0001d7d5",  # MATHEMATICAL BOLD DIGIT SEVEN: int() reads 7
    "1_0",
    "0x10",
    "1e2",
    "1.0",
    "+ 7",
    "++7",
    "+-7",
    "7-",
    "+",
    "",
    "\x007",
]


def _write(path: Path, first_pixel: str, last_pixel: str = "0", label: str = "3") -> Path:
    cells = [label, first_pixel, *["0"] * 782, last_pixel]
    path.write_text(HEADER + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("cell", ACCEPTED)
def test_a_cell_loadtxt_reads_loads_the_same_on_the_line_by_line_path(tmp_path: Path, cell: str) -> None:
    expected = np.loadtxt(io.StringIO(cell + ",0\n"), delimiter=",", dtype=np.int32, comments=None)[0]
    fast = load_digits_csv(_write(tmp_path / "fast.csv", cell))
    slow = load_digits_csv(_write(tmp_path / "slow.csv", cell, last_pixel=FORCE_SLOW))
    assert fast.X[0, 0] == expected == int(cell.strip())
    np.testing.assert_array_equal(slow.X, fast.X)
    assert slow.y is not None and fast.y is not None
    np.testing.assert_array_equal(slow.y, fast.y)


@pytest.mark.parametrize("cell", REFUSED)
@pytest.mark.parametrize("slow", [False, True], ids=["ascii", "not-ascii"])
def test_any_other_cell_is_refused_naming_its_line_and_column(tmp_path: Path, cell: str, slow: bool) -> None:
    path = _write(tmp_path / "train.csv", cell, last_pixel=FORCE_SLOW if slow else "0")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 2, column 2 ('pixel0') is not an integer: {cell!r}"


def test_a_label_in_another_script_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "train.csv", "0", label="\u0663")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 2, column 1 ('label') is not an integer: '\u0663'"


def test_a_file_that_is_not_ascii_never_reaches_loadtxt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NumPy 2.4's loadtxt reads a character beyond U+FFFF followed by a digit as a number, or
    crashes the interpreter on it, depending on memory it should not read: such a file is read
    line by line only. A plain ASCII file still goes through loadtxt, once."""
    texts: list[str] = []
    loadtxt = np.loadtxt

    def spy(source: io.StringIO, *args: Any, **kwargs: Any) -> Any:  # Any: loadtxt's own signature
        texts.append(source.getvalue())
        return loadtxt(source, *args, **kwargs)

    monkeypatch.setattr(np, "loadtxt", spy)
    astral = "\U00080000" + "7"
    path = _write(tmp_path / "astral.csv", astral)
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 2, column 2 ('pixel0') is not an integer: {astral!r}"
    assert texts == []
    digits = load_digits_csv(_write(tmp_path / "plain.csv", "9"))
    assert digits.X[0, 0] == 9 and len(texts) == 1

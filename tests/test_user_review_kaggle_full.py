"""Kaggle's Digit Recognizer files at their real size: what reading them costs in memory.

Kaggle's train.csv (42,000 rows, 73 MB) peaked at 695,000 KiB in ``load_digits_csv``, nine
times the file and 21 times its 33 MB of pixels: the rows went through one str in an
``io.StringIO`` (4 bytes a character) and an ``int32`` table. That alone broke
``train_mnist.py --csv train.csv``'s promise of the data set plus 150 MB (698,000 KiB against
275,000). A small file of the same layout shows the same ratio to its size.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.digit_files import load_digits_csv


@pytest.mark.parametrize("labelled", [True, False], ids=["train.csv", "test.csv"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_reading_a_kaggle_csv_holds_about_twice_the_file_not_nine_times(
    tmp_path: Path, rng: np.random.Generator, labelled: bool, newline: str
) -> None:
    m = 400
    pixels = np.where(rng.random((m, 784)) < 0.8, 0, rng.integers(1, 256, size=(m, 784))).astype(np.uint8)  # mostly 0, as MNIST
    labels = rng.integers(0, 10, size=m)
    header = ([] if not labelled else ["label"]) + [f"pixel{i}" for i in range(784)]
    rows = [",".join(map(str, ([int(labels[j])] if labelled else []) + pixels[j].tolist())) for j in range(m)]
    path = tmp_path / ("train.csv" if labelled else "test.csv")
    path.write_bytes(newline.join([",".join(header), *rows, ""]).encode())
    size = path.stat().st_size
    tracemalloc.start()
    try:
        digits = load_digits_csv(path, labelled=labelled)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(digits.X, pixels.T)
    assert digits.X.flags.f_contiguous
    if labelled:
        assert digits.y is not None
        np.testing.assert_array_equal(digits.y, labels)
    else:
        assert digits.y is None
    # the file's bytes and their body (one copy), the uint8 table and its contiguous pixels
    assert peak < 2 * size + 2 * pixels.nbytes + 2**20, f"peak {peak:,} bytes for a file of {size:,}"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_bad_line_far_down_a_file_is_named_by_its_own_number(tmp_path: Path, rng: np.random.Generator, newline: str) -> None:
    """Guards the slow path's blocks (the fast parser is tried on a hundred lines at a time, and
    only a failing block is read line by line): the line numbers count the header and every
    blank line before, across blocks. Passes before the fix too, in 39 s for Kaggle's size."""
    rows = [",".join(map(str, pixels)) for pixels in rng.integers(0, 256, size=(330, 784)).tolist()]
    lines = [",".join(f"pixel{i}" for i in range(784)), *rows[:150], "", "  ", *rows[150:]]  # two blank lines
    lines[320] = lines[320].rsplit(",", 1)[0] + ",256"  # line 321 of the file
    lines[330] = lines[330].replace(",", ",x,", 1).rsplit(",", 1)[0]  # a later, other error: not reported
    path = tmp_path / "test.csv"
    path.write_bytes(newline.join([*lines, ""]).encode())
    with pytest.raises(ValueError, match=r"line 321, column 784 \('pixel783'\): pixel values must lie in 0\.\.255, got 256$"):
        load_digits_csv(path, labelled=False)
    lines[320] = lines[320].rsplit(",", 1)[0] + ",255"
    path.write_bytes(newline.join([*lines, ""]).encode())
    with pytest.raises(ValueError, match=r"line 331, column 2 \('pixel1'\) is not an integer: 'x'$"):
        load_digits_csv(path, labelled=False)
    del lines[330]
    path.write_bytes(newline.join([*lines, ""]).encode())
    digits = load_digits_csv(path, labelled=False)
    assert digits.X.shape == (784, 329)
    np.testing.assert_array_equal(digits.X[:, 317], np.array(lines[320].split(","), dtype=np.uint8))

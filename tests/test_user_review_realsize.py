"""Folders of photographs at their real size: what scripts/cats_vs_dogs.py holds in memory.

Kaggle's Dogs vs. Cats is 25,000 JPEGs; at 64x64 RGB ``load_image_folder`` makes them one
float32 array of 1.2 GB, decoded one picture at a time into it. ``cats_vs_dogs.py`` then
split it with two ``train_dev_split`` calls (test set, then dev set), each a copy, while the
loaded array was still held: 2.85 times the array at once (3.4 GB for Kaggle's photos; for
3,000 photos at 128x128 RGB, an array of 590 MB, the run peaked at 1,706,000 KiB, against
1,007,000 KiB once the columns are reordered where they lie). A small folder shows the same
ratio to its array.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from test_images import write_stripes_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import cats_vs_dogs  # noqa: E402  (the scripts folder is not a package)


def test_cats_vs_dogs_holds_its_pictures_once_not_three_times(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_stripes_folder(tmp_path / "data", 100, rng)  # 200 pictures, a broken one and a text file
    run = ["--hidden", "1", "--epochs", "1", "--batch-size", "50", "--test-fraction", "0.05", "--dev-fraction", "0.05"]
    # once small, so that the imports and matplotlib's first figure are not counted below
    assert cats_vs_dogs.main([str(root), *run, "--size", "4", "--out", str(tmp_path / "warm")]) == 0
    size = 96
    pictures = 200 * size * size * 3 * np.dtype(np.float32).itemsize  # the loaded array: 22 MB
    tracemalloc.start()
    try:
        status = cats_vs_dogs.main([str(root), *run, "--size", str(size), "--color", "rgb", "--out", str(tmp_path / "out")])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 0
    assert "200 pictures of (96, 96, 3): 100 horizontal, 100 vertical" in capsys.readouterr().out
    # the pictures once, and the network, its batches and matplotlib's figures beside them
    assert peak < 2 * pictures, f"peak {peak:,} bytes for pictures of {pictures:,}"

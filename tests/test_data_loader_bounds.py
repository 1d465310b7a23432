"""The loaders' checks at their exact bounds: the second zero byte of an IDX file, the label 10
(IDX and CSV), a placed ``mnist.pkl.gz`` that is not MNIST, a 65-digit sha256, a pickled pixel
of 1.0 and a pickled label of -1. Each input lies just past a bound that an off-by-one or a
dropped check would let through; all files are built here."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.digit_files import load_digits_csv, load_idx, load_idx_digits
from functional_nn.data.mnist import MNIST_SHA256, ChecksumError, load_mnist
from test_data_edges import _row
from test_datasets import HEADER, FakeFetch, _fake_splits, _idx, _never, _numpy1_pickle, _sha

# --------------------------------------------------------------------------------------------
# IDX files


def test_an_idx_file_whose_second_byte_is_not_zero_is_refused(tmp_path: Path) -> None:
    # guards the magic check testing both leading zero bytes, not only the first
    good = _idx(np.zeros((2, 3), dtype=np.uint8), 0x08)
    assert good[:4] == b"\x00\x00\x08\x02"
    path = tmp_path / "second-byte"
    magic = b"\x00\x01\x08\x02"
    path.write_bytes(magic + good[4:])
    with pytest.raises(ValueError, match=re.escape(f"{path} is not an IDX file: it must start with two zero bytes, got {magic!r}")):
        load_idx(path)


def test_idx_labels_holding_the_value_10_are_refused(tmp_path: Path) -> None:
    # guards the IDX label bound: 10 is the first value outside 0..9 (>= 10, not > 10)
    (tmp_path / "images").write_bytes(_idx(np.zeros((3, 28, 28), dtype=np.uint8), 0x08))
    (tmp_path / "labels").write_bytes(_idx(np.array([9, 10, 0], dtype=np.uint8), 0x08))
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'labels'}: labels must lie in 0..9, got 10")):
        load_idx_digits(tmp_path / "images", tmp_path / "labels")


# --------------------------------------------------------------------------------------------
# Kaggle CSV


def test_a_csv_label_of_10_is_named_at_its_own_line_before_a_later_bad_pixel(tmp_path: Path) -> None:
    # guards the slow path's label bound (< 10): the "x" on line 3 sends the file there, and the
    # label 10 on line 2 must be the error, not the later pixel
    path = tmp_path / "train.csv"
    path.write_text("\n".join([HEADER, _row(10), _row(3, "x")]) + "\n")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 2, column 1 ('label'): labels must lie in 0..9, got 10"


# --------------------------------------------------------------------------------------------
# MNIST pickles


def test_a_placed_mnist_pickle_with_another_checksum_is_refused_and_nothing_is_cached(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    # guards the checksum of a mnist.pkl.gz the user put in the folder: a sound pickle that is
    # not MNIST is not unpickled, and no cache is written beside it
    _, pairs = _fake_splits(rng)
    member = gzip.compress(_numpy1_pickle(pairs))
    assert _sha(member) != MNIST_SHA256
    placed = tmp_path / "mnist.pkl.gz"
    placed.write_bytes(member)
    with pytest.raises(ChecksumError) as caught:
        load_mnist(directory=tmp_path, fetch=_never)
    assert str(caught.value).startswith(
        f"{placed} has sha256 {_sha(member)} ({len(member)} bytes), expected {MNIST_SHA256}: "
    )
    assert "nothing was cached" in str(caught.value)
    assert sorted(tmp_path.iterdir()) == [placed]
    assert placed.read_bytes() == member


def test_a_sha256_of_65_hex_digits_is_refused_before_fetching(tmp_path: Path) -> None:
    # guards the sha256 length check (!= 64, not < 64): one digit too many is refused, not fetched
    with pytest.raises(ValueError) as caught:
        load_mnist(directory=tmp_path, fetch=_never, sha256="0" * 65)
    assert str(caught.value) == f"sha256 must be 64 hex digits (a SHA-256 digest), got {'0' * 65!r}"
    assert list(tmp_path.iterdir()) == []


def test_a_pickled_pixel_of_1_0_is_refused_not_wrapped_to_0(tmp_path: Path, rng: np.random.Generator) -> None:
    # guards the upper bound of the p / 256 check: 1.0 is p = 256, which uint8 would store as 0
    _, pairs = _fake_splits(rng)
    pairs[0][0][1, 5] = np.float32(1.0)
    member = gzip.compress(_numpy1_pickle(pairs))
    with pytest.raises(ValueError) as caught:
        load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert str(caught.value) == "the MNIST pickle's train pixels are not p / 256 for integers p in 0..255"
    assert list(tmp_path.iterdir()) == []


def test_a_pickled_label_of_minus_1_is_refused_not_wrapped_to_255(tmp_path: Path, rng: np.random.Generator) -> None:
    # guards the lower bound of the pickle's labels: -1 would become 255 as uint8
    _, pairs = _fake_splits(rng)
    labels = pairs[0][1]
    labels[:] = [-1, *range(10), 4]  # 12 training labels: -1, then 0..9, then 4
    member = gzip.compress(_numpy1_pickle(pairs))
    with pytest.raises(ValueError) as caught:
        load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert str(caught.value) == "the MNIST pickle's train labels must lie in 0..9, got -1..9"
    assert list(tmp_path.iterdir()) == []

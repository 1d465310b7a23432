"""The data loaders' paths: an empty str (which ``Path`` reads as the current folder), a NUL
byte and a ``~user`` of no known user are refused naming the argument, before anything is
read, fetched or written. A rotation range wider than a float is refused, not drawn as NaN
angles. A Kaggle CSV's bad label is named by its line, blank lines counted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functional_nn import fused
from functional_nn.data import augmentation
from functional_nn.data import load_digits_csv, load_idx, load_idx_digits, load_image_folder, load_mnist, load_mnist_pixels
from functional_nn.data.digit_files import find_idx_files
from functional_nn.data.mnist import data_dir


def _never(directory: Path) -> Path:
    raise AssertionError("fetch must not be called")


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: load_digits_csv(""), "path is an empty path: give the path of a Kaggle digit-recognizer CSV file"),
        (lambda: load_idx(""), "path is an empty path: give the path of an IDX file"),
        (lambda: load_idx_digits("", "labels"), "images is an empty path: give the path of an IDX file of images"),
        (lambda: find_idx_files("", "train"), "directory is an empty path: give the path of the folder that holds the IDX files"),
        (lambda: load_image_folder(""), "root is an empty path: give the path of a folder"),
        (lambda: load_mnist(directory="", fetch=_never), "directory is an empty path: give the path of a folder to cache MNIST in"),
        (lambda: load_digits_csv("train\0.csv"), "path holds a NUL byte, which no path can: 'train\\x00.csv'"),
        (lambda: load_idx("t\0"), "path holds a NUL byte, which no path can: 't\\x00'"),
        (lambda: load_idx_digits("images", "lab\0els"), "labels holds a NUL byte, which no path can: 'lab\\x00els'"),
        (lambda: find_idx_files("mn\0ist", "test"), "directory holds a NUL byte, which no path can: 'mn\\x00ist'"),
        (lambda: load_image_folder("pets\0"), "root holds a NUL byte, which no path can: 'pets\\x00'"),
        (lambda: load_mnist_pixels(directory="cache\0", fetch=_never), "directory holds a NUL byte, which no path can: 'cache\\x00'"),
    ],
)
def test_an_empty_path_or_a_nul_byte_is_refused_naming_the_argument(
    call: Callable[[], object], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the current folder holds what each loader would read there: two classes of pictures, the
    # IDX files; an empty path read them (load_mnist fetched MNIST to cache it there). A NUL
    # byte came from deep in os.stat as "embedded null byte", naming nothing (or, for the
    # folders, "a b is not a folder" / "holds no train-images-idx3-ubyte")
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.full((2, 2), 200, dtype=np.uint8)).save(tmp_path / name / "a.png")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(12))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(4))
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=_exactly(message)):
        call()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_tilde_of_no_known_user_is_refused_naming_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    # pathlib raised RuntimeError("Could not determine home directory."), naming neither
    user = "~no-such-user-functional-nn"
    with pytest.raises(ValueError, match=_exactly(f"directory '{user}/cache' starts with '{user}', which names no home directory here")):
        load_mnist(directory=f"{user}/cache", fetch=_never)
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", user)
    with pytest.raises(ValueError, match=_exactly(f"FUNCTIONAL_NN_DATA '{user}' starts with '{user}', which names no home directory here")):
        data_dir()
    monkeypatch.delenv("FUNCTIONAL_NN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", f"{user}/.cache")
    with pytest.raises(ValueError, match=_exactly(f"XDG_CACHE_HOME '{user}/.cache' starts with '{user}', which names no home directory here")):
        data_dir()
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("XDG_CACHE_HOME", "~/.cache")  # a home that is known still expands
    assert data_dir() == Path("/home/someone/.cache/functional_nn")


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("rotation", [1e308, (-1e308, 1e308), (-1.7e308, 1e308)])
def test_a_rotation_range_wider_than_a_float_is_refused(rotation: float | tuple[float, float], numba: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # high - low was inf: every angle inf, cos and sin NaN, and the output NaN with Numba, an
    # IndexError from np.take without it (the NaN coordinates cast to the smallest intp)
    monkeypatch.setattr(fused, "AVAILABLE", numba and fused.AVAILABLE)
    message = f"rotation must span a finite number of degrees, high - low at most 1.8e+308, got {rotation!r}"
    with pytest.raises(ValueError, match=_exactly(message)):
        augmentation.random_affine(np.ones((16, 2)), np.random.default_rng(0), image_shape=(4, 4), rotation=rotation)


def test_the_widest_rotation_range_a_float_holds_still_turns_the_images() -> None:
    # 8.9e307 degrees either way: high - low = 1.78e308 is finite, and so is every angle
    X = np.zeros((9, 1))
    X[4, 0] = 1.0  # the centre of a 3x3 image stays where it is under any turn
    out = augmentation.random_affine(X, np.random.default_rng(0), image_shape=(3, 3), rotation=8.9e307, scale=(1, 1), shear=0, translation=0)
    assert np.isfinite(out).all() and out[4, 0] == 1.0


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_label_outside_0_to_9_after_blank_lines_names_its_own_line(tmp_path: Path, newline: str) -> None:
    # loadtxt skips blank lines: the label check on its table named line 3, the row's index + 2
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [header, "1" + ",0" * 784, "", "", "12" + ",0" * 784, "3" + ",0" * 784]
    path = tmp_path / "train.csv"
    path.write_bytes(newline.join(rows).encode("ascii") + newline.encode("ascii"))
    with pytest.raises(ValueError, match=_exactly(f"{path}: line 5, column 1 ('label'): labels must lie in 0..9, got 12")):
        load_digits_csv(path)
    rows[4] = "9" + ",0" * 784  # the same file with the label mended loads
    path.write_bytes(newline.join(rows).encode("ascii") + newline.encode("ascii"))
    digits = load_digits_csv(path)
    assert digits.y is not None and digits.y.tolist() == [1, 9, 3] and digits.X.shape == (784, 3)

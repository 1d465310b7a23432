"""Files as they come from elsewhere: digit CSVs with any platform's line endings (``\\n``,
``\\r\\n``, and the bare ``\\r`` of classic Mac OS, which pandas and Python's text files read as
line ends too), and gzip'd IDX files whose header is checked from the stream, before the body
is decompressed."""

from __future__ import annotations

import gzip
import pathlib
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data import load_digits_csv, load_idx

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


# --------------------------------------------------------------------------------------------
# Kaggle CSV: line endings


@pytest.fixture
def rows(rng: np.random.Generator) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    pixels = rng.integers(0, 256, size=(6, 784), dtype=np.uint8)
    pixels[0, :3] = (0, 255, 7)  # every width of number
    return pixels, np.array([3, 0, 9, 1, 4, 1], dtype=np.int64)


def _lines(pixels: npt.NDArray[np.uint8], labels: npt.NDArray[np.int64] | None) -> list[str]:
    header = HEADER if labels is not None else HEADER.removeprefix("label,")
    lines = [header]
    for j in range(pixels.shape[0]):
        cells = ([str(int(labels[j]))] if labels is not None else []) + [str(int(v)) for v in pixels[j]]
        lines.append(",".join(cells))
    return lines


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("labelled", [True, False])
@pytest.mark.parametrize("final_newline", [True, False])
def test_digits_csv_reads_every_line_ending(
    tmp_path: Path,
    rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    newline: str,
    labelled: bool,
    final_newline: bool,
) -> None:
    pixels, labels = rows
    path = tmp_path / "train.csv"
    path.write_bytes((newline.join(_lines(pixels, labels if labelled else None)) + (newline if final_newline else "")).encode())
    digits = load_digits_csv(path)
    assert digits.X.dtype == np.uint8 and digits.X.shape == (784, 6) and digits.X.flags.f_contiguous
    np.testing.assert_array_equal(digits.X, pixels.T)
    if labelled:
        assert digits.y is not None and digits.y.dtype == np.int64
        assert digits.y.tolist() == [3, 0, 9, 1, 4, 1]
    else:
        assert digits.y is None


def test_digits_csv_reads_bare_carriage_returns_after_a_byte_order_mark(
    tmp_path: Path, rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, labels = rows
    path = tmp_path / "train.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r".join(_lines(pixels, labels)).encode() + b"\r")
    digits = load_digits_csv(path)
    np.testing.assert_array_equal(digits.X, pixels.T)
    assert digits.y is not None and digits.y.tolist() == [3, 0, 9, 1, 4, 1]


def test_digits_csv_reads_mixed_line_endings(tmp_path: Path, rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]) -> None:
    # a file pasted together from several machines: each ending is a line end, as pandas reads it
    pixels, labels = rows
    lines = _lines(pixels, labels)
    endings = ["\r", "\n", "\r\n", "\r", "\r", "\n", "\r\n"]
    path = tmp_path / "train.csv"
    path.write_bytes("".join(line + end for line, end in zip(lines, endings)).encode())
    digits = load_digits_csv(path)
    np.testing.assert_array_equal(digits.X, pixels.T)
    assert digits.y is not None and digits.y.tolist() == [3, 0, 9, 1, 4, 1]


def test_digits_csv_with_bare_carriage_returns_names_the_bad_cell_by_its_line(
    tmp_path: Path, rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, labels = rows
    lines = _lines(pixels, labels)
    cells = lines[2].split(",")
    cells[9] = "7a"  # line 3, column 10
    lines[2] = ",".join(cells)
    path = tmp_path / "train.csv"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 3, column 10 ('pixel8') is not an integer: '7a'"


def test_digits_csv_with_bare_carriage_returns_names_a_ragged_row(
    tmp_path: Path, rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    pixels, labels = rows
    lines = _lines(pixels, labels)
    lines[4] = lines[4].rsplit(",", 1)[0]  # line 5 loses its last cell
    path = tmp_path / "train.csv"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == f"{path}: line 5 has 784 cells, the header has 785 (a ragged row)"


def test_digits_csv_with_bare_carriage_returns_counts_the_header_alone(
    tmp_path: Path, rows: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]
) -> None:
    # the header is line 1 on its own: its 785 columns, not the whole file's cells run together
    pixels, labels = rows
    lines = _lines(pixels, labels)
    lines[0] = lines[0].replace("label", "digit", 1)
    path = tmp_path / "train.csv"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value) == (
        f"{path}: line 1 must be the header 'label,pixel0,...,pixel783' (training) or 'pixel0,...,pixel783' "
        "(test), got 785 columns 'digit,pixel0,pixel1,...'"
    )


@pytest.mark.parametrize(("content", "message"), [(b"\r\r", "is empty"), ((HEADER + "\r\r").encode(), "has a header but no rows")])
def test_digits_csv_with_only_carriage_returns_is_empty(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        load_digits_csv(path)
    assert str(caught.value).startswith(f"{path} {message}")


# --------------------------------------------------------------------------------------------
# gzip'd IDX: the header first, from the stream


def _idx(array: npt.NDArray[Any], code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _gzip_head_then_garbage(head: bytes, rng: np.random.Generator) -> bytes:
    """A gzip stream whose first 256 KiB decompress to ``head`` and random bytes, followed by
    garbage where the next deflate block should be (``0xFF`` opens a block of the reserved type
    3): a reader that decompresses the whole stream before it looks at ``head`` fails on that
    garbage; one that checks the header from the first piece of the stream never reaches it.
    256 KiB of incompressible bytes outlast the first piece of compressed input that ``gzip``
    reads (8 KiB before Python 3.12, 128 KiB since)."""
    packer = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    packed = packer.compress(head + rng.bytes(256 * 2**10)) + packer.flush(zlib.Z_SYNC_FLUSH)
    garbage = b"\xff" * 4096
    with pytest.raises(zlib.error, match="invalid block type"):
        gzip.decompress(packed + garbage)
    return packed + garbage


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"\x01\x00\x08\x02", " is not an IDX file: it must start with two zero bytes, got b'\\x01\\x00\\x08\\x02'"),
        (b"\x00\x00\x0a\x02", ": unknown IDX type code 0x0A, expected one of ['0x08', '0x09', '0x0B', '0x0C', '0x0D', '0x0E']"),
        (b"\x00\x00\x08\x00", ": an IDX file must have at least one dimension, the header says 0"),
    ],
)
def test_gzipped_idx_checks_the_header_before_decompressing_the_body(
    tmp_path: Path, rng: np.random.Generator, head: bytes, message: str
) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(_gzip_head_then_garbage(head, rng))
    with pytest.raises(ValueError) as caught:
        load_idx(path)
    assert str(caught.value) == f"{path}{message}"


class _CountingFile:
    """A binary file that counts the bytes handed out by its reads."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.bytes_read += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        data: bytes = self._file.read1(size)  # type: ignore[attr-defined]  # a BufferedReader's
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count: int = self._file.readinto(buffer)  # type: ignore[attr-defined]  # a BufferedReader's
        self.bytes_read += count
        return count

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def test_gzipped_idx_with_a_bad_header_reads_only_the_start_of_the_file(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a sound gzip stream of 4 MB that holds no IDX file: refused after its first piece
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04" + rng.bytes(4 * 2**20), compresslevel=1))
    opened: list[_CountingFile] = []
    real_open = pathlib.Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        file = _CountingFile(real_open(self, *args, **kwargs))
        opened.append(file)
        return file

    monkeypatch.setattr(pathlib.Path, "open", counting_open)
    with pytest.raises(ValueError) as caught:
        load_idx(path)
    assert str(caught.value) == f"{path} is not an IDX file: it must start with two zero bytes, got b'PK\\x03\\x04'"
    assert opened and sum(file.bytes_read for file in opened) <= 512 * 2**10


def test_gzipped_idx_with_sizes_too_large_for_memory_says_truncated(tmp_path: Path) -> None:
    # the sizes promise 4 EiB: refused from the bytes there are, nothing of that size allocated
    path = tmp_path / "x.idx.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x02" + np.array([2**31, 2**31], dtype=">u4").tobytes() + bytes(6)))
    with pytest.raises(ValueError) as caught:
        load_idx(path)
    assert str(caught.value) == f"{path}: shape (2147483648, 2147483648) of uint8 needs 4611686018427387904 bytes of data, the file has 6 (truncated)"


@pytest.mark.parametrize(("extra", "words"), [(b"\x00" * 3, "the file has 9 (trailing bytes)"), (None, "the file has 5 (truncated)")])
def test_gzipped_idx_counts_the_data_it_holds(tmp_path: Path, extra: bytes | None, words: str) -> None:
    content = _idx(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)
    path = tmp_path / "x.idx.gz"
    path.write_bytes(gzip.compress(content[:-1] if extra is None else content + extra))
    with pytest.raises(ValueError) as caught:
        load_idx(path)
    assert str(caught.value) == f"{path}: shape (2, 3) of uint8 needs 6 bytes of data, {words}"


def test_gzipped_idx_still_checks_the_stream_to_its_end(tmp_path: Path) -> None:
    # all the data is there, but the gzip trailer's CRC is wrong: the file is damaged
    packed = bytearray(gzip.compress(_idx(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)))
    packed[-8] ^= 0xFF
    path = tmp_path / "x.idx.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ValueError) as caught:
        load_idx(path)
    assert str(caught.value).startswith(f"{path} looks gzip'd but cannot be decompressed (CRC check failed")
    assert str(caught.value).endswith("): truncated or damaged?")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(("dtype", "code"), [(np.uint8, 0x08), (np.int32, 0x0C), (np.float64, 0x0E)])
def test_idx_bodies_larger_than_a_read_come_back_whole(
    tmp_path: Path, rng: np.random.Generator, compress: bool, dtype: type[np.generic], code: int
) -> None:
    # 1.5 to 6 MB: read in several pieces, the last one short
    if dtype == np.uint8:
        values = rng.integers(0, 256, size=(3, 700, 750)).astype(dtype)
    else:
        values = rng.integers(-(2**20), 2**20, size=(3, 500, 500)).astype(dtype)
    path = tmp_path / "x.idx"
    content = _idx(values, code)
    path.write_bytes(gzip.compress(content, compresslevel=1) if compress else content)
    loaded = load_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative and loaded.shape == values.shape
    assert loaded.flags.c_contiguous and loaded.flags.writeable
    np.testing.assert_array_equal(loaded, values)

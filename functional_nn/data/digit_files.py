r"""Handwritten digits from files: Kaggle's digit-recognizer CSV and the IDX files of MNIST.

Both loaders return the library's column layout with the raw pixels: ``X`` is ``uint8`` of
shape ``(784, m)``, one 28x28 image per column, Fortran-ordered (the transpose of a
row-per-image array) so that ``minibatches`` gathers each image as one contiguous copy;
``scale_pixels`` turns them into floats in ``[0, 1]``.
"""

from __future__ import annotations

import functools
import gzip
import io
import math
import os
import re
import warnings
import zlib
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.types import IntArray

UInt8Array = npt.NDArray[np.uint8]

N_PIXELS: Final = 784
N_CLASSES: Final = 10
_INTEGER_CELL: Final = re.compile(r"[+-]?[0-9]+")
"""A cell that ``np.loadtxt`` reads as an integer, once stripped of whitespace as ``str.strip``
does: ASCII digits after an optional sign. Not ``int``, which also takes ``2_5`` (25) and the
digits of other scripts (U+0663, the Arabic-Indic three)."""


class DigitImages(NamedTuple):
    """Raw digit images in column layout.

    ``X`` is ``uint8`` of shape ``(784, m)``, Fortran-ordered, pixels in ``0 .. 255`` (0 is
    the background); ``y`` is ``int64`` of shape ``(m,)`` in ``0 .. 9``, or ``None`` for an
    unlabelled file (Kaggle's ``test.csv``).
    """

    X: UInt8Array
    y: IntArray | None


def describe_array(value: object) -> str:
    """How an error message names ``value``: ``'uint8 array of shape (784, 5)'``, or its type's name."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def check_path(argument: str, value: object, expected: str) -> Path:
    """``value`` as a ``Path``, refused by name if it is not a ``str`` or ``os.PathLike``
    (``TypeError``), or an empty ``str`` or one holding a NUL byte (``ValueError``, as
    ``_validation.check_path``): ``Path("")`` is the current folder, which the loaders would
    read (or fill, for MNIST's cache) in silence."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{argument} must be a path to {expected}, got {type(value).__name__}")
    if isinstance(value, str) and not value:  # in the loaders' words: _validation's speak of a folder to write
        raise ValueError(f"{argument} is an empty path: give the path of {expected}")
    return check.check_path(argument, value)


def check_file(argument: str, value: object, expected: str) -> Path:
    """``check_path``, and a folder is refused: reading it would fail deep in the standard library."""
    path = check_path(argument, value, expected)
    if path.is_dir():
        raise ValueError(f"{argument} {path} is a folder: give the path of {expected}")
    return path


# --------------------------------------------------------------------------------------------
# Kaggle's digit-recognizer CSV


def load_digits_csv(path: str | os.PathLike[str], *, labelled: bool | None = None) -> DigitImages:
    """Digits from a Kaggle digit-recognizer CSV: ``train.csv`` (labelled) or ``test.csv``.

    The header is ``label,pixel0,...,pixel783`` (training) or ``pixel0,...,pixel783`` (test);
    every row holds one image as 784 integers in ``0 .. 255``, after its label in ``0 .. 9``.
    Kaggle's 42,000-row file parses in about a second (with ``np.loadtxt``); only a file that
    fails that fast path is read again in blocks of a hundred lines, and a block that fails
    too line by line, to name the first bad line and column (a block that is not plain ASCII
    goes line by line at once). Both read a cell alike: ASCII digits after an optional sign,
    within whitespace; not ``2_5``, nor digits of other scripts, which Python's ``int`` would take.
    Lines may end in ``\\n``, ``\\r\\n`` or a bare ``\\r`` (classic Mac OS), mixed even: each is
    a line end, as in Python's text files and ``pandas.read_csv``.

    Parameters
    ----------
    path : path to the CSV
    labelled : bool, optional
        ``True``: the file must have the label column (``train.csv``), ``False``: it must
        not (``test.csv``); checked on the header, before the rows are read. ``None``
        (the default) takes either.

    Returns
    -------
    DigitImages
        ``X`` ``uint8`` of shape ``(784, m)`` (Fortran-ordered), ``y`` ``int64`` of shape
        ``(m,)`` or ``None`` for a file without labels.

    Raises
    ------
    TypeError
        ``path`` is not a ``str`` or ``os.PathLike``; ``labelled`` is not a bool or ``None``.
    ValueError
        ``path`` is a folder, an empty str or holds a NUL byte; the file is empty; a wrong
        header, a label column where ``labelled`` is ``False`` or none where it is ``True``,
        a ragged row, a non-numeric cell (a ``#`` too: there are no comments), a pixel
        outside ``0 .. 255`` or a label outside ``0 .. 9``, naming the line (1 is the header,
        blank lines count) and the column.
    """
    path = check_file("path", path, "a Kaggle digit-recognizer CSV file")
    if labelled is not None and not isinstance(labelled, bool):
        raise TypeError(f"labelled must be a bool or None, got {type(labelled).__name__}")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data or data.isspace():  # not data.strip(): a copy of the whole file
        raise ValueError(
            f"{path} is empty: expected the header 'label,pixel0,...,pixel783' (training) or 'pixel0,...,pixel783' "
            "(test), then one row per image"
        )
    # the header ends at the first line end of any kind: a file of bare "\r" has no "\n" at all
    newline = re.search(rb"\r\n?|\n", data)
    header_bytes, body = (data, b"") if newline is None else (data[: newline.start()], data[newline.end() :])
    del data, newline  # the body is a copy (and a match holds its string): the file is not held twice while parsed
    header = [cell.strip() for cell in header_bytes.decode("utf-8", errors="replace").strip().split(",")]
    pixels = [f"pixel{i}" for i in range(N_PIXELS)]
    if header == ["label", *pixels]:
        has_labels = True
    elif header == pixels:
        has_labels = False
    else:
        shown = ",".join(header[:3])
        shown = shown[:60] + "..." if len(shown) > 60 else shown + (",..." if len(header) > 3 else "")
        separated = "; its cells are separated by tabs, not commas" if len(header) == 1 and b"\t" in header_bytes else ""
        raise ValueError(
            f"{path}: line 1 must be the header 'label,pixel0,...,pixel783' (training) or 'pixel0,...,pixel783' "
            f"(test), got {len(header)} column{'' if len(header) == 1 else 's'} '{shown}'{separated}"
        )
    if labelled is not None and has_labels != labelled:
        found, expected = ("a", "no") if has_labels else ("no", "a")
        raise ValueError(
            f"{path} has {found} label column (its header starts {header[0]!r}): expected a file with {expected} label column, "
            + ("Kaggle's train.csv, 'label,pixel0,...,pixel783'" if labelled else "Kaggle's test.csv, 'pixel0,...,pixel783'")
        )
    table = _parse_csv_fast(body, has_labels)
    if table is None and body.count(b"\r") != body.count(b"\r\n"):
        # loadtxt reads "\r\n" but takes a bare "\r" for a newline inside a row; translating
        # only once it has failed leaves "\n" and "\r\n" files (nearly all) at its speed
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        table = _parse_csv_fast(body, has_labels)
    if table is None:
        table = _parse_csv_slow(path, body, header, has_labels)
    if table.shape[0] == 0:
        raise ValueError(f"{path} has a header but no rows")
    if has_labels:
        return DigitImages(X=np.ascontiguousarray(table[:, 1:]).T, y=table[:, 0].astype(np.int64))
    return DigitImages(X=np.ascontiguousarray(table).T, y=None)


_NOT_A_UINT8: Final = re.compile(rb"[^0-9,\r\n\t ]|[0-9]{4}|(?<![0-9])(?:2(?:5[6-9]|[6-9][0-9])|[3-9][0-9]{2})(?![0-9])")
"""A cell's byte or digits that are not an integer in 0 .. 255 (a sign, a point, 256 and above):
what NumPy 2.2's ``loadtxt`` reads into ``uint8`` without a word (see ``_loadtxt_wraps``)."""


@functools.cache
def _loadtxt_wraps() -> bool:
    """Whether this NumPy's ``loadtxt`` wraps what does not fit ``uint8`` instead of refusing it:
    NumPy 2.2 (the last for Python 3.10) reads ``256`` as 0, ``-1`` as 255 and ``1.5`` as 1;
    2.4 raises ``ValueError``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2.4 warns of "parsing an integer via a float" before refusing
        try:
            np.loadtxt(io.BytesIO(b"256,-1"), delimiter=",", dtype=np.uint8, ndmin=2, comments=None, encoding="ascii")
        except ValueError:
            return False
    return True


def _parse_csv_fast(body: bytes, labelled: bool) -> UInt8Array | None:
    """All rows as ``uint8`` ``(m, 784)``, after a label column if ``labelled``, or ``None`` if
    anything is wrong (a label outside ``0 .. 9`` too).

    NumPy 2's ``loadtxt`` parses in C (Kaggle's 42,000 rows in about half a second); it skips
    blank lines, so neither its errors nor a row's index are the line's number, and the slow
    path finds and names the bad line.
    A body that is not plain ASCII (Kaggle's files are) is left to the slow path at once:
    NumPy 2.4's ``loadtxt`` reads some characters beyond U+FFFF as digits, at random, and
    now and then crashes the interpreter on them.
    """
    if not body.isascii() or (_loadtxt_wraps() and _NOT_A_UINT8.search(body) is not None):
        return None
    n_columns = N_PIXELS + int(labelled)
    if not body or body.isspace():
        return np.zeros((0, n_columns), dtype=np.uint8)
    try:
        # comments=None: by default a '#' would end a row, or drop it, without a word. The bytes
        # are read in pieces, not as one str in a StringIO (4 bytes a character: 290 MB for
        # Kaggle's train.csv), straight into uint8, where a pixel outside 0 .. 255 fails
        table = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.uint8, ndmin=2, comments=None, encoding="ascii")
    except ValueError:
        return None
    if table.shape[1] != n_columns:
        return None
    if labelled and table[:, 0].max() >= N_CLASSES:
        return None
    return table


_SLOW_BLOCK: Final = 100
"""The slow path tries the fast one on blocks of this many lines and reads only a failing block
line by line: Python's loop took 39 s over Kaggle's 42,000 rows to name a bad last line."""


def _parse_csv_slow(path: Path, body: bytes, header: list[str], labelled: bool) -> UInt8Array:
    """Parse line by line, raising at the first bad line with its number and column."""
    lines = body.decode("utf-8", errors="replace").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    tables: list[UInt8Array] = []
    for start in range(0, len(lines), _SLOW_BLOCK):
        block = lines[start : start + _SLOW_BLOCK]
        table = _parse_csv_fast("\n".join(block).encode("utf-8", errors="replace"), labelled)
        tables.append(_parse_lines(path, block, start + 2, header, labelled) if table is None else table)
    return np.concatenate(tables) if tables else np.zeros((0, len(header)), dtype=np.uint8)


def _parse_lines(path: Path, lines: list[str], first: int, header: list[str], labelled: bool) -> UInt8Array:
    """``lines`` (the first of them line ``first`` of the file) parsed one by one, raising at
    the first bad line with its number and column."""
    rows: list[list[int]] = []
    for offset, line in enumerate(lines):
        number = offset + first
        if not line.strip():
            continue  # blank lines are skipped, as the fast path does
        cells = line.rstrip("\r").split(",")
        if len(cells) != len(header):
            raise ValueError(f"{path}: line {number} has {len(cells)} cells, the header has {len(header)} (a ragged row)")
        row: list[int] = []
        for column, cell in enumerate(cells):
            where = f"{path}: line {number}, column {column + 1} ({header[column]!r})"
            digits = cell.strip()
            if _INTEGER_CELL.fullmatch(digits) is None:  # the fast path's integers, no others
                raise ValueError(f"{where} is not an integer: {cell!r}")
            value = int(digits)
            if column == 0 and labelled:
                if not 0 <= value < N_CLASSES:
                    raise ValueError(f"{where}: labels must lie in 0..9, got {value}")
            elif not 0 <= value <= 255:
                raise ValueError(f"{where}: pixel values must lie in 0..255, got {value}")
            row.append(value)
        rows.append(row)
    return np.array(rows, dtype=np.uint8).reshape(-1, len(header))


# --------------------------------------------------------------------------------------------
# IDX files (the format of the official MNIST distribution)

_IDX_TYPES: Final[dict[int, np.dtype[Any]]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_PIECE: Final = 2**20  # the body is read in pieces of this many bytes


def load_idx(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """The array stored in an IDX file, gzip'd or raw (told apart by their first bytes).

    An IDX file is two zero bytes, a type code (``0x08`` uint8, ``0x09`` int8, ``0x0B``
    int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of dimensions
    ``d``, then ``d`` big-endian 32-bit sizes, then the values, big-endian, row-major.
    The header is read and checked first, from the stream: a file that is no IDX file is
    refused after its first bytes, before its body is read or decompressed.

    Parameters
    ----------
    path : path to e.g. ``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``

    Returns
    -------
    array : ndarray
        Of the file's shape and type, in native byte order: e.g. ``(60000, 28, 28)``
        ``uint8`` for images and ``(60000,)`` for labels.

    Raises
    ------
    TypeError
        ``path`` is not a ``str`` or ``os.PathLike``.
    ValueError
        ``path`` is a folder, an empty str or holds a NUL byte, bad magic number, unknown type
        code, a length that does not match the sizes, or a gzip stream that is truncated or
        damaged.
    """
    path = check_file("path", path, "an IDX file")
    with path.open("rb") as file:
        # peek, not read and seek back: a pipe (``<(curl ...)``) cannot seek
        if file.peek(2)[:2] != b"\x1f\x8b":
            return _read_idx(path, file)
        try:
            with gzip.GzipFile(fileobj=file, mode="rb") as stream:
                return _read_idx(path, stream)
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # a bad CRC or length is a BadGzipFile
            raise ValueError(f"{path} looks gzip'd but cannot be decompressed ({error}): truncated or damaged?") from error


def _read_idx(path: Path, stream: io.BufferedIOBase) -> npt.NDArray[Any]:
    """``load_idx`` on the file's (decompressed) bytes: the header first, then the body in pieces,
    then the stream to its end (a gzip stream's CRC and length are checked there).

    The array is allocated only once its bytes have all arrived: sizes that promise more than
    memory holds, in a short file, are reported as a truncated file, not a ``MemoryError``.
    """
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00":
        raise ValueError(f"{path} is not an IDX file: it must start with two zero bytes, got {magic!r}")
    code, ndim = magic[2], magic[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}, expected one of {[f'0x{c:02X}' for c in _IDX_TYPES]}")
    if ndim == 0:
        raise ValueError(f"{path}: an IDX file must have at least one dimension, the header says 0")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(f"{path}: the header promises {ndim} sizes but the file has only {len(magic) + len(sizes)} bytes")
    shape = tuple(int(size) for size in np.frombuffer(sizes, dtype=">u4"))
    dtype = _IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python integers: 4 sizes near 2**32 overflow int64
    pieces: list[bytes] = []
    found = 0
    while found < expected and (piece := stream.read(min(expected - found, _IDX_PIECE))):
        pieces.append(piece)
        found += len(piece)
    while piece := stream.read(_IDX_PIECE):  # empty at once for a sound file
        found += len(piece)
    if found != expected:
        raise ValueError(
            f"{path}: shape {shape} of {dtype.name} needs {expected} bytes of data, the file has "
            f"{found} ({'truncated' if found < expected else 'trailing bytes'})"
        )
    values = np.empty(shape, dtype=dtype.newbyteorder("="))
    as_bytes = values.reshape(-1).view(np.uint8)
    start = 0
    for index, piece in enumerate(pieces):
        as_bytes[start : start + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        start += len(piece)
        pieces[index] = b""  # let go once copied, not when the last one is
    if not dtype.isnative:
        values.byteswap(inplace=True)  # the big-endian bytes, swapped where they lie
    return values


def load_idx_digits(images: str | os.PathLike[str], labels: str | os.PathLike[str]) -> DigitImages:
    """Images and labels from a pair of IDX files, in column layout.

    Parameters
    ----------
    images : path to an IDX file of ``uint8`` shape ``(m, 28, 28)``
    labels : path to an IDX file of ``uint8`` shape ``(m,)``, values in ``0 .. 9``

    Returns
    -------
    DigitImages
        ``X`` ``uint8`` ``(784, m)`` Fortran-ordered, ``y`` ``int64`` ``(m,)``.
    """
    images = check_file("images", images, "an IDX file of images")
    labels = check_file("labels", labels, "an IDX file of labels")
    X = load_idx(images)
    y = load_idx(labels)
    if X.dtype != np.uint8 or X.ndim != 3 or X.shape[1:] != (28, 28):
        raise ValueError(f"{images} must hold uint8 images of shape (m, 28, 28), got {describe_array(X)}")
    if y.dtype != np.uint8 or y.shape != X.shape[:1]:
        raise ValueError(f"{labels} must hold {X.shape[0]} uint8 labels to match {images}, got {describe_array(y)}")
    if y.size and int(y.max()) >= N_CLASSES:
        raise ValueError(f"{labels}: labels must lie in 0..9, got {int(y.max())}")
    return DigitImages(X=X.reshape(X.shape[0], N_PIXELS).T, y=y.astype(np.int64))


IDX_NAMES: Final = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The official file names, each found with or without ``.gz``."""


def find_idx_files(directory: str | os.PathLike[str], split: str) -> tuple[Path, Path]:
    """The images and labels files of ``split`` (``"train"`` or ``"test"``) in ``directory``.

    Accepts the official names, with ``-`` or ``.`` before ``idx`` and with or without ``.gz``.
    """
    if split not in IDX_NAMES:
        raise ValueError(f"split must be one of {list(IDX_NAMES)}, got {split!r}")
    root = check_path("directory", directory, "the folder that holds the IDX files")
    if root.exists() and not root.is_dir():
        raise FileNotFoundError(f"directory {root} is not a folder: expected the folder that holds the IDX files")
    found: list[Path] = []
    for name in IDX_NAMES[split]:
        stem, _, rest = name.partition("-idx")
        candidates = [root / f"{stem}{sep}idx{rest}{gz}" for sep in ("-", ".") for gz in ("", ".gz")]
        existing = [c for c in candidates if c.is_file()]
        if not existing:
            raise FileNotFoundError(f"{root} holds no {name} (looked for {[c.name for c in candidates]})")
        found.append(existing[0])
    return found[0], found[1]

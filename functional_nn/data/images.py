r"""Folders of pictures as a data set: one sub-folder per class, e.g. ``cats/`` and ``dogs/``.

``load_image_folder`` decodes every file it can with Pillow (the ``scripts`` extra), resizes
it, scales its pixels to [0, 1] and stores it as one column of ``X``. Memory stays bounded by
the output: the ``(m, h*w*c)`` array is allocated once and the pictures are decoded one at a
time into its rows (a JPEG is even decoded at a reduced scale when that is still at least the
target size), so a folder of 25,000 photos at 64x64 RGB needs about 1.2 GB in float32 and
never all the full-size pictures at once.

A picture's pixels are flattened in ``(height, width, channel)`` order, row by row:
feature ``(r * w + c) * channels + k`` is channel ``k`` of the pixel in row ``r``, column
``c``, so ``X[:, j].reshape(h, w, channels)`` gives picture ``j`` back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, TypeAlias, get_args

import numpy as np

from functional_nn import _validation as check
from functional_nn.data.digit_files import check_path
from functional_nn.types import FloatArray, FloatDTypeLike, IntArray

Color: TypeAlias = Literal["grayscale", "rgb"]
COLORS: Final[tuple[Color, ...]] = get_args(Color)
_PILLOW_MODE: Final[dict[Color, str]] = {"grayscale": "L", "rgb": "RGB"}
_CHANNELS: Final[dict[Color, int]] = {"grayscale": 1, "rgb": 3}
_SIXTEEN_BIT_FULL_SCALE: Final = 65535
_UNSCALED_MODES: Final[dict[str, str]] = {
    "I": "32-bit integer pixels",
    "F": "32-bit float pixels",
}
"""Pillow modes whose pixels have no fixed full scale to map onto [0, 1]; converting them to
8 bits clips every value above 255, so such files are skipped."""
_EXIF_ORIENTATION: Final = 0x0112
_TRANSPOSING_ORIENTATIONS: Final = (5, 6, 7, 8)
"""EXIF orientations that turn the picture a quarter (with or without a mirror): the stored
frame is the upright picture's width and height swapped."""


class SkippedFile(NamedTuple):
    """A file of a class folder that did not become a picture, and why."""

    path: Path
    reason: str


class ImageFolder(NamedTuple):
    """A folder of pictures as a data set.

    ``X`` is ``(h*w*c, m)``, float in [0, 1], Fortran-ordered (each picture's pixels are
    contiguous, which makes gathering mini-batches of columns fast); ``y`` is ``(m,)`` int64,
    the index of each picture's class in ``class_names``; ``skipped`` lists the files that
    could not be read as pictures (``len(skipped)`` of them); ``paths`` is the file of each
    column; ``image_shape`` is ``(h, w, c)``.
    """

    X: FloatArray
    y: IntArray
    class_names: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    paths: tuple[Path, ...]
    image_shape: tuple[int, int, int]


def _check_size(size: object) -> tuple[int, int]:
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be a pair (height, width) such as (64, 64), got {size!r}")
    height = check.check_positive_int("size[0] (height)", size[0])
    width = check.check_positive_int("size[1] (width)", size[1])
    return height, width


def _stored_size(orientation: object, width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` of the target as it lies in a file of EXIF ``orientation``: swapped
    for a quarter turn, so that a JPEG decoded at a reduced scale for it still holds at least
    ``height`` x ``width`` pixels once it is upright."""
    return (height, width) if orientation in _TRANSPOSING_ORIENTATIONS else (width, height)


def _class_folders(root: Path, classes: Sequence[str] | None) -> list[tuple[str, Path]]:
    if classes is None:
        folders = sorted((p.name, p) for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    else:
        if isinstance(classes, str) or not isinstance(classes, Sequence):
            raise TypeError(f"classes must be a sequence of sub-folder names such as ('cats', 'dogs'), got {classes!r}")
        names = [str(name) for name in classes]
        # "..", "a/b" and the like would reach folders that are not classes of root, or above it
        not_names = [name for name in names if name in ("", ".", "..") or Path(name).name != name]
        if not_names:
            raise ValueError(f"classes must be names of sub-folders of {root}, such as 'cats', got {not_names}")
        if len(names) < 2:  # else refused below as if root held fewer than two folders
            raise ValueError(f"classes must name at least two class sub-folders of {root}, one per class, got {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"classes must not repeat a name, got {names}")
        missing = [name for name in names if not (root / name).is_dir()]
        if missing:
            present = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise ValueError(f"classes {missing} are not sub-folders of {root} (it has {present})")
        folders = [(name, root / name) for name in names]
    if len(folders) < 2:
        found = [name for name, _ in folders]
        raise ValueError(
            f"{root} must hold at least two class sub-folders (e.g. cats/ and dogs/), one per class, "
            f"found {len(folders)}: {found}"
        )
    return folders


def class_folders(root: str | os.PathLike[str], classes: Sequence[str] | None = None) -> tuple[str, ...]:
    """The class sub-folders of ``root`` that ``load_image_folder`` reads, in label order
    (``classes`` as given, else every sub-folder not starting with ``.``, sorted by name),
    found without decoding a picture: a script can refuse the wrong number of classes before
    reading thousands of photos.

    Raises as ``load_image_folder`` does for ``root`` and ``classes``.
    """
    return tuple(name for name, _ in _class_folders(_root_folder(root), classes))


def _root_folder(root: str | os.PathLike[str]) -> Path:
    folder = check_path("root", root, "a folder")
    if not folder.is_dir():
        raise FileNotFoundError(f"root {folder} is not a folder: expected one sub-folder of pictures per class")
    return folder


@contextlib.contextmanager
def open_picture(path: str | os.PathLike[str]) -> Iterator[Any]:  # Any: a PIL.Image.Image (Pillow is optional)
    """``PIL.Image.open`` of the picture at ``path``, from a file opened here rather than by path:
    Pillow memory-maps an uncompressed grayscale, palette or 16-bit TIFF opened by path in the
    upright size of its orientation tag (5 to 8) while its data lie in the stored frame, which
    scrambles the picture once it is turned upright. A file Pillow cannot identify raises its
    ``UnidentifiedImageError`` naming ``path`` (opened so, Pillow's names the stream). Needs Pillow.
    """
    from PIL import Image, UnidentifiedImageError

    with open(path, "rb") as stream:
        try:
            opened = Image.open(stream)
        except UnidentifiedImageError:
            raise UnidentifiedImageError(f"cannot identify image file {os.fspath(path)!r}") from None
        with opened:
            yield opened


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    size: tuple[int, int] = (64, 64),
    color: Color = "grayscale",
    classes: Sequence[str] | None = None,
    dtype: FloatDTypeLike = np.float32,
) -> ImageFolder:
    r"""Load every picture under ``root/<class>/`` as one column, labelled by its folder.

    Each sub-folder of ``root`` is a class; by default all of them (hidden ones excepted),
    sorted by name, so ``cats/`` is class 0 and ``dogs/`` class 1. Within a class the files
    are taken in the order of their names, so the result is the same on every machine.
    Each file is decoded with Pillow, turned upright by its EXIF orientation, converted to
    grayscale or RGB, resized to ``size`` (bilinear, ignoring the aspect ratio) and divided
    by 255. A 16-bit grayscale picture (Pillow's modes ``I;16``, such as a 16-bit PNG) keeps
    its 16 bits: it is resized as floats and divided by 65535 (its three RGB channels are
    the same gray), so that a picture saved in 16 bits gives the values of the same picture
    in 8 bits. A file Pillow cannot decode, a picture of 32-bit integer or float pixels
    (modes ``I`` and ``F``, which have no fixed full scale), or anything else in a class
    folder (a text file, a sub-folder), is skipped and listed in ``skipped`` with the reason.

    Parameters
    ----------
    root : path-like
        A folder with one sub-folder of pictures per class.
    size : (int, int), default (64, 64)
        ``(height, width)`` of the pictures after resizing.
    color : {"grayscale", "rgb"}, default "grayscale"
        1 or 3 channels.
    classes : sequence of str, optional
        The class sub-folders to load, in this order (``classes[k]`` is label ``k``), e.g.
        ``("cats", "dogs")``; the others are ignored. Each is the name of a sub-folder of
        ``root``, not a path (``"."``, ``".."`` and ``"a/b"`` are refused).
    dtype : numpy.float32 or numpy.float64, default numpy.float32
        The scalar type or its ``numpy.dtype`` (``np.dtype("float32")``).

    Returns
    -------
    ImageFolder
        ``X`` of shape ``(h*w*c, m)``, ``y`` of shape ``(m,)``, ``class_names``, ``skipped``,
        ``paths`` and ``image_shape = (h, w, c)``.

    Raises
    ------
    ImportError
        Without Pillow; the message says ``pip install -e ".[scripts]"``.
    TypeError
        When ``root`` is not a ``str`` or ``os.PathLike``.
    FileNotFoundError
        When ``root`` is not a folder.
    ValueError
        When ``root`` is an empty str (``Path("")`` would be the current folder) or holds a NUL
        byte, has fewer than two class folders, ``classes`` names fewer than two or something
        that is not one of its sub-folders, or a class ends up with no picture.
    """
    height, width = _check_size(size)
    color = check.check_name("color", color, COLORS)
    check.check_float_dtype("dtype", dtype)
    dtype = np.dtype(dtype).type  # np.dtype("float32") passes the check above, but is not a scalar type to call
    folder = _root_folder(root)
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise ImportError(
            'load_image_folder needs Pillow to decode pictures; it comes with the scripts extra: pip install -e ".[scripts]"'
        ) from exc

    class_folders = _class_folders(folder, classes)
    candidates = [(label, path) for label, (_, class_dir) in enumerate(class_folders) for path in sorted(class_dir.iterdir())]
    channels = _CHANNELS[color]
    mode = _PILLOW_MODE[color]
    n_features = height * width * channels
    rows = np.empty((len(candidates), n_features), dtype=dtype)  # one row per picture: filled in order, then transposed
    labels = np.empty(len(candidates), dtype=np.int64)
    paths: list[Path] = []
    skipped: list[SkippedFile] = []
    full_scale = dtype(255)
    for label, path in candidates:
        if not path.is_file():
            skipped.append(SkippedFile(path, "not a regular file"))
            continue
        try:
            with open_picture(path) as opened:
                # JPEG only: decode at the smallest scale >= the target, in the frame as stored,
                # which exif_transpose then turns upright
                opened.draft(mode, _stored_size(opened.getexif().get(_EXIF_ORIENTATION, 1), width, height))
                upright = ImageOps.exif_transpose(opened)
                if upright.mode in _UNSCALED_MODES:
                    reason = (
                        f"mode {upright.mode!r} ({_UNSCALED_MODES[upright.mode]}) has no fixed full scale to map "
                        "onto [0, 1]: save it with 8 or 16 bits per channel"
                    )
                    skipped.append(SkippedFile(path, reason))
                    continue
                sixteen_bit = upright.mode.startswith("I;16")
                # 16 bits as floats (exact): converted to 8 bits they would be clipped at 255
                picture = upright.convert("F" if sixteen_bit else mode)
                if picture.size != (width, height):
                    picture = picture.resize((width, height), Image.Resampling.BILINEAR)
                pixels = np.asarray(picture, dtype=np.float32 if sixteen_bit else np.uint8)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            # OSError covers unidentified and truncated files; some decoders raise the others
            skipped.append(SkippedFile(path, f"{type(exc).__name__}: {exc}"))
            continue
        row = len(paths)
        if sixteen_bit:
            gray = pixels.reshape(height, width, 1)
            np.divide(np.repeat(gray, channels, axis=2).reshape(-1), dtype(_SIXTEEN_BIT_FULL_SCALE), out=rows[row])
        else:
            np.divide(pixels.reshape(-1), full_scale, out=rows[row])
        labels[row] = label
        paths.append(path)

    m = len(paths)
    counts = np.bincount(labels[:m], minlength=len(class_folders))
    empty = [name for (name, _), count in zip(class_folders, counts.tolist()) if count == 0]
    if empty:
        raise ValueError(
            f"class folder(s) {empty} of {folder} hold no readable picture ({len(skipped)} file(s) skipped): "
            "every class needs at least one"
        )
    kept = rows[:m] if m == len(candidates) or m >= 0.9 * len(candidates) else rows[:m].copy()
    X: FloatArray = kept.T  # (h*w*c, m), Fortran-ordered
    return ImageFolder(
        X, labels[:m].copy(), tuple(name for name, _ in class_folders), tuple(skipped), tuple(paths),
        (height, width, channels),
    )  # fmt: skip

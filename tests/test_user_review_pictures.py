"""A user's review of pictures in the wild: what load_image_folder makes of files as they come."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functional_nn.data.images import class_folders, load_image_folder

_ORIENTATION = 0x0112


@pytest.mark.parametrize(("mode", "full_scale"), [("L", 255), ("I;16", 65535), ("P", 255)])
def test_an_uncompressed_tiff_turned_by_its_orientation_tag_loads_upright(tmp_path: Path, mode: str, full_scale: int) -> None:
    # a scanner's grayscale TIFF, stored sideways with orientation 6 (turn 90 degrees clockwise
    # to view): Pillow memory-maps such a file opened by path in the wrong frame
    levels = np.arange(8, dtype=np.uint16) * (full_scale // 7)
    upright = np.repeat(levels[:, np.newaxis], 4, axis=1)  # 8 rows x 4 columns, darker at the top
    stored = np.rot90(upright, 1).copy()  # 4 rows x 8 columns, as the sensor wrote it
    for folder, pixels, orientation in (("a", upright, 1), ("b", stored, 6)):
        (tmp_path / folder).mkdir()
        picture = Image.fromarray(pixels if mode == "I;16" else pixels.astype(np.uint8))
        picture = picture.convert("P") if mode == "P" else picture
        exif = picture.getexif()
        exif[_ORIENTATION] = orientation
        picture.save(tmp_path / folder / "picture.tif", exif=exif)  # uncompressed
        with Image.open(tmp_path / folder / "picture.tif") as opened:
            assert opened.mode == mode
    data = load_image_folder(tmp_path, size=(8, 4))
    assert data.skipped == ()
    expected = (upright / full_scale).reshape(-1)
    np.testing.assert_allclose(data.X[:, 0], expected, atol=1e-7)  # the upright file, as it is
    np.testing.assert_allclose(data.X[:, 1], expected, atol=1e-7)  # the turned one, turned upright


def test_a_file_that_is_no_picture_is_skipped_with_its_name(tmp_path: Path) -> None:
    for folder in ("cats", "dogs"):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.zeros((2, 2), dtype=np.uint8)).save(tmp_path / folder / "black.png")
    (tmp_path / "dogs" / "notes.jpg").write_text("not a picture\n")
    data = load_image_folder(tmp_path, size=(2, 2))
    assert [(s.path.name, s.reason) for s in data.skipped] == [
        ("notes.jpg", f"UnidentifiedImageError: cannot identify image file {str(tmp_path / 'dogs' / 'notes.jpg')!r}")
    ]


def test_class_folders_are_the_folders_load_image_folder_reads_found_without_a_picture(tmp_path: Path) -> None:
    """cats_vs_dogs.py asks for them first: with three classes and no --classes it refused only
    after decoding every picture of all three (on thousands of photos, a long wait for one line)."""
    for name in ("dogs", "cats", ".thumbnails", "birds"):
        (tmp_path / name).mkdir()
    (tmp_path / "cats" / "not a picture.jpg").write_text("x")  # never opened: no picture is decoded
    (tmp_path / "readme.txt").write_text("x")
    assert class_folders(tmp_path) == ("birds", "cats", "dogs")
    assert class_folders(tmp_path, ["dogs", "cats"]) == ("dogs", "cats")
    with pytest.raises(ValueError, match=r"classes \['cows'\] are not sub-folders of"):
        class_folders(tmp_path, ["dogs", "cows"])
    with pytest.raises(FileNotFoundError, match=r"root .*readme.txt is not a folder"):
        class_folders(tmp_path / "readme.txt")

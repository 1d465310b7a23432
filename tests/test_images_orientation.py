"""load_image_folder on JPEGs whose EXIF orientation turns them a quarter, decoded at a reduced
scale, and its dtype given as a numpy.dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from functional_nn.data.images import load_image_folder

_ORIENTATION = 0x0112  # the EXIF Orientation tag
# the transpose that stores an upright picture so that its EXIF orientation turns it back
_STORED_FOR: dict[int, Image.Transpose] = {
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _striped_folder(root: Path, stripe: int = 2) -> Path:
    """``root/a/`` holds the same upright picture, 200 wide and 800 high, of vertical stripes
    ``stripe`` pixels wide, stored turned for each of the EXIF orientations 5 to 8; ``root/b/``
    holds it stored upright. Stripes two pixels wide survive only if the width is decoded at
    full scale."""
    columns = ((np.arange(200) // stripe) % 2) * 255
    upright = Image.fromarray(np.tile(columns, (800, 1)).astype(np.uint8), mode="L")
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    upright.save(root / "b" / "upright.jpg", quality=95)
    for orientation, transpose in _STORED_FOR.items():
        exif = Image.Exif()
        exif[_ORIENTATION] = orientation
        upright.transpose(transpose).save(root / "a" / f"turned{orientation}.jpg", quality=95, exif=exif)
    return root


@pytest.mark.parametrize(("size", "stripe"), [((50, 200), 2), ((100, 25), 32), ((800, 200), 2)])
def test_a_turned_jpeg_loads_like_the_same_picture_stored_upright(tmp_path: Path, size: tuple[int, int], stripe: int) -> None:
    """(50, 200) keeps the full width: a draft sized for the unturned frame decoded the width at a
    quarter and the stripes came out flat (max difference 0.5). (100, 25) is an eighth of each
    side, so both files are decoded at a reduced scale; (800, 200) is no resize at all."""
    folder = load_image_folder(_striped_folder(tmp_path, stripe), size=size)
    assert [p.name for p in folder.paths] == ["turned5.jpg", "turned6.jpg", "turned7.jpg", "turned8.jpg", "upright.jpg"]
    upright = folder.X[:, -1]
    assert float(upright.std()) > 0.4  # the stripes are there, nearly black and white
    for j in range(4):
        # JPEG is lossy and rounds each stored frame its own way: close, not equal
        np.testing.assert_allclose(folder.X[:, j], upright, atol=0.05, err_msg=folder.paths[j].name)


def test_a_turned_jpeg_is_still_decoded_at_a_reduced_scale(tmp_path: Path) -> None:
    """The module's promise of bounded memory: Pillow's draft is asked for the target as it
    lies in the stored frame (height and width swapped) and picks a scale of 1/8 here."""
    root = _striped_folder(tmp_path)
    requested: list[tuple[int, int]] = []
    scales: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def recording(image: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        assert size is not None
        requested.append(size)
        result = original(image, mode, size)
        scales.append(image.size)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording)
        load_image_folder(root, size=(100, 25))
    # four turned files stored 800 wide and 200 high, then the upright one, 200 wide and 800 high
    assert requested == [(100, 25)] * 4 + [(25, 100)]
    assert scales == [(100, 25)] * 4 + [(25, 100)]


@pytest.mark.parametrize("dtype", [np.dtype("float32"), np.dtype("float64"), np.float32, np.float64])
def test_dtype_may_be_a_numpy_dtype(tmp_path: Path, dtype: object) -> None:
    for name, value in (("a", 51), ("b", 102)):
        (tmp_path / name).mkdir()
        Image.fromarray(np.full((2, 3), value, dtype=np.uint8), mode="L").save(tmp_path / name / "x.png")
    folder = load_image_folder(tmp_path, size=(2, 3), dtype=dtype)  # type: ignore[arg-type]  # a dtype object, as users pass
    expected = np.dtype(dtype)  # type: ignore[call-overload]  # object, narrowed by the parameters above
    assert folder.X.dtype == expected
    np.testing.assert_array_equal(folder.X[:, 0], np.full(6, 51, dtype=expected) / expected.type(255))
    np.testing.assert_array_equal(folder.X[:, 1], np.full(6, 102, dtype=expected) / expected.type(255))


@pytest.mark.parametrize("dtype", [np.dtype("float16"), np.dtype("int64"), "float32", float, None])
def test_other_dtypes_are_refused_by_name(tmp_path: Path, dtype: object) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((2, 2), dtype=np.uint8), mode="L").save(tmp_path / name / "x.png")
    with pytest.raises(TypeError, match="dtype must be numpy.float32 or numpy.float64, got"):
        load_image_folder(tmp_path, size=(2, 2), dtype=dtype)  # type: ignore[arg-type]  # refused, as it should be

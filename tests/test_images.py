"""load_image_folder on small folders of pictures written here: shapes, order, values, skips, errors."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from functional_nn import initialize_parameters, predict_proba, train
from functional_nn.data.images import load_image_folder

UInt8Array = npt.NDArray[np.uint8]


def stripes(rng: np.random.Generator, orientation: str, size: int = 16) -> UInt8Array:
    """Stripes two pixels wide, horizontal or vertical, at a random phase, with random contrast
    and pixel noise (so no single pixel tells the classes apart)."""
    index = np.arange(size) + rng.integers(0, 4)
    pattern = ((index // 2) % 2).astype(np.float64)
    picture = np.tile(pattern[:, None], (1, size)) if orientation == "horizontal" else np.tile(pattern, (size, 1))
    low, high = rng.uniform(0.0, 0.3), rng.uniform(0.7, 1.0)
    picture = low + (high - low) * picture + rng.normal(0.0, 0.12, picture.shape)
    return np.clip(np.round(picture * 255), 0, 255).astype(np.uint8)


def write_stripes_folder(root: Path, per_class: int, rng: np.random.Generator, size: int = 16) -> Path:
    """``root/horizontal/`` and ``root/vertical/`` of PNGs, plus a broken PNG and a text file."""
    for orientation in ("horizontal", "vertical"):
        folder = root / orientation
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(stripes(rng, orientation, size), mode="L").save(folder / f"{orientation}_{i:03d}.png")
    (root / "horizontal" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is no picture")
    (root / "vertical" / "notes.txt").write_text("pictures of stripes\n")
    return root


def test_shapes_order_labels_and_skipped(tmp_path: Path) -> None:
    root = write_stripes_folder(tmp_path / "data", 5, np.random.default_rng(0))
    data = load_image_folder(root, size=(16, 16))
    assert data.X.shape == (256, 10)
    assert data.X.dtype == np.float32
    assert data.X.flags.f_contiguous  # each picture's pixels are contiguous: fast column gathers
    assert data.y.dtype == np.int64
    np.testing.assert_array_equal(data.y, [0] * 5 + [1] * 5)
    assert data.class_names == ("horizontal", "vertical")
    assert data.image_shape == (16, 16, 1)
    assert [p.name for p in data.paths] == [f"horizontal_{i:03d}.png" for i in range(5)] + [f"vertical_{i:03d}.png" for i in range(5)]
    assert sorted(s.path.name for s in data.skipped) == ["broken.png", "notes.txt"]
    assert all(s.reason for s in data.skipped)
    assert 0.0 <= float(data.X.min()) and float(data.X.max()) <= 1.0


def test_pixels_are_the_file_scaled_to_unit_range(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    pixels = rng.integers(0, 256, (2, 3, 3), dtype=np.uint8)  # height 2, width 3, RGB
    Image.fromarray(pixels, mode="RGB").save(tmp_path / "a" / "x.png")
    gray = np.full((2, 3), 51, dtype=np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "b" / "y.png")
    data = load_image_folder(tmp_path, size=(2, 3), color="rgb", dtype=np.float64)
    assert data.X.shape == (18, 2) and data.X.dtype == np.float64
    np.testing.assert_array_equal(data.X[:, 0], pixels.reshape(-1) / 255)  # (h, w, c) order
    np.testing.assert_array_equal(data.X[:, 0].reshape(data.image_shape), pixels / 255)
    np.testing.assert_array_equal(data.X[:, 1], np.full(18, 51 / 255))  # gray -> R = G = B

    as_gray = load_image_folder(tmp_path, size=(2, 3), color="grayscale")
    assert as_gray.X.shape == (6, 2) and as_gray.image_shape == (2, 3, 1)
    np.testing.assert_allclose(as_gray.X[:, 1], 0.2, atol=1e-7)  # 51 / 255
    # ITU-R 601-2 luma, as Pillow's "L" conversion rounds it
    rgb = pixels.astype(np.float64)
    luma = (rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114) / 1000
    np.testing.assert_allclose(as_gray.X[:, 0] * 255, luma.reshape(-1), atol=1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sixteen_bit_pictures_are_scaled_by_65535_not_clipped_at_255(tmp_path: Path, dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(7)
    for name in ("eight", "sixteen"):
        (tmp_path / name).mkdir()
    pixels = rng.integers(0, 256, (4, 5), dtype=np.uint8)
    pixels[0, :2] = (0, 255)
    Image.fromarray(pixels, mode="L").save(tmp_path / "eight" / "p.png")
    Image.fromarray(pixels.astype(np.uint16) * 257).save(tmp_path / "sixteen" / "p.png")  # the same picture in 16 bits
    ramp = np.array([[0, 1, 255, 256, 32768], [65534, 65535, 1000, 40000, 12345]], dtype=np.uint16)
    Image.fromarray(ramp).save(tmp_path / "sixteen" / "ramp.png")
    with Image.open(tmp_path / "sixteen" / "p.png") as opened:
        assert opened.mode == "I;16"  # what a 16-bit grayscale PNG opens as
    data = load_image_folder(tmp_path, size=(4, 5), dtype=dtype)
    assert data.skipped == () and data.X.dtype == dtype
    np.testing.assert_array_equal(data.X[:, 1], data.X[:, 0])  # 16 bits give the 8-bit values exactly
    np.testing.assert_array_equal(data.X[:, 0], (pixels.reshape(-1) / dtype(255)).astype(dtype))
    assert float(data.X[:, 1].max()) == 1.0  # not 255 / 65535 of it, nor clipped to 255
    ramped = load_image_folder(tmp_path, size=(2, 5), dtype=np.float64)
    np.testing.assert_array_equal(ramped.X[:, ramped.paths.index(tmp_path / "sixteen" / "ramp.png")], ramp.reshape(-1) / 65535)
    rgb = load_image_folder(tmp_path, size=(4, 5), color="rgb", dtype=dtype)
    np.testing.assert_array_equal(rgb.X[:, 1], np.repeat(data.X[:, 1], 3))  # gray: R = G = B
    resized = load_image_folder(tmp_path, size=(2, 3), dtype=np.float64)
    np.testing.assert_allclose(resized.X[:, 1], resized.X[:, 0], atol=1 / 255)  # 8 bits round where floats do not


def test_pictures_of_32_bit_pixels_are_skipped_with_the_reason(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("L", (4, 4), 100).save(tmp_path / name / "ok.png")
    values = np.arange(16, dtype=np.int32).reshape(4, 4) * 1000
    Image.fromarray(values).save(tmp_path / "a" / "int.tif")
    Image.fromarray(values.astype(np.float32) / 16000).save(tmp_path / "b" / "float.tif")
    data = load_image_folder(tmp_path, size=(4, 4))
    assert [p.name for p in data.paths] == ["ok.png", "ok.png"]
    reasons = {s.path.name: s.reason for s in data.skipped}
    assert reasons == {
        "int.tif": "mode 'I' (32-bit integer pixels) has no fixed full scale to map onto [0, 1]: save it with 8 or 16 bits per channel",
        "float.tif": "mode 'F' (32-bit float pixels) has no fixed full scale to map onto [0, 1]: save it with 8 or 16 bits per channel",
    }


def test_resize_to_height_and_width(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("L", (40, 30), color=200).save(tmp_path / name / "flat.png")  # 40 wide, 30 high
    data = load_image_folder(tmp_path, size=(6, 8))
    assert data.image_shape == (6, 8, 1)
    assert data.X.shape == (48, 2)
    np.testing.assert_allclose(data.X, 200 / 255, atol=1e-6)


def test_same_result_every_time_whatever_the_creation_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    for name in ("b_dogs", "a_cats"):
        (tmp_path / name).mkdir()
        for i in (3, 1, 2, 0):
            Image.fromarray(stripes(rng, "vertical", 8), mode="L").save(tmp_path / name / f"{i}.png")
    first = load_image_folder(tmp_path, size=(8, 8))
    second = load_image_folder(tmp_path, size=(8, 8))
    np.testing.assert_array_equal(first.X, second.X)
    assert first.class_names == ("a_cats", "b_dogs")
    assert [p.name for p in first.paths] == ["0.png", "1.png", "2.png", "3.png"] * 2


def test_classes_choose_and_order_the_labels(tmp_path: Path) -> None:
    root = write_stripes_folder(tmp_path, 3, np.random.default_rng(3), size=8)
    (root / "unused").mkdir()
    data = load_image_folder(root, size=(8, 8), classes=("vertical", "horizontal"))
    assert data.class_names == ("vertical", "horizontal")
    assert [p.parent.name for p in data.paths] == ["vertical"] * 3 + ["horizontal"] * 3
    np.testing.assert_array_equal(data.y, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match=r"\['diagonal'\] are not sub-folders"):
        load_image_folder(root, size=(8, 8), classes=("vertical", "diagonal"))
    with pytest.raises(ValueError, match="at least two class sub-folders"):
        load_image_folder(root, size=(8, 8), classes=("vertical",))


def test_hidden_entries_and_subfolders_are_skipped_and_reported(tmp_path: Path) -> None:
    root = write_stripes_folder(tmp_path, 2, np.random.default_rng(4), size=8)
    (root / ".cache").mkdir()  # a hidden folder is not a class
    (root / "vertical" / ".DS_Store").write_bytes(b"\x00\x01")
    (root / "vertical" / "nested").mkdir()
    data = load_image_folder(root, size=(8, 8))
    assert data.class_names == ("horizontal", "vertical")
    assert sorted(s.path.name for s in data.skipped) == [".DS_Store", "broken.png", "nested", "notes.txt"]
    assert data.X.shape == (64, 4)


def test_truncated_picture_is_skipped(tmp_path: Path) -> None:
    root = write_stripes_folder(tmp_path, 2, np.random.default_rng(5), size=8)
    whole = (root / "vertical" / "vertical_000.png").read_bytes()
    (root / "vertical" / "vertical_000.png").write_bytes(whole[: len(whole) // 2])
    data = load_image_folder(root, size=(8, 8))
    assert "vertical_000.png" in [s.path.name for s in data.skipped]
    np.testing.assert_array_equal(data.y, [0, 0, 1])


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="at least two class sub-folders.*found 0"):
        load_image_folder(tmp_path)
    (tmp_path / "cats").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "cats" / "c.png")
    with pytest.raises(ValueError, match=r"found 1: \['cats'\]"):
        load_image_folder(tmp_path)
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "d.png").write_text("not a picture")
    with pytest.raises(ValueError, match=r"\['dogs'\].*no readable picture \(1 file\(s\) skipped\)"):
        load_image_folder(tmp_path)
    Image.new("L", (4, 4)).save(tmp_path / "dogs" / "e.png")
    with pytest.raises(ValueError, match="size"):
        load_image_folder(tmp_path, size=(0, 4))
    with pytest.raises(TypeError, match="size must be a pair"):
        load_image_folder(tmp_path, size=64)  # type: ignore[arg-type]  # the check under test
    with pytest.raises(ValueError, match="unknown color 'rgba'"):
        load_image_folder(tmp_path, color="rgba")  # type: ignore[arg-type]  # the check under test
    with pytest.raises(TypeError, match="dtype"):
        load_image_folder(tmp_path, dtype=np.uint8)  # type: ignore[arg-type]  # the check under test
    assert load_image_folder(tmp_path, size=(4, 4)).X.shape == (16, 2)


def test_missing_pillow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[scripts\]"'):
        load_image_folder(tmp_path)


def test_large_jpegs_are_decoded_small_one_at_a_time(tmp_path: Path) -> None:
    """Eight 1200x900 photos: none is ever held as a full-size array, and JPEG draft mode agrees
    with a full decode followed by the same resize."""
    ramp = np.linspace(0, 255, 1200)[None, :, None] * np.ones((900, 1, 3))
    ramp[:, :, 1] = np.linspace(255, 0, 900)[:, None]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(4):
            Image.fromarray(((ramp + 10 * i) % 256).astype(np.uint8), mode="RGB").save(tmp_path / name / f"{i}.jpg", quality=90)
    tracemalloc.start()
    try:
        data = load_image_folder(tmp_path, size=(24, 32), color="rgb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.X.shape == (24 * 32 * 3, 8)
    full_size_picture = 1200 * 900 * 3  # bytes of one decoded picture as uint8
    assert peak < full_size_picture / 2, f"peak traced memory {peak} bytes"

    with Image.open(tmp_path / "a" / "0.jpg") as full:
        expected = np.asarray(full.convert("RGB").resize((32, 24), Image.Resampling.BILINEAR), dtype=np.float64) / 255
    np.testing.assert_allclose(data.X[:, 0].reshape(24, 32, 3), expected, atol=0.06)


def test_float32_pictures_train_a_float32_network(tmp_path: Path) -> None:
    data = load_image_folder(write_stripes_folder(tmp_path, 6, np.random.default_rng(6), size=8), size=(8, 8))
    assert data.X.dtype == np.float32
    rng = np.random.default_rng(0)
    params = initialize_parameters([64, 4, 1], rng, dtype=np.float32)
    Y = data.y[np.newaxis, :].astype(np.float32)
    result = train(data.X, Y, params, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=2,
                   learning_rate=0.1, batch_size=4, rng=rng)  # fmt: skip
    assert all(value.dtype == np.float32 for value in result.params.values())
    assert predict_proba(data.X, result.params, ("relu", "sigmoid")).dtype == np.float32


@pytest.mark.parametrize(
    ("image_shape", "message"),
    [
        (4, r"image_shape must be a tuple \(h, w\) or \(h, w, c\) of ints, got 4"),
        ("2x2", r"image_shape must be a tuple \(h, w\) or \(h, w, c\) of ints, got '2x2'"),
        ((2.0, 2), r"image_shape must be a tuple \(h, w\) or \(h, w, c\) of ints, got \(2.0, 2\)"),
    ],
)
def test_an_image_grid_names_an_image_shape_that_is_not_a_tuple_of_ints(tmp_path: Path, image_shape: object, message: str) -> None:
    from functional_nn.plots import plot_image_grid

    X = np.linspace(0.0, 1.0, 12).reshape(4, 3)
    predicted = np.array([0, 1, 1])
    with pytest.raises(TypeError, match=message):
        plot_image_grid(X, image_shape, tmp_path / "grid.png", predicted=predicted)  # type: ignore[arg-type]  # the check under test
    assert list(tmp_path.iterdir()) == []
    assert plot_image_grid(X, (2, 2), tmp_path / "grid.png", predicted=predicted).read_bytes()[:4] == b"\x89PNG"

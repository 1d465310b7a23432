"""predict_digit.py on pictures as a user has them, tried as a user would.

A phone stores most photos as the sensor took them and records in the EXIF orientation tag
how to turn them for showing; every viewer (and ``load_image_folder``) shows them upright.
``predict_digit`` fed the network the picture as stored: a "1" photographed with the phone
held upright reached the network lying on its side.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn.initializers import initialize_parameters
from functional_nn.propagation import predict_proba
from functional_nn.serialization import save_parameters
from test_scripts_mnist import _draw_one

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import predict_digit  # noqa: E402  (the scripts folder is not a package)

_ORIENTATION = 0x0112  # the EXIF Orientation tag


def _stored_turned(upright: Path, path: Path, orientation: int) -> Path:
    """``upright`` saved at ``path`` as a phone stores it: turned, with the EXIF ``orientation``
    that turns it back for showing (6: a quarter clockwise, 8: a quarter anticlockwise)."""
    from PIL import Image

    turn = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    exif = Image.Exif()
    exif[_ORIENTATION] = orientation
    with Image.open(upright) as picture:
        # grayscale, lossless (PNG, uncompressed TIFF): the same pixels; such a TIFF opened by path
        # is memory-mapped by Pillow in the upright size over the data in the stored frame
        picture.convert("L").transpose(turn).save(path, exif=exif)
    return path


@pytest.mark.parametrize("suffix", ["png", "tif"])
@pytest.mark.parametrize("orientation", [6, 8])
def test_a_photo_turned_by_its_exif_orientation_is_read_upright(tmp_path: Path, suffix: str, orientation: int) -> None:
    upright = _draw_one(tmp_path / "one.png")
    turned = _stored_turned(upright, tmp_path / f"turned.{suffix}", orientation)
    expected = predict_digit.digit_pixels(upright)
    assert expected[:, 0].reshape(28, 28).max(axis=1).nonzero()[0].size == 20  # the upright "1" is 20 pixels tall
    np.testing.assert_array_equal(predict_digit.digit_pixels(turned), expected)


def test_predict_digit_prints_for_a_turned_photo_what_it_prints_upright(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    params = initialize_parameters([784, 8, 10], rng, dtype=np.float32)
    network = save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    upright = _draw_one(tmp_path / "one.png")
    turned = _stored_turned(upright, tmp_path / "turned.png", 6)
    assert predict_digit.main([str(network), str(upright), str(turned), "--top", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    probabilities = predict_proba(predict_digit.digit_pixels(upright), params, ("relu", "softmax"))[:, 0]
    shown = "  ".join(f"{k} ({float(probabilities[k]):.3f})" for k in np.argsort(-probabilities, kind="stable"))
    assert lines == [f"{upright}: {shown}", f"{turned}: {shown}"]


def test_a_file_that_is_no_picture_is_still_named_in_its_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reading from an open file (as the orientation needs) keeps the file's name in the message."""
    params = initialize_parameters([784, 4, 10], np.random.default_rng(0), dtype=np.float32)
    network = save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    assert predict_digit.main([str(network), str(notes)]) == 1
    assert capsys.readouterr().err == f"{notes}: error: cannot read the picture (cannot identify image file {str(notes)!r})\n"

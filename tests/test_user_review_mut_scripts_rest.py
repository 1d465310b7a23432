"""Behaviour of the tutorial and picture scripts that their tests let change unseen, found by
mutation testing of ``scripts/predict_digit.py``, ``cats_vs_dogs.py``,
``binary_classification.py``, ``compare_optimizers.py``, ``inspect_network.py``,
``augmentation_report.py``, ``vanishing_gradients.py``, ``neuron_basics.py`` and
``compare_sklearn_digits.py``.

Each test fails on a mutant of those scripts that the rest of the suite let pass, and passes on
the scripts as they are; the expected figures come from the picture or the arithmetic, not
from the scripts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from functional_nn.serialization import save_parameters
from test_scripts_arguments import _refused as argparse_refusal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import inspect_network  # noqa: E402  (the scripts folder is not a package)
import neuron_basics  # noqa: E402
import predict_digit  # noqa: E402


def _centre_of_mass(column: np.ndarray) -> tuple[float, float]:
    frame = column[:, 0].reshape(28, 28).astype(np.float64)
    ys, xs = np.indices(frame.shape)
    total = float(frame.sum())
    return float((ys * frame).sum()) / total, float((xs * frame).sum()) / total


TURNS = {"upright": None, "a quarter turn": Image.Transpose.ROTATE_90, "upside down": Image.Transpose.ROTATE_180,
         "three quarter turns": Image.Transpose.ROTATE_270}  # fmt: skip


@pytest.mark.parametrize("turn", list(TURNS))
@pytest.mark.parametrize("stem", [43, 52, 64])
def test_a_lopsided_digit_is_centred_to_within_half_a_pixel_of_the_frames_centre(tmp_path: Path, stem: int, turn: str) -> None:
    # a "T": a bar along the top and a stem below it, so that its mass lies above the middle
    # of its box; moved by whole pixels, its centre of mass ends within half a pixel of
    # (13.5, 13.5), the centre of the 28 x 28 frame (rows and columns 0 to 27), as MNIST's are;
    # turned, its mass lies below, left or right of its box's middle instead
    image = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(image).rectangle((40, 5, 49, 5 + stem), fill=0)
    ImageDraw.Draw(image).rectangle((40, 5, 70, 14), fill=0)
    transpose = TURNS[turn]
    (image if transpose is None else image.transpose(transpose)).save(tmp_path / "tee.png")
    row, column = _centre_of_mass(predict_digit.digit_pixels(tmp_path / "tee.png"))
    assert abs(row - 13.5) <= 0.5
    assert abs(column - 13.5) <= 0.5


def test_overwrite_without_csv_is_refused_as_submission_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # pictures' classes are printed, nothing is written: an --overwrite there is a mistake, said before anything is read
    last = argparse_refusal(capsys, lambda: predict_digit.main([str(tmp_path / "params.npz"), str(tmp_path / "seven.png"), "--overwrite"]))
    assert last.endswith(": error: --submission and --overwrite go with --csv test.csv (the pictures' classes are printed)")


def test_top_with_csv_is_refused_as_each_row_gets_one_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / "params.npz"), "--csv", str(tmp_path / "test.csv"), "--submission", str(tmp_path / "s.csv"), "--top", "2"]
    last = argparse_refusal(capsys, lambda: predict_digit.main(argv))
    assert last.endswith(": error: --top is for pictures: --csv writes each row's one most probable class")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# inspect_network.py: which networks it reads, and the medians of its summary


def _saved_network(run_dir: Path, output: str) -> Path:
    """A 784-1-10 network whose one hidden ReLU unit copies pixel 0 and whose output gives
    class 3 the logit ``10 * pixel0``, the other classes 0."""
    W1 = np.zeros((1, 784), dtype=np.float32)
    W1[0, 0] = 1.0
    W2 = np.zeros((10, 1), dtype=np.float32)
    W2[3, 0] = 10.0
    params = {"W1": W1, "b1": np.zeros((1, 1), np.float32), "W2": W2, "b2": np.zeros((10, 1), np.float32)}
    run_dir.mkdir()
    return save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", output]})


def test_inspect_network_refuses_a_relu_output_whose_values_run_past_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # ReLU's outputs are never negative, but unbounded above: not probabilities either
    path = _saved_network(tmp_path / "run", "relu")
    assert inspect_network.main([str(tmp_path / "run"), "--out", str(tmp_path / "pictures")]) == 2
    expected = (
        f"error: {path} ends in a 'relu' layer, whose outputs (0 to inf) are not probabilities: "
        "this script reads MNIST classifiers whose last layer gives them, such as 'softmax'"
    )
    assert capsys.readouterr().err.strip().splitlines()[-1] == expected
    assert not (tmp_path / "pictures").exists()


def test_inspect_network_of_one_unit_gives_the_median_confidence_of_right_and_of_wrong_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every picture is called a 3, with probability e^(10 h) / (e^(10 h) + 9), h = pixel0 / 255:
    # three 3s (right) and three 7s (wrong), each trio's probabilities lopsided, so that their
    # median (the middle one) is not their mean
    _saved_network(tmp_path / "run", "softmax")
    rows = [(3, 13), (3, 128), (3, 255), (7, 26), (7, 51), (7, 255)]
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    lines = [",".join(map(str, [label, pixel0] + [0] * 783)) for label, pixel0 in rows]
    csv = tmp_path / "digits.csv"
    csv.write_text("\n".join([header, *lines]) + "\n")
    # --tiles left at its 64: the network's one first-layer unit is drawn, not 64
    assert inspect_network.main([str(tmp_path / "run"), "--csv", str(csv), "--out", str(tmp_path / "pictures")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    def winning(pixel0: int) -> float:
        e = np.exp(10 * pixel0 / 255)
        return float(e / (e + 9))

    assert summary["accuracy"] == 0.5
    assert summary["median_confidence_right"] == pytest.approx(winning(128), rel=1e-5)  # 0.9439; their mean is 0.6999
    assert summary["median_confidence_wrong"] == pytest.approx(winning(51), rel=1e-5)  # 0.4509; their mean is 0.5620


# --------------------------------------------------------------------------------------------
# neuron_basics.py: W . x + b, negative too


def test_layer_output_is_w_x_plus_b_below_zero_as_well() -> None:
    # [1, -1] . [1, 2] + 0 = -1 and [0.5, 0.5] . [1, 2] - 2 = -0.5: a linear unit, nothing clipped
    np.testing.assert_array_equal(neuron_basics.layer_output([1, 2], [[1, -1], [0.5, 0.5]], [0, -2]), [-1.0, -0.5])


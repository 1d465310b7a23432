"""Behaviour of the runnable scripts that the rest of the suite left unpinned, found by
mutation testing of ``scripts/train_mnist.py``, ``scripts/predict_digit.py`` and
``scripts/inspect_network.py``: how a picture is read, cropped, scaled and centred, how the
classes are ranked, which networks and command lines are refused, what the summaries count.

Each test fails on at least one mutant of those scripts that the tests exercising them let
pass. The scripts run in-process through their ``main(argv)`` on small files made here;
nothing reaches the network or the real MNIST.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from functional_nn.activations import resolve_activation
from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import save_parameters
from conftest import WriteMNISTCache
from test_scripts_arguments import _refused as argparse_refusal
from test_scripts_mnist import _kaggle_csv, _small_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _cli  # noqa: E402  (the scripts folder is not a package)
import inspect_network  # noqa: E402
import predict_digit  # noqa: E402
import train_mnist  # noqa: E402

# --------------------------------------------------------------------------------------------
# predict_digit.py: reading, cropping and centring a picture; ranking; refusals


def test_a_picture_3_pixels_on_a_side_is_read_and_one_of_2_is_too_small(tmp_path: Path) -> None:
    page = np.full((3, 3), 255, dtype=np.uint8)
    page[1, 1] = 0  # one dark dot on white
    Image.fromarray(page).save(tmp_path / "three.png")
    X = predict_digit.digit_pixels(tmp_path / "three.png")
    assert X.shape == (784, 1) and float(X.max()) == 1.0  # the dot, inverted and scaled up
    Image.fromarray(page[:2]).save(tmp_path / "two.png")
    with pytest.raises(predict_digit.NoDigitError, match=r"^the picture is 3x2 pixels: too small to hold a digit$"):
        predict_digit.digit_pixels(tmp_path / "two.png")


def test_a_digit_whose_box_is_not_centred_by_mass_is_moved_to_centre_its_mass(tmp_path: Path) -> None:
    # an "L": a stroke down the left and a foot to the right; its box centred, its mass would lie low and left
    image = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(image).rectangle((10, 10, 19, 89), fill=0)
    ImageDraw.Draw(image).rectangle((10, 80, 89, 89), fill=0)
    image.save(tmp_path / "ell.png")
    picture = predict_digit.digit_pixels(tmp_path / "ell.png")[:, 0].reshape(28, 28).astype(np.float64)
    ys, xs = np.indices(picture.shape)
    total = float(picture.sum())
    assert abs(float((ys * picture).sum()) / total - 13.5) <= 0.5
    assert abs(float((xs * picture).sum()) / total - 13.5) <= 0.5


def test_several_sigmoid_outputs_are_ranked_as_independent_classes() -> None:
    sigmoid = resolve_activation("output", "sigmoid")
    assert predict_digit.ranked_classes(np.array([0.25, 0.75, 0.5]), sigmoid, 3) == [(1, 0.75), (2, 0.5), (0, 0.25)]
    assert predict_digit.ranked_classes(np.array([0.75]), sigmoid, 2) == [(1, 0.75), (0, 0.25)]


def test_the_bomb_warning_is_refused_even_where_warnings_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("L", (60, 60), 255).save(tmp_path / "big.png")  # 3,600 pixels: above the limit, under twice it
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a user's setting: the script sets its own
        with pytest.raises(ValueError, match=r"^too large for a digit: Image size \(3600 pixels\) exceeds limit"):
            predict_digit.read_gray(tmp_path / "big.png")


def test_a_half_transparent_picture_is_composited_pixel_by_pixel(tmp_path: Path) -> None:
    # grey ink (100) opaque and half transparent, and a fully transparent pixel: the ink is
    # darker than mid-grey, so the background put behind it is white
    rgba = np.array([[[100, 100, 100, 255], [100, 100, 100, 51]], [[0, 0, 0, 0], [100, 100, 100, 255]]], dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "half.png")
    gray = predict_digit.read_gray(tmp_path / "half.png")
    ink, alpha = 100 / 255, 51 / 255
    np.testing.assert_allclose(gray, [[ink, ink * alpha + (1 - alpha)], [1.0, ink]], rtol=0, atol=1e-12)


def test_light_grey_ink_on_transparency_is_put_on_white_by_its_mean_shade(tmp_path: Path) -> None:
    # four opaque pixels of shade 110 / 255 = 0.43, under mid-grey: on white, not black
    rgba = np.zeros((3, 3, 4), dtype=np.uint8)
    rgba[0, :2] = rgba[1, :2] = (110, 110, 110, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "light.png")
    gray = predict_digit.read_gray(tmp_path / "light.png")
    assert gray[2, 2] == 1.0 and gray[0, 0] == pytest.approx(110 / 255, abs=1e-12)


def test_a_plain_grey_picture_is_read_in_0_1(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 51, 255]], dtype=np.uint8)).save(tmp_path / "row.png")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "row.png"), [[0.0, 0.2, 1.0]])


@pytest.mark.parametrize(("shade", "blank"), [(235, False), (245, True)])
def test_ink_fainter_than_5_percent_is_blank_and_8_percent_is_a_digit(shade: int, blank: bool, tmp_path: Path) -> None:
    page = np.full((30, 30), 255, dtype=np.uint8)
    page[10:20, 14:16] = shade  # contrast 20 / 255 = 7.8%, or 10 / 255 = 3.9%
    Image.fromarray(page).save(tmp_path / "faint.png")
    if blank:
        with pytest.raises(predict_digit.NoDigitError, match="blank"):
            predict_digit.digit_pixels(tmp_path / "faint.png")
    else:
        assert float(predict_digit.digit_pixels(tmp_path / "faint.png").max()) > 0.5


@pytest.mark.parametrize(("speck", "cropped"), [(51, False), (77, True)])
def test_ink_above_a_fifth_of_the_strongest_widens_the_crop_and_a_fifth_does_not(speck: int, cropped: bool, tmp_path: Path) -> None:
    page = np.zeros((40, 40), dtype=np.uint8)
    page[8:28, 10:14] = 255  # a white stroke on black
    Image.fromarray(page).save(tmp_path / "stroke.png")
    page[34, 12] = speck  # 51 / 255 = 0.2 of the stroke's ink, or 77 / 255 = 0.3, below its box
    Image.fromarray(page).save(tmp_path / "speck.png")
    alone, with_speck = predict_digit.digit_pixels(tmp_path / "stroke.png"), predict_digit.digit_pixels(tmp_path / "speck.png")
    assert np.array_equal(alone, with_speck) != cropped


def test_a_picture_and_its_negative_give_the_same_digit_judged_by_the_whole_border(tmp_path: Path) -> None:
    # A 4x20 page, white but for its third row and the two edge pixels above it. Its border
    # (first and last rows, first and last columns) is mostly white, so the dark row is the
    # ink, as it is the light row of the negative. Reading the third row in place of the last
    # makes the border half dark: the background is then taken for mid-grey and the two differ.
    page = np.full((4, 20), 255, dtype=np.uint8)
    page[2] = 0
    page[1, 0] = page[1, -1] = 0
    Image.fromarray(page).save(tmp_path / "dark.png")
    Image.fromarray(255 - page).save(tmp_path / "light.png")
    dark, light = predict_digit.digit_pixels(tmp_path / "dark.png"), predict_digit.digit_pixels(tmp_path / "light.png")
    np.testing.assert_array_equal(dark, light)
    assert float(dark.max()) == 1.0


def _network(path: Path, sizes: list[int], activations: list[str]) -> Path:
    params = initialize_parameters(sizes, np.random.default_rng(0), dtype=np.float32)
    return save_parameters(path, params, metadata={"activations": activations})


def _block(path: Path) -> Path:
    """A dark block on a light page: a picture that holds a digit."""
    page = np.full((30, 30), 255, dtype=np.uint8)
    page[10:20, 12:16] = 0
    Image.fromarray(page).save(path)
    return path


def _ranked(out: str, picture: Path) -> list[int]:
    return [int(pair.split(" ")[0]) for pair in out.strip().removeprefix(f"{picture}: ").split("  ")]


def test_top_counts_the_classes_of_the_last_layer_not_a_hidden_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    network = _network(tmp_path / "params.npz", [784, 6, 5, 10], ["relu", "relu", "softmax"])
    picture = _block(tmp_path / "block.png")
    assert predict_digit.main([str(network), str(picture), "--top", "20"]) == 0  # more than there are: all 10
    assert sorted(_ranked(capsys.readouterr().out, picture)) == list(range(10))
    assert predict_digit.main([str(network), str(picture)]) == 0  # the default: 3
    assert len(_ranked(capsys.readouterr().out, picture)) == 3


def test_a_softmax_over_two_classes_is_a_classifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    network = _network(tmp_path / "params.npz", [784, 4, 2], ["relu", "softmax"])
    picture = _block(tmp_path / "block.png")
    assert predict_digit.main([str(network), str(picture)]) == 0
    assert sorted(_ranked(capsys.readouterr().out, picture)) == [0, 1]


def test_a_float_picture_is_scaled_by_its_maximum_only_above_1(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.25, 0.5]], dtype=np.float32), "F").save(tmp_path / "dim.tiff")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "dim.tiff"), [[0.0, 0.25, 0.5]])
    Image.fromarray(np.array([[0.0, 1.0, 4.0]], dtype=np.float32), "F").save(tmp_path / "bright.tiff")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "bright.tiff"), [[0.0, 0.25, 1.0]])
    Image.fromarray(np.array([[0.0, 0.75, 1.5]], dtype=np.float32), "F").save(tmp_path / "little.tiff")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "little.tiff"), [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize(
    ("values", "expected"),
    [([0, 51, 255], [0.0, 0.2, 1.0]), ([0, 128, 256], [0.0, 128 / 65535, 256 / 65535]), ([0, 13107, 65535], [0.0, 0.2, 1.0]), ([0, 2**31 - 1, 2**16], [0.0, (2**31 - 1) / (2**32 - 1), 2**16 / (2**32 - 1)]),
     ([0, 2**15, 2**16], [0.0, 2**15 / (2**32 - 1), 2**16 / (2**32 - 1)])],
)  # fmt: skip
def test_a_32_bit_integer_picture_is_scaled_by_the_range_its_values_need(values: list[int], expected: list[float], tmp_path: Path) -> None:
    Image.fromarray(np.array([values], dtype=np.int32), "I").save(tmp_path / "wide.tiff")
    with Image.open(tmp_path / "wide.tiff") as opened:
        assert opened.mode == "I"
    np.testing.assert_allclose(predict_digit.read_gray(tmp_path / "wide.tiff"), [expected], rtol=1e-15, atol=0)


def test_a_fully_transparent_picture_reads_as_white_and_one_opaque_pixel_is_kept(tmp_path: Path) -> None:
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "clear.png"), np.ones((4, 4)))
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[1, 2] = (0, 0, 0, 255)  # alpha sums to exactly 1
    Image.fromarray(rgba, "RGBA").save(tmp_path / "dot.png")
    expected = np.ones((4, 4))
    expected[1, 2] = 0.0
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "dot.png"), expected)


def test_ink_of_exactly_mid_grey_on_average_is_put_on_black(tmp_path: Path) -> None:
    rgba = np.array([[[0, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 0]]], dtype=np.uint8)  # mean shade 0.5
    Image.fromarray(rgba, "RGBA").save(tmp_path / "even.png")
    np.testing.assert_array_equal(predict_digit.read_gray(tmp_path / "even.png"), [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize("upright", [False, True])
def test_a_line_one_pixel_thin_stays_one_pixel_thin(upright: bool, tmp_path: Path) -> None:
    page = np.zeros((30, 50), dtype=np.uint8)
    page[15, 5:45] = 255  # 40 long, 1 thin: scaled by 1/2, it keeps 1 pixel across, not 0 or 2
    Image.fromarray(page.T if upright else page).save(tmp_path / "dash.png")
    picture = predict_digit.digit_pixels(tmp_path / "dash.png")[:, 0].reshape(28, 28)
    across, along = int(np.count_nonzero(picture.max(axis=1))), int(np.count_nonzero(picture.max(axis=0)))
    assert (along, across) == ((1, 20) if upright else (20, 1))
    assert float(picture.max()) == 1.0  # the crop is the line alone: no dark row or column beside it is scaled in


@pytest.mark.parametrize(
    ("sizes", "why"),
    [
        ([100, 4, 10], "takes 100 inputs, not the 784 pixels of a 28x28 digit"),
        ([784, 4, 1], "has a softmax over 1 unit: its output is always 1, not a classifier"),
    ],
)
def test_a_network_that_cannot_read_a_digit_is_refused_by_name(sizes: list[int], why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    network = _network(tmp_path / "params.npz", sizes, ["relu", "softmax"])
    assert predict_digit.main([str(network), str(_block(tmp_path / "block.png"))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {network} {why}\n"


def test_without_pillow_reading_a_picture_says_which_extra_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` raise ImportError
    with pytest.raises(ImportError, match=r'^predict_digit needs pillow: pip install -e "\.\[scripts\]"$'):
        predict_digit.read_gray(tmp_path / "any.png")


# --------------------------------------------------------------------------------------------
# train_mnist.py: refusals of the command line, the resumed run's folder, the IDX default split


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "give --workers (a local cluster) or --scheduler (a running one), not both"),
        (["--scheduler", "tcp://127.0.0.1:1", "--checkpoint"], "--checkpoint and --resume apply to single-process runs (the library's train_rounds checkpoints rounds)"),
        (["--keep-prob", "0"], "--keep-prob must be in (0, 1], got 0.0"),
        (["--keep-prob", "1.5"], "--keep-prob must be in (0, 1], got 1.5"),
    ],
)  # fmt: skip
def test_train_mnist_refuses_these_command_lines_naming_why(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    last = argparse_refusal(capsys, lambda: train_mnist.parse_args(argv))
    assert last.split(": error: ", 1)[1] == message  # after argparse's program name


def test_resume_refuses_a_command_file_whose_cwd_is_no_folder_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "command.json").write_text(json.dumps({"argv": ["--epochs", "1"], "cwd": 7}))
    last = argparse_refusal(capsys, lambda: train_mnist.parse_args(["--resume", str(tmp_path)]))
    assert last.split(": error: ", 1)[1] == f'--resume {tmp_path}: its command.json must hold "cwd", a folder, got 7'


def test_the_threads_of_a_resumed_run_are_read_from_a_folder_whose_name_holds_an_equals_sign(tmp_path: Path) -> None:
    run = tmp_path / "lr=0.1"
    run.mkdir()
    (run / "command.json").write_text(json.dumps({"argv": ["--threads", "1", "--epochs", "2"], "cwd": str(tmp_path)}))
    assert train_mnist.threads_of_resumed_run([f"--resume={run}"]) == 1
    assert train_mnist.threads_of_resumed_run(["--resume", str(run), "--overwrite"]) == 1  # the word after --resume
    assert train_mnist.threads_of_resumed_run(["--epochs", "2", "--resume"]) is None  # no folder given: parse_args says so


def test_a_resumed_run_whose_saved_command_line_is_not_all_words_keeps_no_thread_count(tmp_path: Path) -> None:
    # read before NumPy loads, so it must not fail on a damaged file: parse_args reports it later
    for saved in (["--threads", "2", 5], "--threads 2"):
        (tmp_path / "command.json").write_text(json.dumps({"argv": saved, "cwd": str(tmp_path)}))
        assert train_mnist.threads_of_resumed_run(["--resume", str(tmp_path)]) is None


def test_a_resumed_run_takes_one_thread_given_now_and_refuses_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "command.json").write_text(json.dumps({"argv": ["--epochs", "2"], "cwd": str(tmp_path)}))
    args, settings = train_mnist.parse_args(["--resume", str(tmp_path), "--threads", "1"])
    assert (args.threads, settings.epochs) == (1, 2)
    last = argparse_refusal(capsys, lambda: train_mnist.parse_args(["--resume", str(tmp_path), "--threads", "0"]))
    assert last.split(": error: ", 1)[1] == "--threads must be >= 1, got 0"


def _blank_idx_files(folder: Path) -> None:
    """MNIST's four IDX files in ``folder``: 30 training and 10 test images, all black, labelled ``i % 10``."""
    for split, m in (("train", 30), ("t10k", 10)):
        images = bytes([0, 0, 8, 3]) + np.array([m, 28, 28], dtype=">u4").tobytes() + bytes(784 * m)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
        labels = bytes([0, 0, 8, 1]) + np.array([m], dtype=">u4").tobytes() + bytes(i % 10 for i in range(m))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(labels)


def test_idx_files_with_fewer_than_10000_training_images_need_a_dev_size(tmp_path: Path) -> None:
    _blank_idx_files(tmp_path)
    args, settings = train_mnist.parse_args(["--idx", str(tmp_path)])
    expected = "the default --dev-size 10000 leaves nothing to train on: the file has 30 rows; give a smaller --dev-size"
    with pytest.raises(_cli.UsageError, match=f"^{expected}$"):
        train_mnist.load_data(args, np.float32, np.random.default_rng(0), print)


def test_resuming_a_run_started_with_exactly_the_bound_of_threads_is_not_told_to_pass_fewer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bound = _cli.per_core_bound()
    saved = ["--threads", str(bound), "--epochs", "0"]  # refused for its epochs; its threads are allowed
    (tmp_path / "command.json").write_text(json.dumps({"argv": saved, "cwd": str(tmp_path)}))
    with pytest.raises(SystemExit):
        train_mnist.parse_args(["--resume", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-2].endswith(": error: --epochs must be >= 1, got 0")
    assert lines[-1] == f"error: (in {tmp_path / 'command.json'}, the command line the run was started with: {saved})"


def test_the_summary_times_the_run_within_the_wall_clock(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_mnist, "matplotlib_available", lambda: False)  # no pictures: quicker, and the same clocks
    csv = _kaggle_csv(tmp_path / "train.csv", np.random.default_rng(0), 40)
    before = time.perf_counter()
    argv = ["--csv", str(csv), "--epochs", "1", "--hidden", "4", "--batch-size", "10", "--dev-size", "10", "--out", str(tmp_path / "run")]
    assert train_mnist.main(argv) == 0
    wall = time.perf_counter() - before
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # both rounded to 0.01 s: one epoch of 30 samples can take under 5 ms once compiled, so 0.0 is allowed
    assert 0 <= summary["training_seconds"] <= summary["seconds"] <= round(wall, 2) + 0.01


# --------------------------------------------------------------------------------------------
# inspect_network.py: the MNIST test set, its refusals


def test_inspect_network_reads_the_mnist_test_set_and_prints_each_layers_dead_units(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(0), 10, 10, 30))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    _network(run_dir / "params.npz", [784, 8, 10], ["relu", "softmax"])
    assert inspect_network.main([str(run_dir), "--tiles", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert (summary["data"], summary["samples"]) == ("MNIST test set", 30)
    assert lines[0].startswith("784-8-10 relu/softmax network on the MNIST test set: accuracy ")
    dead = [line for line in lines if line.startswith("layer ")]
    assert len(dead) == 2 and dead[0].startswith("layer 1: ") and " dead units, " in dead[0]


def test_inspect_network_takes_one_tile_and_refuses_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect_network.parse_args([str(tmp_path), "--tiles", "1"]).tiles == 1
    last = argparse_refusal(capsys, lambda: inspect_network.parse_args([str(tmp_path), "--tiles", "0"]))
    assert last.split(": error: ", 1)[1] == "--tiles must be >= 1, got 0"


@pytest.mark.parametrize("sizes", [[784, 6, 5], [100, 6, 10]])
def test_inspect_network_refuses_a_network_that_is_not_784_in_10_out(sizes: list[int], tmp_path: Path) -> None:
    path = _network(tmp_path / "params.npz", sizes, ["relu", "softmax"])
    expected = f"{path} is a {sizes} network; this script reads MNIST networks: 784 inputs, 10 outputs"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        inspect_network.load_network(tmp_path)


def test_inspect_network_refuses_a_csv_without_labels(tmp_path: Path) -> None:
    csv = tmp_path / "test.csv"
    csv.write_text(",".join(f"pixel{i}" for i in range(784)) + "\n" + ",".join(["0"] * 784) + "\n")
    args = inspect_network.parse_args([str(tmp_path), "--csv", str(csv)])
    expected = f"{csv} has no label column: give a labelled file such as Kaggle's train.csv"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        inspect_network.load_test_set(args, np.dtype(np.float32))


def test_look_inside_joins_its_chunks_sample_by_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    params = initialize_parameters([784, 5, 10], np.random.default_rng(0), dtype=np.float64)
    activations = tuple(resolve_activation("activations", name) for name in ("relu", "softmax"))
    X = np.random.default_rng(1).random((784, 7))
    whole = inspect_network.look_inside(X, params, activations)
    monkeypatch.setattr(inspect_network, "CHUNK", 3)  # 7 samples in chunks of 3, 3 and 1
    chunked = inspect_network.look_inside(X, params, activations)
    assert [A.shape for A in chunked.outputs] == [(5, 7), (10, 7)]
    np.testing.assert_allclose(chunked.probabilities, whole.probabilities, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(chunked.predicted, whole.predicted)


def test_inspect_network_scores_a_digit_with_a_single_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = _kaggle_csv(tmp_path / "digits.csv", np.random.default_rng(0), 11)  # labels 0-9, then 0: one 3, two 0s
    params = initialize_parameters([784, 4, 10], np.random.default_rng(0), dtype=np.float32)
    params["W2"] = np.zeros_like(params["W2"])
    params["b2"] = np.zeros_like(params["b2"])
    params["b2"][3] = 5.0  # every picture is called a 3
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["per_class_accuracy"] == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert summary["accuracy"] == 1 / 11

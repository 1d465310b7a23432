"""What the scripts did wrong at their edges: a float picture with a NaN pixel, a run whose
last hidden layer starts with no gradient, cluster options that the environment overrules,
and pictures refused only after training."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import save_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import benchmark_rounds  # noqa: E402  (the scripts folder is not a package)
import binary_classification  # noqa: E402
import cats_vs_dogs  # noqa: E402
import predict_digit  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
import vanishing_gradients  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402


def _error(capsys: pytest.CaptureFixture[str], run: Callable[[], object]) -> str:
    """argparse's ``error:`` line, without the program's name (the test runner's, here)."""
    return _refused(capsys, run).split(" error: ", 1)[1]

# --------------------------------------------------------------------------------------------
# predict_digit.py: a float picture with a NaN or infinite pixel


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predict_digit_reports_a_float_picture_with_a_non_finite_pixel_and_goes_on(
    bad: float, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    params = initialize_parameters((784, 4, 10), rng, dtype=np.float32)
    save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "softmax"], "loss": "categorical_cross_entropy"})
    digit = np.zeros((40, 30), np.float32)
    digit[10:30, 12:18] = 1.0
    Image.fromarray(digit, mode="F").save(tmp_path / "good.tiff")
    digit[0, 0] = bad
    Image.fromarray(digit, mode="F").save(tmp_path / "bad.tiff")
    # it was an IndexError (a traceback) from the crop of an image whose ink was all NaN
    status = predict_digit.main([str(tmp_path / "params.npz"), str(tmp_path / "bad.tiff"), str(tmp_path / "good.tiff")])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err == f"{tmp_path / 'bad.tiff'}: error: cannot read the picture (1 of its 1200 pixels are NaN or infinite)\n"
    assert captured.out.startswith(f"{tmp_path / 'good.tiff'}: ")


# --------------------------------------------------------------------------------------------
# vanishing_gradients.py: a ReLU layer dead on the first batch


def test_vanishing_gradients_writes_null_for_the_ratio_of_a_layer_with_no_gradient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["--data", "xor", "--samples", "8", "--batch-size", "8", "--epochs", "1", "--width", "1", "--layers", "2", "--seed", "1"]
    # it was a ZeroDivisionError after both pictures were written, and no JSON
    assert vanishing_gradients.main([*argv, "--out", str(out)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == sorted(vanishing_gradients.OUTPUTS)
    sigmoid, _, relu = json.loads((out / "vanishing_gradients.json").read_text())["networks"]
    assert relu["network"] == "ReLU, He weights"
    assert relu["gradient_norm_first"] == [0.0, 0.0, 0.0]  # its one unit in each layer is off for all 8 samples
    assert relu["layer_1_over_layer_2_first"] is None
    first = sigmoid["gradient_norm_first"]
    assert sigmoid["layer_1_over_layer_2_first"] == first[0] / first[1]


# --------------------------------------------------------------------------------------------
# a local cluster's options while DASK_SCHEDULER_ADDRESS names a running one


def test_workers_with_a_scheduler_in_the_environment_are_refused_naming_both(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library refused them only once the data was loaded, naming its own ``n_workers``."""
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    tail = "starts a local cluster, but DASK_SCHEDULER_ADDRESS names a running one (tcp://127.0.0.1:1): unset DASK_SCHEDULER_ADDRESS"
    assert _error(capsys, lambda: train_mnist.parse_args(["--workers", "2"])) == (
        f"--workers 2 {tail}, or leave out --workers to train on that cluster"
    )  # fmt: skip
    assert _error(capsys, lambda: sweep.parse_args(["--workers", "2"])) == (
        f"--workers 2 {tail}, or leave out --workers to sweep on that cluster"
    )  # fmt: skip
    assert _error(capsys, lambda: benchmark_rounds.parse_args([])) == f"this benchmark {tail}"
    assert sweep.parse_args([]).workers is None  # without --workers, the sweep runs on that cluster, as documented
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert train_mnist.parse_args(["--workers", "2"])[0].workers == 2
    assert sweep.parse_args(["--workers", "2"]).workers == 2
    assert benchmark_rounds.parse_args([]).workers == 2


@pytest.mark.parametrize("where", [["--sequential"], ["--scheduler", "tcp://127.0.0.1:8786"], []])
def test_sweep_refuses_a_dashboard_it_would_not_serve(
    where: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not where:  # a running cluster named by the environment
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:8786")
    assert _error(capsys, lambda: sweep.parse_args([*where, "--dashboard"])) == (
        "--dashboard serves the dashboard of a local cluster: give it alone or with --workers N, "
        "not with --sequential or a scheduler"
    )  # fmt: skip


def test_sweep_takes_a_dashboard_for_its_local_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert sweep.parse_args(["--dashboard"]).dashboard
    assert sweep.parse_args(["--dashboard", "--workers", "1"]).dashboard


# --------------------------------------------------------------------------------------------
# the scripts that train, then draw: matplotlib is checked before the training


def _pictures(tmp_path: Path) -> Path:
    from PIL import Image

    for name in ("cats", "dogs"):
        (tmp_path / "pictures" / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((6, 6), 60 * i, np.uint8)).save(tmp_path / "pictures" / name / f"{i}.png")
    return tmp_path / "pictures"


@pytest.mark.parametrize("script", ["binary_classification", "vanishing_gradients", "cats_vs_dogs"])
def test_a_script_that_draws_refuses_to_train_without_matplotlib(
    script: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = {"binary_classification": binary_classification, "vanishing_gradients": vanishing_gradients, "cats_vs_dogs": cats_vs_dogs}
    argv = {
        "binary_classification": ["--epochs", "2"],
        "vanishing_gradients": ["--data", "xor", "--samples", "8", "--epochs", "1"],
        "cats_vs_dogs": [str(_pictures(tmp_path)), "--size", "4", "--epochs", "1"],
    }[script]
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # an import of it now fails, as when it is not installed
    out = tmp_path / "out"
    assert modules[script].main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == 'error: this script draws its results with matplotlib, which comes with the scripts extra: pip install -e ".[scripts]"\n'
    assert captured.out == ""  # no training, no data read: it used to train, then fail as it drew
    assert not out.exists()

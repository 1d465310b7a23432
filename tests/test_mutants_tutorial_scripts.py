"""scripts/neuron_basics.py, scripts/compare_sklearn_digits.py and scripts/vanishing_gradients.py:
behaviour the other tests left open, pinned (found by mutation testing).

neuron_basics.py: ``--help`` describes the script with the docstring's first paragraph only.

compare_sklearn_digits.py: both estimators get the settings the docstring promises (read off
the estimators by a call-through recorder of each ``fit``), on the stratified 75/25 split of
the pixels scaled to [0, 1] for that seed; each accuracy is that estimator's score on the
held-out quarter; each fit's seconds are the difference of the clock readings around it; the
printed lines and the JSON carry ``--hidden``, ``--epochs`` and both means; the defaults are
5 seeds, 200 epochs and 100 hidden units, and ``--help`` says so.

vanishing_gradients.py: its options' defaults, types and help; what ``--quick`` caps; the
histogram epochs, sorted and once each; the refusal of each bad option, word for word; MNIST
cut to ``--samples`` (all of it without, and exactly all of it accepted); ``run_network``'s
recorded steps (float64, counted across epochs, every step when a run has fewer than 400, every
other step at 400), its float32 snapshots of the epochs asked for, and its test accuracy, the
fraction of the predictions (read by a call-through recorder) that match the held-out labels;
``--every`` equal to the run's steps accepted; the gradient-norm figure drawn smoothed over 5
points with its labels and title, the histograms' title and ranges (read by call-through
recorders of the two plotting functions); the JSON's run settings, written indented.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import compare_sklearn_digits  # noqa: E402  (the scripts folder is not a package)
import functional_nn.plots  # noqa: E402
import neuron_basics  # noqa: E402
import vanishing_gradients  # noqa: E402
from functional_nn import predict  # noqa: E402
from functional_nn.sklearn import MLPClassifier  # noqa: E402
from test_mutants_step_breakdown import clock_readings  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402

# --------------------------------------------------------------------------------------------
# neuron_basics.py


def _help_paragraphs(main: Callable[[list[str]], int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A script's ``--help``, which exits 0, cut into its paragraphs (usage, description, options)."""
    monkeypatch.setenv("COLUMNS", "250")  # argparse wraps at the terminal's width
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out.split("\n\n")


def test_neuron_basics_help_is_the_docstrings_first_paragraph_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _help_paragraphs(neuron_basics.main, monkeypatch, capsys)[1] == "The arithmetic of one neuron and one layer, ``output = W . x + b``, done by the library."


# --------------------------------------------------------------------------------------------
# compare_sklearn_digits.py

Fitted = list[tuple[Any, Any]]  # (estimator, X it was fitted on)


def _recorded_fits(monkeypatch: pytest.MonkeyPatch) -> Fitted:
    """Every estimator either library fits, with its training pixels (the real ``fit`` still runs)."""
    fitted: Fitted = []
    for cls in (MLPClassifier, SklearnMLPClassifier):
        real_fit = cls.fit

        def fit(self: Any, X: Any, y: Any, *args: Any, _real: Callable[..., Any] = real_fit, **kwargs: Any) -> Any:
            fitted.append((self, X))
            return _real(self, X, y, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", fit)
    return fitted


def test_compare_fits_both_estimators_with_the_promised_settings_on_the_seeds_split(monkeypatch: pytest.MonkeyPatch) -> None:
    fitted = _recorded_fits(monkeypatch)
    readings = clock_readings(monkeypatch, compare_sklearn_digits)
    run = compare_sklearn_digits.compare(seed=3, hidden=6, epochs=2)
    (ours, X_ours), (theirs, X_theirs) = fitted
    assert isinstance(ours, MLPClassifier) and isinstance(theirs, SklearnMLPClassifier)
    assert {k: v for k, v in ours.get_params().items() if k in (
        "hidden_layer_sizes", "optimizer", "learning_rate", "batch_size", "alpha", "epochs", "random_state"
    )} == {"hidden_layer_sizes": (6,), "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 200, "alpha": 1e-4,
           "epochs": 2, "random_state": 3}  # fmt: skip
    assert {k: v for k, v in theirs.get_params().items() if k in (
        "hidden_layer_sizes", "solver", "learning_rate_init", "batch_size", "alpha", "max_iter", "n_iter_no_change", "tol",
        "random_state",
    )} == {"hidden_layer_sizes": (6,), "solver": "adam", "learning_rate_init": 1e-3, "batch_size": 200, "alpha": 1e-4,
           "max_iter": 2, "n_iter_no_change": 2, "tol": 0.0, "random_state": 3}  # fmt: skip
    X, y = load_digits(return_X_y=True)
    X_train, X_test, _, y_test = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=3)
    assert X_ours.shape == (1347, 64) and X_ours.max() == 1.0
    np.testing.assert_array_equal(X_ours, X_train)
    np.testing.assert_array_equal(X_theirs, X_train)
    assert run["seed"] == 3
    assert run["functional_nn"] == ours.score(X_test, y_test)
    assert run["scikit_learn"] == theirs.score(X_test, y_test)
    assert [name for name, _ in readings] == ["compare"] * 4
    (_, start_ours), (_, end_ours), (_, start_theirs), (_, end_theirs) = readings
    assert run["functional_nn_seconds"] == end_ours - start_ours
    assert run["scikit_learn_seconds"] == end_theirs - start_theirs


def test_compare_prints_each_seed_the_means_and_the_json_of_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_sklearn_digits.main(["--seeds", "1", "--epochs", "1", "--hidden", "4"]) == 0
    seed_line, mean_line, json_line = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(json_line)
    (run,) = summary["runs"]
    assert {k: summary[k] for k in ("hidden", "epochs", "functional_nn", "scikit_learn")} == {
        "hidden": 4, "epochs": 1, "functional_nn": run["functional_nn"], "scikit_learn": run["scikit_learn"]
    }
    assert seed_line == (
        f"seed 0: functional_nn {run['functional_nn']:.2%} ({run['functional_nn_seconds']:.2f} s), "
        f"scikit-learn {run['scikit_learn']:.2%} ({run['scikit_learn_seconds']:.2f} s)"
    )
    assert mean_line == (
        f"mean test accuracy over 1 seed: functional_nn {run['functional_nn']:.2%}, scikit-learn {run['scikit_learn']:.2%}"
    )


def test_compare_help_describes_the_comparison_and_each_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    description, options = _help_paragraphs(compare_sklearn_digits.main, monkeypatch, capsys)[1:3]
    assert description == "Our ``MLPClassifier`` against scikit-learn's on ``load_digits``, with the same settings."
    assert [line.split(maxsplit=2)[-1] for line in options.splitlines()[2:]] == [
        "splits and seeds 0 .. SEEDS-1 (default 5)", "epochs for both (default 200)", "hidden units (default 100)"
    ]


def test_compare_defaults_are_five_seeds_200_epochs_and_100_hidden_units() -> None:
    assert vars(compare_sklearn_digits.parse_args([])) == {"seeds": 5, "epochs": 200, "hidden": 100}


# --------------------------------------------------------------------------------------------
# vanishing_gradients.py


def test_vanishing_gradients_defaults() -> None:
    assert vars(vanishing_gradients.parse_args([])) == {
        "data": "mnist", "samples": None, "width": 30, "layers": 5, "epochs": 5, "batch_size": 32, "learning_rate": 0.1,
        "every": None, "histogram_epochs": [0, 1, 5], "quick": False, "seed": 0, "out": Path("."), "overwrite": False,
    }  # fmt: skip


def test_vanishing_gradients_reads_its_counts_as_integers() -> None:
    argv = ["--samples", "7", "--width", "3", "--layers", "2", "--epochs", "4", "--batch-size", "6", "--every", "2"]
    args = vars(vanishing_gradients.parse_args(argv))
    counts = {name: args[name] for name in ("samples", "width", "layers", "epochs", "batch_size", "every")}
    assert counts == {"samples": 7, "width": 3, "layers": 2, "epochs": 4, "batch_size": 6, "every": 2}
    assert all(type(value) is int for value in counts.values())


def test_vanishing_gradients_refuses_a_data_set_it_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: vanishing_gradients.parse_args(["--data", "iris"])).endswith(
        "error: argument --data: invalid choice: 'iris' "
        "(choose from 'mnist', 'moons', 'circles', 'xor', 'spirals', 'blobs')"
    )


def test_vanishing_gradients_help_describes_the_script_and_each_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    description, options = _help_paragraphs(vanishing_gradients.main, monkeypatch, capsys)[1:3]
    assert description == "Why deep sigmoid networks learn slowly: each layer's gradient norm over training, measured."
    helps = [re.split(r"\s{2,}", line.strip())[-1] for line in options.splitlines()[1:]]
    assert [text for text in helps if not text.startswith("-")] == [
        "show this help message and exit",
        "data set (default: mnist)",
        "training samples (default: all 50,000 of MNIST, 2,000 of a toy set)",
        "units in each hidden layer (default: 30)",
        "hidden layers (default: 5)",
        "epochs (default: 5)",
        "mini-batch size (default: 32)",
        "gradient-descent step (default: 0.1)",
        "record the statistics every this many steps (default: ~200 points)",
        "epochs whose activations are drawn, e.g. 0,1,5 (default: 0, 1 and the last)",
        "2,000 samples and 2 epochs: a check that everything runs",
        "seed of a toy set's draws; each network's generator gets seed + 1 (default: 0)",
        "directory for the pictures and the JSON (default: .)",
        "replace the files an earlier run left in --out",
    ]
    assert "--data {mnist,moons,circles,xor,spirals,blobs}" in options


@pytest.mark.parametrize(
    ("argv", "samples", "epochs", "histogram_epochs"),
    [
        (["--quick"], 2000, 2, [0, 1, 2]),
        (["--quick", "--samples", "5000", "--epochs", "1"], 2000, 1, [0, 1]),
        (["--samples", "5000", "--epochs", "3", "--histogram-epochs", "3,1,1"], 5000, 3, [1, 3]),
        (["--epochs", "3", "--histogram-epochs", "0,3"], None, 3, [0, 3]),
    ],
)
def test_vanishing_gradients_quick_caps_and_histogram_epochs(
    argv: list[str], samples: int | None, epochs: int, histogram_epochs: list[int]
) -> None:
    args = vanishing_gradients.parse_args(argv)
    assert (args.samples, args.epochs, args.histogram_epochs) == (samples, epochs, histogram_epochs)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--samples", "0"], "--samples must be >= 1, got 0"),
        (["--width", "0"], "--width must be >= 1, got 0"),
        (["--layers", "-1"], "--layers must be >= 1, got -1"),
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
        (["--every", "0"], "--every must be >= 1, got 0"),
        (["--histogram-epochs", "a"], "--histogram-epochs must be epochs such as 0,1,5, got 'a'"),
        (["--histogram-epochs", "0,4", "--epochs", "3"], "--histogram-epochs must lie in 0..3 (the epochs run), got '0,4'"),
        (["--histogram-epochs=-1,2"], "--histogram-epochs must lie in 0..5 (the epochs run), got '-1,2'"),
    ],
)
def test_vanishing_gradients_refusals_name_the_option(argv: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: vanishing_gradients.parse_args(argv)).endswith(f"error: {error}")


def test_vanishing_gradients_accepts_the_last_epoch_and_every_1() -> None:
    args = vanishing_gradients.parse_args(["--epochs", "3", "--histogram-epochs", "3", "--every", "1", "--samples", "1"])
    assert (args.histogram_epochs, args.every, args.samples) == ([3], 1, 1)


def test_vanishing_gradients_trains_on_the_first_samples_of_mnist(rng: np.random.Generator, mnist_cache: WriteMNISTCache) -> None:
    small = _small_mnist(rng, 20, 4, 6)
    mnist_cache(small)
    for argv, m in ((["--samples", "5"], 5), (["--samples", "20"], 20), ([], 20)):
        data = vanishing_gradients.load_data(vanishing_gradients.parse_args(argv))
        assert (data.classes, data.name, data.X.dtype) == (10, "MNIST", np.dtype(np.float32))
        np.testing.assert_array_equal(data.X, small.X_train[:, :m] / np.float32(255))
        np.testing.assert_array_equal(data.y, small.y_train[:m])
        np.testing.assert_array_equal(data.X_test, small.X_test / np.float32(255))
        np.testing.assert_array_equal(data.y_test, small.y_test)


def _toy_data(m: int) -> vanishing_gradients.Data:
    draws = np.random.default_rng(11)
    X, X_test = draws.normal(size=(2, m)).astype(np.float32), draws.normal(size=(2, 6)).astype(np.float32)
    return vanishing_gradients.Data(X, np.arange(m) % 2, X_test, np.array([0, 1, 1, 0, 1, 1]), 2, "toy")


def test_vanishing_gradients_run_network_records_each_step_and_scores_its_own_predictions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    predictions: list[Any] = []

    def recorded_predict(*args: Any, **kwargs: Any) -> Any:
        predictions.append(predict(*args, **kwargs))
        return predictions[-1]

    monkeypatch.setattr(vanishing_gradients, "predict", recorded_predict)
    data = _toy_data(20)
    args = argparse.Namespace(width=3, layers=2, seed=5, histogram_epochs=[0, 2], every=None, epochs=2, learning_rate=0.1, batch_size=10)
    result = vanishing_gradients.run_network(vanishing_gradients.NETWORKS[1], data, args)
    assert result.steps.dtype == np.float64 and result.steps.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert result.gradient_norms.tolist() == [[layer.gradient_norm for layer in s.layers] for s in result.statistics]
    assert [epoch for epoch, _ in result.snapshots] == [0, 2]
    assert all(A.dtype == np.float32 and A.shape == (3, 6) for _, hidden in result.snapshots for A in hidden)
    (predicted,) = predictions
    assert result.test_accuracy == float(np.mean(predicted == data.y_test))
    lines = capsys.readouterr().out.splitlines()
    assert [re.fullmatch(r"  epoch (\d): cost \d\.\d{4}, accuracy \d\.\d{4}", line) is not None for line in lines] == [True, True]


def test_vanishing_gradients_records_about_200_points_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(width=2, layers=1, seed=0, histogram_epochs=[], every=None, epochs=1, learning_rate=0.1, batch_size=1)
    result = vanishing_gradients.run_network(vanishing_gradients.NETWORKS[2], _toy_data(400), args)
    capsys.readouterr()
    assert result.steps.tolist() == [float(step) for step in range(2, 401, 2)]  # 400 steps // 200: every 2nd


def test_vanishing_gradients_accepts_every_as_large_as_the_run_and_draws_and_writes_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    drawn: dict[str, tuple[Any, dict[str, Any]]] = {}
    for name in ("plot_layer_series", "plot_activation_histograms"):
        real_plot = getattr(functional_nn.plots, name)

        def recorded_plot(panels: Any, path: Any, *, _name: str = name, _real: Callable[..., Any] = real_plot, **kwargs: Any) -> Any:
            drawn[_name] = (panels, kwargs)
            return _real(panels, path, **kwargs)

        monkeypatch.setattr(functional_nn.plots, name, recorded_plot)
    argv = ["--data", "spirals", "--samples", "20", "--epochs", "1", "--width", "2", "--layers", "2", "--every", "1"]
    assert vanishing_gradients.main([*argv, "--out", str(tmp_path)]) == 0  # 20 samples in batches of 32: one step
    capsys.readouterr()
    text = (tmp_path / "vanishing_gradients.json").read_text()
    summary = json.loads(text)
    assert text == json.dumps(summary, indent=1) + "\n"
    assert {k: v for k, v in summary.items() if k not in ("seconds", "networks")} == {
        "data": "spirals", "layer_sizes": "2-2-2-2", "epochs": 1, "batch_size": 32, "learning_rate": 0.1
    }
    assert [(n["first_recorded_step"], n["last_recorded_step"]) for n in summary["networks"]] == [(1, 1)] * 3
    panels, kwargs = drawn["plot_layer_series"]
    assert kwargs == {
        "ylabel": "$\\|dW_l\\|$ (Frobenius norm)", "smooth": 5, "title": "Gradient norm per layer while training 2-2-2-2 on 'spirals'"
    }
    assert [panel.title for panel in panels] == [
        f"{network['network']}\ntest accuracy {network['test_accuracy']:.1%}" for network in summary["networks"]
    ]
    columns, kwargs = drawn["plot_activation_histograms"]
    assert kwargs == {"title": "Hidden layers' outputs on 1000 test samples"}
    assert [column.value_range for column in columns] == [(0.0, 1.0), (0.0, 1.0), (0.0, np.inf)]

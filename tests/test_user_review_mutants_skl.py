"""Mutation testing of the estimators' scikit-learn names, the pictures' colours and checks,
cosine_decay's ends and train_mnist.py's refactored checks: each test kills a mutant that
every other test let through.

- The hints for scikit-learn's parameter names were checked by their first words only, and
  not the "; " between several: their ends could change unseen.
- ``best_validation_score_`` of a fit whose best held-out cost is not its best held-out
  accuracy (and of an estimator pickled before ``_best_epoch`` was kept: in
  test_user_review_diff_review2.py); ``n_outputs_`` of a two-class classifier.
- ``cosine_decay``'s first decay step where ``final + (peak - final)`` rounds below the peak,
  and a decay whose first steps' cosine rounds to 1 and the sum above the peak.
- ``plot_activation_histograms`` with snapshots of no layers; inspect_network.py's confidence
  histogram's right and wrong colours; benchmark.py's ``usable_cpus``.
- train_mnist.py: ``--shards 0``, ``--local-steps 0``, ``--workers 0``, a file where
  ``checkpoints/`` is made, and two hidden layers of different sizes (every test gave one).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as ScikitLearnClassifier

import functional_nn.plots as plots
from conftest import WriteMNISTCache
from functional_nn.plots import RIGHT_COLOUR, WRONG_COLOUR, ActivationSnapshot, HistogramColumn, plot_activation_histograms
from functional_nn.schedules import cosine_decay
from functional_nn.serialization import load_parameters
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from test_scripts_arguments import _refused
from test_scripts_mnist import _run, _small_mnist
from test_scripts_pictures import capture_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)
import inspect_network  # noqa: E402
import train_mnist  # noqa: E402

HINTS = {
    "max_iter": "use epochs (passes over the data per fit, all of them run unless early_stopping ends the fit)",
    "learning_rate_init": "use learning_rate (the step size, a number or a schedule)",
    "solver": (
        "use optimizer ('adam', 'sgd', 'momentum', 'nesterov', 'lbfgs', ...; scikit-learn's solver='sgd' has Nesterov "
        "momentum 0.9 by default: optimizer='nesterov'; its 'lbfgs' is optimizer='lbfgs', with epochs as max_iter)"
    ),
    "momentum": "use optimizer=functional_nn.momentum(learning_rate, beta=...) (or optimizer='momentum', beta 0.9)",
    "nesterovs_momentum": "use optimizer='nesterov' (or optimizer=functional_nn.momentum(learning_rate, nesterov=True))",
    "beta_1": "use optimizer=functional_nn.adam(learning_rate, beta1=...)",
    "beta_2": "use optimizer=functional_nn.adam(learning_rate, beta2=...)",
    "epsilon": "use optimizer=functional_nn.adam(learning_rate, epsilon=...)",
    "power_t": "use learning_rate=a schedule from functional_nn.schedules (step_decay, exponential_decay, cosine_decay)",
    "shuffle": "drop it: the estimators always shuffle, a new permutation each epoch drawn from random_state",
    "verbose": "drop it: the estimators print nothing; each epoch's figures are in history_ (and loss_curve_)",
    "max_fun": (
        "drop it: optimizer='lbfgs' keeps scikit-learn's default, 15000 evaluations of the cost; "
        "functional_nn.lbfgs.train_lbfgs(..., max_fun=...) takes another"
    ),
    "loss": (
        "drop it: the classifier minimises the cross-entropy and the regressor the squared error; "
        "scikit-learn's loss='poisson' has no counterpart here"
    ),
}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_each_scikit_learn_name_gets_its_whole_hint(name: str) -> None:
    given: dict[str, Any] = {name: None}
    with pytest.raises(TypeError) as raised:
        MLPRegressor(**given)
    assert str(raised.value) == f"MLPRegressor got scikit-learn's parameter {name}, not among its own: {name}: {HINTS[name]}"


def test_several_scikit_learn_names_get_their_hints_apart_in_the_order_given() -> None:
    given: dict[str, Any] = {"loss": "squared_error", "max_iter": 5, "momentum": 0.9}
    with pytest.raises(TypeError) as raised:
        MLPClassifier((3,), **given)
    assert str(raised.value) == (
        "MLPClassifier got scikit-learn's parameters loss, max_iter, momentum, not among its own: "
        f"loss: {HINTS['loss']}; max_iter: {HINTS['max_iter']}; momentum: {HINTS['momentum']}"
    )


def test_best_validation_score_is_the_accuracy_of_the_best_held_out_cost_not_the_best_accuracy() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + 0.8 * rng.standard_normal(60) > 0).astype(np.int64)
    clf = MLPClassifier((8,), learning_rate=0.2, epochs=30, early_stopping=True, n_iter_no_change=5, tol=0.0,
                        validation_fraction=0.3, random_state=0).fit(X, y)  # fmt: skip
    scores = clf.validation_scores_
    assert scores is not None and clf.n_iter_ < 30
    best = int(np.argmin(np.array([record.dev_cost for record in clf.history_], dtype=np.float64)))  # tol=0: the lowest
    assert clf.n_iter_ == best + 1 + 5
    assert clf.best_validation_score_ == scores[best] == 15 / 18  # 15 of the 18 held-out samples
    assert max(s for s in scores if s is not None) == 16 / 18  # a later epoch's, of a higher held-out cost
    assert int(np.argmax(np.array(scores, dtype=np.float64))) > best


def test_a_two_class_classifier_has_one_logistic_output_as_scikit_learns(rng: np.random.Generator) -> None:
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    clf = MLPClassifier((4,), epochs=1, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = ScikitLearnClassifier((4,), max_iter=1, random_state=0).fit(X, y)
    assert clf.n_outputs_ == clf.coefs_[-1].shape[1] == clf.intercepts_[-1].shape[0] == 1  # one logistic unit
    assert theirs.n_outputs_ == theirs.coefs_[-1].shape[1] == theirs.intercepts_[-1].shape[0] == 1  # as theirs
    assert clf.out_activation_ == theirs.out_activation_ == "logistic"
    assert [c.shape for c in clf.coefs_] == [c.shape for c in theirs.coefs_] == [(X.shape[1], 4), (4, 1)]
    assert clf.predict_proba(X).shape == theirs.predict_proba(X).shape == (X.shape[0], 2)


@pytest.mark.parametrize("warmup_steps", [0, 2])
def test_cosine_decays_first_step_is_the_peak_where_final_plus_the_span_rounds_below_it(warmup_steps: int) -> None:
    peak, final = 0.715, 0.1194
    assert final + 0.5 * (peak - final) * 2.0 < peak  # the cosine's value at its start, an ulp low
    schedule = cosine_decay(peak, decay_steps=10, warmup_steps=warmup_steps, final=final)
    assert schedule(warmup_steps) == peak
    assert schedule(warmup_steps + 10) == schedule(warmup_steps + 11) == final
    # half way: final + (peak - final) / 2, by hand
    assert schedule(warmup_steps + 5) == pytest.approx((peak + final) / 2, rel=1e-15)


def test_a_cosine_decay_whose_first_cosines_round_to_1_never_passes_the_peak() -> None:
    peak, final = 0.3, 0.03
    assert final + 0.5 * (peak - final) * 2.0 > peak  # an ulp above
    schedule = cosine_decay(peak, decay_steps=10**9, final=final)
    assert [schedule(t) for t in range(4)] == [peak] * 4
    assert schedule(10**9) == final


def test_histograms_of_snapshots_holding_no_layers_are_refused(tmp_path: Path) -> None:
    columns = [HistogramColumn("relu", (ActivationSnapshot("epoch 0", ()), ActivationSnapshot("epoch 1", ())), (0.0, 1.0))]
    with pytest.raises(ValueError, match=r"^every snapshot must hold the same number of layers \(at least one\), got \[0\]$"):
        plot_activation_histograms(columns, tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


def test_the_confidence_histogram_draws_right_answers_blue_and_wrong_ones_red(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    monkeypatch.setattr(inspect_network, "new_figure", plots.new_figure)  # the recording one: imported by name there
    probabilities = np.full((10, 4), 0.02)
    probabilities[[3, 5, 3, 1], [0, 1, 2, 3]] = 0.82
    inside = inspect_network.Inside((probabilities,), probabilities, np.array([3, 5, 3, 1]))
    path = inspect_network.plot_confidence(tmp_path / "confidence.png", inside, np.array([3, 5, 0, 0]))
    assert path.stat().st_size > 0
    curves = [(patch.get_label(), patch.get_edgecolor()) for patch in figures[-1].axes[0].patches]
    assert [label for label, _ in curves] == ["right: 2 answers, median 0.82", "wrong: 2 answers, median 0.82"]
    assert [colour for _, colour in curves] == [to_rgba(RIGHT_COLOUR), to_rgba(WRONG_COLOUR)]
    assert RIGHT_COLOUR == "#0072b2"


def test_the_benchmarks_machine_says_the_cores_this_process_may_use() -> None:
    machine = benchmark.machine_description({}, 1)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert machine["usable_cpus"] == usable and machine["logical_cpus"] == os.cpu_count()


@pytest.mark.parametrize("option", ["--shards", "--local-steps", "--workers"])
def test_train_mnist_refuses_a_cluster_count_below_one(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    # --shards 0 was taken for no --shards: a run on a local cluster of every core
    last = _refused(capsys, lambda: train_mnist.parse_args([option, "0"]))
    assert last.split(": error: ", 1)[1] == f"{option} must be >= 1, got 0"


def test_train_mnist_refuses_a_file_where_it_makes_its_checkpoints_folder_before_loading(
    tmp_path: Path, mnist_cache: WriteMNISTCache, capsys: pytest.CaptureFixture[str]
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(5), 40, 10, 10))  # never read once refused
    out = tmp_path / "out"
    out.mkdir()
    (out / "checkpoints").write_text("an earlier file")
    status = train_mnist.main(["--out", str(out), "--checkpoint", "--overwrite", "--epochs", "1", "--batch-size", "8", "--hidden", "4"])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err == f"error: --out {out} holds a file checkpoints where this run makes a folder: move it away, or choose another --out\n"
    assert (out / "checkpoints").read_text() == "an earlier file"


def test_train_mnist_builds_its_hidden_layers_in_the_order_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(5), 40, 10, 10))
    out = tmp_path / "run"
    lines, _ = _run(capsys, ["--hidden", "6,3", "--epochs", "1", "--batch-size", "8", "--ema", "0", "--out", str(out)])
    assert lines[0].startswith("MNIST: 40 train, 10 dev, 10 test | 784-6-3-10 relu/softmax,")
    params, metadata, _ = load_parameters(out / "params.npz")
    assert [params[f"W{l}"].shape for l in (1, 2, 3)] == [(6, 784), (3, 6), (10, 3)]
    assert metadata["activations"] == ["relu", "relu", "softmax"]
    config = metadata["config"]
    assert isinstance(config, dict) and config["layer_sizes"] == [784, 6, 3, 10]

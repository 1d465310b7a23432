"""Mutation testing of the pictures, the estimators, train_mnist.py, sweep.py,
_cluster_training.py and _cli.py: each test kills a mutant that every other test let through.

- ``_cli.run_main``'s output on a terminal whose encoding cannot hold a character: the bytes
  of a path that the locale could not decode (surrogates) go out as they came, while other
  characters are escaped (``µ`` as ``\\xb5``). A handler that escaped both passed every test.
- ``plot_image_grid`` draws every grey picture on the fixed scale 0..1: a dim one (all below
  0.5) stays dim. The one test drew a picture reaching both 0 and 1, which matplotlib's own
  scaling to the picture's range draws alike.
- The estimators' hint "pass X.T" is given only when ``X``'s columns match ``y``'s samples:
  X of (5, 3) and y of 7 samples keeps scikit-learn's own message (only X of the core's
  layout, (n_features, m), was tried).
- train_mnist.py: ``readable_on`` weighs red, green and blue as WCAG 2 does (the one test, on
  Blues' cells, passed with red and blue swapped), and ``plot_mistakes`` shows the most
  confident mistake first, at most 60 of them (least confident first, or 59, passed every test); a --dev-size equal to
  the file's rows leaves nothing to train on (only one above them was tried).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.plots import plot_image_grid
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from test_mutants_scripts import _blank_idx_files
from test_scripts_pictures import capture_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _cli  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402


def test_run_main_gives_back_an_undecodable_paths_bytes_and_escapes_other_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    # what `LC_ALL=C` Python makes of the path b"caf\xe9.png" given on the command line
    path = b"caf\xe9.png".decode("ascii", errors="surrogateescape")
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="ascii", errors="strict", newline="\n")
    monkeypatch.setattr(sys, "stdout", stdout)

    def main(argv: Sequence[str] | None) -> int:
        print(f"wrote {path} in 3 \u00b5s")
        return 0

    assert _cli.run_main(main, []) == 0
    stdout.flush()
    assert raw.getvalue() == b"wrote caf\xe9.png in 3 \\xb5s\n"
    assert stdout.errors == "strict"  # put back once the run is over


def test_image_grid_draws_a_dim_grey_picture_dim_on_the_scale_0_to_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.array([[0.25, 0.0], [0.3, 0.5], [0.4, 0.5], [0.5, 0.5]])  # the second a half-grey square
    plot_image_grid(X, (2, 2), tmp_path / "g.png", predicted=np.array([3, 4]))
    images = [ax.images[0] for ax in figures[-1].axes if ax.images]
    assert len(images) == 2
    for image in images:
        assert image.get_cmap().name == "gray" and image.get_clim() == (0.0, 1.0)
        # the colour drawn for 0.5 is the middle grey, as for 0.5 in a picture reaching 1
        np.testing.assert_allclose(image.to_rgba(np.array([[0.5]]))[0, 0, :3], image.get_cmap()(0.5)[:3])


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_samples_that_differ_from_x_rows_and_columns_alike_keep_scikit_learns_message(estimator: type[MLPClassifier | MLPRegressor]) -> None:
    X, y = np.zeros((5, 3)), np.array([0, 1, 0, 1, 0, 1, 0])  # 5 rows, 3 columns, 7 labels
    with pytest.raises(ValueError, match=r"^Found input variables with inconsistent numbers of samples: \[5, 7\]$") as caught:
        estimator((2,), epochs=1).fit(X, y)
    assert caught.value.__cause__ is None and "X.T" not in str(caught.value)


@pytest.mark.parametrize(
    ("background", "text"),
    [
        # WCAG 2 by hand: pure red has luminance 0.2126, 5.25:1 against black and 4.0:1 against white;
        # pure blue 0.0722, 2.44:1 against black and 8.59:1 against white
        ((1.0, 0.0, 0.0), "black"),
        ((0.0, 0.0, 1.0), "white"),
        ((0.0, 0.0, 1.0, 1.0), "white"),  # RGBA, as a colour map gives
    ],
)
def test_text_on_pure_red_is_black_and_on_pure_blue_white(background: tuple[float, ...], text: str) -> None:
    assert train_mnist.readable_on(background) == text


def test_the_mistakes_picture_shows_the_most_confident_mistake_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.zeros((784, 4), dtype=np.uint8)
    y = np.array([0, 1, 2, 3])
    predicted = np.array([1, 1, 0, 2])  # samples 0, 2 and 3 wrong
    AL = np.full((10, 4), 0.01)
    AL[1, 0], AL[1, 1], AL[0, 2], AL[2, 3] = 0.6, 0.99, 0.9, 0.75
    assert train_mnist.plot_mistakes(tmp_path / "mistakes.png", X, y, predicted, AL, "t") == 3
    titles = [ax.get_title() for ax in figures[-1].axes if ax.images]
    assert titles == ["0 (0.90)\ntrue: 2", "2 (0.75)\ntrue: 3", "1 (0.60)\ntrue: 0"]


def test_a_dev_size_of_every_training_image_is_refused(tmp_path: Path) -> None:
    _blank_idx_files(tmp_path)
    args, _ = train_mnist.parse_args(["--idx", str(tmp_path), "--dev-size", "30"])
    expected = "--dev-size 30 leaves nothing to train on: the file has 30 rows; give a smaller --dev-size"
    with pytest.raises(_cli.UsageError, match=f"^{expected}$"):
        train_mnist.load_data(args, np.float32, np.random.default_rng(0), print)
    args, _ = train_mnist.parse_args(["--idx", str(tmp_path), "--dev-size", "29"])  # one image left to train on
    assert train_mnist.load_data(args, np.float32, np.random.default_rng(0), print).X_train.shape[1] == 1


def test_the_mistakes_picture_shows_at_most_60(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    figures = capture_figures(monkeypatch)
    X = np.zeros((784, 61), dtype=np.uint8)
    AL = np.full((10, 61), 0.1)
    assert train_mnist.plot_mistakes(tmp_path / "m.png", X, np.zeros(61, dtype=np.int64), np.ones(61, dtype=np.int64), AL, "t") == 60
    assert sum(1 for ax in figures[-1].axes if ax.images) == 60


def test_a_warm_fit_on_some_of_the_fitted_classes_is_refused_as_scikit_learn_refuses_it(rng: np.random.Generator) -> None:
    # the docstring says the classes must stay the same; a refit on 'a' and 'b' only trained on,
    # pushing 'c' towards 0, where scikit-learn's warm start refuses it. partial_fit takes such a batch.
    X = rng.normal(size=(30, 2))
    y = np.array(list("abc") * 10)
    classifier = MLPClassifier((3,), epochs=1, warm_start=True, random_state=0).fit(X, y)
    before = {key: value.copy() for key, value in classifier.params_.items()}
    some = y != "c"
    with pytest.raises(ValueError, match=r"^with warm_start=True, fit continues the fitted network, so y must hold every class of it \['a', 'b', 'c'\], but has none of \['c'\]"):
        classifier.fit(X[some], y[some])
    assert all(np.array_equal(classifier.params_[key], value) for key, value in before.items())
    assert classifier.partial_fit(X[some], y[some]).classes_.tolist() == ["a", "b", "c"]

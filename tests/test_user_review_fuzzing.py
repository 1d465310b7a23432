"""Refusals found by fuzzing the public API one wrong argument at a time: each must be a
ValueError or TypeError that names the argument, not Python's or NumPy's words from inside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from functional_nn import make_blobs, make_moons, sgd
from functional_nn.distributed import RunSettings, shard_generator, sweep
from functional_nn.plots import (
    LayerSeries,
    animate_training,
    plot_activation_histograms,
    plot_curves,
    plot_layer_series,
)

SERIES = [LayerSeries("weights", np.arange(3.0), np.ones((3, 2)))]


def test_make_blobs_refuses_more_samples_than_numpy_can_index(rng: np.random.Generator) -> None:
    # Was OverflowError "Python int too large to convert to C long" from inside np.repeat.
    with pytest.raises(ValueError, match=r"n_samples must be at most 9223372036854775807.*got 10{30}$"):
        make_blobs(10**30, rng)
    # Was ValueError "negative dimensions are not allowed": 2**63 wrapped around.
    with pytest.raises(ValueError, match=r"n_samples must be at most .*got 9223372036854775808$"):
        make_blobs(2**63, rng)
    # Was ValueError "Maximum allowed size exceeded", naming nothing.
    with pytest.raises(ValueError, match=r"n_samples must be at most"):
        make_moons(10**30, rng)


@pytest.mark.parametrize("log_scale", ["no", [], None, 0])
def test_plot_layer_series_refuses_a_log_scale_that_is_not_a_bool(tmp_path: Path, log_scale: object) -> None:
    # Was accepted: "no" drew a log scale, [] and 0 a linear one, by truthiness.
    target = tmp_path / "series.png"
    with pytest.raises(TypeError, match=f"log_scale must be a bool, got {type(log_scale).__name__}"):
        plot_layer_series(SERIES, target, ylabel="norm", log_scale=log_scale)  # type: ignore[arg-type]  # the check under test
    assert not target.exists()


def test_plot_layer_series_still_takes_numpy_bools(tmp_path: Path) -> None:
    assert plot_layer_series(SERIES, tmp_path / "series.png", ylabel="norm", log_scale=np.False_).read_bytes()[:4] == b"\x89PNG"  # type: ignore[arg-type]  # a mask's value


PLOTS: dict[str, tuple[str, Callable[[object, Path], object]]] = {
    # argument, call with that argument replaced; each was "'int' object is not iterable" or,
    # for an array, "The truth value of an array with more than one element is ambiguous"
    "plot_curves": ("history", lambda value, path: plot_curves(value, path / "c.png")),  # type: ignore[arg-type]  # the check under test
    "plot_layer_series": ("panels", lambda value, path: plot_layer_series(value, path / "s.png", ylabel="norm")),  # type: ignore[arg-type]  # the check under test
    "plot_activation_histograms": ("columns", lambda value, path: plot_activation_histograms(value, path / "h.png")),  # type: ignore[arg-type]  # the check under test
    "animate_training": (
        "snapshots",
        lambda value, path: animate_training(value, [0.5], ("tanh", "sigmoid"), np.ones((2, 3)), np.array([0, 1, 0]), path / "a.gif"),  # type: ignore[arg-type]  # the check under test
    ),
}


@pytest.mark.parametrize("value", [5, 2.5, np.ones(3), np.array(1.0)], ids=["int", "float", "array", "0-d array"])
@pytest.mark.parametrize("function", sorted(PLOTS))
def test_plots_name_a_first_argument_that_is_not_a_sequence(tmp_path: Path, function: str, value: object) -> None:
    argument, call = PLOTS[function]
    with pytest.raises(TypeError, match=f"^{argument} must be a list or tuple of .*, got {type(value).__name__}$"):
        call(value, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0, None, 0, 0), "shard must be an integer, got NoneType None"),  # was "object of type 'NoneType' has no len()"
        ((0, 1.5, 0, 0), "shard must be an integer, got float 1.5"),  # was "seed must be integer", naming the wrong one
        ((0, 1, "x", 0), "stream must be an integer, got str 'x'"),  # was "unrecognized seed string"
        ((0, 1, 0, -2), "index must be >= 0, got -2"),  # was "expected non-negative integer"
        ((-1, 1, 0, 0), "seed must be >= 0, got -1"),
        ((True, 1, 0, 0), "seed must be an integer, got bool True"),  # was accepted as seed 1
        ((0, [1, 2], 0, 0), r"shard must be an integer, got list \[1, 2\]"),  # was accepted: a generator of no shard
    ],
)
def test_shard_generator_names_the_argument_it_refuses(arguments: tuple[object, object, object, object], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=f"^{message}$"):
        shard_generator(*arguments)  # type: ignore[arg-type]  # the check under test


def test_shard_generator_still_takes_numpy_integers() -> None:
    assert np.array_equal(shard_generator(np.int64(7), 2, 1, np.int64(4)).random(4), shard_generator(7, 2, 1, 4).random(4))  # type: ignore[arg-type]  # an index from NumPy


def test_sweep_names_run_settings_init_not_scheme() -> None:
    # Was "settings[0]: unknown scheme 'glorot'": the field a user set is init.
    settings = RunSettings((2, 3, 1), ("tanh", "sigmoid"), "binary_cross_entropy", sgd(0.1), 1, init="glorot")  # type: ignore[arg-type]  # the check under test
    X = np.ones((2, 4))
    Y = np.array([[0.0, 1.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"^settings\[0\]: unknown init 'glorot': expected one of \[.*'xavier'\]"):
        sweep([settings], X, Y)

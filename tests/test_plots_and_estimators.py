"""The pictures refuse what they cannot draw or write before any work (the output path, a
model's output that is not a probability, snapshots unlike the first, empty or inverted
histograms), and the scikit-learn estimators type-check in a user's code: their bases are
typed stand-ins, so a misspelt attribute is an error and ``predict``/``score`` have types."""

from __future__ import annotations

import ast
import doctest
import inspect
import os
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.backend_bases import FigureCanvasBase
from sklearn.datasets import load_iris

import functional_nn
import functional_nn.plots as plots
import functional_nn.propagation as propagation
import functional_nn.sklearn as estimators
from functional_nn.fold_state import EpochRecord
from functional_nn.initializers import initialize_parameters
from functional_nn.optimizers import Optimizer
from functional_nn.plots import (
    ActivationSnapshot,
    HistogramColumn,
    LayerSeries,
    animate_training,
    plot_activation_histograms,
    plot_curves,
    plot_decision_boundary,
    plot_hidden_units,
    plot_image_grid,
    plot_layer_series,
)
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import Activation, FloatArray
from test_installed_typing import _installed, misuse_codes, mypy_as_a_user

PARAMS = initialize_parameters([2, 3, 1], np.random.default_rng(0))
X2 = np.random.default_rng(1).standard_normal((2, 20))
Y2 = (np.arange(20) % 2).astype(np.int64)
SIGMOIDS: tuple[Activation, Activation] = ("sigmoid", "sigmoid")


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern for this whole message and nothing else."""
    return "^" + re.escape(message) + "$"


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the plotting functions have done so far: "figure" for a figure made, "forward"
    for a pass through a network, "model" for a call of the user's ``probability``."""
    done: list[str] = []
    new_figure, forward_output = plots.new_figure, propagation.forward_output

    def recording_figure(width: float, height: float) -> Any:
        done.append("figure")
        return new_figure(width, height)

    def recording_forward(*args: Any, **kwargs: Any) -> Any:
        done.append("forward")
        return forward_output(*args, **kwargs)

    monkeypatch.setattr(plots, "new_figure", recording_figure)
    monkeypatch.setattr(propagation, "forward_output", recording_forward)
    return done


def _half(done: list[str]) -> Callable[[FloatArray], FloatArray]:
    def probability(G: FloatArray) -> FloatArray:
        done.append("model")
        return np.full((1, G.shape[1]), 0.5)

    return probability


# name: (the suffix it writes, a call with good arguments writing to the path given)
PLOTTERS: dict[str, tuple[str, Callable[[Any, list[str]], Path]]] = {
    "plot_decision_boundary": (".png", lambda path, done: plot_decision_boundary(_half(done), X2, Y2, path, resolution=5)),
    "plot_image_grid": (".png", lambda path, done: plot_image_grid(np.full((4, 2), 0.5), (2, 2), path, predicted=np.array([0, 1]))),
    "plot_curves": (".png", lambda path, done: plot_curves([EpochRecord(1, 0.5, None)], path)),
    "plot_layer_series": (".png", lambda path, done: plot_layer_series([LayerSeries("a", np.arange(3.0), np.ones((3, 2)))], path, ylabel="norm")),
    "plot_activation_histograms": (
        ".png", lambda path, done: plot_activation_histograms([HistogramColumn("a", [ActivationSnapshot("e", (np.ones((2, 3)),))])], path)
    ),
    "plot_hidden_units": (".png", lambda path, done: plot_hidden_units(PARAMS, SIGMOIDS, X2, Y2, path, resolution=5)),
    "animate_training": (".gif", lambda path, done: animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, path, resolution=5)),
}

MATPLOTLIB_SUFFIXES = ", ".join(f".{name}" for name in sorted(FigureCanvasBase.get_supported_filetypes()))


def _bad_output(case: str, tmp_path: Path, suffix: str, plotter: str) -> tuple[object, type[Exception], str]:
    """A path that cannot be written, made in ``tmp_path``, with the error and message expected."""
    match case:
        case "missing directory":
            path = tmp_path / "missing" / f"out{suffix}"
            return path, FileNotFoundError, f"cannot write {path}: the directory {Path(os.path.realpath(path)).parent} does not exist"
        case "unsupported suffix":
            path = tmp_path / "out.xyz"
            if plotter == "animate_training":
                return path, ValueError, f"path must end in .gif (animate_training writes a GIF), got '{path}'"
            return path, ValueError, f"path must end in a suffix matplotlib writes ({MATPLOTLIB_SUFFIXES}; none writes PNG), got '{path}'"
        case "a directory":
            path = tmp_path / f"out{suffix}"
            path.mkdir()
            return path, IsADirectoryError, f"cannot write {path}: it is a directory"
        case "read-only file":
            path = tmp_path / f"out{suffix}"
            path.write_bytes(b"old")
            path.chmod(0o444)
            return path, PermissionError, f"cannot write {path}: the file is read-only (make it writable, or write elsewhere)"
        case "not a path":
            example = "training.gif" if plotter == "animate_training" else "figure.png"
            return 3, TypeError, f"path must be a str or an os.PathLike such as pathlib.Path({example!r}), got int 3"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing directory", "unsupported suffix", "a directory", "read-only file", "not a path"])
@pytest.mark.parametrize("plotter", sorted(PLOTTERS))
def test_the_output_is_checked_before_any_work(plotter: str, case: str, tmp_path: Path, work: list[str]) -> None:
    suffix, draw = PLOTTERS[plotter]
    path, error, message = _bad_output(case, tmp_path, suffix, plotter)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(error, match=exactly(message)):
        draw(path, work)
    assert work == []  # no model run, no figure drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if case == "read-only file":
        assert (tmp_path / f"out{suffix}").read_bytes() == b"old"
    good = tmp_path / "good" / f"picture{suffix}"
    good.parent.mkdir()
    assert draw(good, work) == good and good.stat().st_size > 0
    assert "figure" in work  # the recording sees the work that a good path lets happen


def test_an_animation_written_to_another_suffix_is_refused(tmp_path: Path, work: list[str]) -> None:
    with pytest.raises(ValueError, match=exactly(f"path must end in .gif (animate_training writes a GIF), got '{tmp_path / 'a.png'}'")):
        animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.png", resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []
    assert animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "A.GIF", resolution=5).read_bytes()[:6] == b"GIF89a"


def test_save_figure_refuses_an_unsupported_suffix_with_the_same_message(tmp_path: Path) -> None:
    path = tmp_path / "figure.xyz"
    with pytest.raises(ValueError, match=exactly(f"path must end in a suffix matplotlib writes ({MATPLOTLIB_SUFFIXES}; none writes PNG), got '{path}'")):
        plots.save_figure(plots.new_figure(1, 1), path)
    assert plots.save_figure(plots.new_figure(1, 1), tmp_path / "figure").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("output", "error", "message"),
    [
        (lambda n: np.full((1, n), np.nan), ValueError,
         "probability's output on the 25-point grid has 25 NaN or infinite value(s): it must return probabilities in [0, 1]"),
        (lambda n: np.vstack([np.zeros((1, n)), np.full((1, n), np.inf)]), ValueError,
         "probability's output on the 25-point grid has 25 NaN or infinite value(s): it must return probabilities in [0, 1]"),
        (lambda n: np.full((1, n), 1.5), ValueError, "probability's output on the 25-point grid runs from 1.5 to 1.5, outside [0, 1]: it must return probabilities in [0, 1]"),
        (lambda n: np.vstack([np.full((1, n), -0.25), np.ones((1, n))]), ValueError,
         "probability's output on the 25-point grid runs from -0.25 to 1, outside [0, 1]: it must return probabilities in [0, 1]"),
        (lambda n: np.full((1, n), None), TypeError, "probability must return an array of numbers, got dtype object"),
    ],
    ids=["nan", "infinity", "above one", "below zero", "objects"],
)  # fmt: skip
def test_the_decision_boundary_refuses_outputs_that_are_not_probabilities(
    output: Callable[[int], npt.NDArray[Any]], error: type[Exception], message: str, tmp_path: Path, work: list[str]
) -> None:
    with pytest.raises(error, match=exactly(message)):
        plot_decision_boundary(lambda G: output(G.shape[1]), X2, Y2, tmp_path / "db.png", resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []
    one_hot = np.vstack([np.ones((1, 25)), np.zeros((1, 25))])  # the bounds themselves are probabilities
    assert plot_decision_boundary(lambda G: one_hot, X2, Y2, tmp_path / "db.png", resolution=5).is_file()


def _linear_output_of(value: float) -> dict[str, FloatArray]:
    """A 2-3-1 network whose linear output is ``value`` everywhere."""
    return {**PARAMS, "W2": np.zeros((1, 3)), "b2": np.full((1, 1), value)}


def test_the_network_pictures_refuse_an_output_that_is_not_a_probability(tmp_path: Path, work: list[str]) -> None:
    not_probability = "the network's output over the plane runs from 2 to 2, outside [0, 1]: activations must end in a probability, such as 'sigmoid', to be drawn as P(y = 1 | x)"
    with pytest.raises(ValueError, match=exactly(not_probability)):
        plot_hidden_units(_linear_output_of(2.0), ("sigmoid", "linear"), X2, Y2, tmp_path / "h.png", resolution=5)
    snapshots = [(0, _linear_output_of(0.5)), (1, _linear_output_of(2.0))]  # the first one is a probability
    with pytest.raises(ValueError, match=exactly(f"snapshots[1] (epoch 1): {not_probability}")):
        animate_training(snapshots, [0.5, 0.4], ("sigmoid", "linear"), X2, Y2, tmp_path / "a.gif", resolution=5)
    assert "figure" not in work and list(tmp_path.iterdir()) == []
    assert animate_training(snapshots[:1], [0.5], ("sigmoid", "linear"), X2, Y2, tmp_path / "a.gif", resolution=5).is_file()


def _snapshot_cases() -> Iterator[tuple[str, object, type[Exception], str]]:
    rng = np.random.default_rng(2)
    three_layers = initialize_parameters([2, 3, 3, 1], rng)
    yield "three layers after two", three_layers, ValueError, (
        "snapshots[2][1] must have snapshots[0][1]'s keys ['W1', 'W2', 'b1', 'b2'], got ['W1', 'W2', 'W3', 'b1', 'b2', 'b3'] (unexpected ['W3', 'b3']): "
        "every snapshot must be the same network"
    )
    yield "mixed dtypes", {**PARAMS, "b2": PARAMS["b2"].astype(np.float32)}, TypeError, (
        "snapshots[2][1] mixes dtypes: snapshots[2][1]['W1'] is float64, snapshots[2][1]['b2'] is float32"
    )
    yield "float32 after float64", {k: v.astype(np.float32) for k, v in PARAMS.items()}, ValueError, (
        "snapshots[2][1]['W1'] is float32 (3, 2) but snapshots[0][1]['W1'] is float64 (3, 2): every snapshot must be the same network"
    )
    yield "another width", initialize_parameters([2, 4, 1], rng), ValueError, (
        "snapshots[2][1]['W1'] is float64 (4, 2) but snapshots[0][1]['W1'] is float64 (3, 2): every snapshot must be the same network"
    )
    yield "NaN", {**PARAMS, "W2": np.full((1, 3), np.nan)}, ValueError, "snapshots[2][1]['W2'] contains 3 NaN or infinite value(s)"
    yield "not a mapping", [1.0], TypeError, "snapshots[2][1] must be a mapping of 'W1', 'b1', ... to arrays, got list"


@pytest.mark.parametrize(("later", "error", "message"), [case[1:] for case in _snapshot_cases()], ids=[case[0] for case in _snapshot_cases()])
def test_every_snapshot_is_checked_against_the_first_before_drawing(
    later: object, error: type[Exception], message: str, tmp_path: Path, work: list[str]
) -> None:
    snapshots: list[Any] = [(0, PARAMS), (1, PARAMS), (2, later)]
    with pytest.raises(error, match=exactly(message)):
        animate_training(snapshots, [0.5, 0.4], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=5)
    assert "figure" not in work and list(tmp_path.iterdir()) == []


def test_a_snapshot_that_is_not_a_pair_is_refused(tmp_path: Path, work: list[str]) -> None:
    snapshots: list[Any] = [(0, PARAMS), PARAMS]
    with pytest.raises(TypeError, match=exactly("snapshots[1] must be an (epoch, params) pair, got dict")):
        animate_training(snapshots, [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=5)
    assert work == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value_range", "error", "message"),
    [
        ((1.0, 0.0), ValueError, "columns[1].value_range must be (low, high) with low < high, got (1.0, 0.0)"),
        ((0.5, 0.5), ValueError, "columns[1].value_range must be (low, high) with low < high, got (0.5, 0.5)"),
        ((float("nan"), 1.0), ValueError, "columns[1].value_range must be (low, high) with low < high, got (nan, 1.0)"),
        ((float("inf"), float("inf")), ValueError, "columns[1].value_range must be (low, high) with low < high, got (inf, inf)"),
        (("0", 1.0), TypeError, "columns[1].value_range must be a pair of numbers (low, high), got ('0', 1.0)"),
        ((0.0, 1.0, 2.0), TypeError, "columns[1].value_range must be a pair of numbers (low, high), got (0.0, 1.0, 2.0)"),
    ],
)
def test_histograms_refuse_a_range_that_is_not_low_to_high(
    value_range: Any, error: type[Exception], message: str, tmp_path: Path, work: list[str]
) -> None:
    values = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    columns = [
        HistogramColumn("good", [ActivationSnapshot("e", (values,))], (0.0, 1.0)),
        HistogramColumn("bad", [ActivationSnapshot("e", (values,))], value_range),
    ]
    with pytest.raises(error, match=exactly(message)):
        plot_activation_histograms(columns, tmp_path / "h.png")
    assert work == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("empty_at", [(0,), (1,), (0, 1)])
def test_histograms_refuse_an_empty_activation_array(empty_at: tuple[int, ...], tmp_path: Path, work: list[str]) -> None:
    values = [np.zeros((3, 0)) if i in empty_at else np.linspace(0.0, 1.0, 12).reshape(3, 4) for i in range(2)]
    snapshots = [ActivationSnapshot(f"epoch {i}", (v,)) for i, v in enumerate(values)]
    message = f"columns[0].snapshots[{empty_at[0]}].activations[0] is empty, shape (3, 0): a histogram needs at least one value"
    with pytest.raises(ValueError, match=exactly(message)):
        plot_activation_histograms([HistogramColumn("relu", snapshots)], tmp_path / "h.png")
    assert work == [] and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# the estimators' types, seen from a user's script

CORRECT = """
import numpy as np
from functional_nn.sklearn import MLPClassifier, MLPRegressor

X = np.zeros((4, 2))
y = np.array([0, 1, 0, 1])
clf = MLPClassifier((3,), epochs=1, random_state=np.random.RandomState(0)).fit(X, y)
reg = MLPRegressor((3,), epochs=1, random_state=np.random.PCG64(0)).fit(X, X[:, 0])
MLPClassifier(random_state=np.random.SeedSequence(0))
MLPRegressor(random_state=np.random.default_rng(0))
settings: dict[str, object] = clf.get_params(deep=False)
clf.set_params(epochs=2).fit(X, y).partial_fit(X, y)
clf.set_score_request(sample_weight=True).set_partial_fit_request(classes=True)
reg.set_score_request(sample_weight=False)
routing = clf.get_metadata_routing()
accuracy: float = clf.score(X, y, sample_weight=np.ones(4))
reveal_type(clf.predict(X))
reveal_type(clf.predict_proba(X))
reveal_type(clf.predict_log_proba(X))
reveal_type(clf.score(X, y))
reveal_type(clf.classes_)
reveal_type(clf.n_iter_)
reveal_type(clf.set_params(epochs=3))
reveal_type(reg.predict(X))
reveal_type(reg.score(X, X[:, 0]))
reveal_type(reg.partial_fit(X, X[:, 0]))
"""

REVEALED = [
    "numpy.ndarray[tuple[Any, ...], numpy.dtype[Any]]",
    "numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.floating[Any]]]",
    "numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.floating[Any]]]",
    "float",
    "numpy.ndarray[tuple[Any, ...], numpy.dtype[Any]]",
    "int",
    "functional_nn.sklearn.MLPClassifier",
    "numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.floating[Any]]]",
    "float",
    "functional_nn.sklearn.MLPRegressor",
]

# Each misuse line ends with the error code mypy must report on it.
MISUSES = """
import numpy as np
from functional_nn.sklearn import MLPClassifier, MLPRegressor

X = np.zeros((4, 2))
y = np.array([0, 1, 0, 1])
clf = MLPClassifier()
clf.paramz_  # E: attr-defined
clf.fitt(X, y)  # E: attr-defined
clf.set_params(epochs=2).fitt(X, y)  # E: attr-defined
clf.get_paramz()  # E: attr-defined
clf.predict(X).lower()  # E: attr-defined
label: str = clf.score(X, y)  # E: assignment
MLPRegressor().predict_proba(X)  # E: attr-defined
MLPClassifier(random_state="0")  # E: arg-type
"""


def test_a_users_script_type_checks_the_estimators(tmp_path: Path) -> None:
    """mypy --strict, as tests/test_installed_typing.py runs it: outside the repository, on the installation."""
    installed, _ = _installed()
    (tmp_path / "user_ok.py").write_text(textwrap.dedent(CORRECT))
    (tmp_path / "user_misuses.py").write_text(textwrap.dedent(MISUSES))
    finished = mypy_as_a_user(tmp_path, ["user_ok.py", "user_misuses.py"])
    lines = finished.stdout.splitlines()
    report = f"(installed: {installed})\n{finished.stdout}{finished.stderr}"
    assert [line for line in lines if line.startswith("user_ok.py") and ": error:" in line] == [], report
    assert [line.split('Revealed type is "')[1].rstrip('"') for line in lines if "Revealed type is" in line] == REVEALED, report
    expected, reported = misuse_codes(MISUSES, lines)
    assert {number: {code} for number, code in expected.items()} == reported, report


def _parameters_declared(function: ast.FunctionDef) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter after ``self``, from the source."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults: list[object] = [inspect.Parameter.empty] * (len(positional) - len(arguments.defaults))
    defaults += [ast.literal_eval(d) for d in arguments.defaults]
    declared = [(a.arg, "POSITIONAL_OR_KEYWORD", d) for a, d in zip(positional, defaults)][1:]
    if arguments.vararg is not None:
        declared.append((arguments.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for a, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        declared.append((a.arg, "KEYWORD_ONLY", inspect.Parameter.empty if default is None else ast.literal_eval(default)))
    if arguments.kwarg is not None:
        declared.append((arguments.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    return declared


def _stand_ins() -> dict[str, dict[str, ast.FunctionDef]]:
    """The methods declared for the type checker only, by the class mypy sees them on: the
    stand-ins for scikit-learn's bases and the ``if TYPE_CHECKING:`` blocks in our classes."""
    tree = ast.parse(Path(estimators.__file__).read_text())
    found: dict[str, dict[str, ast.FunctionDef]] = {}

    def checking_only(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in body:
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                yield from node.body

    for node in checking_only(tree.body):
        if isinstance(node, ast.ClassDef):
            found[node.name] = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in ("MLPClassifier", "MLPRegressor"):
            found[node.name] = {f.name: f for f in checking_only(node.body) if isinstance(f, ast.FunctionDef)}
    return found


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_the_typed_stand_ins_declare_what_scikit_learn_gives_the_estimators(estimator: type[Any]) -> None:
    """Every public method the estimators get from scikit-learn (not from functional_nn.sklearn)
    is declared to the type checker, with scikit-learn's parameters and defaults."""
    stand_ins = _stand_ins()
    mixin = "ClassifierMixin" if estimator is MLPClassifier else "RegressorMixin"
    declared = {**stand_ins["BaseEstimator"], **stand_ins[mixin], **stand_ins[estimator.__name__]}
    instance = estimator()
    ours = {  # defined in functional_nn.sklearn, not made there by scikit-learn (set_score_request and the like)
        name for cls in estimator.__mro__ for name, value in vars(cls).items()
        if getattr(value, "__module__", None) == estimators.__name__
    }
    from_scikit_learn = {
        name for name in dir(instance) if not name.startswith("_") and name not in ours and callable(getattr(instance, name))
    }
    # a method of ours that calls scikit-learn's through super() (set_params) keeps its stand-in
    assert {name for name in declared if not name.startswith("_") and name not in ours} == from_scikit_learn
    for name, function in declared.items():
        runtime = [
            (p.name, p.kind.name, p.default) for p in inspect.signature(getattr(instance, name)).parameters.values()
        ]
        if runtime[:1] == [("self", "POSITIONAL_OR_KEYWORD", inspect.Parameter.empty)]:
            runtime = runtime[1:]  # metadata routing's set_*_request show self even when bound
        assert _parameters_declared(function) == runtime, name


def test_random_state_takes_every_seed_the_estimators_convert() -> None:
    X, y = load_iris(return_X_y=True)
    by_seed = MLPClassifier((4,), epochs=2, random_state=0).fit(X, y).params_
    by_bit_generator = MLPClassifier((4,), epochs=2, random_state=np.random.PCG64(0)).fit(X, y).params_
    seed_from_legacy = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    by_legacy = MLPClassifier((4,), epochs=2, random_state=np.random.RandomState(0)).fit(X, y).params_
    by_its_seed = MLPClassifier((4,), epochs=2, random_state=seed_from_legacy).fit(X, y).params_
    for key in by_seed:
        np.testing.assert_array_equal(by_bit_generator[key], by_seed[key])
        np.testing.assert_array_equal(by_legacy[key], by_its_seed[key])
    expected = (
        "random_state must be None, an int or a numpy.random.Generator (or a SeedSequence, BitGenerator "
        "or RandomState to make one from), got '0'"
    )
    with pytest.raises(TypeError, match=exactly(expected)):
        MLPClassifier(random_state="0").fit(X, y)  # type: ignore[arg-type]  # the check under test
    documented = inspect.getdoc(MLPClassifier)
    assert documented is not None
    assert "random_state : int, numpy.random.Generator, SeedSequence, BitGenerator, RandomState or None, default None" in documented


def test_the_optimizer_example_in_the_docstring_runs() -> None:
    documented = inspect.getdoc(MLPClassifier)
    assert documented is not None
    examples = re.findall(r"``((?:adam|adamw|sgd|momentum|rmsprop)\(.*?\))``", documented)
    assert len(examples) == 1
    optimizer = eval(examples[0], vars(functional_nn))  # noqa: S307  (our own docstring)
    assert isinstance(optimizer, Optimizer)
    assert examples == ["adam(cosine_decay(1e-2, decay_steps=5000))"]
    X, y = load_iris(return_X_y=True)
    assert MLPClassifier((4,), epochs=1, optimizer=optimizer, random_state=0).fit(X, y).n_iter_ == 1


def test_the_docstring_examples_of_these_modules_pass_as_doctests() -> None:
    assert doctest.testmod(estimators) == doctest.TestResults(failed=0, attempted=7)
    assert doctest.testmod(plots) == doctest.TestResults(failed=0, attempted=0)

"""The input guards of the estimators, the ONNX export and ``train_rounds``: what a mutation
audit of those checks alone (the ones the two earlier rounds left unrun) found unpinned.

Each refusal is pinned by its whole message, anchored at both ends, so that a mutant that
names another argument, changes the words, or lets another check run first fails: the
suite's other tests match the middle of most of these messages, which such mutants keep.
Every refusal here comes before any training, export or round; only the one about what
must travel to the workers needs a cluster: one worker of threads in this process. The
guards' other side is pinned too: settings given as numpy scalars or a ``SeedSequence``, and
a regressor's object-dtype targets, are fitted as their plain equivalents are, bit for bit.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from functional_nn import distributed as dist
from functional_nn import export_onnx
from functional_nn.data import one_hot
from functional_nn.initializers import initialize_parameters
from functional_nn.onnx_export import UnsupportedActivationError
from functional_nn.optimizers import sgd
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import Activation, FloatArray, Loss
from user_records import SOFTSIGN

ACTIVATIONS: tuple[Activation, ...] = ("relu", "softmax")
LOSS: Loss = "categorical_cross_entropy"


def _params() -> dict[str, FloatArray]:
    return initialize_parameters((4, 5, 3), np.random.default_rng(1))


def _shards(Y_change: tuple[int, int, float] | None = None) -> tuple[dist.Shard, ...]:
    X = np.random.default_rng(0).standard_normal((4, 12))
    Y = one_hot((X[0] > 0).astype(np.int64), 3)
    if Y_change is not None:
        row, column, value = Y_change
        Y[row, column] = value
    return dist.split_shards(X, Y, 2)


def _refused(error: type[Exception], message: str) -> Any:
    """``pytest.raises`` for exactly ``message``."""
    return pytest.raises(error, match=f"^{re.escape(message)}$")


# -- scikit-learn estimators ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        # a str is a Sequence: without the str test its letters were taken for sizes
        ({"hidden_layer_sizes": "abc"}, TypeError, "hidden_layer_sizes must be a sequence of ints such as (100,), got 'abc'"),
        ({"hidden_layer_sizes": (3, 0)}, ValueError, "hidden_layer_sizes[1] must be >= 1, got 0"),
        ({"hidden_layer_sizes": np.array([[3]])}, TypeError, "hidden_layer_sizes as an array must be 1-d of integers, got shape (1, 1) dtype int64"),
        # an unhashable dtype setting is refused in the estimator's words, not dict's
        ({"dtype": ["float32"]}, TypeError, "dtype must be 'float64' or 'float32' (or numpy.float64, numpy.float32), got ['float32']"),
        ({"dtype": "float16"}, TypeError, "dtype must be 'float64' or 'float32' (or numpy.float64, numpy.float32), got 'float16'"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"dropout": 1.0}, ValueError, "dropout must be in [0, 1): the probability of dropping a hidden unit, got 1.0"),
        ({"alpha": -1}, ValueError, "alpha must be a finite number >= 0, got -1"),
        # checked with early_stopping off too, and 1 itself is refused
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction must be in (0, 1), got 1.0"),
        ({"hidden_layer_sizes": b"d"}, TypeError, "hidden_layer_sizes must be a sequence of ints such as (100,), got b'd'"),  # bytes too: ints
        ({"random_state": -1}, ValueError, "random_state must be an int >= 0 (a seed), got -1"),
        ({"random_state": np.int64(-1)}, ValueError, "random_state must be an int >= 0 (a seed), got -1"),
        ({"warm_start": "yes"}, TypeError, "warm_start must be a bool, got 'yes'"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_at_fit_by_its_whole_message(setting: dict[str, Any], error: type[Exception], message: str) -> None:
    with _refused(error, message):
        MLPClassifier(**setting).fit(np.eye(4), [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("setting", "same_as"),
    [
        ({"random_state": np.int64(0)}, {"random_state": 0}),
        ({"random_state": np.random.SeedSequence(0)}, {"random_state": 0}),  # default_rng(0) seeds from SeedSequence(0)
        ({"early_stopping": np.True_}, {"early_stopping": True}),
        ({"warm_start": np.True_}, {"warm_start": True}),
    ],
)  # fmt: skip
def test_numpy_scalars_and_a_seed_sequence_are_taken_as_the_settings_they_stand_for(setting: dict[str, Any], same_as: dict[str, Any]) -> None:
    X, y = np.random.default_rng(0).standard_normal((30, 4)), np.arange(30) % 3
    given, expected = (MLPClassifier((5,), epochs=3, **{"random_state": 1, **s}) for s in (setting, same_as))
    for _ in range(2):  # twice: warm_start continues the first fit
        given.fit(X, y)
        expected.fit(X, y)
    assert given.n_iter_ == expected.n_iter_
    np.testing.assert_array_equal(given.predict_proba(X), expected.predict_proba(X))


def test_a_regressors_targets_of_object_dtype_are_read_as_numbers() -> None:
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = 2 * X[:, 0] - X[:, 2]
    given, expected = (MLPRegressor((4,), epochs=3, random_state=0).fit(X, targets) for targets in (y.astype(object), y))
    np.testing.assert_array_equal(given.predict(X), expected.predict(X))


def test_a_first_partial_fit_without_classes_is_refused_by_its_whole_message() -> None:
    with _refused(ValueError, "classes must be passed on the first call to partial_fit: every label that will ever be seen"):
        MLPClassifier((3,)).partial_fit(np.eye(4), [0, 1, 0, 1])


def test_labels_of_one_class_or_beyond_the_fitted_classes_are_refused_by_their_whole_messages() -> None:
    X = np.eye(4)
    with _refused(ValueError, "MLPClassifier needs samples of at least 2 classes, got 1 class: [0]"):
        MLPClassifier((3,)).fit(X, [0, 0, 0, 0])
    clf = MLPClassifier((3,), random_state=0).partial_fit(X, [0, 1, 0, 1], classes=[0, 1])
    with _refused(ValueError, "y holds labels [2, 5] that are not among the fitted classes [0, 1]"):
        clf.partial_fit(X, [0, 1, 2, 5])


@pytest.mark.parametrize(
    ("incremental", "change", "message"),
    [
        (False, {"hidden_layer_sizes": (2,)}, "warm_start continues the fitted network, layer sizes (4, 3, 1) in float64, but the settings and data now ask for (4, 2, 1) in float64: keep them, or fit afresh with warm_start=False"),
        (True, {"dtype": "float32"}, "partial_fit continues the fitted network, layer sizes (4, 3, 1) in float64, but the settings and data now ask for (4, 3, 1) in float32: keep them, or fit afresh with warm_start=False"),
    ],
)  # fmt: skip
def test_continuing_a_fit_with_other_sizes_or_dtype_is_refused_by_its_whole_message(
    incremental: bool, change: dict[str, Any], message: str
) -> None:
    X, y = np.eye(4), [0, 1, 0, 1]
    clf = MLPClassifier((3,), epochs=1, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(**change)
    with _refused(ValueError, message):
        clf.partial_fit(X, y) if incremental else clf.fit(X, y)


# -- export_onnx ----------------------------------------------------------------------------


def test_an_activation_newer_than_the_opset_is_refused_naming_layer_and_opset(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    with _refused(UnsupportedActivationError, "activations[0] 'gelu' needs opset >= 20, got opset=19"):
        export_onnx(_params(), ("gelu", "softmax"), path, opset=19)
    assert not path.exists()


def test_the_newest_opset_the_installed_onnx_knows_is_written_and_the_next_is_refused(tmp_path: Path) -> None:
    newest = int(onnx.defs.onnx_opset_version())
    path = export_onnx(_params(), ACTIVATIONS, tmp_path / "model.onnx", opset=newest)
    assert [(entry.domain, entry.version) for entry in onnx.load(str(path)).opset_import] == [("", newest)]
    message = f"opset must be at most {newest}, the newest the installed onnx {onnx.__version__} knows, got {newest + 1}"
    with _refused(ValueError, message):
        export_onnx(_params(), ACTIVATIONS, tmp_path / "other.onnx", opset=newest + 1)
    assert not (tmp_path / "other.onnx").exists()


def test_export_onnx_without_the_onnx_package_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed: importing it raises ImportError
    with _refused(ImportError, 'export_onnx needs the onnx package, which is not installed: pip install -e ".[onnx]"'):
        export_onnx(_params(), ACTIVATIONS, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_user_defined_activation_is_refused_naming_its_layer_and_the_built_ins(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    message = (
        "activations[0] 'softsign' is a user-defined activation, which export_onnx cannot express: it writes the "
        "built-in activations ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax', 'gelu', 'silu', 'elu', "
        "'softplus'] as ONNX operators"
    )
    with _refused(UnsupportedActivationError, message):
        export_onnx(_params(), (SOFTSIGN, "softmax"), path)
    assert not path.exists()


def test_an_output_name_that_names_a_node_is_refused_listing_the_nodes(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    message = (
        "output_name 'layer1' would also name a node of the graph, whose nodes are named ['A1', 'layer1', "
        "'layer1_below_inf', 'layer1_finite', 'layer1_largest', 'layer1_lowest', 'layer2']: choose another"
    )
    with _refused(ValueError, message):
        export_onnx(_params(), ACTIVATIONS, path, output_name="layer1")
    assert not path.exists()


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        # a key that is not a str is refused as a value that is not one is
        ({"input_name": ""}, TypeError, "input_name must be a non-empty str, got ''"),
        ({"input_name": "a", "output_name": "a"}, ValueError, "input_name and output_name must differ, both are 'a'"),
        ({"metadata": {1: "a"}}, TypeError, "metadata must map str to str, got 1: 'a'"),
        ({"metadata": {"dtype": "x"}}, ValueError, "metadata['dtype'] is written from the network itself; choose another key"),
        ({"input_name": "W1"}, ValueError, "input_name 'W1' is also the name of a value inside the graph, which uses ['A1', 'W1', 'W2', 'Z1', 'Z2', 'b1', 'b2', 'output_below_inf', 'output_finite', 'output_largest', 'output_lowest']: choose another"),
        ({"output_name": "Z1"}, ValueError, "output_name 'Z1' is also the name of a value inside the graph, which uses ['A1', 'W1', 'W2', 'Z1', 'Z1_below_inf', 'Z1_finite', 'Z1_largest', 'Z1_lowest', 'Z2', 'b1', 'b2']: choose another"),
    ],
)  # fmt: skip
def test_export_onnx_refuses_a_bad_name_or_metadata_by_its_whole_message(
    tmp_path: Path, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    path = tmp_path / "model.onnx"
    with _refused(error, message):
        export_onnx(_params(), ACTIVATIONS, path, **changes)
    assert not path.exists()


# -- train_rounds ---------------------------------------------------------------------------


def test_train_rounds_refuses_resume_without_a_checkpoint_dir_when_called() -> None:
    with _refused(ValueError, "resume=True needs checkpoint_dir, the directory of the checkpoints to resume from"):
        dist.train_rounds(_shards(), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1, resume=True)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"loss": 3}, TypeError, "loss must be one of ['binary_cross_entropy', 'categorical_cross_entropy', 'mean_squared_error', 'hinge'] or a LossFunction record, got int 3"),
        ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
        ({"checkpoint_dir": ""}, ValueError, "checkpoint_dir is an empty path: name a folder (or '.' for the current one)"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"resume": "yes"}, TypeError, "resume must be a bool, got str 'yes'"),
        ({"rounds": -1}, ValueError, "rounds must be >= 0, got -1"),
        ({"local_steps": 0}, ValueError, "local_steps must be >= 1, got 0"),
    ],
)  # fmt: skip
def test_train_rounds_names_the_argument_it_refuses(changes: dict[str, Any], error: type[Exception], message: str) -> None:
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "rounds": 1, "learning_rate": 0.1, **changes}
    with _refused(error, message):
        dist.train_rounds(_shards(), _params(), **settings)


def test_train_rounds_names_the_shard_whose_dtype_differs_from_the_params() -> None:
    shards = tuple(dist.Shard(shard.X.astype(np.float32), shard.Y.astype(np.float32)) for shard in _shards())
    message = "shards[0].X has dtype float32 but params['W1'] is float64: convert one, e.g. shards[0].X.astype(np.float64), so that a float32 network stays float32"
    with _refused(TypeError, message):
        dist.train_rounds(shards, _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)


def test_train_rounds_names_the_shard_whose_targets_the_loss_cannot_take() -> None:
    message = (
        "shards[1].Y has 1 column(s) that do not sum to 1 (column 1 sums to 3) but categorical cross-entropy needs each "
        "column to be a distribution: one-hot targets (one_hot(y, n_classes)) or soft labels summing to 1"
    )
    with _refused(ValueError, message):
        dist.train_rounds(_shards((0, 7, 2.0)), _params(), activations=ACTIVATIONS, loss=LOSS, rounds=1, learning_rate=0.1)


def _locked_rate(step: int, lock: object = None) -> float:
    return 0.1


def test_train_rounds_names_what_cannot_travel_and_the_closed_client_of_placed_shards() -> None:
    schedule = functools.partial(_locked_rate, lock=threading.Lock())  # cloudpickle cannot pickle the lock
    settings: dict[str, Any] = {"activations": ACTIVATIONS, "loss": LOSS, "rounds": 1}
    head = "must pickle to travel to the workers with each round's tasks, but cloudpickle (Dask's serializer) cannot pickle "
    with dist.cluster_client(n_workers=1, processes=False, timeout=30) as client:
        placed = dist.place_shards(client, _shards())
        with pytest.raises(TypeError, match=f"^{re.escape('learning_rate ' + head)}Optimizer\\("):
            dist.train_rounds(placed, _params(), learning_rate=schedule, **settings)
        with pytest.raises(TypeError, match=f"^{re.escape('optimizer ' + head)}Optimizer\\("):
            dist.train_rounds(placed, _params(), optimizer=sgd(schedule), **settings)
    with _refused(ValueError, "shards.client is closed (status 'closed'): place the shards again, with place_shards on an open client"):
        dist.train_rounds(placed, _params(), learning_rate=0.1, **settings)

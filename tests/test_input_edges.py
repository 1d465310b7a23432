"""Inputs at the edges the audit found: ndarray subclasses, bool labels, unchecked public
helpers, overflowing norms, parameters whose cast to the data's dtype is not finite, labels
that would make a huge confusion matrix, and the typing and docstrings around them."""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import functional_nn
from functional_nn import (
    LOSSES,
    LossFunction,
    accuracy,
    apply_max_norm,
    clip_by_global_norm,
    compute_cost,
    confusion_matrix,
    elastic_distortion,
    f1_score,
    global_norm,
    initialize_parameters,
    log_loss,
    make_blobs,
    make_moons,
    make_spirals,
    numerical_gradient,
    one_hot,
    precision,
    predict,
    predict_proba,
    random_affine,
    recall,
    save_parameters,
    train,
)
from functional_nn import losses, metrics, optimizers
from functional_nn.losses import check_targets
from functional_nn.optimizers import _apply_max_norm
from functional_nn.types import Activation, FloatArray, Loss
from test_installed_typing import mypy_as_a_user

ACTS: tuple[Activation, ...] = ("relu", "softmax")
CE: Loss = "categorical_cross_entropy"


def _network() -> tuple[dict[str, FloatArray], FloatArray, FloatArray]:
    rng = np.random.default_rng(0)
    params = initialize_parameters([4, 5, 3], rng)
    X = rng.standard_normal((4, 6))
    Y = one_hot(np.arange(6) % 3, 3)
    return params, X, Y


# 1. ndarray subclasses ------------------------------------------------------------------------


def _masked_first_entry(array: FloatArray) -> np.ma.MaskedArray[Any, Any]:
    mask = np.zeros(array.shape, dtype=np.bool_)
    mask[0, 0] = True
    return np.ma.array(array.copy(), mask=mask)


def _masked_with_hidden_inf(array: FloatArray) -> np.ma.MaskedArray[Any, Any]:
    masked = _masked_first_entry(array)
    masked.data[0, 0] = np.inf
    return masked


def _masked_message(argument: str) -> str:
    return re.escape(
        f"{argument} is a numpy.ma.MaskedArray, which is not supported (its mask would be ignored): pass a plain "
        f"ndarray, e.g. {argument}.filled(value) with the value its masked entries should take"
    )


def test_a_masked_weight_is_refused_and_no_file_is_written(tmp_path: Path) -> None:
    params, X, _ = _network()
    masked = {**params, "W1": _masked_with_hidden_inf(params["W1"])}
    path = tmp_path / "params.npz"
    with pytest.raises(TypeError, match="^" + _masked_message("params['W1']") + "$"):
        save_parameters(path, masked, metadata={"activations": list(ACTS)})
    assert not path.exists()
    with pytest.raises(TypeError, match="^" + _masked_message("params['W1']") + "$"):
        predict_proba(X, masked, ACTS)


def test_masked_X_is_refused_by_predict_and_train() -> None:
    params, X, Y = _network()
    masked = _masked_first_entry(X)
    with pytest.raises(TypeError, match="^" + _masked_message("X") + "$"):
        predict(masked, params, ACTS)
    with pytest.raises(TypeError, match="^" + _masked_message("X") + "$"):
        train(masked, Y, params, activations=ACTS, loss=CE, epochs=1, learning_rate=0.1)
    with pytest.raises(TypeError, match="^" + _masked_message("labels") + "$"):
        one_hot(np.ma.array(np.arange(3)), 3)


class Tagged(np.ndarray[Any, Any]):
    """An ndarray subclass of a user's own."""


def test_other_ndarray_subclasses_are_refused_but_memmap_is_not(tmp_path: Path) -> None:
    params, X, _ = _network()
    tagged = X.view(Tagged)
    name = f"{Tagged.__module__}.{Tagged.__qualname__}"
    expected = f"X is a {name}, a subclass of numpy.ndarray, which is not supported: convert it with np.asarray(X)"
    with pytest.raises(TypeError, match="^" + re.escape(expected) + "$"):
        predict(tagged, params, ACTS)
    recarray = np.zeros(2, dtype=[("a", np.int64)]).view(np.recarray)
    with pytest.raises(TypeError, match=r"^labels is a numpy.rec.recarray, a subclass of numpy.ndarray, which is not supported: convert it with np.asarray\(labels\)$"):
        one_hot(recarray, 2)
    mapped = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mapped[:] = X
    np.testing.assert_array_equal(predict(mapped, params, ACTS), predict(X, params, ACTS))


# 2. bool labels in one_hot --------------------------------------------------------------------


def test_one_hot_takes_bool_labels_as_classes_0_and_1() -> None:
    np.testing.assert_array_equal(one_hot(np.array([True, False]), 2), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(one_hot(np.array([True, False]), 3), [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])


# 3. numerical_gradient checks its arguments as gradient_check does ---------------------------


def test_numerical_gradient_refuses_what_gradient_check_refuses() -> None:
    params, X, Y = _network()
    with pytest.raises(ValueError, match=r"^Y must have shape \(3, 6\) \(n_L, m\), got \(2, 6\)$"):
        numerical_gradient(X, Y[:2], params, ACTS, CE)
    with pytest.raises(ValueError, match=r"^Y must have shape \(3, 6\) \(n_L, m\), got \(3, 1\)$"):
        numerical_gradient(X, Y[:, :1], params, ACTS, CE)
    with pytest.raises(ValueError, match=r"^epsilon must be a finite number > 0, got 0$"):
        numerical_gradient(X, Y, params, ACTS, CE, epsilon=0)
    with pytest.raises(TypeError, match=r"^X must be a numpy ndarray, got list \(np\.asarray\([^)]*\) converts it\)$"):
        numerical_gradient(X.tolist(), Y, params, ACTS, CE)
    with pytest.raises(TypeError, match=r"^rng must be a numpy\.random\.Generator such as np\.random\.default_rng\(seed\) for dropout \(keep_probs < 1\), which draws from it, got None$"):
        numerical_gradient(X, Y, params, ACTS, CE, keep_probs=0.5)
    assert numerical_gradient.__doc__ is not None
    assert "not checked" not in numerical_gradient.__doc__


def test_numerical_gradient_takes_a_float_keep_probs_as_gradient_check_does() -> None:
    params, X, Y = _network()
    one = numerical_gradient(X, Y, params, ACTS, CE, keep_probs=0.5, rng=np.random.default_rng(1))
    other = numerical_gradient(X, Y, params, ACTS, CE, keep_probs=(0.5,), rng=np.random.default_rng(1))
    assert one.keys() == other.keys()
    for key in one:
        np.testing.assert_array_equal(one[key], other[key])


# 4. max-norm and global-norm clipping of huge but finite values -------------------------------


@pytest.mark.parametrize(("dtype", "big"), [(np.float32, 3e19), (np.float64, 1e160)])
def test_apply_max_norm_scales_rows_whose_squares_overflow(dtype: type[np.floating[Any]], big: float) -> None:
    params = initialize_parameters([4, 5, 3], np.random.default_rng(0), dtype=dtype)
    params["W1"] = params["W1"].copy()
    params["W1"][0] = big
    out = apply_max_norm(params, 3.0)
    assert out["W1"].dtype == dtype
    np.testing.assert_array_equal(out["W1"][0], np.full(4, 1.5, dtype=dtype))  # (big, big, big, big) / (2 big) * 3
    np.testing.assert_array_equal(out["W1"][1:], params["W1"][1:])
    assert params["W1"][0, 0] == dtype(big)  # not modified
    owned = {key: value.copy() for key, value in params.items()}
    in_place = _apply_max_norm(owned, 3.0, in_place=True)
    assert in_place["W1"] is owned["W1"]
    np.testing.assert_array_equal(in_place["W1"], out["W1"])


def test_apply_max_norm_leaves_a_huge_row_inside_a_huger_ball() -> None:
    params = initialize_parameters([4, 5, 3], np.random.default_rng(0))
    params["W1"] = params["W1"].copy()
    params["W1"][0] = 1e200  # norm 2e200, squares overflow, but within the ball of radius 1e300
    out = apply_max_norm(params, 1e300)
    assert out["W1"] is params["W1"]
    shrunk = apply_max_norm(params, 1e160)  # whose square overflows too: the row must still shrink
    np.testing.assert_array_equal(shrunk["W1"][0], np.full(4, 5e159))
    np.testing.assert_array_equal(shrunk["W1"][1:], params["W1"][1:])
    p32 = initialize_parameters([4, 5, 3], np.random.default_rng(0), dtype=np.float32)
    p32["W1"] = p32["W1"].copy()
    p32["W1"][0] = 3e19  # norm 6e19: its float32 square overflows, but it lies within radius 1e20
    assert apply_max_norm(p32, 1e20)["W1"] is p32["W1"]


def test_global_norm_and_clipping_of_float64_values_whose_squares_overflow() -> None:
    grads = {"dW1": np.full((2, 2), 1e160), "db1": np.zeros((2, 1))}
    assert global_norm(grads) == 2e160
    clipped = clip_by_global_norm(grads, 1.0)
    np.testing.assert_array_equal(clipped["dW1"], np.full((2, 2), 0.5))
    np.testing.assert_array_equal(clipped["db1"], np.zeros((2, 1)))
    assert clipped["dW1"].dtype == np.float64


def test_global_norm_of_an_empty_mapping_says_it_is_empty() -> None:
    expected = r"^grads is empty: expected a non-empty mapping of names to arrays, such as \{'dW1': \.\.\., 'db1': \.\.\.\}$"
    with pytest.raises(ValueError, match=expected):
        global_norm({})
    with pytest.raises(ValueError, match=expected):
        clip_by_global_norm({}, 1.0)


# 5. augmentation parameters bounded by the images' dtype ---------------------------------------


def test_elastic_alpha_is_bounded_by_the_dtype_and_the_image_size() -> None:
    X = np.random.default_rng(0).random((64, 5)).astype(np.float32)
    largest = float(np.finfo(np.float32).max)
    bound = largest / 64
    expected = (
        f"alpha=1e+39 is too large for float32 images of 8x8: alpha times the 64 pixels must stay below the "
        f"largest float32 ({largest:.3g}), so alpha <= {bound:.3g}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        elastic_distortion(X, np.random.default_rng(0), image_shape=(8, 8), alpha=1e39)
    out = elastic_distortion(X, np.random.default_rng(0), image_shape=(8, 8), alpha=bound)
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_elastic_sigma_is_bounded() -> None:
    X = np.random.default_rng(0).random((64, 5))
    expected = (
        "sigma=1e+20 is too large: at most 1e+05 pixels (its Gaussian kernel's 2 * round(4 sigma) + 1 taps are "
        "computed, and far beyond the image's size a larger sigma only weakens the field)"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        elastic_distortion(X, np.random.default_rng(0), image_shape=(8, 8), sigma=1e20)


@pytest.mark.parametrize(("dtype", "translation"), [(np.float32, 1e39), (np.float64, 1e308)])
def test_affine_translation_beyond_the_dtype_is_named(dtype: type[np.floating[Any]], translation: float) -> None:
    X = np.random.default_rng(0).random((64, 5)).astype(dtype)
    name = np.dtype(dtype).name
    largest = float(np.finfo(dtype).max)
    tan_max = math.tan(math.radians(10.0))
    allowed = (0.9 * largest / (2 * (1 + tan_max)) - 16) / 2
    expected = (
        f"translation {translation!r} is too large for {name} images of 8x8 at scale 0.9: the source coordinates "
        f"would overflow {name} (largest {largest:.3g}); translation must lie within +-{allowed:.3g} pixels"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        random_affine(X, np.random.default_rng(0), image_shape=(8, 8), translation=translation)


# 6. toy data: complex centres, settings whose cast is not finite -------------------------------


def test_make_blobs_refuses_complex_centers() -> None:
    with pytest.raises(TypeError, match=r"^centers must hold real numbers, got complex128 values$"):
        make_blobs(10, np.random.default_rng(0), centers=np.zeros((2, 2), complex))


def test_toy_noise_that_overflows_the_dtype_is_refused() -> None:
    for maker, noise, dtype in ((make_blobs, 1e39, np.float32), (make_moons, 1e39, np.float32), (make_blobs, 1e308, np.float64)):
        name = np.dtype(dtype).name
        largest = float(np.finfo(dtype).max)
        expected = (
            f"^{re.escape(f'noise={noise:g}')} is too large for {name} data: X would hold [1-9][0-9]* infinite value\\(s\\) "
            f"\\(the largest {name} is {re.escape(f'{largest:.3g}')}\\)$"
        )
        with pytest.raises(ValueError, match=expected):
            maker(10, np.random.default_rng(0), noise=noise, dtype=dtype)


def test_toy_centres_box_and_turns_beyond_the_dtype_are_refused() -> None:
    largest = float(np.finfo(np.float32).max)
    expected = f"centers must lie within the range of float32 (+-{largest:.3g}), got values up to 1e+39"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        make_blobs(10, np.random.default_rng(0), centers=np.full((2, 2), 1e39), dtype=np.float32)
    expected = f"center_box must lie within the range of float32 (+-{largest:.3g}) with high - low finite, got (-1e+39, 1e+39)"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        make_blobs(10, np.random.default_rng(0), center_box=(-1e39, 1e39), dtype=np.float32)
    largest64 = float(np.finfo(np.float64).max)
    expected = f"center_box must lie within the range of float64 (+-{largest64:.3g}) with high - low finite, got (-1e+308, 1e+308)"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        make_blobs(10, np.random.default_rng(0), center_box=(-1e308, 1e308))
    bound = largest64 / (2 * math.pi) - 1
    expected = f"turns must be at most {bound:.3g} so that the angles 2 pi (c / k + turns t) stay finite, got 1e+308"
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        make_spirals(10, np.random.default_rng(0), turns=1e308)


# 7. labels that would make a huge confusion matrix ---------------------------------------------


def test_sparse_class_indices_are_refused_before_allocating_the_matrix() -> None:
    k = 10**5 + 1
    expected = (
        f"predictions holds class index 100000, which would make a {k} x {k} confusion matrix: at most "
        "10000 classes are inferred from the labels; encode them as 0..k-1 first "
        "(classes, encoded = np.unique(labels, return_inverse=True)) or pass num_classes"
    )
    predictions, labels = np.array([0, 10**5]), np.array([0, 1])
    for metric in (confusion_matrix, precision, recall, f1_score):
        kwargs: dict[str, Any] = {} if metric is confusion_matrix else {"average": "macro"}
        with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
            metric(predictions, labels, **kwargs)
    assert metrics.MAX_INFERRED_CLASSES == 10_000
    assert confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=3).shape == (3, 3)


def test_binary_metrics_of_two_sparse_classes_need_no_matrix() -> None:
    predictions, labels = np.array([0, 10**5, 10**5]), np.array([0, 10**5, 0])
    assert precision(predictions, labels, positive_class=10**5) == 0.5
    assert recall(predictions, labels, positive_class=10**5) == 1.0
    assert f1_score(predictions, labels, positive_class=10**5) == pytest.approx(2 / 3, rel=1e-15)


def test_uint64_labels_beyond_int64_are_refused_with_a_clear_message() -> None:
    huge = np.array([0, 2**63 + 5], dtype=np.uint64)
    expected = (
        f"labels holds class index {2**63 + 5}, beyond the int64 range of class indices: encode the labels as "
        "0..k-1 first (classes, encoded = np.unique(labels, return_inverse=True))"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        confusion_matrix(np.array([0, 1], dtype=np.uint64), huge)
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        precision(np.array([0, 1], dtype=np.uint64), huge)
    with pytest.raises(ValueError, match="^" + re.escape(expected) + "$"):
        log_loss(np.full((1, 2), 0.5), huge)


# 8 and 11. bool labels and the optimizers' example under mypy ----------------------------------


def test_metrics_take_bool_labels() -> None:
    truth: npt.NDArray[np.bool_] = np.array([True, False, True, True])
    guess: npt.NDArray[np.bool_] = np.array([True, True, False, True])
    assert accuracy(guess, truth) == 0.5
    np.testing.assert_array_equal(confusion_matrix(guess, truth), [[0, 1], [1, 2]])
    assert precision(guess, truth) == 2 / 3
    assert recall(guess, truth) == 2 / 3
    assert f1_score(guess, truth, average="macro") == pytest.approx((0 + 2 / 3) / 2, rel=1e-15)
    assert log_loss(np.array([[0.5, 0.5, 0.5, 0.5]]), truth) == pytest.approx(math.log(2), rel=1e-15)


def _optimizers_example() -> str:
    doc = optimizers.__doc__
    assert doc is not None
    block = doc.split("so a training loop is a fold::\n", 1)[1].split("\nEvery optimizer shares", 1)[0]
    return textwrap.dedent(block)


USER_DATA = """
import numpy as np
from functional_nn import initialize_parameters, one_hot
from functional_nn.types import FloatArray

rng = np.random.default_rng(0)
params = initialize_parameters([2, 3, 2], rng)
X: FloatArray = rng.standard_normal((2, 8))
Y = one_hot(np.arange(8) % 2, 2)
"""

BOOL_LABELS = """
import numpy as np
import numpy.typing as npt
from functional_nn import accuracy, confusion_matrix, f1_score, log_loss, one_hot, precision, recall

labels: npt.NDArray[np.bool_] = np.array([True, False])
log_loss(np.full((1, 2), 0.5), labels)
accuracy(labels, labels)
confusion_matrix(labels, labels)
precision(labels, labels)
recall(labels, labels)
f1_score(labels, labels)
one_hot(labels, 2)
"""


def test_the_optimizers_example_runs() -> None:
    namespace: dict[str, object] = {}
    exec(USER_DATA + _optimizers_example(), namespace)  # noqa: S102  # our own docstring
    assert isinstance(namespace["state"], functional_nn.OptimizerState)


def test_bool_labels_and_the_optimizers_example_type_check(tmp_path: Path) -> None:
    (tmp_path / "bool_labels.py").write_text(textwrap.dedent(BOOL_LABELS))
    (tmp_path / "optimizers_example.py").write_text(USER_DATA + _optimizers_example())
    finished = mypy_as_a_user(tmp_path, ["bool_labels.py", "optimizers_example.py"])
    assert finished.stdout == "", finished.stdout + finished.stderr
    assert finished.returncode == 0, finished.stderr


# 9 and 10. losses: a user's cost as a float, docstrings that say what the code does -------------


def test_compute_cost_returns_a_python_float_for_a_users_numpy_cost() -> None:
    def mean_output(AL: FloatArray, Y: FloatArray) -> float:
        return np.float64(np.mean(AL))  # a NumPy scalar, as users write

    record = LossFunction("mean_output", mean_output, lambda AL, Y: np.full_like(AL, 1 / AL.size))
    cost = compute_cost(np.full((1, 2), 0.5), np.ones((1, 2)), record)
    assert type(cost) is float and cost == 0.5


def test_the_losses_docstrings_say_what_the_code_does() -> None:
    assert check_targets.__doc__ is not None and compute_cost.__doc__ is not None
    module_doc = " ".join(str(losses.__doc__).split())
    assert "at least its machine epsilon" not in module_doc
    assert "``1 - a`` at least ``np.finfo(dtype).epsneg``" in module_doc
    assert "only the built-in cross-entropies are checked" not in " ".join(check_targets.__doc__.split())
    assert "the hinge loss's 0/1 or -1/1 labels are checked too" in " ".join(check_targets.__doc__.split())
    line = next(line for line in compute_cost.__doc__.splitlines() if line.strip().startswith("loss : {"))
    assert set(re.findall(r'"(\w+)"', line)) == set(LOSSES)

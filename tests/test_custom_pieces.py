"""A user's own activations and losses: records read like the built-ins, checked before
training, trained with, saved and loaded by name; the fused gradient follows the pairing a
loss declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from functional_nn import (
    ActivationFunction,
    LossFunction,
    backward_propagation,
    compute_cost,
    forward_propagation,
    gradient_check,
    initialize_parameters,
    load_parameters,
    make_moons,
    one_hot,
    predict,
    predict_proba,
    save_parameters,
    train,
)
from functional_nn.activations import ACTIVATIONS, SIGMOID, SOFTMAX, sigmoid, sigmoid_backward, tanh, tanh_backward
from functional_nn.checkpoints import latest_checkpoint, load_checkpoint
from functional_nn import RecordCheckError, check_activation, check_loss
from functional_nn.losses import LOSSES, binary_cross_entropy, binary_cross_entropy_gradient
from functional_nn.types import Activation, FloatArray, Loss
from user_records import SOFTSIGN




@pytest.mark.parametrize("name", get_args(Activation))
def test_every_built_in_activation_passes_the_check(name: Activation) -> None:
    assert ACTIVATIONS[name].name == name
    assert check_activation(name) < 1e-7
    assert check_activation(ACTIVATIONS[name], rng=np.random.default_rng(1)) < 1e-7


@pytest.mark.parametrize("name", get_args(Loss))
def test_every_built_in_loss_passes_the_check(name: Loss) -> None:
    assert LOSSES[name].name == name
    assert check_loss(name) < 1e-7


def test_a_users_activation_passes_and_a_wrong_backward_is_named() -> None:
    assert check_activation(SOFTSIGN) < 1e-7
    wrong = SOFTSIGN._replace(name="bad_softsign", backward=lambda dA, Z, A: dA / (1 + np.abs(Z)))
    with pytest.raises(RecordCheckError, match=r"activation 'bad_softsign': backward differs .* by a relative (0\.\d+|1)"):
        check_activation(wrong)


def test_the_check_refuses_writes_dtype_changes_and_a_wrong_range() -> None:
    def writes(Z: FloatArray) -> FloatArray:
        Z *= 2
        return Z

    with pytest.raises(RecordCheckError, match="'doubler': forward writes into one of its arguments"):
        check_activation(ActivationFunction("doubler", writes, lambda dA, Z, A: 2 * dA))
    upcast = ActivationFunction("upcast", lambda Z: Z.astype(np.float64), lambda dA, Z, A: dA.copy())
    with pytest.raises(RecordCheckError, match=r"'upcast': forward must keep the shape and dtype .* float32, got .* float64"):
        check_activation(upcast)
    with pytest.raises(RecordCheckError, match=r"'softsign': forward returned values .* outside its output_range \[0.0, 1.0\]"):
        check_activation(SOFTSIGN._replace(output_range=(0.0, 1.0)))
    in_place_wrong = SOFTSIGN._replace(name="fast_softsign", backward_in_place=lambda dA, Z, A: dA)
    with pytest.raises(RecordCheckError, match="'fast_softsign': backward_in_place gives other values"):
        check_activation(in_place_wrong)


def test_a_loss_declaring_a_wrong_pairing_is_refused() -> None:
    cross_entropy_with_tanh = LOSSES["binary_cross_entropy"]._replace(name="bce_tanh", fused_activation=ACTIVATIONS["tanh"])
    with pytest.raises(RecordCheckError, match="'bce_tanh': declares fused_activation 'tanh'.*the pairing is wrong"):
        check_loss(cross_entropy_with_tanh)
    half_gradient = LossFunction("half", binary_cross_entropy, lambda AL, Y: binary_cross_entropy_gradient(AL, Y) / 2, True)
    with pytest.raises(RecordCheckError, match="loss 'half': gradient differs"):
        check_loss(half_gradient)


def test_names_of_built_ins_cannot_be_borrowed_and_typos_still_fail() -> None:
    X = np.ones((2, 3))
    params = initialize_parameters([2, 2], np.random.default_rng(0))
    impostor = ActivationFunction("relu", tanh, tanh_backward, (-1.0, 1.0))
    with pytest.raises(ValueError, match="named 'relu' like the built-in but is another function"):
        forward_propagation(X, params, (impostor,))
    with pytest.raises(ValueError, match="did you mean 'relu'"):
        forward_propagation(X, params, ("rleu",))  # type: ignore[arg-type]  # the typo is the test
    with pytest.raises(TypeError, match="or an ActivationFunction record, got tuple"):
        forward_propagation(X, params, ((tanh, tanh_backward),))  # type: ignore[arg-type]  # the tuple is the test


def test_a_record_made_of_built_in_functions_trains_bitwise_like_the_name(rng: np.random.Generator) -> None:
    my_tanh = ActivationFunction("my_tanh", tanh, tanh_backward, (-1.0, 1.0))
    X = rng.standard_normal((3, 40))
    Y = one_hot(rng.integers(0, 2, 40), 2)
    params = initialize_parameters([3, 5, 2], rng)
    by_name = train(X, Y, params, activations=("tanh", "softmax"), loss="categorical_cross_entropy", epochs=3, learning_rate=0.5)
    by_record = train(
        X, Y, params, activations=(my_tanh, SOFTMAX), loss=LOSSES["categorical_cross_entropy"], epochs=3, learning_rate=0.5
    )
    for key in params:
        assert by_record.params[key].tobytes() == by_name.params[key].tobytes()
    assert by_record.history == by_name.history
    _, caches = forward_propagation(X, params, (my_tanh, "softmax"))
    assert caches[0].activation is my_tanh and caches[1].activation is SOFTMAX


def test_the_fused_gradient_follows_the_declared_pairing_not_the_name(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 6))
    Y = (rng.random((1, 6)) < 0.5).astype(np.float64)
    params = initialize_parameters([3, 1], rng)
    # The cost of binary cross-entropy, a gradient that is deliberately zero, and the sigmoid
    # declared as its fused pair: only the pairing can give the right gradient.
    fused_only = LossFunction("fused_only", binary_cross_entropy, lambda AL, Y: np.zeros_like(AL), True, SIGMOID)
    AL, caches = forward_propagation(X, params, ("sigmoid",))
    expected = backward_propagation(AL, Y, caches, "binary_cross_entropy")
    grads = backward_propagation(AL, Y, caches, fused_only)
    np.testing.assert_array_equal(grads["dW1"], expected["dW1"])
    assert np.abs(grads["dW1"]).min() > 0
    # The same sigmoid functions under another record are not the declared pair: chain rule.
    my_sigmoid = ActivationFunction("my_sigmoid", sigmoid, sigmoid_backward, (0.0, 1.0))
    AL, caches = forward_propagation(X, params, (my_sigmoid,))
    np.testing.assert_array_equal(backward_propagation(AL, Y, caches, fused_only)["dW1"], 0)
    # and the built-in loss with that record takes the chain rule to the same gradient
    np.testing.assert_allclose(backward_propagation(AL, Y, caches, "binary_cross_entropy")["dW1"], expected["dW1"], rtol=1e-12)


def test_records_everywhere_a_name_goes(rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 7))
    Y = one_hot(rng.integers(0, 3, 7), 3)
    params = initialize_parameters([3, 4, 3], rng, scheme="xavier")
    activations = (SOFTSIGN, SOFTMAX)
    loss = LOSSES["categorical_cross_entropy"]
    assert gradient_check(X, Y, params, activations, loss) < 1e-7
    assert gradient_check(X, Y, params, (SOFTSIGN, "softmax"), "categorical_cross_entropy", lambd=0.3) < 1e-7
    AL, _ = forward_propagation(X, params, activations)
    assert compute_cost(AL, Y, loss) == compute_cost(AL, Y, "categorical_cross_entropy")
    np.testing.assert_array_equal(predict_proba(X, params, activations), AL)
    np.testing.assert_array_equal(predict(X, params, activations), np.argmax(AL, axis=0))
    with pytest.raises(ValueError, match="loss 'categorical_cross_entropy' needs outputs in \\[0, 1\\].*'softsign'"):
        train(X, Y, params, activations=(SOFTSIGN, SOFTSIGN), loss=loss, epochs=1, learning_rate=0.1)


def test_saved_custom_names_load_only_with_their_records(tmp_path: Path, rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 4, 2], rng)
    path = save_parameters(
        tmp_path / "net.npz", params, metadata={"activations": [SOFTSIGN, "softmax"], "loss": LOSSES["categorical_cross_entropy"]}
    )
    with pytest.raises(ValueError, match=r"uses the activation\(s\) \['softsign'\].*custom_activations=\{'softsign': record"):
        load_parameters(path)
    with pytest.raises(ValueError, match="custom_activations\\['soft'\\] is the record named 'softsign'"):
        load_parameters(path, custom_activations={"soft": SOFTSIGN})
    saved = load_parameters(path, custom_activations={"softsign": SOFTSIGN})
    assert saved.metadata["activations"] == ["softsign", "softmax"]
    assert saved.metadata["loss"] == "categorical_cross_entropy"
    assert saved.activations == (SOFTSIGN, SOFTMAX)
    X = rng.standard_normal((3, 5))
    np.testing.assert_array_equal(predict(X, saved.params, saved.activations), predict(X, params, (SOFTSIGN, "softmax")))


def test_checkpoints_record_custom_names_and_resume(tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.standard_normal((3, 30))
    Y = one_hot(rng.integers(0, 2, 30), 2)
    params = initialize_parameters([3, 4, 2], rng)
    settings = {"activations": (SOFTSIGN, SOFTMAX), "loss": "categorical_cross_entropy", "learning_rate": 0.3}
    whole = train(X, Y, params, epochs=3, **settings)  # type: ignore[arg-type]  # the settings dict is typed loosely
    train(X, Y, params, epochs=2, checkpoint_dir=tmp_path, **settings)  # type: ignore[arg-type]
    latest = latest_checkpoint(tmp_path)
    assert latest is not None
    run = load_checkpoint(latest).run
    assert run["activations"] == ["softsign", "softmax"] and run["loss"] == "categorical_cross_entropy"
    resumed = train(X, Y, params, epochs=3, checkpoint_dir=tmp_path, resume=True, **settings)  # type: ignore[arg-type]
    for key in params:
        assert resumed.params[key].tobytes() == whole.params[key].tobytes()
    json.dumps(run)  # the run description stays plain JSON


def test_hinge_trains_a_linear_output_and_counts_accuracy_at_zero(rng: np.random.Generator) -> None:
    moons = make_moons(200, rng, noise=0.05)
    Y = moons.y[np.newaxis, :].astype(np.float64)
    params = initialize_parameters([2, 32, 1], rng)
    result = train(moons.X, Y, params, activations=("relu", "linear"), loss="hinge", epochs=1000, learning_rate=0.1)
    scores = predict_proba(moons.X, result.params, ("relu", "linear"))
    accuracy = float(np.mean((scores[0] >= 0) == (moons.y == 1)))
    assert result.history[-1].accuracy is not None
    assert accuracy > 0.98
    # the history counts with the scores of the parameters each epoch started from
    start_scores = predict_proba(moons.X, params, ("relu", "linear"))
    assert result.history[0].accuracy == float(np.mean((start_scores[0] >= 0) == (moons.y == 1)))
    # predict refuses a single unbounded output: it cannot know the threshold
    with pytest.raises(ValueError, match="predict_proba\\(...\\) >= 0 after a hinge loss"):
        predict(moons.X, result.params, ("relu", "linear"))

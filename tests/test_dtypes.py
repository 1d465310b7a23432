"""A float32 network stays float32 end to end, whatever the activation, loss and optimizer.

Every array ``train`` hands back (params, best params, every optimizer slot), every cache and
gradient of the trained network, and every activation's forward and backward pass keep
float32; the history holds Python floats. NumPy 2's promotion rules keep a float32 array
float32 against Python scalars, but a float64 NumPy scalar (a ``np.sqrt`` of a float, a sum
with ``dtype=np.float64``) would still upcast it: these tests are what would notice.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import get_args

import numpy as np
import pytest

from functional_nn import optimizers, propagation
from functional_nn.activations import ACTIVATIONS
from functional_nn.initializers import initialize_parameters
from functional_nn.losses import LOSSES, compute_cost
from functional_nn.optimizers import Optimizer
from functional_nn.propagation import backward_propagation, forward_propagation, predict_proba
from functional_nn.schedules import cosine_decay
from functional_nn.training import EarlyStopping, TrainState, train
from functional_nn.types import Activation, FloatArray, Loss

HIDDEN: tuple[Activation, ...] = get_args(Activation)
# Every loss with an output it may follow: the fused pairs and the chain-rule ones.
OUTPUTS: list[tuple[Loss, Activation]] = [
    ("binary_cross_entropy", "sigmoid"),
    ("binary_cross_entropy", "softmax"),
    ("categorical_cross_entropy", "softmax"),
    ("categorical_cross_entropy", "sigmoid"),
    ("mean_squared_error", "linear"),
    ("mean_squared_error", "tanh"),
    ("mean_squared_error", "relu"),
    ("mean_squared_error", "leaky_relu"),
    ("hinge", "linear"),
]


def optimizer_factories() -> dict[str, Callable[..., Optimizer]]:
    """Every public function of ``functional_nn.optimizers`` that makes an ``Optimizer``."""
    return {
        name: function
        for name, function in vars(optimizers).items()
        if inspect.isfunction(function)
        and not name.startswith("_")
        and function.__module__ == optimizers.__name__
        and inspect.signature(function).return_annotation in ("Optimizer", Optimizer)
    }


def every_optimizer() -> Iterator[tuple[str, Optimizer]]:
    for name, factory in sorted(optimizer_factories().items()):
        yield name, factory(learning_rate=0.01)
        if "nesterov" in inspect.signature(factory).parameters:
            yield f"{name}(nesterov=True)", factory(learning_rate=0.01, nesterov=True)
    yield "adam with a schedule", optimizers.adam(learning_rate=cosine_decay(0.01, decay_steps=6, warmup_steps=2))


OPTIMIZERS: dict[str, Optimizer] = dict(every_optimizer())


def make_targets(loss: Loss, rng: np.random.Generator, n_out: int, m: int) -> FloatArray:
    if loss == "categorical_cross_entropy":
        Y = np.zeros((n_out, m), dtype=np.float32)
        Y[rng.integers(0, n_out, m), np.arange(m)] = 1
        return Y
    if loss in ("binary_cross_entropy", "hinge"):
        return rng.integers(0, 2, (n_out, m)).astype(np.float32)
    return rng.standard_normal((n_out, m)).astype(np.float32)


def assert_float32(where: str, arrays: Mapping[str, FloatArray]) -> None:
    for key, array in arrays.items():
        assert isinstance(array, np.ndarray), f"{where}[{key!r}] is {type(array).__name__}"
        assert array.dtype == np.float32, f"{where}[{key!r}] is {array.dtype}"


def assert_python_floats(state: TrainState) -> None:
    for record in state.history:
        for field in ("cost", "accuracy", "dev_cost", "dev_accuracy"):
            value = getattr(record, field)
            assert value is None or type(value) is float, f"history {field} is {type(value).__name__}"
    assert state.best_value is None or type(state.best_value) is float


def test_every_optimizer_is_covered() -> None:
    assert {"sgd", "adam"} <= set(optimizer_factories())
    assert len(OPTIMIZERS) >= len(optimizer_factories()) + 1


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize(("loss", "output"), OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_training_keeps_float32(
    hidden: Activation, loss: Loss, output: Activation, optimizer_name: str, rng: np.random.Generator
) -> None:
    activations = (hidden, output)
    params = initialize_parameters([4, 6, 3], rng, dtype=np.float32)
    X = rng.standard_normal((4, 11)).astype(np.float32)
    Y = make_targets(loss, rng, 3, 11)
    state = train(
        X, Y, params, activations=activations, loss=loss, epochs=3, optimizer=OPTIMIZERS[optimizer_name],
        batch_size=4, rng=rng, dev=(X, Y), lambd=0.01, keep_probs=0.8, clip_norm=1.0, max_norm=3.0,
        early_stopping=EarlyStopping(patience=3),
    )  # fmt: skip
    assert_float32("params", state.params)
    assert state.best_params is not None
    assert_float32("best_params", state.best_params)
    for slot, arrays in state.optimizer_state.slots.items():
        assert_float32(f"slots[{slot!r}]", arrays)
    assert_python_floats(state)

    AL, caches = forward_propagation(X, state.params, activations, keep_probs=0.8, rng=rng)
    assert AL.dtype == np.float32
    for l, cache in enumerate(caches, start=1):
        arrays = {"A_prev": cache.A_prev, "W": cache.W, "Z": cache.Z, "A": cache.A}
        if cache.dropout_mask is not None:
            arrays["dropout_mask"] = cache.dropout_mask
        assert_float32(f"caches[{l - 1}]", arrays)
    assert caches[0].dropout_mask is not None  # the hidden layer dropped: its mask was checked
    assert_float32("grads", backward_propagation(AL, Y, caches, loss, lambd=0.01))
    assert type(compute_cost(AL, Y, loss, lambd=0.01, params=state.params)) is float


@pytest.mark.parametrize("name", HIDDEN)
def test_activation_passes_keep_float32_and_in_place_matches(name: Activation, rng: np.random.Generator) -> None:
    Z = (rng.standard_normal((5, 7)) * 3).astype(np.float32)
    dA = rng.standard_normal((5, 7)).astype(np.float32)
    for array in (Z, dA):
        array.flags.writeable = False
    functions = ACTIVATIONS[name]
    A = functions.forward(Z)
    A.flags.writeable = False
    dZ = functions.backward(dA, Z, A)
    assert A.dtype == dZ.dtype == np.float32
    if functions.backward_in_place is not None:  # six of the ten; the others have only backward, checked above
        dZ_in_place = functions.backward_in_place(dA.copy(), Z, A)
        assert dZ_in_place.dtype == np.float32
        np.testing.assert_allclose(dZ_in_place, dZ, rtol=2e-7, atol=0)


@pytest.mark.parametrize("loss", get_args(Loss))
def test_loss_gradients_keep_float32(loss: Loss, rng: np.random.Generator) -> None:
    AL = rng.uniform(0.05, 0.95, (3, 6)).astype(np.float32)
    Y = make_targets(loss, rng, 3, 6)
    assert LOSSES[loss].gradient(AL, Y).dtype == np.float32
    assert type(LOSSES[loss].cost(AL, Y)) is float


@pytest.mark.parametrize("order", ["C", "F"])
def test_predict_proba_in_chunks_matches_forward(order: str, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    params = initialize_parameters([4, 6, 5, 3], rng, dtype=np.float32)
    X = np.asarray(rng.standard_normal((4, 10)), dtype=np.float32, order="C" if order == "C" else "F")
    X.flags.writeable = False
    activations: tuple[Activation, ...] = ("tanh", "relu", "softmax")
    AL, _ = forward_propagation(X, params, activations)
    monkeypatch.setattr(propagation, "PREDICT_CHUNK", 3)  # 4 chunks, the last of 1 column
    chunked = predict_proba(X, params, activations)
    assert chunked.dtype == np.float32 and chunked.shape == (3, 10)
    np.testing.assert_allclose(chunked, AL, rtol=1e-6, atol=1e-7)

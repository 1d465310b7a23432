"""A user's review of optimizers and schedules over many steps, porting a PyTorch recipe:
a schedule kept by an estimator pickles, and a schedule maker passed uncalled is named."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pytest

from functional_nn import (
    Schedule,
    adam,
    constant,
    cosine_decay,
    exponential_decay,
    initialize_parameters,
    make_moons,
    one_hot,
    sgd,
    step_decay,
    train,
)
from functional_nn.sklearn import MLPClassifier

SCHEDULES: dict[str, Callable[[], Schedule]] = {
    "constant": lambda: constant(0.01),
    "step_decay": lambda: step_decay(0.05, decay_rate=0.5, step_size=3),
    "exponential_decay": lambda: exponential_decay(0.05, decay_rate=0.5, decay_steps=4),
    "cosine_decay": lambda: cosine_decay(0.05, decay_steps=8, warmup_steps=2, final=1e-3),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_a_schedule_pickles_with_its_rates(name: str) -> None:
    schedule = SCHEDULES[name]()
    restored = pickle.loads(pickle.dumps(schedule))
    assert isinstance(restored, Schedule)
    assert (restored.name, restored.hyperparameters) == (schedule.name, schedule.hyperparameters)
    assert [restored(step) for step in range(20)] == [schedule(step) for step in range(20)]


def test_an_estimator_named_optimizer_with_a_schedule_pickles_as_documented(rng: np.random.Generator) -> None:
    # "An estimator holding an Optimizer cannot be pickled ...; one holding a name can."
    X, y = make_moons(40, rng, noise=0.2)
    clf = MLPClassifier((3,), optimizer="adam", learning_rate=SCHEDULES["cosine_decay"](), batch_size=16, epochs=2, random_state=0)
    clf.fit(X.T, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X.T), clf.predict_proba(X.T))
    restored.partial_fit(X.T, y)  # the schedule goes on from the same step
    clf.partial_fit(X.T, y)
    np.testing.assert_array_equal(restored.params_["W1"], clf.params_["W1"])


MAKERS: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step_decay": step_decay,
    "exponential_decay": exponential_decay,
    "cosine_decay": cosine_decay,
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_schedule_maker_passed_uncalled_is_named_at_once(name: str) -> None:
    maker: object = MAKERS[name]  # learning_rate=cosine_decay, forgetting the call
    expected = f"learning_rate must be a float or a schedule, got the function {name} itself.*call it, e.g. learning_rate={name}\\("
    with pytest.raises(TypeError, match=expected):
        adam(maker)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=expected):
        sgd(maker)  # type: ignore[arg-type]


def test_train_names_an_uncalled_schedule_maker(rng: np.random.Generator) -> None:
    X, y = make_moons(20, rng)
    params = initialize_parameters([2, 3, 2], rng)
    maker: object = cosine_decay
    with pytest.raises(TypeError, match="got the function cosine_decay itself.*learning_rate=cosine_decay\\("):
        train(X, one_hot(y, 2), params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1,
              learning_rate=maker)  # type: ignore[arg-type]  # fmt: skip


def test_a_rule_that_cannot_take_the_step_alone_is_refused_when_the_optimizer_is_made() -> None:
    def two_arguments(step: int, epoch: int) -> float:
        return 0.1

    def with_a_default(step: int, scale: float = 2.0) -> float:
        return 0.05 * scale

    refusal = r"learning_rate must be a float, a Schedule or a function of the step number .*, got "
    with pytest.raises(TypeError, match=refusal + r".*two_arguments\(step: 'int', epoch: 'int'\) -> 'float', which cannot be called with the step alone$"):
        adam(two_arguments)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=refusal + r".*<lambda>\(\), which cannot be called with the step alone$"):
        sgd(lambda: 0.1)  # type: ignore[arg-type,misc]
    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    grads = {"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}
    optimizer = sgd(with_a_default)  # called as with_a_default(step): its default fills the rest
    updated, _ = optimizer.update(grads, optimizer.init(params), params)
    assert updated["W1"].tolist() == [[0.9]] and updated["b1"].tolist() == [[-0.1]]

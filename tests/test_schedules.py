"""Learning-rate schedules: values by hand at chosen steps, purity, and bad arguments."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from functional_nn.schedules import MAX_STEPS, Schedule, constant, cosine_decay, exponential_decay, step_decay


def test_constant() -> None:
    schedule = constant(0.1)
    assert [schedule(t) for t in (0, 1, 10**6)] == [0.1, 0.1, 0.1]
    assert schedule.name == "constant" and schedule.hyperparameters == (("value", 0.1),)


def test_step_decay_by_hand() -> None:
    schedule = step_decay(0.1, decay_rate=0.5, step_size=3)
    # steps 0,1,2 -> 0.1; 3,4,5 -> 0.05; 6 -> 0.025; 30 -> 0.1 / 2**10
    assert [schedule(t) for t in range(7)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    assert schedule(30) == pytest.approx(0.1 / 1024, rel=1e-15)


def test_exponential_decay_by_hand() -> None:
    schedule = exponential_decay(0.2, decay_rate=0.5, decay_steps=4)
    assert schedule(0) == 0.2
    assert schedule(4) == pytest.approx(0.1, rel=1e-15)
    assert schedule(2) == pytest.approx(0.2 / math.sqrt(2), rel=1e-15)
    assert schedule(12) == pytest.approx(0.025, rel=1e-15)
    # smooth: between the staircase's values
    assert 0.1 < schedule(3) < schedule(1) < 0.2


def test_cosine_decay_with_warmup_by_hand() -> None:
    schedule = cosine_decay(1.0, decay_steps=4, warmup_steps=4, final=0.2)
    # warm-up: (t + 1) / 4 of the peak
    assert [schedule(t) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    # decay over steps 4..8: 0.2 + 0.4 (1 + cos(pi k / 4)) for k = 0..4
    expected = [1.0, 0.2 + 0.4 * (1 + math.sqrt(0.5)), 0.6, 0.2 + 0.4 * (1 - math.sqrt(0.5)), 0.2]
    for k, value in enumerate(expected):
        assert schedule(4 + k) == pytest.approx(value, rel=1e-14, abs=1e-15)
    assert schedule(100) == pytest.approx(0.2, rel=1e-15)


def test_cosine_decay_without_warmup_starts_at_the_peak_and_ends_at_zero() -> None:
    schedule = cosine_decay(0.1, decay_steps=10)
    assert schedule(0) == 0.1
    assert schedule(5) == pytest.approx(0.05, rel=1e-14)
    assert schedule(10) == pytest.approx(0.0, abs=1e-18)
    assert schedule(11) == pytest.approx(0.0, abs=1e-18)
    rates = [schedule(t) for t in range(11)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_schedules_are_pure_functions_of_the_step() -> None:
    schedule = cosine_decay(0.3, decay_steps=7, warmup_steps=2)
    first = [schedule(t) for t in range(12)]
    assert [schedule(t) for t in reversed(range(12))] == first[::-1]
    assert isinstance(schedule, Schedule)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: constant(0.0), ValueError, "value must be a finite number > 0"),
        (lambda: step_decay(0.1, decay_rate=1.5, step_size=2), ValueError, r"decay_rate must be in \(0, 1\]"),
        (lambda: step_decay(0.1, decay_rate=0.5, step_size=0), ValueError, "step_size must be >= 1"),
        (lambda: exponential_decay(-0.1, decay_rate=0.5, decay_steps=2), ValueError, "initial"),
        (lambda: exponential_decay(0.1, decay_rate=0.5, decay_steps=2.5), TypeError, "decay_steps must be an integer"),  # type: ignore[arg-type]  # the error is the point
        (lambda: cosine_decay(0.1, decay_steps=10, final=0.2), ValueError, "final must be <= peak"),
        (lambda: cosine_decay(0.1, decay_steps=10, warmup_steps=-1), ValueError, "warmup_steps must be >= 0"),
    ],
)
def test_bad_arguments(make: Callable[[], Schedule], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    "schedule",
    [constant(0.1), step_decay(0.1, decay_rate=0.5, step_size=3), exponential_decay(0.2, decay_rate=0.5, decay_steps=4),
     cosine_decay(0.1, decay_steps=10, warmup_steps=2)],
    ids=lambda schedule: schedule.name,
)  # fmt: skip
def test_a_step_must_be_a_count_of_updates(schedule: Schedule) -> None:
    """cosine_decay(0.1, decay_steps=10, warmup_steps=2)(-5) was -0.2: a negative rate."""
    with pytest.raises(ValueError, match=r"step must be >= 0, got -5"):
        schedule(-5)
    with pytest.raises(TypeError, match=r"step must be an integer, got float 2.5"):
        schedule(2.5)  # type: ignore[arg-type]  # the wrong type is the test
    with pytest.raises(TypeError, match=r"step must be an integer, got bool True"):
        schedule(True)
    assert schedule(np.int64(3)) == schedule(3)  # type: ignore[arg-type]  # an optimizer state's step may be a NumPy integer


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda count: step_decay(0.1, decay_rate=0.5, step_size=count), "step_size"),
        (lambda count: exponential_decay(0.1, decay_rate=0.5, decay_steps=count), "decay_steps"),
        (lambda count: cosine_decay(0.1, decay_steps=count), "decay_steps"),
        (lambda count: cosine_decay(0.1, decay_steps=10, warmup_steps=count), "warmup_steps"),
        (lambda count: step_decay(0.1, decay_rate=0.5, step_size=10)(count), "step"),
    ],
)
def test_step_counts_are_at_most_2_to_the_53_and_read_back_exactly(make: Callable[[int], object], argument: str) -> None:
    make(MAX_STEPS)  # the largest taken
    with pytest.raises(ValueError, match=rf"^{argument} must be at most 2\*\*53 = 9,007,199,254,740,992, the largest count float64 holds exactly, got 9,007,199,254,740,993$"):
        make(MAX_STEPS + 1)  # float64 would store it as 2**53
    with pytest.raises(ValueError, match=rf"^{argument} must be at most 2\*\*53 .*, got an integer of 401 digits$"):
        make(10**400)  # beyond float64's range: an OverflowError inside the rule before


def test_the_largest_counts_are_stored_exactly_and_give_the_formulas_values() -> None:
    schedule = cosine_decay(0.5, decay_steps=MAX_STEPS, warmup_steps=MAX_STEPS)
    assert dict(schedule.hyperparameters)["decay_steps"] == MAX_STEPS == int(float(MAX_STEPS))
    assert schedule(MAX_STEPS - 1) == 0.5  # the last warm-up step: peak * 2**53 / 2**53
    assert step_decay(1.0, decay_rate=0.5, step_size=MAX_STEPS)(MAX_STEPS) == 0.5

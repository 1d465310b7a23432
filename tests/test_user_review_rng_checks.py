"""Found by a maintainer's clean-up of the "rng must be a numpy.random.Generator" check.

It was written 12 times in 7 wordings: some named the argument, some the function, some what
drew from it; some said what came, some its type only; half gave no fix. One check now says
it everywhere (``_validation.check_generator``): the argument, a Generator ``such as
np.random.default_rng(seed)``, what draws from it when that is why it is needed, and what
came, with the call that makes a Generator of a seed, a ``SeedSequence`` or a
``BitGenerator`` given in its place. ``minibatches`` and ``train_dev_split`` had no test of
their refusal; the hints are new.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from functional_nn import check_loss, initialize_parameters, minibatches, train_dev_split
from functional_nn.data.augmentation import elastic_distortion, random_affine
from functional_nn.data.toy import make_moons
from functional_nn.types import Activation

EXPECTED = "rng must be a numpy.random.Generator such as np.random.default_rng(seed)"


def _refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        call()


def test_minibatches_refuses_a_seed_and_names_the_generator_it_makes() -> None:
    X = np.zeros((2, 4))
    _refused(
        lambda: minibatches(X, X[:1], 2, 3),  # type: ignore[arg-type]  # a seed in the generator's place
        f"{EXPECTED}, got int 3: to draw from seed 3, pass np.random.default_rng(3)",
    )


def test_train_dev_split_refuses_a_legacy_random_state() -> None:
    X, y = np.zeros((2, 4)), np.array([0, 1, 0, 1])
    _refused(lambda: train_dev_split(X, y, 1, np.random.RandomState(0)), f"{EXPECTED}, got RandomState")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "came"),
    [
        (np.random.SeedSequence(5), "SeedSequence: np.random.default_rng(rng) makes a Generator of it"),
        (np.random.PCG64(5), "PCG64: np.random.default_rng(rng) makes a Generator of it"),
        (np.random.default_rng, "np.random.default_rng itself: call np.random.default_rng(seed)"),
        (np.random.Generator, "np.random.Generator itself: call np.random.default_rng(seed)"),
        ("seed", "str 'seed'"),
        (-1, "int -1"),  # no seed: default_rng refuses negative ones
        (10**30, "an integer of 31 digits"),
    ],
    ids=["SeedSequence", "BitGenerator", "default_rng", "Generator class", "str", "negative", "huge"],
)
def test_what_came_in_a_generators_place_is_named_with_its_fix(given: object, came: str) -> None:
    _refused(lambda: initialize_parameters([2, 1], given), f"{EXPECTED}, got {came}")  # type: ignore[arg-type]


@pytest.mark.parametrize("augment", [random_affine, elastic_distortion], ids=["affine", "elastic"])
def test_every_augmentation_refuses_a_seed(augment: Callable[..., object]) -> None:
    X = np.zeros((4, 2))
    _refused(
        lambda: augment(X, 0, image_shape=(2, 2)),
        f"{EXPECTED}, got int 0: to draw from seed 0, pass np.random.default_rng(0)",
    )


def test_the_toy_makers_and_record_checks_say_the_same() -> None:
    _refused(lambda: make_moons(10, None), f"{EXPECTED}, got None")  # type: ignore[arg-type]
    _refused(
        lambda: check_loss("binary_cross_entropy", rng=np.random.RandomState(0)),  # type: ignore[arg-type]
        "rng must be None or a numpy.random.Generator such as np.random.default_rng(seed), got RandomState",
    )


def test_a_seed_for_rng_is_refused_even_without_dropout() -> None:
    """Without dropout nothing draws from ``rng``, yet a seed or a RandomState given for it is a
    mistake (a user expecting it to seed something), said as ``train`` says it, not ignored."""
    from functional_nn import forward_propagation, gradient_check, numerical_gradient

    params = initialize_parameters((3, 2, 1), np.random.default_rng(0))
    X, Y = np.ones((3, 4)), np.ones((1, 4))
    acts: tuple[Activation, ...] = ("relu", "sigmoid")
    nothing_drawn = f"rng must be None or {EXPECTED[len('rng must be '):]}"
    _refused(lambda: forward_propagation(X, params, acts, rng=7), f"{nothing_drawn}, got int 7: to draw from seed 7, pass np.random.default_rng(7)")  # type: ignore[arg-type]
    legacy = np.random.RandomState(0)
    for call in (numerical_gradient, gradient_check):
        _refused(lambda: call(X, Y, params, acts, "binary_cross_entropy", rng=legacy), f"{nothing_drawn}, got RandomState")  # type: ignore[arg-type]
    assert forward_propagation(X, params, acts, rng=None)[0].shape == (1, 4)

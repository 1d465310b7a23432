"""The fused kernels (Numba) and the in-place updates give bitwise the NumPy reference's values.

Each kernel does the reference's operations in the reference's order on values of the same
dtype (no fused multiply-add, no reordering), so the comparisons are exact, not approximate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.averaging import AVERAGE_SLOT, ema
from functional_nn.optimizers import (
    Optimizer,
    OptimizerState,
    adam,
    adamw,
    momentum,
    rmsprop,
    sgd,
    writeable_copies,
)
from functional_nn.schedules import cosine_decay
from functional_nn.types import FloatArray

SHAPES = {"W1": (7, 5), "b1": (7, 1), "W2": (3, 7), "b2": (3, 1)}


def make_optimizers(kernel: str) -> dict[str, Optimizer]:
    return {
        "sgd": sgd(0.1, kernel=kernel),  # type: ignore[arg-type]  # the names are checked at run time
        "adam": adam(cosine_decay(1e-2, decay_steps=10), kernel=kernel),  # type: ignore[arg-type]
        "adamw": adamw(1e-2, weight_decay=0.1, kernel=kernel),  # type: ignore[arg-type]
        "adamw_biases": adamw(1e-2, weight_decay=0.1, decay_biases=True, kernel=kernel),  # type: ignore[arg-type]
        "ema_adam": ema(adam(cosine_decay(1e-2, decay_steps=10), kernel=kernel), 0.9, kernel=kernel),  # type: ignore[arg-type]
        "momentum": momentum(cosine_decay(0.05, decay_steps=10), kernel=kernel),  # type: ignore[arg-type]
        "nesterov": momentum(0.05, beta=0.8, nesterov=True, kernel=kernel),  # type: ignore[arg-type]
        "rmsprop": rmsprop(1e-2, rho=0.8, kernel=kernel),  # type: ignore[arg-type]
    }


def random_problem(rng: np.random.Generator, dtype: type[np.floating], steps: int) -> tuple[dict[str, FloatArray], list[dict[str, FloatArray]]]:
    params = {key: rng.standard_normal(shape).astype(dtype) for key, shape in SHAPES.items()}
    # gradients over several orders of magnitude, some exactly zero: sqrt(v) + eps matters
    grads = [
        {"d" + key: (rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 1)).astype(dtype) for key, shape in SHAPES.items()}
        for _ in range(steps)
    ]
    grads[-1]["dW1"][0, :] = 0
    return params, grads


def run_pure(optimizer: Optimizer, params: dict[str, FloatArray], grads: list[dict[str, FloatArray]]) -> tuple[dict[str, FloatArray], OptimizerState]:
    state = optimizer.init(params)
    for g in grads:
        params, state = optimizer.update(g, state, params)
    return params, state


def run_in_place(optimizer: Optimizer, params: dict[str, FloatArray], grads: list[dict[str, FloatArray]]) -> tuple[dict[str, FloatArray], OptimizerState]:
    assert optimizer.update_in_place is not None
    params, state = writeable_copies(params, optimizer.init(params))
    for g in grads:
        params, state = optimizer.update_in_place(g, state, params)
    return params, state


def assert_bitwise(a: tuple[dict[str, FloatArray], OptimizerState], b: tuple[dict[str, FloatArray], OptimizerState]) -> None:
    (params_a, state_a), (params_b, state_b) = a, b
    assert state_a.step == state_b.step and set(state_a.slots) == set(state_b.slots)
    for key in params_a:
        assert params_a[key].dtype == params_b[key].dtype
        assert params_a[key].tobytes() == params_b[key].tobytes(), key
        for name in state_a.slots:
            assert state_a.slots[name][key].tobytes() == state_b.slots[name][key].tobytes(), (name, key)


# The kernels each optimizer's numba update runs: (pure update, update_in_place). A pure SGD,
# momentum or RMSprop update runs NumPy's passes into fresh arrays whatever the kernel.
KERNELS_RUN = {
    "sgd": (set(), {"sgd_in_place"}),
    "adam": ({"adam_into"}, {"adam_in_place"}),
    "adamw": ({"adam_into"}, {"adam_in_place"}),
    "adamw_biases": ({"adam_into"}, {"adam_in_place"}),
    "ema_adam": ({"adam_into"}, {"adam_in_place", "ema_in_place"}),
    "momentum": (set(), {"momentum_in_place"}),
    "nesterov": (set(), {"nesterov_in_place"}),
    "rmsprop": (set(), {"rmsprop_in_place"}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(KERNELS_RUN))
def test_every_path_gives_the_numpy_reference_bit_for_bit(
    name: str, dtype: type[np.floating], rng: np.random.Generator, kernels_called: list[str]
) -> None:
    params, grads = random_problem(rng, dtype, 6)
    reference = run_pure(make_optimizers("numpy")[name], params, grads)
    assert_bitwise(reference, run_in_place(make_optimizers("numpy")[name], params, grads))
    assert kernels_called == []  # the NumPy paths compile nothing
    pure_kernels, in_place_kernels = KERNELS_RUN[name]
    assert_bitwise(reference, run_pure(make_optimizers("numba")[name], params, grads))
    assert set(kernels_called) == pure_kernels
    kernels_called.clear()
    assert_bitwise(reference, run_in_place(make_optimizers("numba")[name], params, grads))
    assert set(kernels_called) == in_place_kernels
    # and the reference moved: the comparison is not between untouched copies
    assert not np.array_equal(reference[0]["W1"], params["W1"])


def test_fortran_ordered_params_fall_back_to_numpy_with_the_same_bits(rng: np.random.Generator) -> None:
    params, grads = random_problem(rng, np.float32, 3)
    fortran = {key: np.asfortranarray(value) for key, value in params.items()}
    reference = run_pure(adam(1e-2, kernel="numpy"), params, grads)
    assert_bitwise(reference, run_pure(adam(1e-2, kernel="numba"), fortran, grads))


def test_the_numba_kernel_matches_numpys_arithmetic_on_large_arrays(rng: np.random.Generator, kernels_called: list[str]) -> None:
    # long enough for the compiled loop's vectorised body, not only its remainder
    params = {"W1": rng.standard_normal((64, 999)).astype(np.float32), "b1": np.zeros((64, 1), np.float32)}
    grads = [{"dW1": rng.standard_normal((64, 999)).astype(np.float32) * 1e-3, "db1": np.ones((64, 1), np.float32)}] * 3
    assert_bitwise(run_pure(adam(1e-3, kernel="numpy"), params, grads), run_in_place(adam(1e-3, kernel="numba"), params, grads))
    assert kernels_called == ["adam_in_place"] * 6  # both arrays, three steps: the kernel ran each time


def test_update_in_place_overwrites_what_it_is_given_and_nothing_else(rng: np.random.Generator) -> None:
    params, grads = random_problem(rng, np.float32, 1)
    optimizer = adam(1e-2, kernel="numba")
    assert optimizer.update_in_place is not None
    owned, state = writeable_copies(params, optimizer.init(params))
    frozen_grads = {key: value.copy() for key, value in grads[0].items()}
    for value in frozen_grads.values():
        value.flags.writeable = False
    new_params, new_state = optimizer.update_in_place(frozen_grads, state, owned)
    for key in params:
        assert new_params[key] is owned[key] and new_state.slots["m"][key] is state.slots["m"][key]
        assert not np.shares_memory(owned[key], params[key])
    assert new_state.step == 1


def test_update_in_place_refuses_read_only_arrays(rng: np.random.Generator) -> None:
    params, grads = random_problem(rng, np.float32, 1)
    for kernel in ("numpy", "numba"):
        for optimizer in (adam(1e-2, kernel=kernel), momentum(0.1, kernel=kernel), rmsprop(kernel=kernel)):
            assert optimizer.update_in_place is not None
            state = optimizer.init(params)  # init's slots are read-only: update hands them out
            with pytest.raises(ValueError, match=r"read-only.*writeable_copies"):
                optimizer.update_in_place(grads[0], state, dict(params))


def test_ema_in_place_refuses_a_read_only_average_and_moves_it_where_it_lies(rng: np.random.Generator) -> None:
    params, grads = random_problem(rng, np.float32, 2)
    for kernel in ("numpy", "numba"):
        optimizer = ema(adam(1e-2, kernel=kernel), 0.5, kernel=kernel)
        assert optimizer.update_in_place is not None
        owned, state = writeable_copies(params, optimizer.init(params))
        average = state.slots[AVERAGE_SLOT]
        first = {key: value.copy() for key, value in average.items()}
        new_params, new_state = optimizer.update_in_place(grads[0], state, owned)
        for key in params:
            assert new_state.slots[AVERAGE_SLOT][key] is average[key]  # the same array, moved
            assert new_params[key] is owned[key]
        # update 1 has rate 1: the average is the new parameters themselves
        assert all(np.array_equal(average[key], owned[key]) for key in params)
        assert not np.array_equal(average["W1"], first["W1"])
        average["W1"].flags.writeable = False
        with pytest.raises(ValueError, match=r"state.slots\['average'\]\['W1'\] is read-only"):
            optimizer.update_in_place(grads[1], new_state, new_params)
    # an average of another shape is refused before anything is written
    optimizer = ema(adam(1e-2), 0.5)
    assert optimizer.update_in_place is not None
    owned, state = writeable_copies(params, optimizer.init(params))
    state = state._replace(slots={**state.slots, AVERAGE_SLOT: {**state.slots[AVERAGE_SLOT], "W1": np.zeros((2, 2), np.float32)}})
    before = {key: value.copy() for key, value in owned.items()}
    with pytest.raises(ValueError, match=r"state.slots\['average'\]\['W1'\] is float32 \(2, 2\) but params\['W1'\] is float32 \(7, 5\)"):
        optimizer.update_in_place(grads[0], state, owned)
    assert all(np.array_equal(owned[key], before[key]) for key in params) and state.slots["m"]["W1"].max() == 0
    # an optimizer without update_in_place gives an ema without it
    assert ema(adam(1e-2)._replace(update_in_place=None)).update_in_place is None


def test_kernel_names_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="kernel"):
        adam(kernel="cuda")  # type: ignore[arg-type]
    monkeypatch.setattr(fused, "AVAILABLE", False)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[fast\]"'):
        sgd(0.1, kernel="numba")
    assert adam()  # the default falls back to NumPy without Numba


def test_an_unknown_kernel_name_is_refused_naming_the_kernels() -> None:
    with pytest.raises(ValueError, match=r"unknown kernel name 'relu_forwards'.*did you mean 'relu_forward'"):
        fused.kernel("relu_forwards")
    with pytest.raises(TypeError, match=r"kernel name must be one of \['adam_in_place'"):
        fused.kernel(3)  # type: ignore[arg-type]


def test_a_numba_that_does_not_import_is_named_with_what_to_do() -> None:
    # Installed (AVAILABLE) but failing on import, as a Numba older than the NumPy beside it does.
    code = """
import sys
import numpy as np
from functional_nn import fused, adam
assert fused.AVAILABLE and 'numba' not in sys.modules
sys.modules['numba'] = None  # from here, `import numba` raises ImportError
params = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
optimizer = adam(kernel="numba")
for attempt in (lambda: optimizer.update({"dW1": np.ones((2, 2)), "db1": np.ones((2, 1))}, optimizer.init(params), params),
                lambda: fused.kernel("relu_forward")):
    try:
        attempt()
    except ImportError as error:
        print(error)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    for line in lines:
        assert line.startswith('the fused kernels need Numba: pip install -e ".[fast]"; importing it failed (')
        assert line.endswith('): reinstall it, or pass kernel="numpy"')


def test_importing_functional_nn_does_not_import_numba() -> None:
    code = "import sys, functional_nn; functional_nn.adam(); assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_second_process_loads_the_augmentation_kernels_from_numbas_cache(tmp_path: Path) -> None:
    # The bilinear samplers call other compiled functions; defined as closures they got a new
    # cache key in every process, so every run compiled them again and added a cache entry.
    code = """
import functools, json, numpy as np
from functional_nn import fused
from functional_nn.data import augmentation
X = np.random.default_rng(0).random((784, 3), dtype=np.float32)
for augment in (augmentation.random_affine, augmentation.elastic_distortion):
    functools.partial(augment, image_shape=(28, 28))(X, np.random.default_rng(0))
stats = {name: fused.kernel(name).stats for name in ("affine_bilinear", "displaced_bilinear")}
print(json.dumps({name: [sum(s.cache_hits.values()), sum(s.cache_misses.values())] for name, s in stats.items()}))
"""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", code], env=environment, check=True, capture_output=True, text=True).stdout)
        for _ in range(2)
    ]
    assert runs[0] == {"affine_bilinear": [0, 1], "displaced_bilinear": [0, 1]}  # compiled and cached by the first
    assert runs[1] == {"affine_bilinear": [1, 0], "displaced_bilinear": [1, 0]}  # loaded by the second
    entries = sorted(path.name for path in tmp_path.rglob("*bilinear*.nbc"))
    assert len(entries) == 2, entries  # one each: the second process added none


def test_warm_up_loads_every_kernel_for_both_dtypes_without_changing_results(
    rng: np.random.Generator, kernels_called: list[str]
) -> None:
    fused.warm_up()
    names = ("adam_in_place", "adam_into", "sgd_in_place", "relu_forward", "relu_dropout_forward", "relu_backward",
             "relu_dropout_backward", "softmax_shift", "softmax_normalise", "gather_divided", "affine_bilinear",
             "displaced_bilinear")  # fmt: skip
    for name in names:
        float_argument = -1 if name == "gather_divided" else 0  # its first argument holds the integers
        compiled = {str(signature[float_argument].dtype) for signature in fused.kernel(name).signatures}  # type: ignore[attr-defined]
        assert {"float32", "float64"} <= compiled, name
    kernels_called.clear()  # the names looked up above
    test_every_path_gives_the_numpy_reference_bit_for_bit("adam", np.float32, rng, kernels_called)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_sampling_kernel_gives_numpys_samples_bit_for_bit(dtype: type[np.floating], rng: np.random.Generator) -> None:
    from functional_nn.data import augmentation

    images = rng.random((6, 5, 7)).astype(dtype)
    # displacements to inside, onto the pixels exactly, to the borders and far outside
    displacement = rng.uniform(-9.0, 9.0, size=(5, 2, 6, 7)).astype(dtype)
    displacement[0, :, :, :5] = np.array([0.0, 4.0, -1.0, 5.0, 6.5], dtype=dtype)
    rows = displacement[:, 0].transpose(1, 0, 2) + np.arange(5, dtype=dtype)[:, np.newaxis]
    cols = displacement[:, 1].transpose(1, 0, 2) + np.arange(7, dtype=dtype)
    reference = augmentation._bilinear_numpy(images, rows.reshape(6, -1), cols.reshape(6, -1))
    sampled = augmentation._sample("displaced_bilinear", images, displacement)
    assert sampled.dtype == dtype and np.array_equal(sampled, reference)
    assert np.array_equal(sampled[:, 0], images[:, 0, 0])  # no displacement at (0, 0): the first pixel itself


@pytest.mark.parametrize("name", ["random_affine", "elastic_distortion"])
def test_augmentations_give_the_same_bits_with_and_without_numba(name: str, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    from functional_nn.data import augmentation

    function = getattr(augmentation, name)
    X = rng.random((28 * 28, 9), dtype=np.float32)
    fast = function(X, np.random.default_rng(3), image_shape=(28, 28))
    monkeypatch.setattr(fused, "AVAILABLE", False)
    assert np.array_equal(function(X, np.random.default_rng(3), image_shape=(28, 28)), fast)


# Subnormal numbers: below np.finfo(dtype).tiny, on the way to zero


def subnormals(array: FloatArray) -> int:
    return int(np.count_nonzero((array != 0) & (np.abs(array) < np.finfo(array.dtype).tiny)))


def test_subnormals_are_flushed_in_the_block_and_only_there() -> None:
    tiny = np.finfo(np.float32).tiny
    x = np.array([tiny / 4, -tiny / 4, tiny, 1.0], dtype=np.float32)
    half = np.float32(0.5)
    default = x * half  # subnormal operands and results, kept
    assert subnormals(default) == 3
    with fused.subnormals_flushed():
        flushed = x * half
        read = x + np.float32(0)
    if fused.FLUSHES_SUBNORMALS:  # x86-64 with Numba
        assert flushed.tobytes() == np.array([0.0, -0.0, 0.0, 0.5], dtype=np.float32).tobytes()  # zeros keep their sign
        assert np.all(read[:2] == 0)  # read as zero
    else:  # elsewhere the block changes nothing
        assert flushed.tobytes() == default.tobytes() and read.tobytes() == x.tobytes()
    assert (x * half).tobytes() == default.tobytes()  # restored on leaving
    with pytest.raises(ZeroDivisionError):
        with fused.subnormals_flushed():
            raise ZeroDivisionError
    assert (x * half).tobytes() == default.tobytes()  # restored after an error too


def decaying_problem(rng: np.random.Generator, dtype: type[np.floating], steps: int) -> tuple[dict[str, FloatArray], list[dict[str, FloatArray]]]:
    """Tiny gradients, then none for half the entries: their moments decay through the subnormal range."""
    tiny = float(np.finfo(dtype).tiny)
    params = {key: rng.standard_normal(shape).astype(dtype) for key, shape in SHAPES.items()}
    silent = {key: rng.random(shape) < 0.5 for key, shape in SHAPES.items()}
    grads = []
    for step in range(steps):
        g = {}
        for key, shape in SHAPES.items():
            scale = tiny * 10.0 ** rng.uniform(-3, 4, size=shape)  # subnormal ones included
            g["d" + key] = np.where(silent[key] & (step > 0), 0.0, rng.standard_normal(shape) * scale).astype(dtype)
        grads.append(g)
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_numbas_adam_is_numpys_with_subnormals_flushed(
    name: str, dtype: type[np.floating], rng: np.random.Generator, kernels_called: list[str]
) -> None:
    params, grads = decaying_problem(rng, dtype, 40)
    plain = run_pure(make_optimizers("numpy")[name], params, grads)
    assert subnormals(plain[1].slots["m"]["W1"]) > 0  # NumPy's own moments went subnormal
    with fused.subnormals_flushed():
        reference = run_pure(make_optimizers("numpy")[name], params, grads)
    fast = run_in_place(make_optimizers("numba")[name], params, grads)
    assert_bitwise(reference, fast)
    assert_bitwise(reference, run_pure(make_optimizers("numba")[name], params, grads))
    assert set(kernels_called) == {"adam_in_place", "adam_into"}  # the kernels, not NumPy's passes, were compared
    for slot in ("m", "v"):
        for key, value in fast[1].slots[slot].items():
            assert subnormals(value) == 0 or not fused.FLUSHES_SUBNORMALS, (slot, key)
    # the flushing changed moments, where there is flushing (x86-64)
    assert np.array_equal(fast[1].slots["m"]["W1"], plain[1].slots["m"]["W1"]) != fused.FLUSHES_SUBNORMALS
    # the thread's mode is restored: subnormal arithmetic is back after the update
    assert subnormals(np.array([np.finfo(dtype).tiny], dtype=dtype) * dtype(0.5)) == 1
